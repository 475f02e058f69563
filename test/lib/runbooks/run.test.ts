import { describe, expect, it } from 'vitest';
import type { WorkflowName } from '../../../lib/actions/declaration.ts';
import {
  ActionIdSchema,
  type ActionRecord,
  ActionRecordSchema,
} from '../../../lib/actions/schema.ts';
import { ActionAlreadyExistsError } from '../../../lib/actions/store.ts';
import type { AuditEntry } from '../../../lib/audit/audit-log.ts';
import { runWithAudit } from '../../../lib/audit/context.ts';
import { GuardrailRefusedError } from '../../../lib/guardrails/apply.ts';
import { DEFAULT_GUARDRAIL_SETTINGS } from '../../../lib/guardrails/config.ts';
import type { Runbook, RunbookStepRecord } from '../../../lib/runbooks/definition.ts';
import {
  type AdvanceRunbookDependencies,
  advanceRunbook,
  childActionIdOf,
  RunbookNotFoundError,
  type RunbookRound,
  runOutcome,
  startRunbook,
} from '../../../lib/runbooks/run.ts';
import { runSchedule } from '../../../lib/runbooks/schedule.ts';
import type { RunbookProgress, StepActionState } from '../../../lib/runbooks/store.ts';

/**
 * A run's rounds against in-memory records: which step starts when, what a retried round does,
 * how a run waits on a step, and the run's outcome from its steps.
 */

const NOW = new Date('2026-03-02T10:00:00.000Z');
const later = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

const RUNBOOK: Runbook = {
  name: 'test-runbook',
  description: 'Two steps: a log off, then a selective wipe if the log off found sessions',
  inputs: { user: { description: 'The user', required: true } },
  steps: [
    {
      id: 'logoff',
      action: 'session.logoff',
      target: { user: '{{inputs.user}}' },
      continueOnFailure: false,
    },
    {
      id: 'wipe',
      action: 'device.selectiveWipe',
      target: { user: '{{inputs.user}}' },
      if: { step: 'logoff', targets: { min: 1 } },
      continueOnFailure: false,
    },
  ],
};

const REQUESTER = {
  kind: 'person',
  key: 'arn:aws:iam::111122223333:user/soc',
  name: 'soc',
} as const;

function runRecord(steps: RunbookStepRecord[] = pending()): ActionRecord {
  return ActionRecordSchema.parse({
    actionId: 'act_00000000000000000000000000000001',
    action: 'runbook.run',
    target: { definition: RUNBOOK },
    reason: 'Contain alice',
    ticket: 'INC-1',
    requestedBy: 'soc',
    requester: REQUESTER,
    source: { name: 'api' },
    inputs: { user: 'alice@example.com' },
    runbook: RUNBOOK,
    steps,
    dryRun: false,
    status: 'running',
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    results: {},
    expiresAt: 2_000_000_000,
  });
}

const pending = (): RunbookStepRecord[] =>
  RUNBOOK.steps.map((step) => ({ id: step.id, action: step.action, status: 'pending' }));

/** The actions table in memory: records, and the run's progress written into its record. */
function fakes(run: ActionRecord, options: { failProgressOnce?: boolean } = {}) {
  const records = new Map<string, ActionRecord>([[run.actionId, run]]);
  const started: { workflow: WorkflowName; name: string; input: unknown }[] = [];
  const appended: AuditEntry[] = [];
  let failProgress = options.failProgressOnce === true;
  const dependencies: AdvanceRunbookDependencies = {
    actions: {
      get: async (id) => records.get(id),
      create: async (record) => {
        if (records.has(record.actionId)) throw new ActionAlreadyExistsError(record.actionId);
        records.set(record.actionId, record);
      },
      complete: async () => undefined,
    },
    runs: {
      recordProgress: async (id, progress: RunbookProgress) => {
        if (failProgress) {
          failProgress = false;
          throw new Error('the Lambda died before recording the round');
        }
        const record = records.get(id);
        if (record === undefined) throw new Error('no run');
        records.set(id, {
          ...record,
          ...progress,
          steps: [...progress.steps],
          plan: [...progress.plan],
        });
      },
      stepAction: async (id): Promise<StepActionState | undefined> => records.get(id),
    },
    workflows: {
      start: async (workflow, name, input) => {
        started.push({ workflow, name, input });
      },
    },
    audit: { append: async (entries) => void appended.push(...entries) },
    retentionDays: 7,
  };
  const schedule = runSchedule(RUNBOOK, 3600);
  const round = async (at = NOW) => {
    const outcome = await runWithAudit(run.actionId, () =>
      advanceRunbook({ actionId: run.actionId, schedule }, dependencies, at),
    );
    if (!outcome.ok) throw outcome.error;
    return outcome.result as RunbookRound;
  };
  const setChild = (index: number, fields: Partial<ActionRecord>) => {
    const id = childActionIdOf(run.actionId, index);
    const child = records.get(id);
    if (child === undefined) throw new Error(`step ${index} has no action`);
    records.set(id, { ...child, ...fields });
  };
  return { records, started, appended, round, setChild, schedule };
}

describe('a runbook run, round by round', () => {
  it('starts the first step as its own action: derived id, the run requester, ticket and source', async () => {
    const { records, started, appended, round } = fakes(runRecord());

    const first = await round();

    const childId = childActionIdOf('act_00000000000000000000000000000001', 0);
    expect(first).toEqual({
      done: false,
      waitSeconds: 5,
      step: { id: 'logoff', action: 'session.logoff', status: 'running', childActionId: childId },
    });
    expect(started).toEqual([
      {
        workflow: 'session-action',
        name: childId,
        input: expect.objectContaining({ actionId: childId }),
      },
    ]);
    expect(records.get(childId)).toMatchObject({
      action: 'session.logoff',
      target: { user: 'alice@example.com' },
      reason: 'Contain alice (runbook test-runbook, step logoff)',
      ticket: 'INC-1',
      requester: REQUESTER,
      requestedBy: 'soc',
      parentActionId: 'act_00000000000000000000000000000001',
      source: { name: 'api', title: expect.stringContaining('step logoff') },
    });
    // The step's action opens its own audit trail, saying who asked.
    expect(appended.map((entry) => [entry.actionId, entry.type])).toEqual([
      [childId, 'request'],
      [childId, 'decision'],
    ]);
    expect(records.get('act_00000000000000000000000000000001')?.steps?.[0]).toMatchObject({
      status: 'running',
      childActionId: childId,
      polls: 0,
    });
  });

  it('never starts a step twice when a round is retried after it started the step', async () => {
    const { records, started, round } = fakes(runRecord(), { failProgressOnce: true });

    // The first attempt started the step's action, then died before recording the round.
    await expect(round()).rejects.toThrow('the Lambda died');
    expect(started).toHaveLength(1);
    // The retry finds the action under the same derived id, and records it as the step's.
    const retried = await round();

    expect(started).toHaveLength(1);
    expect(retried).toMatchObject({ done: false, step: { status: 'running' } });
    expect(records.get('act_00000000000000000000000000000001')?.steps?.[0]?.childActionId).toBe(
      childActionIdOf('act_00000000000000000000000000000001', 0),
    );
    expect([...records.keys()]).toHaveLength(2);
  });

  it('waits longer each round while the step runs, and waits for approval with the step', async () => {
    const { records, round, setChild } = fakes(runRecord());
    await round();

    setChild(0, { status: 'running' });
    const waits = [];
    for (const seconds of [5, 15, 35])
      waits.push(((await round(later(seconds))) as { waitSeconds: number }).waitSeconds);
    expect(waits).toEqual([10, 20, 40]);

    setChild(0, { status: 'awaiting_approval' });
    const held = await round(later(75));
    expect(held).toMatchObject({ done: false, step: { status: 'awaiting_approval' } });
    expect(records.get('act_00000000000000000000000000000001')?.status).toBe('awaiting_approval');

    setChild(0, { status: 'running' });
    await round(later(135));
    expect(records.get('act_00000000000000000000000000000001')?.status).toBe('running');
  });

  it('records a finished step, starts the next one whose condition holds, then ends', async () => {
    const { records, started, round, setChild } = fakes(runRecord());
    await round();
    setChild(0, {
      status: 'succeeded',
      summary: '2 of 2 sessions logged off',
      plan: [
        { target: 's1', act: true },
        { target: 's2', act: true },
      ],
    });

    const second = await round(later(5));
    expect(second).toMatchObject({ done: false, step: { id: 'wipe', status: 'running' } });
    expect(started.map((start) => start.workflow)).toEqual(['session-action', 'device-action']);
    const run = records.get('act_00000000000000000000000000000001');
    expect(run?.steps?.[0]).toMatchObject({ status: 'succeeded', targets: 2 });
    expect(run?.plan).toEqual([
      { target: 'logoff: s1', act: true },
      { target: 'logoff: s2', act: true },
    ]);

    setChild(1, {
      status: 'partially_succeeded',
      summary: '1 of 2 devices sent a selective wipe, 1 failed',
    });
    const last = await round(later(15));
    expect(last).toEqual({
      done: true,
      waitSeconds: 0,
      outcome: {
        status: 'partially_succeeded',
        summary:
          'Runbook test-runbook: logoff succeeded (2 of 2 sessions logged off); wipe partially succeeded (1 of 2 devices sent a selective wipe, 1 failed)',
      },
    });
  });

  it('skips a step whose condition does not hold, saying why', async () => {
    const { records, started, round, setChild } = fakes(runRecord());
    await round();
    setChild(0, { status: 'succeeded', summary: 'No sessions matched the target', plan: [] });

    const last = await round(later(5));

    expect(last).toMatchObject({ done: true, outcome: { status: 'succeeded' } });
    expect(started).toHaveLength(1);
    expect(records.get('act_00000000000000000000000000000001')?.steps?.[1]).toMatchObject({
      status: 'skipped',
      summary: 'Skipped: it runs only if logoff counted at least 1 target',
    });
  });

  it('stops at a failed step, recording the rest as not run', async () => {
    const { records, round, setChild } = fakes(runRecord());
    await round();
    setChild(0, { status: 'failed', summary: 'Action failed: DaaS unavailable' });

    const last = await round(later(5));

    expect(last).toMatchObject({ done: true, outcome: { status: 'failed' } });
    expect(
      records.get('act_00000000000000000000000000000001')?.steps?.map((step) => step.status),
    ).toEqual(['failed', 'not_run']);
  });

  it('fails a step whose action has not ended by its deadline, and stops', async () => {
    const { records, round, schedule } = fakes(runRecord());
    await round();

    const deadline = schedule.stepDeadlineSeconds[0] ?? 0;
    const last = await round(later(deadline + 1));

    expect(last).toMatchObject({ done: true, outcome: { status: 'failed' } });
    expect(records.get('act_00000000000000000000000000000001')?.steps?.[0]).toMatchObject({
      status: 'failed',
      summary: expect.stringContaining(`was still accepted after ${deadline} s`),
    });
  });

  it('derives a valid action id per step, the same every time', () => {
    const id = childActionIdOf('act_00000000000000000000000000000001', 3);
    expect(ActionIdSchema.safeParse(id).success).toBe(true);
    expect(childActionIdOf('act_00000000000000000000000000000001', 3)).toBe(id);
    expect(childActionIdOf('act_00000000000000000000000000000001', 4)).not.toBe(id);
    expect(childActionIdOf('act_00000000000000000000000000000002', 3)).not.toBe(id);
  });
});

describe('the outcome of a run', () => {
  const step = (id: string, status: RunbookStepRecord['status']): RunbookStepRecord => ({
    id,
    action: 'session.logoff',
    status,
  });
  const runbook = (continues: boolean[], probes: boolean[] = []): Runbook => ({
    ...RUNBOOK,
    steps: continues.map((continueOnFailure, index) => ({
      id: `s${index}`,
      action: 'session.logoff',
      target: { user: 'alice@example.com' },
      continueOnFailure,
      ...(probes[index] ? { dryRun: true as const } : {}),
    })),
  });

  it.each([
    ['succeeded', [true, false], ['succeeded', 'skipped'], false, 'succeeded'],
    [
      'partially succeeded when a step partly did',
      [false],
      ['partially_succeeded'],
      false,
      'partially_succeeded',
    ],
    [
      'partially succeeded after a failure it went on from',
      [true, false],
      ['failed', 'succeeded'],
      false,
      'partially_succeeded',
    ],
    ['stopped: failed', [false, false], ['refused', 'not_run'], false, 'failed'],
    [
      'stopped: rejected as its step was',
      [false, false],
      ['rejected', 'not_run'],
      false,
      'rejected',
    ],
    ['stopped: expired as its step was', [false], ['expired'], false, 'expired'],
    ['planned, for a dry run', [true, false], ['planned', 'skipped'], true, 'planned'],
  ] as const)('%s', (_name, continues, statuses, dryRun, expected) => {
    const steps = statuses.map((status, index) => step(`s${index}`, status));
    expect(runOutcome(runbook([...continues]), steps, dryRun).status).toBe(expected);
  });

  it('does not count a probe that found nothing against the run', () => {
    const steps = [step('s0', 'failed'), step('s1', 'skipped')];
    expect(runOutcome(runbook([true, false], [true]), steps, false)).toEqual({
      status: 'succeeded',
      summary: 'Runbook test-runbook: s0 failed; s1 skipped',
    });
  });
});

describe('the start of a run', () => {
  const reserved: string[] = [];
  const dependencies = (approvalRequired: string[] = [], perHour = 20) => ({
    actions: { get: async () => runRecord([]) },
    runs: { start: async () => undefined },
    guardrails: {
      settings: {
        ...DEFAULT_GUARDRAIL_SETTINGS,
        approvalRequired: approvalRequired as never,
        limits: {
          ...DEFAULT_GUARDRAIL_SETTINGS.limits,
          'runbook.run': { perRequest: 1, perHour, overLimit: 'refuse' as const },
        },
      },
      counter: {
        reserve: async (_action: string, count: number, limit: number, actionId: string) => {
          reserved.push(actionId);
          return { allowed: count <= limit, used: 0 };
        },
      },
    },
  });
  const input = (dryRun = false) => ({
    actionId: 'act_00000000000000000000000000000001',
    action: 'runbook.run' as const,
    target: { definition: RUNBOOK },
    dryRun,
  });

  it('proceeds without approval by default, one target against the hourly limit, and says how to wait', async () => {
    reserved.length = 0;
    const start = await startRunbook(input(), dependencies(), NOW);
    expect(start.guardrails).toEqual({
      outcome: 'proceed',
      reasons: [],
      approvalTimeoutSeconds: 3600,
    });
    expect(start.schedule).toEqual(runSchedule(RUNBOOK, 3600));
    expect(reserved).toEqual(['act_00000000000000000000000000000001']);
  });

  it('holds the run itself for approval when a deployment asks for it, never a dry run', async () => {
    expect(
      (await startRunbook(input(), dependencies(['runbook.run']), NOW)).guardrails,
    ).toMatchObject({
      outcome: 'approval',
      reasons: ['runbook.run needs approval'],
    });
    reserved.length = 0;
    expect(
      (await startRunbook(input(true), dependencies(['runbook.run']), NOW)).guardrails.outcome,
    ).toBe('proceed');
    expect(reserved).toEqual([]);
  });

  it('refuses a run over its hourly limit', async () => {
    await expect(startRunbook(input(), dependencies([], 0), NOW)).rejects.toBeInstanceOf(
      GuardrailRefusedError,
    );
  });

  it('fails a run whose runbook is no longer deployed', async () => {
    await expect(
      startRunbook({ ...input(), target: { runbook: 'no-longer-there' } }, dependencies(), NOW),
    ).rejects.toBeInstanceOf(RunbookNotFoundError);
  });
});
