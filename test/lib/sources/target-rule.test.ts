import { describe, expect, it } from 'vitest';
import { createActionsApiHandler } from '../../../functions/actions-api.ts';
import { createSourceRequestsHandler } from '../../../functions/source-requests.ts';
import type { AcceptanceRequest } from '../../../lib/sources/intake.ts';
import type { ReceiveDependencies } from '../../../lib/sources/receive.ts';
import { loadRoutingRules, type RoutingRules } from '../../../lib/sources/routing.ts';
import { signStandardWebhook } from '../../../lib/webhooks/standard-webhooks.ts';
import { LOCAL_DEMO_SOURCE_SECRETS } from '../../../local/defaults.ts';
import { apiEvent, iamUser, lambdaContext } from '../../support/signed-request.ts';

/**
 * One rule for a target, whichever way a request comes in: the action's own target schema, on
 * the target exactly as sent. A key JSON keeps as data (`__proto__`) is refused by every path,
 * because no path validates a copy in which that key became the copy's prototype.
 */
const accepted: AcceptanceRequest[] = [];
const acceptor: ReceiveDependencies<RoutingRules>['acceptor'] = async (acceptance) => {
  accepted.push(acceptance);
  return { actionId: 'act_00000000000000000000000000000000', duplicate: false };
};
const sources = createSourceRequestsHandler(() => ({
  secrets: { read: async (source) => LOCAL_DEMO_SOURCE_SECRETS[source] as never },
  rules: loadRoutingRules(new URL('../../../config/routes.json', import.meta.url)),
  acceptor,
  deliveries: { record: async () => undefined },
  audit: { append: async () => undefined },
}));
const actionsApi = createActionsApiHandler(() => ({
  acceptor,
  audit: { append: async () => undefined },
  callbackNames: new Set<string>(),
}));

const { username, password } = LOCAL_DEMO_SOURCE_SECRETS.servicenow;
const TARGET = '{"user":"bob@example.com","__proto__":{"user":"alice@example.com"}}';
const REQUEST = `"action":"session.disconnect","target":${TARGET},"reason":"Compromised"`;

const POSTS = {
  'POST /v1/actions': () =>
    actionsApi(
      apiEvent({
        method: 'POST',
        resource: '/v1/actions',
        path: '/v1/actions',
        body: `{${REQUEST}}`,
        secret: null,
        identity: iamUser('requester@example.com'),
      }),
      lambdaContext,
    ),
  'POST /v1/webhooks/servicenow': () => {
    const body = `{"sys_id":"${'a'.repeat(32)}","number":"INC0010001",${REQUEST}}`;
    return sources(
      apiEvent({
        method: 'POST',
        resource: '/v1/webhooks/servicenow',
        path: '/v1/webhooks/servicenow',
        body,
        secret: null,
        headers: {
          authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
        },
      }),
      lambdaContext,
    );
  },
  'POST /v1/webhooks/standard': () => {
    const body = `{${REQUEST}}`;
    return sources(
      apiEvent({
        method: 'POST',
        resource: '/v1/webhooks/standard',
        path: '/v1/webhooks/standard',
        body,
        secret: null,
        headers: signStandardWebhook(
          LOCAL_DEMO_SOURCE_SECRETS.standard.signingSecret,
          'msg_proto',
          new Date(),
          body,
        ),
      }),
      lambdaContext,
    );
  },
};

describe('the target rule, on every path a request takes', () => {
  it.each(Object.keys(POSTS) as (keyof typeof POSTS)[])(
    '%s refuses a `__proto__` key in target with 400 naming it, and accepts nothing',
    async (route) => {
      accepted.length = 0;
      const response = await POSTS[route]();
      expect(response.statusCode, response.body).toBe(400);
      expect(JSON.parse(response.body).error).toMatchObject({
        code: 'invalid_request',
        fields: [{ field: 'target.__proto__', message: 'is not a field of this request' }],
      });
      expect(accepted).toEqual([]);
    },
  );
});
