import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { APIGatewayEventIdentity } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type ActionRecordsApiDependencies,
  createActionRecordsApiHandler,
} from '../../functions/action-records-api.ts';
import {
  type ActionsApiDependencies,
  createActionsApiHandler,
} from '../../functions/actions-api.ts';
import { acceptAction } from '../../lib/actions/accept.ts';
import { DynamoActionList } from '../../lib/actions/list-store.ts';
import { DynamoActionStore } from '../../lib/actions/store.ts';
import { createIdempotentAcceptor } from '../../lib/sources/intake.ts';
import {
  createActionsTable,
  createKeyTable,
  type LocalDynamo,
  startLocalDynamo,
} from '../../local/dynamodb.ts';
import { apiEvent, iamUser, lambdaContext, roleSession } from '../support/signed-request.ts';

/**
 * The people's reading and deciding routes (functions/action-records-api.ts): the actions they
 * read are started through `POST /v1/actions` (functions/actions-api.ts), over one table.
 */

let dynamo: LocalDynamo;
let accepting: ActionsApiDependencies;
let dependencies: ActionRecordsApiDependencies & { actions: DynamoActionStore };
const actionsApi = createActionsApiHandler(() => accepting);
const handler = createActionRecordsApiHandler(() => dependencies);

const LOGOFF = JSON.stringify({
  action: 'session.logoff',
  target: { user: 'alice@example.com' },
  reason: 'Impossible travel alert 4711',
  ticket: 'INC0012345',
});
const REQUESTER = iamUser('requester@example.com');

/** `POST /v1/actions` as API Gateway hands it to actions-api (IAM): requester@example.com. */
const post = (body: string, options: Partial<Parameters<typeof apiEvent>[0]> = {}) =>
  actionsApi(
    apiEvent({
      method: 'POST',
      resource: '/v1/actions',
      path: '/v1/actions',
      body,
      secret: null,
      identity: REQUESTER,
      ...options,
    }),
    lambdaContext,
  );

const get = (actionId: string, options: Partial<Parameters<typeof apiEvent>[0]> = {}) =>
  handler(
    apiEvent({
      method: 'GET',
      resource: '/v1/actions/{actionId}',
      path: `/v1/actions/${actionId}`,
      pathParameters: { actionId },
      secret: null,
      identity: REQUESTER,
      ...options,
    }),
    lambdaContext,
  );

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  await createActionsTable(dynamo.client, 'records-test');
  await createKeyTable(dynamo.client, 'records-idempotency', 'id');
});

afterAll(async () => dynamo.close());

beforeEach(() => {
  const actions = new DynamoActionStore(dynamo.client, 'records-test');
  const workflows = { start: async () => undefined };
  accepting = {
    acceptor: createIdempotentAcceptor({
      accept: (request, source, actionId, requester) =>
        acceptAction(
          { actions, workflows, retentionDays: 400 },
          request,
          new Date(),
          actionId,
          source,
          requester,
        ),
      persistenceStore: new DynamoDBPersistenceLayer({
        tableName: 'records-idempotency',
        awsSdkV3Client: dynamo.client,
      }),
      expiresAfterSeconds: 3600,
    }),
    callbackNames: new Set(['soar']),
    audit: { append: async () => undefined },
  };
  dependencies = {
    actions,
    listing: new DynamoActionList(dynamo.client, 'records-test'),
    tokens: { succeed: async () => undefined, fail: async () => undefined },
    audit: { append: async () => undefined, timeline: async () => [] },
  };
});

describe('GET /v1/actions/{actionId}', () => {
  it('returns the recorded action, and who asked, to a person', async () => {
    const { actionId } = JSON.parse((await post(LOGOFF)).body);
    const response = await get(actionId);
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({
      actionId,
      action: 'session.logoff',
      status: 'accepted',
      target: { user: 'alice@example.com' },
      reason: 'Impossible travel alert 4711',
      requestedBy: 'requester@example.com',
      requester: { kind: 'person', name: 'requester@example.com' },
      dryRun: false,
      results: [],
    });
  });

  it('says which source asked and names the callback destination, never its URL', async () => {
    const body = JSON.stringify({ ...JSON.parse(LOGOFF), callback: 'soar' });
    const { actionId } = JSON.parse((await post(body)).body);
    const view = JSON.parse((await get(actionId)).body);

    expect(view.source).toEqual({ name: 'api' });
    expect(view.callback).toBe('soar');
    expect(JSON.stringify(view)).not.toMatch(/https?:/);
  });

  it('answers 403 to no person, 400 to a malformed id and 404 to an unknown one', async () => {
    const { actionId } = JSON.parse((await post(LOGOFF)).body);
    expect((await get(actionId, { identity: { userArn: null } })).statusCode).toBe(403);
    const malformed = await get('..%2F..%2Fetc');
    expect(malformed.statusCode).toBe(400);
    expect(JSON.parse(malformed.body).error.fields[0].field).toBe('actionId');
    expect((await get('act_00000000000000000000000000000000')).statusCode).toBe(404);
  });
});

describe('POST /v1/actions/{actionId}/approve', () => {
  const SOC_LEAD = iamUser('Soc.Lead@Example.com');
  const WIPE = JSON.stringify({
    action: 'device.wipe',
    target: { deviceId: '1042' },
    reason: 'Lost laptop',
  });

  /** A wipe soc.lead asked for, held for approval as RequestApproval leaves it. */
  async function heldWipe(requester: Partial<APIGatewayEventIdentity> = SOC_LEAD) {
    const { actionId } = JSON.parse((await post(WIPE, { identity: requester })).body);
    await dependencies.actions.markRunning(actionId, []);
    await dependencies.actions.awaitApproval(actionId, {
      reasons: ['device.wipe needs approval'],
      taskToken: `token-${actionId}`,
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    return actionId as string;
  }
  const approve = (actionId: string, identity: Partial<APIGatewayEventIdentity>, body = '{}') =>
    handler(
      apiEvent({
        method: 'POST',
        resource: '/v1/actions/{actionId}/approve',
        path: `/v1/actions/${actionId}/approve`,
        pathParameters: { actionId },
        body,
        secret: null,
        identity,
      }),
      lambdaContext,
    );
  const succeeded: string[] = [];
  beforeEach(() => {
    succeeded.length = 0;
    dependencies = {
      ...dependencies,
      tokens: { succeed: async (token) => void succeeded.push(token), fail: async () => undefined },
    };
  });

  it.each<[string, Partial<APIGatewayEventIdentity>, number, string]>([
    ['the requester', SOC_LEAD, 403, 'self_approval'],
    ['the requester under another spelling', iamUser('SOC.LEAD@example.com'), 403, 'self_approval'],
    [
      'a second principal named with a Cyrillic е',
      iamUser('soc.l\u0435ad@example.com'),
      403,
      'lookalike_approver',
    ],
    [
      'a principal named with a zero-width space',
      iamUser('soc.lead@exam\u200bple.com'),
      403,
      'not_a_person',
    ],
    ['no principal at all (a Standard Webhooks signature)', { userArn: null }, 403, 'not_a_person'],
  ])(
    'refuses %s, records no decision and leaves the workflow waiting',
    async (_, identity, status, code) => {
      const actionId = await heldWipe();
      const response = await approve(actionId, identity);
      expect(response.statusCode).toBe(status);
      expect(JSON.parse(response.body).error.code).toBe(code);
      const record = await dependencies.actions.get(actionId);
      expect(record?.status).toBe('awaiting_approval');
      expect(record?.approval?.decision).toBeUndefined();
      expect(succeeded).toEqual([]);
    },
  );

  it('refuses another session of the role the request was made under', async () => {
    const actionId = await heldWipe(roleSession('IncidentResponder', 'alice'));
    const response = await approve(actionId, roleSession('IncidentResponder', 'bob'));
    expect(response.statusCode).toBe(403);
    expect(JSON.parse(response.body).error.code).toBe('self_approval');
    expect(succeeded).toEqual([]);
  });

  it('refuses a body naming the approver, naming the field', async () => {
    const actionId = await heldWipe();
    const response = await approve(
      actionId,
      iamUser('it.oncall@example.com'),
      '{"by":"x@example.com"}',
    );
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error.fields.map((f: { field: string }) => f.field)).toEqual([
      'by',
    ]);
  });

  it('lets a second person approve, with an empty body, and resumes the workflow', async () => {
    const actionId = await heldWipe();
    const response = await approve(actionId, iamUser('it.oncall@example.com'), '');
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({
      actionId,
      status: 'running',
      decidedBy: 'it.oncall@example.com',
    });
    expect(succeeded).toEqual([`token-${actionId}`]);
  });
});

describe('GET /v1/actions', () => {
  it('lists the actions a ticket names, newest first, to a person', async () => {
    const first = JSON.parse((await post(LOGOFF)).body).actionId;
    const second = JSON.parse((await post(LOGOFF)).body).actionId;
    const list = (query: Record<string, string>, identity = REQUESTER) =>
      handler(
        apiEvent({
          method: 'GET',
          resource: '/v1/actions',
          path: '/v1/actions',
          queryStringParameters: query,
          secret: null,
          identity,
        }),
        lambdaContext,
      );
    const response = await list({ ticket: 'INC0012345' });
    expect(response.statusCode).toBe(200);
    const ids = JSON.parse(response.body).actions.map((a: { actionId: string }) => a.actionId);
    expect(ids.slice(0, 2)).toEqual([second, first]);
    expect((await list({ ticket: 'INC0012345' }, { userArn: null })).statusCode).toBe(403);
    expect((await list({ limit: '0' })).statusCode).toBe(400);
  });
});

describe('the routes other functions serve', () => {
  it.each([
    ['POST', '/v1/actions', '/v1/actions'],
    ['GET', '/v1/openapi.json', '/v1/openapi.json'],
  ] as const)(
    'does not serve %s %s: 404, and never calls a dependency',
    async (method, resource, path) => {
      const response = await createActionRecordsApiHandler(() => {
        throw new Error('starting an action and the document need no dependency of this function');
      })(
        apiEvent({ method, resource, path, body: LOGOFF, secret: null, identity: REQUESTER }),
        lambdaContext,
      );
      expect(response.statusCode).toBe(404);
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'not_found' } });
    },
  );
});
