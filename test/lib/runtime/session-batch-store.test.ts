import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planOf } from '../../../lib/actions/outcome.ts';
import type { ActionRecord, ResolvedSession } from '../../../lib/actions/schema.ts';
import { ActionStoreError, DynamoActionStore } from '../../../lib/actions/store.ts';
import { CitrixNotFoundError } from '../../../lib/citrix/errors.ts';
import { createLimitsTable } from '../../../lib/guardrails/limits.ts';
import {
  batchKey,
  DAAS_THROTTLE_GATE_KEY,
  DynamoSessionBatchStore,
  DynamoThrottleGate,
  SessionBatchConflictError,
  SessionBatchNotFoundError,
  SessionBatchStoreUnavailableError,
} from '../../../lib/runtime/session-batch-store.ts';
import { type SessionBatch, SessionBatchContents } from '../../../lib/sessions/batch-items.ts';
import {
  advanceBatch,
  batchesOf,
  failBatch,
  writeSessionBatches,
} from '../../../lib/sessions/batches.ts';
import { DEFAULT_SESSION_WORKFLOW_SETTINGS } from '../../../lib/sessions/session-actions.ts';
import { warnBatchedSessions } from '../../../lib/sessions/warnings.ts';
import { createActionsTable, type LocalDynamo, startLocalDynamo } from '../../../local/dynamodb.ts';
import { rejection } from '../../support/rejection.ts';

const ACTIONS = 'session-batches-test';
const LIMITS = 'session-batches-limits-test';
const NOW = new Date('2026-11-23T03:00:00.000Z');
const RETENTION_DAYS = 30;
const SETTINGS = DEFAULT_SESSION_WORKFLOW_SETTINGS;

let dynamo: LocalDynamo;
let documents: DynamoDBDocumentClient;
let counter = 0;
const clock = { now: NOW };

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  await createActionsTable(dynamo.client, ACTIONS);
  await createLimitsTable(dynamo.client, LIMITS);
  documents = DynamoDBDocumentClient.from(dynamo.client);
});
afterAll(async () => dynamo.close());

const newActionId = () => {
  counter += 1;
  return `act_${counter.toString(16).padStart(32, '0')}`;
};
const newStore = () =>
  new DynamoSessionBatchStore(dynamo.client, ACTIONS, RETENTION_DAYS, () => clock.now);

const session = (n: number, overrides: Partial<ResolvedSession> = {}): ResolvedSession => ({
  sessionId: `s-${n}`,
  userName: `user${n}@example.com`,
  userNames: [`user${n}@example.com`, `EXAMPLE\\user${n}`],
  machineName: `vda-${n}.example.com`,
  state: 'Active',
  actionable: true,
  ...overrides,
});

const rawItem = async (key: string) =>
  (
    await documents.send(
      new GetCommand({ TableName: ACTIONS, Key: { actionId: key }, ConsistentRead: true }),
    )
  ).Item;

describe('DynamoSessionBatchStore against a DynamoDB-compatible engine', () => {
  it('writes 250 batches and reads them all back in order (more than one BatchWrite and BatchGet)', async () => {
    const store = newStore();
    const actionId = newActionId();
    const targets = Array.from({ length: 500 }, (_, n) => session(n));
    const batches = batchesOf(actionId, targets, 2, SETTINGS);
    expect(batches).toHaveLength(250);

    await store.write(batches);

    const read = await store.readAll(actionId, 250);
    expect(read).toEqual(batches);
    expect(read.flatMap((batch) => batch.entries.map((entry) => entry.target))).toEqual(targets);
    expect(await store.read(actionId, 137)).toEqual(batches[137]);
  });

  it('keeps each batch beside its action under `<actionId>#batch#<n>`, with the TTL', async () => {
    const store = newStore();
    const actionId = newActionId();
    await store.write(batchesOf(actionId, [session(0), session(1)], 1, SETTINGS));

    const item = await rawItem(batchKey(actionId, 1));
    expect(batchKey(actionId, 1)).toBe(`${actionId}#batch#0001`);
    expect(item).toMatchObject({
      actionId: `${actionId}#batch#0001`,
      batchOf: actionId,
      index: 1,
      version: 0,
      expiresAt: Math.floor(NOW.getTime() / 1000) + RETENTION_DAYS * 86_400,
    });

    // Every save moves the TTL on with the clock.
    const batch = await store.read(actionId, 1);
    clock.now = new Date(NOW.getTime() + 3_600_000);
    try {
      await store.save({ ...batch, version: 1 });
    } finally {
      clock.now = NOW;
    }
    expect((await rawItem(batchKey(actionId, 1)))?.expiresAt).toBe(
      Math.floor(NOW.getTime() / 1000) + 3600 + RETENTION_DAYS * 86_400,
    );
  });

  it('saves over the version before it, and refuses a save over a stale version', async () => {
    const store = newStore();
    const actionId = newActionId();
    const [batch] = batchesOf(actionId, [session(0)], 1, SETTINGS);
    if (batch === undefined) throw new Error('no batch');
    await store.write([batch]);

    const claimed: SessionBatch = {
      ...batch,
      version: 1,
      rounds: 1,
      entries: [{ target: session(0), step: 'claimed' }],
    };
    await store.save(claimed);
    expect(await store.read(actionId, 0)).toEqual(claimed);

    // A second round that read version 0 too.
    const stale = await rejection(
      store.save({ ...batch, version: 1, entries: [{ target: session(0), step: 'pending' }] }),
    );
    expect(stale).toBeInstanceOf(SessionBatchConflictError);
    expect(stale.name).toBe('SessionBatchConflictError');
    expect(stale.message).toContain(batchKey(actionId, 0));
    // A version skipped ahead is refused as well.
    await expect(store.save({ ...claimed, version: 3 })).rejects.toThrow(SessionBatchConflictError);
    expect(await store.read(actionId, 0)).toEqual(claimed);

    await store.save({ ...claimed, version: 2, rounds: 2 });
    expect((await store.read(actionId, 0)).version).toBe(2);

    // A batch never written cannot be saved into being.
    await expect(store.save({ ...batch, actionId: newActionId(), version: 1 })).rejects.toThrow(
      SessionBatchConflictError,
    );
  });

  it('saves through a refusal that has passed (the stored batch still at the version before), and gives up after three', async () => {
    const store = newStore();
    const actionId = newActionId();
    const [batch] = batchesOf(actionId, [session(0)], 1, SETTINGS);
    if (batch === undefined) throw new Error('no batch');
    await store.write([batch]);
    const claimed: SessionBatch = {
      ...batch,
      version: 1,
      rounds: 1,
      entries: [{ target: session(0), step: 'claimed' }],
    };

    dynamo.faults.conflictNext(ACTIONS, 2);
    await store.save(claimed);
    expect(dynamo.faults.fired).toBe(2);
    expect(await store.read(actionId, 0)).toEqual(claimed);

    dynamo.faults.clear();
    dynamo.faults.conflictNext(ACTIONS, 3);
    const refused = await rejection(store.save({ ...claimed, version: 2, rounds: 2 }));
    expect(refused).toBeInstanceOf(SessionBatchStoreUnavailableError);
    expect(refused).not.toBeInstanceOf(SessionBatchConflictError);
    expect(await store.read(actionId, 0)).toEqual(claimed);
    dynamo.faults.clear();
  });

  it('reports a missing batch as not found, alone or among others', async () => {
    const store = newStore();
    const actionId = newActionId();
    await store.write(batchesOf(actionId, [session(0), session(1)], 1, SETTINGS));

    const missing = await rejection(store.read(actionId, 2));
    expect(missing).toBeInstanceOf(SessionBatchNotFoundError);
    expect(missing.name).toBe('SessionBatchNotFoundError');
    await expect(store.readAll(actionId, 3)).rejects.toThrow(SessionBatchNotFoundError);
    await expect(store.read(newActionId(), 0)).rejects.toThrow(SessionBatchNotFoundError);
  });
});

describe('DynamoThrottleGate', () => {
  it('is open until closed, closes only ever later, and opens once the time has passed', async () => {
    const gate = new DynamoThrottleGate(dynamo.client, LIMITS);
    const t = NOW.getTime();
    expect(await gate.closedUntil(NOW)).toBeUndefined();

    await gate.close(t + 5_000);
    expect(await gate.closedUntil(NOW)).toBe(t + 5_000);
    // Another batch's shorter Retry-After does not reopen it sooner.
    await gate.close(t + 2_000);
    expect(await gate.closedUntil(NOW)).toBe(t + 5_000);
    await gate.close(t + 9_000);
    expect(await gate.closedUntil(NOW)).toBe(t + 9_000);
    expect(await gate.closedUntil(new Date(t + 8_999))).toBe(t + 9_000);

    expect(await gate.closedUntil(new Date(t + 9_000))).toBeUndefined();
    expect(await gate.closedUntil(new Date(t + 60_000))).toBeUndefined();

    // One item of the limits table, shared by every gate over it.
    const item = await documents.send(
      new GetCommand({ TableName: LIMITS, Key: { counter: DAAS_THROTTLE_GATE_KEY } }),
    );
    expect(item.Item).toEqual({ counter: DAAS_THROTTLE_GATE_KEY, closedUntil: t + 9_000 });
    expect(await new DynamoThrottleGate(dynamo.client, LIMITS).closedUntil(NOW)).toBe(t + 9_000);
  });
});

describe('DynamoActionStore with its targets in batches', () => {
  const newRecord = (actionId: string): ActionRecord => ({
    actionId,
    action: 'session.disconnect',
    target: { user: 'alice@example.com' },
    reason: 'Impossible travel',
    requestedBy: 'soc@example.com',
    dryRun: false,
    status: 'accepted',
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    results: {},
    expiresAt: 1_900_000_000,
  });

  it('keeps no targets or plan in the record, and reads them back from the batches', async () => {
    const batches = newStore();
    const actions = new DynamoActionStore(dynamo.client, ACTIONS, {
      now: () => NOW,
      batched: new SessionBatchContents(batches),
    });
    const actionId = newActionId();
    await actions.create(newRecord(actionId));
    const targets = [
      session(0),
      session(1),
      session(2),
      session(3, { actionable: false, skipReason: 'Protected user' }),
      session(4),
    ];

    const numbers = await writeSessionBatches(
      { store: batches, actions, settings: { batchSize: 2, initialWaitSeconds: 2 } },
      actionId,
      targets,
      undefined,
    );

    expect(numbers).toEqual([0, 1, 2]);
    const item = await rawItem(actionId);
    expect(item).toMatchObject({ status: 'running', batches: 3, results: {} });
    expect(item).not.toHaveProperty('targets');
    expect(item).not.toHaveProperty('plan');

    // Warnings, one batch acted on, one failed as a whole.
    const gone = new CitrixNotFoundError({
      status: 404,
      method: 'POST',
      path: '/x',
      detail: 'Session gone',
    });
    const warningError = { name: 'CitrixNotFoundError', message: gone.message };
    await warnBatchedSessions(
      {
        messenger: {
          sendMessage: async (sessionId) => {
            if (sessionId === 's-2') throw gone;
          },
        },
        store: batches,
      },
      actionId,
      3,
      { title: 'Security', text: 'Save your work', graceSeconds: 30 },
    );
    await advanceBatch(
      { actionId, action: 'session.disconnect', index: 0 },
      {
        controller: {
          disconnectSession: async () => undefined,
          logoffSession: async () => ({}),
        },
        jobs: {
          getJob: async () => {
            throw new Error('no job to read');
          },
        },
        gate: { closedUntil: async () => undefined, close: async () => undefined },
        store: batches,
        settings: SETTINGS,
      },
      () => NOW,
    );
    await failBatch(
      { actionId, index: 1 },
      batches,
      { Error: 'States.Timeout', Cause: 'Task timed out' },
      NOW,
    );

    const record = await actions.get(actionId);
    expect(record?.targets).toEqual(targets);
    expect(record?.plan).toEqual(planOf(targets));
    expect(record?.plan?.[3]).toEqual({ target: 's-3', act: false, reason: 'Protected user' });
    expect(record?.warnings).toEqual([
      { sessionId: 's-0', status: 'sent' },
      { sessionId: 's-1', status: 'sent' },
      { sessionId: 's-2', status: 'failed', error: warningError },
      { sessionId: 's-4', status: 'sent' },
    ]);
    expect(Object.keys(record?.results ?? {}).sort()).toEqual(['s-0', 's-1', 's-2', 's-3']);
    expect(record?.results['s-0']).toMatchObject({ outcome: 'succeeded' });
    expect(record?.results['s-2']).toMatchObject({
      outcome: 'failed',
      error: { name: 'States.Timeout', message: 'Task timed out' },
    });
    expect(record?.results['s-3']).toMatchObject({ outcome: 'skipped', note: 'Protected user' });
    expect(record).toMatchObject({ status: 'running', batches: 3 });

    // A store that cannot read batches says so rather than returning an action without targets.
    await expect(new DynamoActionStore(dynamo.client, ACTIONS).get(actionId)).rejects.toThrow(
      ActionStoreError,
    );
  });
});
