import { describe, expect, it } from 'vitest';
import { CompletionInputSchema, decideCompletion } from '../../../lib/actions/completion.ts';

/** A runbook run's completion: the status and summary its last round derived from its steps. */

const NOW = new Date('2026-03-02T10:00:00.000Z');
const input = (fields: Record<string, unknown>) =>
  CompletionInputSchema.parse({
    actionId: 'act_1',
    action: 'runbook.run',
    dryRun: false,
    ...fields,
  });

describe("a runbook run's completion", () => {
  it('is the outcome its last round derived from its steps', () => {
    const outcome = { status: 'partially_succeeded', summary: 'Runbook x: a failed; b succeeded' };
    expect(decideCompletion(input({ runbook: outcome }), NOW)).toEqual(outcome);
  });

  it('is the failure, rejection or expiry of the run itself, whatever a round said', () => {
    expect(
      decideCompletion(
        input({
          error: { Error: 'RunbookNotFoundError', Cause: 'Cannot run: no runbook named "x"' },
        }),
        NOW,
      ),
    ).toMatchObject({
      status: 'failed',
      summary: 'Action failed: Cannot run: no runbook named "x"',
    });
    expect(decideCompletion(input({ ended: 'expired' }), NOW).status).toBe('expired');
  });
});
