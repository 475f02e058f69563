import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ActionRecord, DeviceTargetResult } from '../../../lib/actions/schema.ts';
import {
  ActionNotAwaitingApprovalError,
  ActionNotFoundError,
  DynamoActionStore,
} from '../../../lib/actions/store.ts';
import { createActionsTable, type LocalDynamo, startLocalDynamo } from '../../../local/dynamodb.ts';
import { runningActionRecord } from '../../support/action-records.ts';

/**
 * The workflow's writes on an action's record (its results above all) against a conditional-write
 * conflict that has passed by the time the record is read back (LocalDynamoFaults): each write is
 * made, and the typed error stays for a record that really refuses it.
 */
const TABLE = 'store-conflicts-test';
const NOW = new Date('2026-12-03T03:00:00.000Z');
let dynamo: LocalDynamo;
let store: DynamoActionStore;

const newRecord = (overrides: Partial<ActionRecord> = {}): ActionRecord =>
  runningActionRecord({ action: 'device.selectiveWipe', reason: 'Lost device', ...overrides });

const deviceResult = (deviceId: string): DeviceTargetResult => ({
  deviceId,
  userName: 'alice@example.com',
  managed: true,
  outcome: 'succeeded',
  command: { name: 'selectiveWipe', sentAt: NOW.toISOString() },
  readBack: { found: true, managed: true },
  finishedAt: NOW.toISOString(),
});

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  await createActionsTable(dynamo.client, TABLE);
  store = new DynamoActionStore(dynamo.client, TABLE, { now: () => NOW });
});
afterAll(() => dynamo.close());
beforeEach(() => dynamo.faults.clear());

describe('DynamoActionStore against one passing conflict', () => {
  it("records a device's result (the device holds the command), and refuses an action that does not exist", async () => {
    const record = newRecord();
    await store.create(record);
    await store.recordTargetResult(record.actionId, deviceResult('device-1'));
    dynamo.faults.conflictNext(TABLE, 1);
    await store.recordTargetResult(record.actionId, deviceResult('device-2'));
    expect(dynamo.faults.fired).toBe(1);
    expect((await store.get(record.actionId))?.results).toEqual({
      'device-1': deviceResult('device-1'),
      'device-2': deviceResult('device-2'),
    });

    dynamo.faults.conflictNext(TABLE, 1);
    await expect(
      store.recordTargetResult('act_ffffffffffffffffffffffffffffff20', deviceResult('device-3')),
    ).rejects.toThrow(ActionNotFoundError);
  });

  it('records the same result again as the same record (a retried task)', async () => {
    const record = newRecord();
    await store.create(record);
    await store.recordTargetResult(record.actionId, deviceResult('device-1'));
    dynamo.faults.conflictNext(TABLE, 1);
    await store.recordTargetResult(record.actionId, deviceResult('device-1'));
    expect(dynamo.faults.fired).toBe(1);
    expect((await store.get(record.actionId))?.results).toEqual({
      'device-1': deviceResult('device-1'),
    });
  });

  it('marks an accepted action running, and never reopens one that has ended', async () => {
    const accepted = newRecord({ status: 'accepted' });
    await store.create(accepted);
    dynamo.faults.conflictNext(TABLE, 1);
    await store.markRunning(accepted.actionId, [{ deviceId: 'device-1', managed: true }]);
    expect(dynamo.faults.fired).toBe(1);
    expect((await store.get(accepted.actionId))?.status).toBe('running');

    const ended = newRecord({ status: 'failed', summary: 'failed first' });
    await store.create(ended);
    dynamo.faults.conflictNext(TABLE, 1);
    await expect(store.markRunning(ended.actionId, [])).rejects.toThrow(ActionNotFoundError);
    expect(await store.get(ended.actionId)).toMatchObject({
      status: 'failed',
      summary: 'failed first',
    });
  });

  it('records warnings and notifications', async () => {
    const record = newRecord();
    await store.create(record);
    const warnings = [{ sessionId: 's-1', status: 'sent' as const }];
    dynamo.faults.conflictNext(TABLE, 1);
    await store.recordWarnings(record.actionId, warnings);
    const notifications = [
      {
        channel: 'callback' as const,
        destination: 'soc-callback',
        status: 'delivered' as const,
        attempts: 1,
        at: NOW.toISOString(),
      },
    ];
    dynamo.faults.conflictNext(TABLE, 1);
    await store.recordNotifications(record.actionId, notifications);
    expect(dynamo.faults.fired).toBe(2);
    expect(await store.get(record.actionId)).toMatchObject({ warnings, notifications });
  });

  it('holds an action for approval and decides it once', async () => {
    const record = newRecord();
    await store.create(record);
    dynamo.faults.conflictNext(TABLE, 1);
    await store.awaitApproval(record.actionId, {
      reasons: ['wipe'],
      taskToken: 'task-token-1',
      expiresAt: '2026-12-03T04:00:00.000Z',
    });
    dynamo.faults.conflictNext(TABLE, 1);
    const token = await store.decideApproval(record.actionId, {
      decision: 'approved',
      by: 'approver@example.com',
    });
    expect(token).toBe('task-token-1');
    expect(dynamo.faults.fired).toBe(2);
    expect((await store.get(record.actionId))?.approval?.decidedBy).toBe('approver@example.com');

    dynamo.faults.conflictNext(TABLE, 1);
    await expect(
      store.decideApproval(record.actionId, { decision: 'rejected', by: 'other@example.com' }),
    ).rejects.toThrow(ActionNotAwaitingApprovalError);
    expect((await store.get(record.actionId))?.approval?.decision).toBe('approved');
  });

  it('claims a notification once', async () => {
    const record = newRecord();
    await store.create(record);
    dynamo.faults.conflictNext(TABLE, 1);
    expect(await store.claimNotification(record.actionId, 'callback', 'https://a.example')).toBe(
      true,
    );
    expect(dynamo.faults.fired).toBe(1);
    dynamo.faults.conflictNext(TABLE, 1);
    expect(await store.claimNotification(record.actionId, 'callback', 'https://a.example')).toBe(
      false,
    );
    expect(await store.claimNotification(record.actionId, 'callback', 'https://b.example')).toBe(
      true,
    );
  });
});
