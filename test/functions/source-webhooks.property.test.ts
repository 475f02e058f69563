import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSourceWebhooksHandler } from '../../functions/source-webhooks.ts';
import type { AcceptanceRequest } from '../../lib/sources/intake.ts';
import type { ReceiveDependencies } from '../../lib/sources/receive.ts';
import { loadRoutingRules } from '../../lib/sources/routing.ts';
import { LOCAL_DEMO_SOURCE_SECRETS } from '../../local/defaults.ts';
import { apiEvent, lambdaContext } from '../support/signed-request.ts';

/**
 * Whatever a source sends, correctly authenticated or not, the endpoint answers 2xx or 4xx and
 * never accepts an action from a body that is not a valid, routed request.
 */
const accepted: AcceptanceRequest[] = [];
const dependencies: ReceiveDependencies = {
  secrets: { read: async (source) => LOCAL_DEMO_SOURCE_SECRETS[source] as never },
  rules: loadRoutingRules(new URL('../../config/routes.json', import.meta.url)),
  acceptor: async (acceptance) => {
    accepted.push(acceptance);
    return { actionId: 'act_00000000000000000000000000000000', duplicate: false };
  },
  deliveries: { record: async () => undefined },
  audit: { append: async () => undefined },
};
const handler = createSourceWebhooksHandler(() => dependencies);

const AUTH: Record<string, (body: string) => Record<string, string>> = {
  servicenow: () => ({
    authorization: `Basic ${Buffer.from(
      `${LOCAL_DEMO_SOURCE_SECRETS.servicenow.username}:${LOCAL_DEMO_SOURCE_SECRETS.servicenow.password}`,
    ).toString('base64')}`,
  }),
  sentinel: () => ({ 'x-api-key': LOCAL_DEMO_SOURCE_SECRETS.sentinel.apiKey }),
  pagerduty: (body) => ({
    'x-pagerduty-signature': `v1=${createHmac(
      'sha256',
      LOCAL_DEMO_SOURCE_SECRETS.pagerduty.signingSecrets[0] ?? '',
    )
      .update(body)
      .digest('hex')}`,
  }),
  splunk: () => ({}),
};

const post = (source: string, body: string, authenticated: boolean) => {
  const splunk = source === 'splunk';
  return handler(
    apiEvent({
      method: 'POST',
      resource: splunk ? '/v1/webhooks/splunk/{token}' : '/v1/webhooks/{source}',
      path: splunk ? '/v1/webhooks/splunk/t' : `/v1/webhooks/${source}`,
      body,
      secret: null,
      headers: authenticated ? (AUTH[source]?.(body) ?? {}) : {},
      pathParameters: splunk
        ? { token: authenticated ? LOCAL_DEMO_SOURCE_SECRETS.splunk.token : 'wrong' }
        : { source },
    }),
    lambdaContext,
  );
};

const bodies = fc.oneof(
  fc.string(),
  fc.json(),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  // Plausible envelopes with arbitrary contents.
  fc
    .record({ result: fc.jsonValue(), sid: fc.jsonValue(), search_name: fc.jsonValue() })
    .map((value) => JSON.stringify(value)),
  fc
    .record({
      event: fc.record({ id: fc.string(), event_type: fc.string(), data: fc.jsonValue() }),
    })
    .map((value) => JSON.stringify(value)),
);

describe('source endpoints under arbitrary input', () => {
  it.each(['servicenow', 'splunk', 'sentinel', 'pagerduty'])(
    '%s never answers 5xx and never accepts an action from junk',
    async (source) => {
      await fc.assert(
        fc.asyncProperty(bodies, fc.boolean(), async (body, authenticated) => {
          accepted.length = 0;
          const response = await post(source, body, authenticated);
          expect(response.statusCode).toBeGreaterThanOrEqual(200);
          expect(response.statusCode).toBeLessThan(500);
          if (!authenticated) expect(response.statusCode).toBe(401);
          expect(accepted).toEqual([]);
        }),
        { numRuns: 150 },
      );
    },
  );
});
