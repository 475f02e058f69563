import { describe, expect, it } from 'vitest';
import { createStartRunbookHandler } from '../../functions/start-runbook.ts';
import { ActionRecordSchema } from '../../lib/actions/schema.ts';
import { DEFAULT_GUARDRAIL_SETTINGS } from '../../lib/guardrails/config.ts';
import type { Runbook, RunbookStepRecord } from '../../lib/runbooks/definition.ts';
import { lambdaContext } from '../../local/workflow-runner.ts';

const ACTION_ID = `act_${'0'.repeat(31)}7`;

function fixture() {
  const started: { actionId: string; runbook: Runbook; steps: readonly RunbookStepRecord[] }[] = [];
  const handler = createStartRunbookHandler(() => ({
    actions: {
      get: async () =>
        ActionRecordSchema.parse({
          actionId: ACTION_ID,
          action: 'runbook.run',
          target: { runbook: 'lost-device' },
          inputs: { device: '1042' },
          reason: 'Lost phone',
          dryRun: false,
          status: 'accepted',
          createdAt: '2026-03-02T10:00:00.000Z',
          updatedAt: '2026-03-02T10:00:00.000Z',
          results: {},
          expiresAt: 2_000_000_000,
        }),
    },
    runs: {
      start: async (actionId, runbook, steps) => {
        started.push({ actionId, runbook, steps });
      },
    },
    guardrails: {
      settings: DEFAULT_GUARDRAIL_SETTINGS,
      counter: { reserve: async () => ({ allowed: true, used: 0 }) },
    },
  }));
  const run = (input: Record<string, unknown>) =>
    handler({ actionId: ACTION_ID, ...input }, lambdaContext('start-runbook'));
  return { run, started };
}

describe('start-runbook', () => {
  it('records a deployed runbook with its steps pending, and says how to wait on them', async () => {
    const { run, started } = fixture();
    const start = await run({
      action: 'runbook.run',
      target: { runbook: 'lost-device' },
      dryRun: false,
    });

    expect(start).toMatchObject({
      guardrails: { outcome: 'proceed', reasons: [], approvalTimeoutSeconds: 3600 },
      schedule: { maxWaitSeconds: 60, stepDeadlineSeconds: [7320, 7320] },
    });
    expect(started).toHaveLength(1);
    expect(started[0]?.runbook.name).toBe('lost-device');
    expect(started[0]?.steps.map((step) => [step.id, step.status])).toEqual([
      ['remove-corporate-data', 'pending'],
      ['erase-device', 'pending'],
    ]);
  });

  it('refuses input that is not a run, by field, before reading anything', async () => {
    const { run, started } = fixture();
    const error = await run({
      action: 'session.logoff',
      target: { user: 'x' },
      dryRun: false,
    }).catch((caught: unknown) => caught);
    expect((error as Error).name).toBe('InvalidTaskInputError');
    expect((error as Error).message).toMatch(/action/);
    expect(started).toEqual([]);
  });
});
