import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSourceRequestsHandler } from '../../../functions/source-requests.ts';
import { createSourceWebhooksHandler } from '../../../functions/source-webhooks.ts';
import type { ActionRequest } from '../../../lib/actions/schema.ts';
import type { Requester } from '../../../lib/identity/requester.ts';
import { SourceAuthenticationError, SourceRequestError } from '../../../lib/sources/errors.ts';
import { createIdempotentAcceptor } from '../../../lib/sources/intake.ts';
import { type ReceiveDependencies, receiveSourceDelivery } from '../../../lib/sources/receive.ts';
import { REQUEST_SOURCES } from '../../../lib/sources/request-sources.ts';
import { loadRoutingRules, type RoutingRules } from '../../../lib/sources/routing.ts';
import { signStandardWebhook } from '../../../lib/webhooks/standard-webhooks.ts';
import { LOCAL_DEMO_SOURCE_SECRETS as SECRETS } from '../../../local/defaults.ts';
import { createKeyTable, type LocalDynamo, startLocalDynamo } from '../../../local/dynamodb.ts';
import { rejection } from '../../support/rejection.ts';
import { apiEvent, lambdaContext, TEST_SIGNING_SECRET } from '../../support/signed-request.ts';
import { sampleOf } from '../../support/source-samples.ts';

/**
 * The `standard` source: a machine that holds the shared webhook secret signs an action request
 * (the body of POST /v1/actions) with Standard Webhooks. It asks as the source, whoever it says
 * asked, and only for what `standard.allowedActions` allows.
 */
const RULES = loadRoutingRules(new URL('../../../config/routes.json', import.meta.url));
const SAMPLE = sampleOf('standard') as Record<string, unknown>;

let dynamo: LocalDynamo;
let tables = 0;
beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(async () => dynamo.close());

async function harness() {
  tables += 1;
  const idempotencyTable = `standard-idempotency-${tables}`;
  await createKeyTable(dynamo.client, idempotencyTable, 'id');
  const accepted: { actionId: string; request: ActionRequest; requester: Requester }[] = [];
  const dependencies: ReceiveDependencies<RoutingRules> = {
    secrets: { read: async (source) => SECRETS[source] as never },
    rules: RULES,
    acceptor: createIdempotentAcceptor({
      accept: async (request, _source, actionId, requester) => {
        accepted.push({ actionId, request, requester });
        return { actionId };
      },
      persistenceStore: new DynamoDBPersistenceLayer({
        tableName: idempotencyTable,
        awsSdkV3Client: dynamo.client,
      }),
      expiresAfterSeconds: 3600,
    }),
    deliveries: { record: async () => undefined },
    audit: { append: async () => undefined },
    callbackNames: new Set(['soar']),
  };
  const deliver = (
    body: unknown,
    options: { messageId?: string; secret?: string; tamper?: boolean } = {},
  ) => {
    const rawBody = JSON.stringify(body);
    const headers = signStandardWebhook(
      options.secret ?? SECRETS.standard.signingSecret,
      options.messageId ?? 'msg_standard_1',
      new Date(),
      rawBody,
    );
    return receiveSourceDelivery(
      REQUEST_SOURCES,
      dependencies,
      {
        source: 'standard',
        rawBody: options.tamper ? rawBody.replace('alice', 'mallory') : rawBody,
        headers,
      },
      lambdaContext,
      new Date(),
    );
  };
  return { deliver, accepted, dependencies };
}

describe('the standard source', () => {
  it('accepts a signed action request as the source, showing who it says asked', async () => {
    const { deliver, accepted } = await harness();
    const outcome = await deliver(SAMPLE);
    expect(outcome).toMatchObject({ status: 'accepted', actions: [{ duplicate: false }] });
    expect(accepted).toEqual([
      {
        actionId: expect.stringMatching(/^act_/),
        request: expect.objectContaining({
          action: 'session.logoff',
          target: { user: 'alice@example.com' },
          ticket: 'INC0010042',
          requestedBy: 'standard: soar-playbook-17',
        }),
        requester: { kind: 'source', key: 'source:standard', name: 'standard: soar-playbook-17' },
      },
    ]);
  });

  it('is named after the source alone when the body names nobody', async () => {
    const { deliver, accepted } = await harness();
    const { requestedBy: _requestedBy, ...anonymous } = SAMPLE;
    await deliver(anonymous);
    expect(accepted[0]?.requester).toEqual({
      kind: 'source',
      key: 'source:standard',
      name: 'standard',
    });
  });

  it('answers a redelivery of one webhook-id with the same action, starting nothing', async () => {
    const { deliver, accepted } = await harness();
    const first = await deliver(SAMPLE, { messageId: 'msg_again' });
    const again = await deliver({ ...SAMPLE, reason: 'Re-sent' }, { messageId: 'msg_again' });
    expect(again).toMatchObject({
      status: 'accepted',
      actions: [
        { duplicate: true, actionId: first.status === 'accepted' && first.actions[0]?.actionId },
      ],
    });
    expect(accepted).toHaveLength(1);
  });

  it('ignores an action the rules do not allow it, starting nothing', async () => {
    const { deliver, accepted } = await harness();
    const outcome = await deliver({
      ...SAMPLE,
      action: 'device.wipe',
      target: { deviceId: '1042' },
    });
    expect(outcome).toMatchObject({
      status: 'ignored',
      reason:
        'A Standard Webhooks source may not request device.wipe (routing rules: standard.allowedActions)',
    });
    expect(accepted).toEqual([]);
  });

  it.each([
    ['another secret', { secret: TEST_SIGNING_SECRET }],
    ['a tampered body', { tamper: true }],
  ])('refuses %s before reading the request', async (_, options) => {
    const { deliver, accepted } = await harness();
    expect(await rejection(deliver(SAMPLE, options))).toBeInstanceOf(SourceAuthenticationError);
    expect(accepted).toEqual([]);
  });

  it('refuses an invalid request or an unknown callback, naming the fields', async () => {
    const { deliver, accepted } = await harness();
    const invalid = await rejection(
      deliver({ ...SAMPLE, target: { user: 'no upn' }, callback: 'evil' }),
    );
    expect(invalid).toBeInstanceOf(SourceRequestError);
    expect((invalid as SourceRequestError).issues.map((issue) => issue.path.join('.'))).toEqual([
      'target.user',
    ]);
    const unknownCallback = await rejection(deliver({ ...SAMPLE, callback: 'evil' }));
    expect((unknownCallback as SourceRequestError).issues.map((issue) => issue.path)).toEqual([
      ['callback'],
    ]);
    expect(accepted).toEqual([]);
  });

  it('answers over HTTP: 202 signed, 401 unsigned, 400 naming an invalid field', async () => {
    const { dependencies, accepted } = await harness();
    const handler = createSourceRequestsHandler(() => dependencies);
    const post = (body: unknown, secret: string | null) =>
      handler(
        apiEvent({
          method: 'POST',
          resource: '/v1/webhooks/standard',
          path: '/v1/webhooks/standard',
          body: JSON.stringify(body),
          secret,
        }),
        lambdaContext,
      );
    const signed = await post(SAMPLE, SECRETS.standard.signingSecret);
    expect(signed.statusCode).toBe(202);
    expect((await post(SAMPLE, null)).statusCode).toBe(401);
    const invalid = await post(
      { ...SAMPLE, target: { sessionId: 'x' } },
      SECRETS.standard.signingSecret,
    );
    expect(invalid.statusCode).toBe(400);
    expect(JSON.parse(invalid.body).error).toMatchObject({
      code: 'invalid_request',
      fields: [{ field: 'target.sessionId' }],
    });
    expect(accepted).toHaveLength(1);
  });

  /** A runbook given inline: its steps name device.wipe, which the source may not request. */
  const INLINE_RUNBOOK = {
    ...SAMPLE,
    action: 'runbook.run',
    target: {
      definition: {
        name: 'wipe-everything',
        inputs: { user: { description: 'who' } },
        steps: [{ id: 'wipe', action: 'device.wipe', target: { user: '{{inputs.user}}' } }],
      },
    },
    inputs: { user: 'alice@example.com' },
  };

  it('runs a deployed runbook by name, as the rules allow it', async () => {
    const { deliver, accepted } = await harness();
    const outcome = await deliver({
      ...SAMPLE,
      action: 'runbook.run',
      target: { runbook: 'compromised-user' },
      inputs: { user: 'alice@example.com' },
    });
    expect(outcome).toMatchObject({ status: 'accepted' });
    expect(accepted.map(({ request }) => request.target)).toEqual([
      { runbook: 'compromised-user' },
    ]);
  });

  it('refuses an inline runbook definition with 400 naming target.definition, starting nothing', async () => {
    const { deliver, dependencies, accepted } = await harness();
    // The shipped rules allow the standard source runbook.run, and not device.wipe.
    expect(dependencies.rules.standard.allowedActions).toContain('runbook.run');
    expect(dependencies.rules.standard.allowedActions).not.toContain('device.wipe');
    const refused = await rejection(deliver(INLINE_RUNBOOK, { messageId: 'msg_inline' }));
    expect(refused).toBeInstanceOf(SourceRequestError);
    expect((refused as SourceRequestError).issues.map((issue) => issue.path.join('.'))).toEqual([
      'target.definition',
    ]);

    const handler = createSourceRequestsHandler(() => dependencies);
    const rawBody = JSON.stringify(INLINE_RUNBOOK);
    const response = await handler(
      apiEvent({
        method: 'POST',
        resource: '/v1/webhooks/standard',
        path: '/v1/webhooks/standard',
        body: rawBody,
        secret: SECRETS.standard.signingSecret,
      }),
      lambdaContext,
    );
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error).toMatchObject({
      code: 'invalid_request',
      fields: [{ field: 'target.definition', message: expect.stringMatching(/by name/) }],
    });
    expect(accepted).toEqual([]);
  });

  it("is no source of the alerting sources' function: 404 there", async () => {
    const { dependencies, accepted } = await harness();
    const alerts = createSourceWebhooksHandler(() => dependencies);
    const response = await alerts(
      apiEvent({
        method: 'POST',
        resource: '/v1/webhooks/{source}',
        path: '/v1/webhooks/standard',
        pathParameters: { source: 'standard' },
        body: JSON.stringify(SAMPLE),
        secret: SECRETS.standard.signingSecret,
      }),
      lambdaContext,
    );
    expect(response.statusCode).toBe(404);
    expect(accepted).toEqual([]);
  });
});
