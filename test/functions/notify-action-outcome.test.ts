import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotifyActionOutcomeHandler } from '../../functions/notify-action-outcome.ts';
import type { ActionRecord } from '../../lib/actions/schema.ts';
import { ActionStoreUnavailableError, DynamoActionStore } from '../../lib/actions/store.ts';
import { ServiceNowClient } from '../../lib/callbacks/servicenow.ts';
import { DEFAULT_RETRY_POLICY } from '../../lib/citrix/retry.ts';
import { createActionsTable, type LocalDynamo, startLocalDynamo } from '../../local/dynamodb.ts';
import { useLoopbackServers } from '../support/loopback-server.ts';
import { rejection } from '../support/rejection.ts';
import { lambdaContext } from '../support/signed-request.ts';

/**
 * The notify task is retried by the workflow when recording fails (ActionStoreUnavailableError):
 * a work note is appended, not set, so the retry must never write it a second time.
 */
const TABLE = 'notify-test';
const SYS_ID = '9d385017c611228701d22104cc95c371';
const startLoopback = useLoopbackServers();
let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  await createActionsTable(dynamo.client, TABLE);
});
afterAll(async () => dynamo.close());

let sequence = 0;
function finishedRecord(): ActionRecord {
  sequence += 1;
  return {
    actionId: `act_${String(sequence).padStart(32, '0')}`,
    action: 'session.logoff',
    target: { user: 'alice@example.com' },
    reason: 'notify retry test',
    dryRun: false,
    status: 'succeeded',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    results: {},
    expiresAt: 1_900_000_000,
    source: {
      name: 'servicenow',
      deliveryId: 'dlv_1',
      title: 'ServiceNow INC0010001',
      serviceNowIncident: { sysId: SYS_ID, number: 'INC0010001' },
    },
  };
}

async function setUp(failingRecordWrites: number) {
  const tableApi = await startLoopback((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ result: { sys_id: SYS_ID } }));
  });
  const store = new DynamoActionStore(dynamo.client, TABLE);
  const record = finishedRecord();
  await store.create(record);
  let failures = failingRecordWrites;
  const actions = {
    get: (actionId: string) => store.get(actionId),
    claimNotification: (actionId: string, channel: string, destination: string) =>
      store.claimNotification(actionId, channel, destination),
    recordNotifications: async (
      actionId: string,
      notifications: NonNullable<ActionRecord['notifications']>,
    ) => {
      if (failures > 0) {
        failures -= 1;
        throw new ActionStoreUnavailableError(`Action store unavailable for ${actionId}`);
      }
      await store.recordNotifications(actionId, notifications);
    },
  };
  const serviceNow = new ServiceNowClient({
    connection: async () => ({
      instanceUrl: tableApi.baseUrl,
      username: 'citrix.response',
      password: 'table-api-password-1',
    }),
    timeoutMs: 2000,
    retry: DEFAULT_RETRY_POLICY,
    sleep: async () => undefined,
  });
  const handler = createNotifyActionOutcomeHandler(() => ({
    actions,
    notifications: { serviceNow },
  }));
  const run = () => handler({ actionId: record.actionId }, lambdaContext);
  return { tableApi, store, record, run };
}

describe('notify-action-outcome under the workflow’s retry', () => {
  it('writes the work note once when recording its outcome fails once', async () => {
    const { tableApi, store, record, run } = await setUp(1);

    // First attempt: the note is written, then recording fails; the workflow retries the task.
    expect(await rejection(run())).toBeInstanceOf(ActionStoreUnavailableError);
    expect(tableApi.requests).toHaveLength(1);

    const retried = await run();
    expect(tableApi.requests.map((request) => [request.method, request.path])).toEqual([
      ['PATCH', `/api/now/table/incident/${SYS_ID}`],
    ]);
    const expected = {
      channel: 'servicenow',
      destination: SYS_ID,
      status: 'unknown',
      attempts: 0,
      error: expect.objectContaining({ name: 'NotificationOutcomeUnknownError' }),
    };
    expect(retried.notifications).toEqual([expect.objectContaining(expected)]);
    expect((await store.get(record.actionId))?.notifications).toEqual([
      expect.objectContaining(expected),
    ]);
  });

  it('records a delivered note when nothing fails, and a later run sends nothing again', async () => {
    const { tableApi, store, record, run } = await setUp(0);
    await run();
    const delivered = expect.objectContaining({
      channel: 'servicenow',
      destination: SYS_ID,
      status: 'delivered',
      attempts: 1,
    });
    expect((await store.get(record.actionId))?.notifications).toEqual([delivered]);

    // E.g. the audit write after it failed and the task ran again: the recorded outcome stands.
    expect((await run()).notifications).toEqual([delivered]);
    expect(tableApi.requests).toHaveLength(1);
  });

  it('claims a channel once per action', async () => {
    const store = new DynamoActionStore(dynamo.client, TABLE);
    const record = finishedRecord();
    await store.create(record);
    const claims = await Promise.all(
      Array.from({ length: 5 }, () =>
        store.claimNotification(record.actionId, 'servicenow', SYS_ID),
      ),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await store.claimNotification(record.actionId, 'callback', 'soar')).toBe(true);
    // The marker is not part of the record the API shows.
    expect(await store.get(record.actionId)).not.toHaveProperty('notificationClaims');
  });
});
