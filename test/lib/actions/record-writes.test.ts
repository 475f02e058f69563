import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ActionAlreadyExistsError,
  ActionNotFoundError,
  ActionStoreContentionError,
  ActionStoreUnavailableError,
  CONDITIONAL_WRITE_ATTEMPTS,
  DynamoActionRecordWrites,
} from '../../../lib/actions/record-writes.ts';
import type { ActionRecord } from '../../../lib/actions/schema.ts';
import { DynamoActionStore } from '../../../lib/actions/store.ts';
import { MAX_AUDIT_FAILURES_PER_ACTION } from '../../../lib/audit/audit-log.ts';
import { createActionsTable, type LocalDynamo, startLocalDynamo } from '../../../local/dynamodb.ts';
import { runningActionRecord } from '../../support/action-records.ts';

/**
 * A conditional write on an action's record that DynamoDB refuses is checked against the record
 * read back: a conflict that has passed (LocalDynamoFaults injects one, the write not made) is
 * written again, and only a record that really refuses the write gets the typed error.
 */
const TABLE = 'record-writes-test';
const NOW = new Date('2026-12-03T03:00:00.000Z');
let dynamo: LocalDynamo;
let writes: DynamoActionRecordWrites;
let store: DynamoActionStore;

const newRecord = (overrides: Partial<ActionRecord> = {}): ActionRecord =>
  runningActionRecord(overrides);

const failure = {
  summary: 'Action failed: its outcome could not be recorded',
  error: { name: 'ActionStoreError', message: 'too large' },
};

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  await createActionsTable(dynamo.client, TABLE);
  writes = new DynamoActionRecordWrites(dynamo.client, TABLE, { now: () => NOW });
  store = new DynamoActionStore(dynamo.client, TABLE, { now: () => NOW });
});
afterAll(() => dynamo.close());
beforeEach(() => dynamo.faults.clear());

describe('DynamoActionRecordWrites against one passing conflict', () => {
  it('completes the action, and still refuses an action that does not exist', async () => {
    const record = newRecord();
    await store.create(record);
    dynamo.faults.conflictNext(TABLE, 1);
    await writes.complete(record.actionId, { status: 'succeeded', summary: '2 of 2 logged off' });
    expect(dynamo.faults.fired).toBe(1);
    expect(await store.get(record.actionId)).toMatchObject({
      status: 'succeeded',
      summary: '2 of 2 logged off',
    });

    dynamo.faults.conflictNext(TABLE, 1);
    await expect(
      writes.complete('act_ffffffffffffffffffffffffffffff10', { status: 'failed', summary: 'x' }),
    ).rejects.toThrow(ActionNotFoundError);
  });

  it('creates the record, and still refuses an id that is taken', async () => {
    const record = newRecord({ status: 'accepted' });
    dynamo.faults.conflictNext(TABLE, 1);
    await writes.create(record);
    expect(dynamo.faults.fired).toBe(1);
    expect(await store.get(record.actionId)).toEqual(record);

    dynamo.faults.conflictNext(TABLE, 1);
    const taken = await writes
      .create({ ...record, reason: 'another' })
      .catch((error: unknown) => error);
    expect(taken).toBeInstanceOf(ActionAlreadyExistsError);
    expect((taken as Error).cause).toBeInstanceOf(ConditionalCheckFailedException);
    expect((await store.get(record.actionId))?.reason).toBe('Impossible travel');
  });

  it('marks an unfinished action failed, and leaves one that has ended as it is', async () => {
    const running = newRecord();
    await store.create(running);
    dynamo.faults.conflictNext(TABLE, 1);
    expect(await writes.failUnfinished(running.actionId, failure)).toBe(true);
    expect(await store.get(running.actionId)).toMatchObject({ status: 'failed', ...failure });

    const ended = newRecord({ status: 'succeeded', summary: '1 of 1 logged off' });
    await store.create(ended);
    dynamo.faults.conflictNext(TABLE, 1);
    expect(await writes.failUnfinished(ended.actionId, failure)).toBe(false);
    expect(await store.get(ended.actionId)).toMatchObject({
      status: 'succeeded',
      summary: '1 of 1 logged off',
    });
  });

  it('notes an audit failure, and none past MAX_AUDIT_FAILURES_PER_ACTION', async () => {
    const auditFailure = {
      at: NOW.toISOString(),
      entries: 1,
      types: ['citrix_call' as const],
      error: { name: 'AuditLogUnavailableError', message: 'audit log unavailable' },
    };
    const record = newRecord();
    await store.create(record);
    dynamo.faults.conflictNext(TABLE, 1);
    await writes.recordAuditFailure(record.actionId, auditFailure);
    expect((await store.get(record.actionId))?.auditFailures).toEqual([auditFailure]);

    const full = newRecord();
    await store.create(full);
    for (let n = 0; n < MAX_AUDIT_FAILURES_PER_ACTION; n += 1) {
      await writes.recordAuditFailure(full.actionId, auditFailure);
    }
    dynamo.faults.conflictNext(TABLE, 1);
    await writes.recordAuditFailure(full.actionId, auditFailure);
    expect((await store.get(full.actionId))?.auditFailures).toHaveLength(
      MAX_AUDIT_FAILURES_PER_ACTION,
    );
  });
});

describe('a conflict that does not pass', () => {
  it(`writes through ${CONDITIONAL_WRITE_ATTEMPTS - 1} conflicts in a row`, async () => {
    const record = newRecord();
    await store.create(record);
    dynamo.faults.conflictNext(TABLE, CONDITIONAL_WRITE_ATTEMPTS - 1);
    await writes.complete(record.actionId, { status: 'failed', summary: '0 of 2 logged off' });
    expect(dynamo.faults.fired).toBe(CONDITIONAL_WRITE_ATTEMPTS - 1);
    expect((await store.get(record.actionId))?.status).toBe('failed');
  });

  it('is contention after CONDITIONAL_WRITE_ATTEMPTS: transient, retried by the workflow, nothing written', async () => {
    const record = newRecord();
    await store.create(record);
    dynamo.faults.conflictNext(TABLE, CONDITIONAL_WRITE_ATTEMPTS);
    const error = await writes
      .complete(record.actionId, { status: 'succeeded', summary: 'done' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ActionStoreContentionError);
    expect(error).toBeInstanceOf(ActionStoreUnavailableError);
    expect((error as Error).name).toBe('ActionStoreContentionError');
    expect(dynamo.faults.fired).toBe(CONDITIONAL_WRITE_ATTEMPTS);
    expect((await store.get(record.actionId))?.status).toBe('running');
  });
});

/** A client to the same table that logs each call, and whose first conditional write is refused. */
function refusingClient(beforeRefusal: () => Promise<void>) {
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const calls: string[] = [];
  let refused = false;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { ConditionExpression?: string; ConsistentRead?: boolean };
      calls.push(`${context.commandName}${input.ConsistentRead ? ' (consistent)' : ''}`);
      if (!refused && input.ConditionExpression !== undefined) {
        refused = true;
        await beforeRefusal();
        throw new ConditionalCheckFailedException({ message: 'refused', $metadata: {} });
      }
      return next(args);
    },
    { step: 'initialize', name: 'refusesTheFirstWrite' },
  );
  return { client, calls };
}

describe('what a refused write reads back decides', () => {
  it('a conflict that has passed: the record is read consistently, and the write sent again', async () => {
    const record = newRecord();
    await store.create(record);
    const { client, calls } = refusingClient(async () => {});
    try {
      const refusedOnce = new DynamoActionRecordWrites(client, TABLE, { now: () => NOW });
      expect(await refusedOnce.failUnfinished(record.actionId, failure)).toBe(true);
      expect(calls).toEqual([
        'UpdateItemCommand',
        'GetItemCommand (consistent)',
        'UpdateItemCommand',
      ]);
      expect((await store.get(record.actionId))?.status).toBe('failed');
    } finally {
      client.destroy();
    }
  });

  it('another writer ended the action first: the typed refusal, and no second write', async () => {
    const record = newRecord();
    await store.create(record);
    const { client, calls } = refusingClient(() =>
      store.complete(record.actionId, { status: 'succeeded', summary: 'ended first' }),
    );
    try {
      const racing = new DynamoActionRecordWrites(client, TABLE, { now: () => NOW });
      expect(await racing.failUnfinished(record.actionId, failure)).toBe(false);
      expect(calls).toEqual(['UpdateItemCommand', 'GetItemCommand (consistent)']);
      expect(await store.get(record.actionId)).toMatchObject({
        status: 'succeeded',
        summary: 'ended first',
      });
    } finally {
      client.destroy();
    }
  });
});
