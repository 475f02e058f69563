import { describe, expect, it } from 'vitest';
import { createCompleteActionHandler } from '../../functions/complete-action.ts';
import type {
  ActionRecord,
  ResolvedDevice,
  ResolvedSession,
  SessionTargetResult,
  TargetResult,
} from '../../lib/actions/schema.ts';
import type {
  ActionCompletion,
  BatchedContents,
  UnfinishedActionFailure,
} from '../../lib/actions/store.ts';
import { GuardrailStoreUnavailableError } from '../../lib/guardrails/limits.ts';
import { lambdaContext } from '../../local/workflow-runner.ts';

const ACTION_ID = `act_${'0'.repeat(31)}1`;
const NOW = '2026-01-01T00:00:00.000Z';

function fixture(
  release: () => Promise<boolean> = async () => true,
  contents: BatchedContents = { results: {} },
  stored: Partial<ActionRecord> = {},
) {
  const completed: ActionCompletion[] = [];
  const released: { action: string; actionId: string; keep: number | undefined }[] = [];
  const reads: { actionId: string; batches: number }[] = [];
  const lastResorts: { actionId: string; failure: UnfinishedActionFailure }[] = [];
  const handler = createCompleteActionHandler(() => ({
    actions: {
      complete: async (_actionId: string, completion: ActionCompletion) => {
        completed.push(completion);
      },
      get: async () => ({ ...RECORD, ...stored }),
      failUnfinished: async (actionId, failure) => {
        lastResorts.push({ actionId, failure });
        return true;
      },
    },
    counter: {
      release: async (action, actionId, options) => {
        released.push({ action, actionId, keep: options?.keep });
        return release();
      },
    },
    batched: {
      read: async (actionId, batches) => {
        reads.push({ actionId, batches });
        return contents;
      },
    },
  }));
  const run = (input: Record<string, unknown>) =>
    handler(
      { actionId: ACTION_ID, action: 'device.wipe', dryRun: false, ...input },
      lambdaContext('complete-action'),
    );
  return { run, completed, released, reads, lastResorts, handler };
}

const RECORD: ActionRecord = {
  actionId: ACTION_ID,
  action: 'device.wipe',
  target: { user: 'carol@example.com' },
  reason: 'Lost phone',
  dryRun: false,
  status: 'running',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  results: {},
  expiresAt: 1_900_000_000,
};

const device = (deviceId: string, actionable: boolean): ResolvedDevice => ({
  deviceId,
  managed: actionable,
  actionable,
});

describe('complete-action', () => {
  it.each(['rejected', 'expired'] as const)(
    'gives back the hourly reservation of an action that ended %s',
    async (ended) => {
      const { run, completed, released } = fixture();
      const completion = await run({
        ended,
        error: { Error: 'ActionRejectedError', Cause: 'Rejected by approver@example.com' },
      });
      expect(completion).toMatchObject({ status: ended });
      expect(completed).toHaveLength(1);
      expect(released).toEqual([{ action: 'device.wipe', actionId: ACTION_ID, keep: 0 }]);
    },
  );

  it('gives back the reservation of a hold that failed before anything was done', async () => {
    const { run, completed, released } = fixture();
    const completion = await run({
      ended: 'failed',
      error: { Error: 'ActionStoreUnavailableError', Cause: 'The hold could not be recorded' },
    });
    expect(completion).toMatchObject({
      status: 'failed',
      error: { name: 'ActionStoreUnavailableError', message: 'The hold could not be recorded' },
    });
    expect(completed).toHaveLength(1);
    expect(released).toEqual([{ action: 'device.wipe', actionId: ACTION_ID, keep: 0 }]);
    // A dry run reserved nothing.
    await run({ ended: 'failed', dryRun: true, error: { Error: 'X', Cause: 'y' } });
    expect(released).toHaveLength(1);
  });

  it('keeps the reservation of an action that ran to its end', async () => {
    const { run, released } = fixture();
    await run({ resolution: { targets: [device('d-1', true)] }, results: [] });
    expect(released).toEqual([]);
  });

  it('gives back the whole reservation of an action that failed while resolving its targets', async () => {
    // No resolution: the task that reserved failed after reserving (a timeout, a lost reply).
    const { run, completed, released } = fixture();
    await run({ error: { Error: 'Sandbox.Timedout', Cause: 'Task timed out after 60 seconds' } });
    expect(completed).toEqual([expect.objectContaining({ status: 'failed' })]);
    expect(released).toEqual([{ action: 'device.wipe', actionId: ACTION_ID, keep: 0 }]);
  });

  it('keeps counted only the targets a failed action may have acted on', async () => {
    const wiped: TargetResult = { ...device('d-1', true), outcome: 'succeeded', finishedAt: NOW };
    const { run, released } = fixture(
      async () => true,
      { results: {} },
      {
        results: { 'd-1': wiped },
      },
    );
    await run({
      // d-1 was wiped; d-2 has no result (its iteration may have sent the wipe before the Map
      // failed), so it stays counted too; d-3 is not managed and was never reserved.
      resolution: { targets: [device('d-1', true), device('d-2', true), device('d-3', false)] },
      error: { Error: 'ActionStoreUnavailableError', Cause: 'results could not be recorded' },
    });
    expect(released).toEqual([{ action: 'device.wipe', actionId: ACTION_ID, keep: 2 }]);
  });

  it('gives back an administrator a guard refused just before the change', async () => {
    const admin = (administratorId: string) => ({
      administratorId,
      ucOid: `oid-${administratorId}`,
      type: 'AdministratorUser',
      pending: false,
      allowed: true,
    });
    const { run, released } = fixture(
      async () => true,
      { results: {} },
      {
        action: 'admin.revoke',
        results: {
          'a-1': { ...admin('a-1'), outcome: 'refused', note: 'Last Full', finishedAt: NOW },
          'a-2': { ...admin('a-2'), outcome: 'succeeded', finishedAt: NOW },
        },
      },
    );
    await run({
      action: 'admin.revoke',
      resolution: { targets: [admin('a-1'), admin('a-2')] },
      error: { Error: 'States.Runtime', Cause: 'the Map failed' },
    });
    expect(released).toEqual([{ action: 'admin.revoke', actionId: ACTION_ID, keep: 1 }]);
  });

  it.each([
    ['before starting a step', undefined, 0],
    ['after starting a step', `act_${'0'.repeat(31)}9`, 1],
  ])(
    'keeps a runbook run counted only once it started a step: failed %s',
    async (_when, childActionId, keep) => {
      const { run, completed, released } = fixture(
        async () => true,
        { results: {} },
        {
          action: 'runbook.run',
          steps: [
            {
              id: 'disconnect',
              action: 'session.disconnect',
              status: childActionId === undefined ? 'pending' : 'running',
              ...(childActionId === undefined ? {} : { childActionId }),
            },
          ],
        },
      );
      await run({
        action: 'runbook.run',
        // What StartRunbook put in the state: the run's guardrails and schedule, no targets.
        resolution: {
          guardrails: { outcome: 'proceed', reasons: [], approvalTimeoutSeconds: 3600 },
          schedule: { maxWaitSeconds: 60, stepDeadlineSeconds: [3720] },
        },
        error: { Error: 'RunbookRecordError', Cause: 'the run could not be advanced' },
      });
      expect(completed).toEqual([expect.objectContaining({ status: 'failed' })]);
      expect(released).toEqual([{ action: 'runbook.run', actionId: ACTION_ID, keep }]);
    },
  );

  it('marks an unfinished action failed as the last resort, and does nothing else', async () => {
    const { handler, completed, released, lastResorts } = fixture();
    const outcome = await handler(
      {
        actionId: ACTION_ID,
        lastResort: { Error: 'ActionStoreError', Cause: 'Item size has exceeded the maximum' },
      },
      lambdaContext('complete-action'),
    );
    expect(outcome).toEqual({ markedFailed: true });
    expect(lastResorts).toEqual([
      {
        actionId: ACTION_ID,
        failure: {
          summary:
            'Action failed: its outcome could not be recorded (ActionStoreError: Item size has exceeded the maximum)',
          error: { name: 'ActionStoreError', message: 'Item size has exceeded the maximum' },
        },
      },
    ]);
    expect(completed).toEqual([]);
    expect(released).toEqual([]);
  });

  it('records the outcome even when the reservation cannot be given back', async () => {
    const { run, completed, released } = fixture(async () => {
      throw new GuardrailStoreUnavailableError('Hourly limit counter unavailable for device.wipe');
    });
    await expect(run({ ended: 'expired' })).resolves.toMatchObject({ status: 'expired' });
    expect(completed).toEqual([expect.objectContaining({ status: 'expired' })]);
    expect(released).toHaveLength(1);
  });

  it('reads no batch for an action that keeps its targets in the record', async () => {
    const { run, reads } = fixture();
    // A non-batched resolution never reads batch items.
    await run({ resolution: { targets: [] }, results: [] });
    expect(reads).toEqual([]);
  });
});

describe('complete-action for a batched session action', () => {
  const FINISHED_AT = '2026-01-01T00:00:00.000Z';
  const SESSIONS: ResolvedSession[] = [
    { sessionId: 's-1', userName: 'alice@example.com', actionable: true },
    { sessionId: 's-2', userName: 'alice@example.com', actionable: true },
    {
      sessionId: 's-3',
      userName: 'ceo@example.com',
      actionable: false,
      skipReason: 'ceo@example.com is a protected user',
    },
  ];
  const result = (
    session: ResolvedSession,
    outcome: SessionTargetResult['outcome'],
  ): SessionTargetResult => ({ ...session, outcome, finishedAt: FINISHED_AT });
  const CONTENTS: BatchedContents = {
    targets: SESSIONS,
    results: {
      's-1': result(SESSIONS[0] as ResolvedSession, 'succeeded'),
      's-2': {
        ...result(SESSIONS[1] as ResolvedSession, 'failed'),
        error: { name: 'CitrixApiError', message: 'VDA gone' },
      },
      's-3': { ...result(SESSIONS[2] as ResolvedSession, 'skipped'), note: 'protected' },
    },
  };

  it('derives the status from the results read from the batches, and stores neither results nor targets', async () => {
    const { run, completed, reads, released } = fixture(async () => true, CONTENTS);
    const completion = await run({
      action: 'session.logoff',
      resolution: { batches: [0, 1], targets: 3 },
    });

    // One read of every batch, by count.
    expect(reads).toEqual([{ actionId: ACTION_ID, batches: 2 }]);
    expect(completion).toEqual({
      status: 'partially_succeeded',
      summary: expect.stringMatching(/^1 of 2 sessions? .*1 failed.*1 skipped/),
    });
    // The record and the workflow's state get the status and summary only: the results stay
    // in the batch items, however many sessions there were.
    expect(completed).toEqual([completion]);
    expect(completed[0]).not.toHaveProperty('results');
    expect(completed[0]).not.toHaveProperty('targets');
    expect(released).toEqual([]);
  });

  it('ignores results in the input for a batched action: the batches are the record', async () => {
    const { run, completed } = fixture(async () => true, {
      targets: SESSIONS.slice(0, 1),
      results: { 's-1': result(SESSIONS[0] as ResolvedSession, 'succeeded') },
    });
    await run({
      action: 'session.disconnect',
      resolution: { batches: [0], targets: 1 },
      results: [result(SESSIONS[1] as ResolvedSession, 'failed')],
    });

    expect(completed).toEqual([{ status: 'succeeded', summary: expect.any(String) }]);
  });

  it('plans a batched dry run from the targets in the batches, storing only the status and summary', async () => {
    const { run, completed, reads } = fixture(async () => true, {
      targets: SESSIONS,
      results: {},
    });
    const completion = await run({
      action: 'session.logoff',
      dryRun: true,
      resolution: { batches: [0], targets: 3 },
    });

    expect(reads).toEqual([{ actionId: ACTION_ID, batches: 1 }]);
    expect(completion).toEqual({ status: 'planned', summary: expect.any(String) });
    expect(completed).toEqual([completion]);
  });

  it('reads no batch when none was written, and completes as nothing matched', async () => {
    const { run, completed, reads } = fixture();
    const completion = await run({
      action: 'session.logoff',
      resolution: { batches: [], targets: 0 },
    });

    expect(reads).toEqual([]);
    expect(completion).toMatchObject({ status: 'succeeded' });
    expect(completed).toHaveLength(1);
  });

  it('records a batched action that failed as a whole as failed, whatever its batches hold', async () => {
    const { run, completed } = fixture(async () => true, CONTENTS);
    const completion = await run({
      action: 'session.logoff',
      resolution: { batches: [0, 1], targets: 3 },
      error: { Error: 'States.Timeout', Cause: 'The Map timed out' },
    });

    expect(completion).toMatchObject({
      status: 'failed',
      error: { name: 'States.Timeout' },
    });
    expect(completed[0]).not.toHaveProperty('results');
    expect(completed[0]).not.toHaveProperty('targets');
  });

  it('keeps counted the sessions a failed batched action may have acted on, from its batches', async () => {
    const { run, released } = fixture(async () => true, CONTENTS);
    await run({
      action: 'session.logoff',
      resolution: { batches: [0, 1], targets: 3 },
      error: { Error: 'States.Timeout', Cause: 'The Map timed out' },
    });
    // s-1 logged off and s-2 failed after being sent stay counted; s-3 was protected.
    expect(released).toEqual([{ action: 'session.logoff', actionId: ACTION_ID, keep: 2 }]);
  });
});
