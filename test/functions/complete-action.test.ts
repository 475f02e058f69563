import { describe, expect, it } from 'vitest';
import { createCompleteActionHandler } from '../../functions/complete-action.ts';
import type { ActionCompletion } from '../../lib/actions/store.ts';
import { GuardrailStoreUnavailableError } from '../../lib/guardrails/limits.ts';
import { lambdaContext } from '../../local/workflow-runner.ts';

const ACTION_ID = `act_${'0'.repeat(31)}1`;

function fixture(release: () => Promise<boolean> = async () => true) {
  const completed: ActionCompletion[] = [];
  const released: { action: string; actionId: string }[] = [];
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
  }));
  const run = (input: Record<string, unknown>) =>
    handler(
      { actionId: ACTION_ID, action: 'device.wipe', dryRun: false, ...input },
      lambdaContext('complete-action'),
    );
  return { run, completed, released };
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
});
