import { describe, expect, it } from 'vitest';
import { createAdvanceRunbookHandler } from '../../functions/advance-runbook.ts';
import { type ActionRecord, ActionRecordSchema } from '../../lib/actions/schema.ts';
import { deployedRunbooks } from '../../lib/runbooks/library.ts';
import type { RunbookProgress } from '../../lib/runbooks/store.ts';
import { lambdaContext } from '../../local/workflow-runner.ts';

const ACTION_ID = `act_${'0'.repeat(31)}8`;

function fixture() {
  const runbook = deployedRunbooks().get('lost-device');
  if (runbook === undefined) throw new Error('lost-device is not installed');
  const records = new Map<string, ActionRecord>();
  records.set(
    ACTION_ID,
    ActionRecordSchema.parse({
      actionId: ACTION_ID,
      action: 'runbook.run',
      target: { runbook: 'lost-device' },
      inputs: { device: '1042' },
      runbook,
      steps: runbook.steps.map((step) => ({ id: step.id, action: step.action, status: 'pending' })),
      reason: 'Lost phone',
      dryRun: true,
      status: 'running',
      createdAt: '2026-03-02T10:00:00.000Z',
      updatedAt: '2026-03-02T10:00:00.000Z',
      results: {},
      expiresAt: 2_000_000_000,
    }),
  );
  const progress: RunbookProgress[] = [];
  const starts: string[] = [];
  const handler = createAdvanceRunbookHandler(() => ({
    actions: {
      get: async (id) => records.get(id),
      create: async (record) => void records.set(record.actionId, record),
      complete: async () => undefined,
    },
    runs: {
      recordProgress: async (_id, round) => void progress.push(round),
      stepAction: async (id) => records.get(id),
    },
    workflows: { start: async (workflow) => void starts.push(workflow) },
    audit: { append: async () => undefined },
    retentionDays: 7,
  }));
  const run = (input: Record<string, unknown>) =>
    handler({ actionId: ACTION_ID, ...input }, lambdaContext('advance-runbook'));
  return { run, progress, starts, records };
}

describe('advance-runbook', () => {
  it('starts the first step of a dry run as a dry run of its own action', async () => {
    const { run, progress, starts, records } = fixture();
    const round = await run({
      schedule: { maxWaitSeconds: 60, stepDeadlineSeconds: [7320, 7320] },
    });

    expect(round).toMatchObject({
      done: false,
      waitSeconds: 5,
      step: { id: 'remove-corporate-data' },
    });
    expect(starts).toEqual(['device-action']);
    expect(progress.at(-1)?.steps[0]?.status).toBe('running');
    const child = [...records.values()].find((record) => record.parentActionId === ACTION_ID);
    expect(child).toMatchObject({
      action: 'device.selectiveWipe',
      dryRun: true,
      target: { deviceId: '1042' },
    });
  });

  it('refuses a round without the run schedule, by field', async () => {
    const { run, starts } = fixture();
    const error = await run({}).catch((caught: unknown) => caught);
    expect((error as Error).name).toBe('InvalidTaskInputError');
    expect((error as Error).message).toMatch(/schedule/);
    expect(starts).toEqual([]);
  });
});
