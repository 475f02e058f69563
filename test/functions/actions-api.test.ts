import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type ActionsApiDependencies,
  createActionsApiHandler,
} from '../../functions/actions-api.ts';
import { acceptAction } from '../../lib/actions/accept.ts';
import type { WorkflowName } from '../../lib/actions/schema.ts';
import { DynamoActionStore } from '../../lib/actions/store.ts';
import { createIdempotentAcceptor } from '../../lib/sources/intake.ts';
import type { WorkflowStarter } from '../../lib/workflow/starter.ts';
import {
  createActionsTable,
  createKeyTable,
  type LocalDynamo,
  startLocalDynamo,
} from '../../local/dynamodb.ts';
import {
  apiEvent,
  iamUser,
  lambdaContext,
  TEST_ACCOUNT,
  TEST_SIGNING_SECRET,
} from '../support/signed-request.ts';

class RecordingStarter implements WorkflowStarter {
  started: { workflow: WorkflowName; name: string; input: unknown }[] = [];
  failWith: Error | undefined;
  async start(workflow: WorkflowName, name: string, input: unknown): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.started.push({ workflow, name, input });
  }
}

let dynamo: LocalDynamo;
let dependencies: ActionsApiDependencies & {
  workflows: RecordingStarter;
  actions: DynamoActionStore;
};
const handler = createActionsApiHandler(() => dependencies);

const LOGOFF = JSON.stringify({
  action: 'session.logoff',
  target: { user: 'alice@example.com' },
  reason: 'Impossible travel alert 4711',
  ticket: 'INC0012345',
});
const REQUESTER = iamUser('requester@example.com');

/** As API Gateway hands the function a request it authenticated (IAM): requester@example.com. */
const post = (body: string, options: Partial<Parameters<typeof apiEvent>[0]> = {}) =>
  handler(
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
const withKey = (key: string) => ({ headers: { 'Idempotency-Key': key } });

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  await createActionsTable(dynamo.client, 'api-test');
  await createKeyTable(dynamo.client, 'api-idempotency', 'id');
});

afterAll(async () => dynamo.close());

beforeEach(() => {
  const actions = new DynamoActionStore(dynamo.client, 'api-test');
  const workflows = new RecordingStarter();
  dependencies = {
    actions,
    workflows,
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
        tableName: 'api-idempotency',
        awsSdkV3Client: dynamo.client,
      }),
      expiresAfterSeconds: 3600,
    }),
    callbackNames: new Set(['soar']),
    audit: { append: async () => undefined },
  };
});

describe('POST /v1/actions', () => {
  it("records a person's request, starts one execution named after the action, and answers 202", async () => {
    const response = await post(LOGOFF);
    expect(response.statusCode).toBe(202);
    const body = JSON.parse(response.body);
    expect(body).toEqual({
      actionId: expect.stringMatching(/^act_[0-9a-f]{32}$/),
      status: 'accepted',
      statusUrl: `https://abc123.execute-api.eu-west-1.amazonaws.com/prod/v1/actions/${body.actionId}`,
      duplicate: false,
    });
    expect(dependencies.workflows.started).toEqual([
      {
        workflow: 'session-action',
        name: body.actionId,
        input: {
          actionId: body.actionId,
          action: 'session.logoff',
          target: { user: 'alice@example.com' },
          warning: null,
          dryRun: false,
        },
      },
    ]);
    const record = await dependencies.actions.get(body.actionId);
    expect(record).toMatchObject({
      status: 'accepted',
      ticket: 'INC0012345',
      requestedBy: 'requester@example.com',
      requester: {
        kind: 'person',
        key: `arn:aws:iam::${TEST_ACCOUNT}:user/requester@example.com`,
        name: 'requester@example.com',
      },
      results: {},
    });
  });

  it.each<[string, Partial<Parameters<typeof apiEvent>[0]>]>([
    // API Gateway refuses these before the function runs; the function refuses them too.
    ['no authenticated principal', { identity: { userArn: null } }],
    [
      'a Standard Webhooks signature alone (the shared secret names nobody)',
      { identity: { userArn: null }, secret: TEST_SIGNING_SECRET },
    ],
    ['the account root', { identity: { userArn: `arn:aws:iam::${TEST_ACCOUNT}:root` } }],
    [
      'a federated user',
      { identity: { userArn: `arn:aws:sts::${TEST_ACCOUNT}:federated-user/alice` } },
    ],
  ])('answers 403 not_a_person to %s, and starts nothing', async (_, variant) => {
    const response = await post(LOGOFF, variant);
    expect(response.statusCode).toBe(403);
    expect(JSON.parse(response.body).error.code).toBe('not_a_person');
    expect(dependencies.workflows.started).toEqual([]);
  });

  it('answers 400 to a body that names its requester, naming the field, and starts nothing', async () => {
    const response = await post(
      JSON.stringify({ ...JSON.parse(LOGOFF), requestedBy: 'someone.else@example.com' }),
    );
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error.fields).toEqual([
      {
        field: 'requestedBy',
        message: 'is not accepted: the person who signs the request is the requester',
      },
    ]);
    expect(dependencies.workflows.started).toEqual([]);
  });

  it('answers 400 naming the invalid fields, and starts nothing', async () => {
    const response = await post(
      JSON.stringify({ action: 'session.logoff', target: { sessionId: 'nope' } }),
    );
    expect(response.statusCode).toBe(400);
    const { error } = JSON.parse(response.body);
    expect(error.code).toBe('invalid_request');
    expect(error.fields.map((f: { field: string }) => f.field)).toEqual([
      'target.sessionId',
      'reason',
    ]);
    expect(error.message).toBe('Invalid request: target.sessionId, reason');
    expect(dependencies.workflows.started).toEqual([]);
  });

  it.each([
    ['device.selectiveWipe', { user: 'Bob' }],
    ['device.wipe', { deviceId: '7d3f6c1e-2b4a-4f7e-9c0d-1a2b3c4d5e6f' }],
    ['device.deployPolicy', { deviceId: '1042' }],
  ])('starts the device workflow for %s', async (action, target) => {
    const response = await post(JSON.stringify({ action, target, reason: 'Lost phone' }));
    expect(response.statusCode).toBe(202);
    const { actionId } = JSON.parse(response.body);
    expect(dependencies.workflows.started).toEqual([
      {
        workflow: 'device-action',
        name: actionId,
        input: { actionId, action, target, dryRun: false },
      },
    ]);
  });

  it.each([
    [
      'a session target for a device action',
      { action: 'device.wipe', target: { sessionId: 'a11ce000-0000-4000-8000-000000000001' } },
      ['target.sessionId', 'target'],
    ],
    [
      'a device target for a session action',
      { action: 'session.logoff', target: { deviceId: '1042' } },
      ['target.deviceId', 'target'],
    ],
    [
      'a device id that could reach another path',
      { action: 'device.wipe', target: { deviceId: '../device/filter' } },
      ['target.deviceId'],
    ],
    ['an unknown action', { action: 'device.brick', target: { deviceId: '1' } }, ['action']],
  ])('answers 400 to %s, naming the field, and starts nothing', async (_, request, fields) => {
    const response = await post(JSON.stringify({ ...request, reason: 'test' }));
    expect(response.statusCode).toBe(400);
    const { error } = JSON.parse(response.body);
    expect(error.fields.map((f: { field: string }) => f.field)).toEqual(fields);
    expect(dependencies.workflows.started).toEqual([]);
  });

  it('answers a retry with the same Idempotency-Key with the same action and starts nothing', async () => {
    const first = JSON.parse((await post(LOGOFF, withKey('retry-redelivered'))).body);
    const again = await post(LOGOFF, withKey('retry-redelivered'));
    expect(again.statusCode).toBe(202);
    expect(JSON.parse(again.body)).toMatchObject({ actionId: first.actionId, duplicate: true });
    expect(dependencies.workflows.started).toHaveLength(1);
  });

  it('accepts fifty concurrent requests with one Idempotency-Key as one action', async () => {
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => post(LOGOFF, withKey('retry-storm'))),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array(50).fill(202));
    const ids = new Set(responses.map((r) => JSON.parse(r.body).actionId));
    expect(ids.size).toBe(1);
    expect(dependencies.workflows.started).toHaveLength(1);
  });

  it('starts a new action for every request without an Idempotency-Key', async () => {
    await post(LOGOFF);
    await post(LOGOFF);
    expect(dependencies.workflows.started).toHaveLength(2);
  });

  it('answers 409 when an Idempotency-Key comes back with a different request', async () => {
    await post(LOGOFF, withKey('retry-reused'));
    const response = await post(LOGOFF.replace('alice', 'bob'), withKey('retry-reused'));
    expect(response.statusCode).toBe(409);
    expect(JSON.parse(response.body).error.code).toBe('conflict');
    expect(dependencies.workflows.started).toHaveLength(1);
  });

  it('takes only a configured callback destination by name', async () => {
    const withCallback = (name: string) =>
      JSON.stringify({ ...JSON.parse(LOGOFF), callback: name });
    expect((await post(withCallback('soar'))).statusCode).toBe(202);
    const unknown = await post(withCallback('evil'));
    expect(unknown.statusCode).toBe(400);
    expect(JSON.parse(unknown.body).error.fields).toEqual([
      { field: 'callback', message: 'no callback destination named "evil"' },
    ]);
    const url = await post(withCallback('https://attacker.example/hook'));
    expect(url.statusCode).toBe(400);
    expect(dependencies.workflows.started).toHaveLength(1);
  });

  it('answers 400 to a body that is not JSON', async () => {
    const response = await post('{"action":');
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error.code).toBe('invalid_json');
  });

  it('answers 413 to an oversized body before checking anything else', async () => {
    const response = await post(JSON.stringify({ reason: 'x'.repeat(70_000) }));
    expect(response.statusCode).toBe(413);
    expect(dependencies.workflows.started).toEqual([]);
  });

  it('records a failed action when the workflow cannot be started, and answers 500 without details', async () => {
    dependencies.workflows.failWith = new Error(
      'AccessDeniedException: arn:aws:states:secret-detail',
    );
    const response = await post(LOGOFF);
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('secret-detail');
  });
});

describe('the routes other functions serve', () => {
  it.each([
    ['GET', '/v1/actions', '/v1/actions', undefined],
    ['GET', '/v1/actions/{actionId}', '/v1/actions/act_1', { actionId: 'act_1' }],
    ['POST', '/v1/actions/{actionId}/approve', '/v1/actions/act_1/approve', { actionId: 'act_1' }],
    ['POST', '/v1/actions/{actionId}/reject', '/v1/actions/act_1/reject', { actionId: 'act_1' }],
  ] as const)(
    'does not serve %s %s (functions/action-records-api.ts does): 404, and never calls a dependency',
    async (method, resource, path, pathParameters) => {
      const response = await createActionsApiHandler(() => {
        throw new Error('reading and deciding need no dependency of this function');
      })(
        apiEvent({
          method,
          resource,
          path,
          ...(pathParameters === undefined ? {} : { pathParameters }),
          secret: null,
          identity: REQUESTER,
        }),
        lambdaContext,
      );
      expect(response.statusCode).toBe(404);
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'not_found' } });
    },
  );

  it('does not serve GET /v1/openapi.json (functions/api-document.ts serves it): 404, and never calls a dependency', async () => {
    const response = await createActionsApiHandler(() => {
      throw new Error('the document needs no dependency');
    })(
      apiEvent({
        method: 'GET',
        resource: '/v1/openapi.json',
        path: '/v1/openapi.json',
        secret: null,
      }),
      lambdaContext,
    );
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'not_found' } });
  });
});
