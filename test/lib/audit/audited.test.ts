import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCompleteActionHandler } from '../../../functions/complete-action.ts';
import { DynamoActionStore } from '../../../lib/actions/store.ts';
import { toActionView } from '../../../lib/actions/view.ts';
import {
  type AuditFailure,
  type AuditLog,
  AuditLogUnavailableError,
  DynamoAuditLog,
} from '../../../lib/audit/audit-log.ts';
import { audited } from '../../../lib/audit/audited.ts';
import { auditEvent } from '../../../lib/audit/context.ts';
import { recordAuditAppendFailure } from '../../../lib/runtime/metrics.ts';
import { createActionsTable, type LocalDynamo, startLocalDynamo } from '../../../local/dynamodb.ts';
import { lambdaContext } from '../../../local/workflow-runner.ts';

// The metric is written to stdout as EMF only in Lambda; here the call itself is what is checked.
vi.mock('../../../lib/runtime/metrics.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../lib/runtime/metrics.ts')>()),
  recordAuditAppendFailure: vi.fn(),
}));

const ACTION_ID = `act_${'a'.repeat(32)}`;
const context = lambdaContext('audited-test');

/** A task that records one decision and one Citrix call, then returns (or throws) its own. */
const task = (outcome: () => unknown) => async (_event: unknown, _context: Context) => {
  auditEvent('decision', 'Planned (dry run)', { decision: 'planned' });
  auditEvent('citrix_call', 'GET /cvad/manage/Sessions → 200 (5 ms)', {
    method: 'GET',
    path: '/cvad/manage/Sessions',
    durationMs: 5,
    attempt: 1,
  });
  return outcome();
};

const failingLog: AuditLog = {
  append: async () => {
    throw new AuditLogUnavailableError('Audit append: audit log unavailable');
  },
  timeline: async () => [],
};

beforeEach(() => {
  vi.mocked(recordAuditAppendFailure).mockClear();
});

describe('audited: an audit append that fails', () => {
  it('leaves the task’s result alone, counts the failure and notes it on the action', async () => {
    const noted: [string, AuditFailure][] = [];
    const handler = audited(
      task(() => ({ done: true })),
      () => failingLog,
      () => ({ recordAuditFailure: async (id, failure) => void noted.push([id, failure]) }),
    );

    await expect(handler({ actionId: ACTION_ID }, context)).resolves.toEqual({ done: true });
    expect(recordAuditAppendFailure).toHaveBeenCalledTimes(1);
    expect(noted).toEqual([
      [
        ACTION_ID,
        {
          at: expect.any(String),
          entries: 2,
          types: ['decision', 'citrix_call'],
          error: {
            name: 'AuditLogUnavailableError',
            message: 'Audit append: audit log unavailable',
          },
        },
      ],
    ]);
  });

  it('rethrows the task’s own error as it was, after noting the failure', async () => {
    const noted: AuditFailure[] = [];
    const taskError = Object.assign(new Error('Citrix said no'), { name: 'CitrixApiError' });
    const handler = audited(
      task(() => {
        throw taskError;
      }),
      () => failingLog,
      () => ({ recordAuditFailure: async (_id, failure) => void noted.push(failure) }),
    );

    await expect(handler({ actionId: ACTION_ID }, context)).rejects.toBe(taskError);
    expect(noted).toHaveLength(1);
    expect(recordAuditAppendFailure).toHaveBeenCalledTimes(1);
  });

  it('still counts it when the note cannot be written, or its store cannot even be built', async () => {
    const unwritable = audited(
      task(() => 'ok'),
      () => failingLog,
      () => ({
        recordAuditFailure: async () => {
          throw new Error('actions table unavailable too');
        },
      }),
    );
    const unbuildable = audited(
      task(() => 'ok'),
      () => failingLog,
      () => {
        throw new Error('ACTIONS_TABLE_NAME is not set');
      },
    );

    await expect(unwritable({ actionId: ACTION_ID }, context)).resolves.toBe('ok');
    await expect(unbuildable({ actionId: ACTION_ID }, context)).resolves.toBe('ok');
    expect(recordAuditAppendFailure).toHaveBeenCalledTimes(2);
  });

  it('notes nothing when the entries were written', async () => {
    const appended: number[] = [];
    const recordAuditFailure = vi.fn();
    const handler = audited(
      task(() => 'ok'),
      () => ({
        append: async (entries) => void appended.push(entries.length),
        timeline: async () => [],
      }),
      () => ({ recordAuditFailure }),
    );

    await expect(handler({ actionId: ACTION_ID }, context)).resolves.toBe('ok');
    expect(appended).toEqual([2]);
    expect(recordAuditFailure).not.toHaveBeenCalled();
    expect(recordAuditAppendFailure).not.toHaveBeenCalled();
  });
});

describe('complete-action with an audit table that refuses every write', () => {
  const TABLE = 'audited-actions';
  let dynamo: LocalDynamo;
  let store: DynamoActionStore;

  beforeAll(async () => {
    dynamo = await startLocalDynamo();
    await createActionsTable(dynamo.client, TABLE);
    store = new DynamoActionStore(dynamo.client, TABLE);
  });

  afterAll(async () => {
    await dynamo?.close();
  });

  it('records the outcome, and the action’s view says which entries its timeline lacks', async () => {
    // An audit table the engine does not have: every BatchWriteItem is refused.
    const auditLog = new DynamoAuditLog(dynamo.client, 'no-such-audit-table');
    const now = new Date().toISOString();
    await store.create({
      actionId: ACTION_ID,
      action: 'device.wipe',
      target: { deviceId: '42' },
      reason: 'Lost phone',
      dryRun: false,
      status: 'awaiting_approval',
      createdAt: now,
      updatedAt: now,
      results: {},
      expiresAt: 1_900_000_000,
    });
    const handler = audited(
      createCompleteActionHandler(() => ({
        actions: store,
        counter: { release: async () => false },
        batched: { read: async () => ({ results: {} }) },
      })),
      () => auditLog,
      () => store,
    );

    // Nobody approved in time: the expiry is a decision the audit trail should hold.
    await expect(
      handler(
        { actionId: ACTION_ID, action: 'device.wipe', dryRun: false, ended: 'expired' },
        context,
      ),
    ).resolves.toMatchObject({ status: 'expired' });

    const record = await store.get(ACTION_ID);
    expect(record?.status).toBe('expired');
    const view = toActionView(record as NonNullable<typeof record>);
    expect(view.auditFailures).toEqual([
      {
        at: expect.any(String),
        entries: 1,
        types: ['decision'],
        error: { name: 'AuditLogError', message: 'Audit append: audit log request failed' },
      },
    ]);
    expect(recordAuditAppendFailure).toHaveBeenCalledTimes(1);
  });
});
