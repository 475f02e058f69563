import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionRecord, TargetResult } from '../../../lib/actions/schema.ts';
import {
  ActionAlreadyExistsError,
  ActionNotAwaitingApprovalError,
  ActionNotFoundError,
  ActionRecordCorruptError,
  ActionStoreUnavailableError,
  DynamoActionStore,
} from '../../../lib/actions/store.ts';
import { MAX_AUDIT_FAILURES_PER_ACTION } from '../../../lib/audit/audit-log.ts';
import { createActionsTable, type LocalDynamo, startLocalDynamo } from '../../../local/dynamodb.ts';

const TABLE = 'actions-store-test';
const NOW = new Date('2026-11-23T03:00:00.000Z');
let dynamo: LocalDynamo;
let store: DynamoActionStore;
let counter = 0;

const newRecord = (): ActionRecord => {
  counter += 1;
  return {
    actionId: `act_${counter.toString(16).padStart(32, '0')}`,
    action: 'session.logoff',
    target: { user: 'alice@example.com' },
    reason: 'Impossible travel',
    requestedBy: 'soc@example.com',
    dryRun: false,
    status: 'accepted',
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    results: {},
    expiresAt: 1_900_000_000,
  };
};

const result = (sessionId: string, outcome: TargetResult['outcome']): TargetResult => ({
  sessionId,
  outcome,
  finishedAt: NOW.toISOString(),
});

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  await createActionsTable(dynamo.client, TABLE);
  store = new DynamoActionStore(dynamo.client, TABLE, { now: () => NOW });
});

afterAll(async () => {
  await dynamo.close();
});

describe('DynamoActionStore against a DynamoDB-compatible engine', () => {
  it('creates and reads back a record', async () => {
    const record = newRecord();
    await store.create(record);
    expect(await store.get(record.actionId)).toEqual(record);
    expect(await store.get('act_ffffffffffffffffffffffffffffffff')).toBeUndefined();
  });

  it('never overwrites an existing action', async () => {
    const record = newRecord();
    await store.create(record);
    await expect(store.create({ ...record, reason: 'other' })).rejects.toThrow(
      ActionAlreadyExistsError,
    );
    expect((await store.get(record.actionId))?.reason).toBe('Impossible travel');
  });

  it('tracks an action from running to its per-target results and final status', async () => {
    const record = newRecord();
    await store.create(record);
    const targets = [{ sessionId: 's-1' }, { sessionId: 's-2' }];
    await store.markRunning(record.actionId, targets);
    await store.recordTargetResult(record.actionId, result('s-2', 'failed'));
    await store.recordTargetResult(record.actionId, result('s-1', 'succeeded'));
    let stored = await store.get(record.actionId);
    expect(stored?.status).toBe('running');
    expect(stored?.targets).toEqual(targets);
    expect(Object.keys(stored?.results ?? {}).sort()).toEqual(['s-1', 's-2']);

    await store.complete(record.actionId, {
      status: 'partially_succeeded',
      summary: '1 of 2 sessions logged off, 1 failed',
    });
    stored = await store.get(record.actionId);
    expect(stored).toMatchObject({
      status: 'partially_succeeded',
      summary: '1 of 2 sessions logged off, 1 failed',
    });
    expect(stored?.results['s-1']?.outcome).toBe('succeeded');
  });

  it('keeps device actions and their results under the device ids, round-tripping the schema', async () => {
    const record = {
      ...newRecord(),
      action: 'device.selectiveWipe' as const,
      target: { user: 'bob' },
    };
    await store.create(record);
    const targets = [
      { deviceId: '1042', userName: 'bob', managed: true },
      { deviceId: '1043', userName: 'bob', managed: false },
    ];
    await store.markRunning(record.actionId, targets);
    await store.recordTargetResult(record.actionId, {
      ...targets[1],
      deviceId: '1043',
      managed: false,
      outcome: 'skipped',
      note: 'Not managed',
      finishedAt: new Date().toISOString(),
    });
    await store.recordTargetResult(record.actionId, {
      deviceId: '1042',
      managed: true,
      outcome: 'succeeded',
      command: { name: 'selectiveWipe', sentAt: new Date().toISOString() },
      readBack: { found: true, managed: true },
      finishedAt: new Date().toISOString(),
    });
    const stored = await store.get(record.actionId);
    expect(stored?.target).toEqual({ user: 'bob' });
    expect(stored?.targets).toEqual(targets);
    expect(stored?.results['1042']).toMatchObject({
      outcome: 'succeeded',
      command: { name: 'selectiveWipe' },
      readBack: { found: true, managed: true },
    });
    expect(stored?.results['1043']).toMatchObject({ outcome: 'skipped', note: 'Not managed' });
  });

  it('records a failure with its error and does not reopen a finished action', async () => {
    const record = newRecord();
    await store.create(record);
    await store.complete(record.actionId, {
      status: 'failed',
      summary: 'Action failed: not found',
      error: { name: 'CitrixNotFoundError', message: 'not found' },
    });
    await expect(store.markRunning(record.actionId, [])).rejects.toThrow(ActionNotFoundError);
    expect(await store.get(record.actionId)).toMatchObject({
      status: 'failed',
      error: { name: 'CitrixNotFoundError', message: 'not found' },
    });
  });

  it('decides an approval once, keeps the task token until the action completes', async () => {
    const record = newRecord();
    await store.create(record);
    await store.markRunning(record.actionId, []);
    await store.awaitApproval(record.actionId, {
      reasons: ['session.logoff needs approval'],
      taskToken: 'token-1',
      expiresAt: '2026-11-23T04:00:00.000Z',
    });
    const token = await store.decideApproval(record.actionId, {
      decision: 'approved',
      by: 'approver@example.com',
    });
    expect(token).toBe('token-1');
    // Kept, so that a decision whose delivery to the workflow failed can be sent again.
    expect(await store.get(record.actionId)).toMatchObject({
      status: 'running',
      approval: { decision: 'approved', decidedBy: 'approver@example.com' },
      approvalTaskToken: 'token-1',
    });
    await expect(
      store.decideApproval(record.actionId, { decision: 'rejected', by: 'other@example.com' }),
    ).rejects.toThrow(ActionNotAwaitingApprovalError);
    await store.complete(record.actionId, { status: 'succeeded', summary: 'done' });
    const completed = await store.get(record.actionId);
    expect(completed?.status).toBe('succeeded');
    expect(completed?.approvalTaskToken).toBeUndefined();
  });

  it('refuses updates to an action that does not exist', async () => {
    await expect(
      store.recordTargetResult('act_eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', result('s', 'succeeded')),
    ).rejects.toThrow(ActionNotFoundError);
  });

  it('reports a stored item that no longer matches the schema without echoing it', async () => {
    await dynamo.client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { actionId: { S: 'act_dddddddddddddddddddddddddddddddd' }, status: { S: 'weird' } },
      }),
    );
    await expect(store.get('act_dddddddddddddddddddddddddddddddd')).rejects.toThrow(
      ActionRecordCorruptError,
    );
  });
});

describe('DynamoActionStore: the last resort and audit failures', () => {
  const failure = {
    summary: 'Action failed: its outcome could not be recorded (ActionStoreError: too large)',
    error: { name: 'ActionStoreError', message: 'too large' },
  };

  it.each(['accepted', 'running', 'awaiting_approval'] as const)(
    'marks a %s action failed in one write, dropping its task token',
    async (status) => {
      const record = { ...newRecord(), status, approvalTaskToken: 'task-token-1' };
      await store.create(record);
      expect(await store.failUnfinished(record.actionId, failure)).toBe(true);
      const stored = await store.get(record.actionId);
      expect(stored).toMatchObject({ status: 'failed', ...failure });
      expect(stored?.approvalTaskToken).toBeUndefined();
    },
  );

  it('leaves an outcome already recorded as it is, and an unknown action alone', async () => {
    const record = newRecord();
    await store.create(record);
    await store.complete(record.actionId, { status: 'succeeded', summary: '1 of 1 logged off' });
    expect(await store.failUnfinished(record.actionId, failure)).toBe(false);
    expect(await store.get(record.actionId)).toMatchObject({
      status: 'succeeded',
      summary: '1 of 1 logged off',
    });
    expect(await store.failUnfinished('act_ffffffffffffffffffffffffffffff00', failure)).toBe(false);
  });

  it('keeps the audit failures of an action, at most MAX_AUDIT_FAILURES_PER_ACTION', async () => {
    const record = newRecord();
    await store.create(record);
    const auditFailure = (n: number) => ({
      at: new Date(NOW.getTime() + n).toISOString(),
      entries: n,
      types: ['citrix_call' as const],
      error: { name: 'AuditLogUnavailableError', message: 'audit log unavailable' },
    });
    for (let n = 1; n <= MAX_AUDIT_FAILURES_PER_ACTION + 2; n += 1) {
      await store.recordAuditFailure(record.actionId, auditFailure(n));
    }
    const stored = await store.get(record.actionId);
    expect(stored?.auditFailures).toHaveLength(MAX_AUDIT_FAILURES_PER_ACTION);
    expect(stored?.auditFailures?.[0]).toEqual(auditFailure(1));
    // A request refused before its record existed has nowhere to note it: no error.
    await expect(
      store.recordAuditFailure('act_ffffffffffffffffffffffffffffff01', auditFailure(1)),
    ).resolves.toBeUndefined();
  });
});

describe('DynamoActionStore error mapping', () => {
  it('turns throttling into ActionStoreUnavailableError, which the workflow retries', async () => {
    const client = new DynamoDBClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const mock = mockClient(DynamoDBDocumentClient);
    mock
      .onAnyCommand()
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const throttled = new DynamoActionStore(client, TABLE);
    const error = await throttled.get('act_1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ActionStoreUnavailableError);
    expect((error as Error).name).toBe('ActionStoreUnavailableError');
    mock.restore();
  });
});
