import { describe, expect, it } from 'vitest';
import { createCompleteActionHandler } from '../../functions/complete-action.ts';
import type { ResolvedSession, SessionTargetResult } from '../../lib/actions/schema.ts';
import type { ActionCompletion, BatchedContents } from '../../lib/actions/store.ts';
import { GuardrailStoreUnavailableError } from '../../lib/guardrails/limits.ts';
import { lambdaContext } from '../../local/workflow-runner.ts';

const ACTION_ID = `act_${'0'.repeat(31)}1`;

function fixture(
  release: () => Promise<boolean> = async () => true,
  contents: BatchedContents = { results: {} },
) {
  const completed: ActionCompletion[] = [];
  const released: { action: string; actionId: string }[] = [];
  const reads: { actionId: string; batches: number }[] = [];
  const handler = createCompleteActionHandler(() => ({
    actions: {
      complete: async (_actionId: string, completion: ActionCompletion) => {
        completed.push(completion);
      },
    },
    counter: {
      release: async (action, actionId) => {
        released.push({ action, actionId });
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
  return { run, completed, released, reads };
}

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
      expect(released).toEqual([{ action: 'device.wipe', actionId: ACTION_ID }]);
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
    expect(released).toEqual([{ action: 'device.wipe', actionId: ACTION_ID }]);
    // A dry run reserved nothing.
    await run({ ended: 'failed', dryRun: true, error: { Error: 'X', Cause: 'y' } });
    expect(released).toHaveLength(1);
  });

  it('keeps the reservation of an action that ran or failed', async () => {
    const { run, released } = fixture();
    await run({ results: [] });
    await run({ error: { Error: 'CitrixUnavailableError', Cause: 'down' } });
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
});
