import { createHash } from 'node:crypto';
import * as z from 'zod';
import { type AcceptActionDependencies, acceptAction } from '../actions/accept.ts';
import {
  type ActionRecord,
  ActionRequestSchema,
  type ActionStatus,
  TERMINAL_ACTION_STATUSES,
} from '../actions/schema.ts';
import { ActionAlreadyExistsError, type ActionStore } from '../actions/store.ts';
import { acceptedEntries } from '../audit/accepted-entries.ts';
import { type AuditLog, payloadDigest } from '../audit/audit-log.ts';
import { auditEvent } from '../audit/context.ts';
import { GuardrailRefusedError } from '../guardrails/apply.ts';
import type { GuardrailSettings } from '../guardrails/config.ts';
import { decideGuardrails } from '../guardrails/decide.ts';
import type { HourlyLimitCounter } from '../guardrails/limits.ts';
import { conditionHolds, describeCondition, type StepOutcome } from './conditions.ts';
import {
  FAILED_STEP_STATUSES,
  type FinalStepStatus,
  RUNBOOK_ACTION,
  type Runbook,
  type RunbookStep,
  type RunbookStepRecord,
  RunbookTargetSchema,
  type StepStatus,
} from './definition.ts';
import { runbookOf, unknownRunbookMessage } from './request-check.ts';
import { nextWaitSeconds, type RunSchedule, runSchedule } from './schedule.ts';
import {
  inputProblems,
  type RunRequest,
  stepOf,
  stepRequestIssues,
  stepRequestOf,
} from './steps.ts';
import type { RunbookRunStore, StepActionState } from './store.ts';
import { validateActionRequest } from './validate.ts';

/**
 * A runbook run, as its workflow carries it out (state-machines/runbook.asl.json): StartRunbook
 * records the runbook and applies the run's own guardrails; then AdvanceRunbook, called again
 * after each wait, starts the steps in order, each as its own action (a child action), and
 * records how each ended, until the run is done.
 */

/** The run's runbook is no longer deployed (removed between the request and the start). */
export class RunbookNotFoundError extends Error {
  override name = 'RunbookNotFoundError';
}

/** The run's inputs or steps are no longer valid for the catalog or the runbook deployed. */
export class RunbookRunInvalidError extends Error {
  override name = 'RunbookRunInvalidError';
}

/** The run's record does not hold what its workflow recorded (a definition bug). */
export class RunbookRecordError extends Error {
  override name = 'RunbookRecordError';
}

/**
 * A step's action id, derived from the run's and the step's position: a retried round finds the
 * action the first one started (its record is created only if absent) instead of starting another.
 */
export function childActionIdOf(runActionId: string, stepIndex: number): string {
  const digest = createHash('sha256').update(`${runActionId}:step:${stepIndex}`).digest('hex');
  return `act_${digest.slice(0, 32)}`;
}

// ---------------------------------------------------------------------------------------------
// StartRunbook

export const StartRunbookInputSchema = z.object({
  actionId: z.string(),
  action: z.literal(RUNBOOK_ACTION),
  target: RunbookTargetSchema,
  dryRun: z.boolean(),
});
export type StartRunbookInput = z.output<typeof StartRunbookInputSchema>;

export interface StartRunbookDependencies {
  readonly actions: Pick<ActionStore, 'get'>;
  readonly runs: Pick<RunbookRunStore, 'start'>;
  readonly guardrails: {
    readonly settings: GuardrailSettings;
    readonly counter: Pick<HourlyLimitCounter, 'reserve'>;
  };
}

/** What the workflow reads after StartRunbook: the run's guardrails, and how to wait on its steps. */
export interface RunbookStart {
  readonly guardrails: {
    readonly outcome: 'proceed' | 'approval';
    readonly reasons: string[];
    readonly approvalTimeoutSeconds: number;
  };
  readonly schedule: RunSchedule;
}

const pendingSteps = (runbook: Runbook): RunbookStepRecord[] =>
  runbook.steps.map((step) => ({ id: step.id, action: step.action, status: 'pending' }));

/**
 * Records the run's runbook (as it is now: a later change to the file does not change the run)
 * with every step pending, checks the inputs and steps again, and applies the run's own
 * guardrails: one target against `runbook.run`'s limits, and approval if a deployment asks for
 * it. A dry run reserves nothing.
 */
export async function startRunbook(
  input: StartRunbookInput,
  dependencies: StartRunbookDependencies,
  now: Date,
): Promise<RunbookStart> {
  const record = await dependencies.actions.get(input.actionId);
  if (record === undefined) throw new RunbookRecordError(`No record of run ${input.actionId}`);
  const runbook = runbookOf(input.target);
  if (runbook === undefined) {
    const name = 'runbook' in input.target ? input.target.runbook : '';
    throw new RunbookNotFoundError(`Cannot run: ${unknownRunbookMessage(name)}`);
  }
  const run = runRequestOf(record);
  const problems = [
    ...inputProblems(runbook, run.inputs),
    ...stepRequestIssues(runbook, run, validateActionRequest, {
      placeAt: (index, field) => ['steps', index, ...field],
    }),
  ];
  if (problems.length > 0) {
    const described = problems.map((problem) => `${problem.path.join('.')}: ${problem.message}`);
    throw new RunbookRunInvalidError(`Cannot run ${runbook.name}: ${described.join('; ')}`);
  }
  const { settings, counter } = dependencies.guardrails;
  const schedule = runSchedule(runbook, settings.approvalTimeoutSeconds);
  await dependencies.runs.start(input.actionId, runbook, pendingSteps(runbook));
  const decision = await decideGuardrails(
    { action: RUNBOOK_ACTION, actionable: 1, actionId: input.actionId, now },
    settings,
    input.dryRun ? { reserve: async () => ({ allowed: true, used: 0 }) } : counter,
  );
  if (input.dryRun) {
    auditEvent('decision', `Planned (dry run): every step of ${runbook.name} plans only`, {
      decision: 'planned',
    });
  } else if (decision.outcome === 'refuse') {
    auditEvent('decision', `Refused: ${decision.reasons.join('; ')}`, {
      decision: 'refused',
      reasons: decision.reasons,
    });
    throw new GuardrailRefusedError(decision.reasons.join('; '));
  } else if (decision.outcome === 'approval') {
    auditEvent('decision', `Held for approval: ${decision.reasons.join('; ')}`, {
      decision: 'held',
      reasons: decision.reasons,
    });
  }
  return {
    guardrails: {
      outcome: decision.outcome === 'approval' && !input.dryRun ? 'approval' : 'proceed',
      reasons: decision.reasons,
      approvalTimeoutSeconds: settings.approvalTimeoutSeconds,
    },
    schedule,
  };
}

/** The run's request as its record holds it: what each step's request inherits. */
function runRequestOf(record: ActionRecord): RunRequest {
  return {
    reason: record.reason,
    ...(record.ticket === undefined ? {} : { ticket: record.ticket }),
    dryRun: record.dryRun,
    inputs: record.inputs ?? {},
  };
}

// ---------------------------------------------------------------------------------------------
// AdvanceRunbook

export const AdvanceRunbookInputSchema = z.object({
  actionId: z.string(),
  schedule: z.object({
    maxWaitSeconds: z.int().min(1),
    stepDeadlineSeconds: z.array(z.int().min(1)),
  }),
});
export type AdvanceRunbookInput = z.output<typeof AdvanceRunbookInputSchema>;

export interface AdvanceRunbookDependencies {
  /** The run's record; the step's actions are recorded (and started) like any other action. */
  readonly actions: Pick<ActionStore, 'get' | 'create' | 'complete'>;
  readonly runs: Pick<RunbookRunStore, 'recordProgress' | 'stepAction'>;
  readonly workflows: AcceptActionDependencies['workflows'];
  /** Each step's action opens its own audit trail with who asked, as an API request does. */
  readonly audit: Pick<AuditLog, 'append'>;
  readonly retentionDays: number;
}

/** The run's status and summary once every step has ended: what CompleteAction records. */
export interface RunOutcome {
  readonly status: ActionStatus;
  readonly summary: string;
}

/**
 * What the workflow's IsRunbookDone Choice and WaitForStep read; while the run goes on, the step
 * it waits on (for the progress `npm start` prints).
 */
export type RunbookRound =
  | {
      readonly done: false;
      readonly waitSeconds: number;
      readonly step: Pick<RunbookStepRecord, 'id' | 'action' | 'status' | 'childActionId'>;
    }
  | { readonly done: true; readonly waitSeconds: 0; readonly outcome: RunOutcome };

const waitingOn = (step: RunbookStepRecord) => ({
  id: step.id,
  action: step.action,
  status: step.status,
  ...(step.childActionId === undefined ? {} : { childActionId: step.childActionId }),
});

/** How a step stands while (or once) its action's status is this one. */
const STEP_STATUS_OF_ACTION = {
  accepted: 'running',
  running: 'running',
  awaiting_approval: 'awaiting_approval',
  succeeded: 'succeeded',
  partially_succeeded: 'partially_succeeded',
  failed: 'failed',
  planned: 'planned',
  refused: 'refused',
  rejected: 'rejected',
  expired: 'expired',
} as const satisfies Record<ActionStatus, StepStatus>;

const isFinal = (status: StepStatus): status is FinalStepStatus =>
  status !== 'pending' && status !== 'running' && status !== 'awaiting_approval';
const isFailure = (status: StepStatus) =>
  (FAILED_STEP_STATUSES as readonly StepStatus[]).includes(status);

/** Plan entries one step adds to the run's plan: enough to review, few enough for the record. */
export const MAX_PLAN_ENTRIES_PER_STEP = 25;
type PlanEntry = NonNullable<ActionRecord['plan']>[number];

/** Targets a step's action planned or would act on: what `if: { targets }` tests. */
function countedTargets(state: StepActionState): number {
  if (state.scope !== undefined) return state.scope.actionable;
  return (state.plan ?? []).filter((entry) => entry.act).length;
}

/** The step's share of the run's plan: its action's plan, each target named after the step. */
function stepPlan(step: RunbookStepRecord, state: StepActionState | undefined): PlanEntry[] {
  if (step.status === 'skipped' || step.status === 'not_run') {
    return [{ target: step.id, act: false, reason: step.summary ?? step.status }];
  }
  if (state?.scope !== undefined) {
    const { actionable, targets } = state.scope;
    return [{ target: `${step.id}: ${actionable} of ${targets} sessions`, act: actionable > 0 }];
  }
  const entries = (state?.plan ?? []).map((entry) => ({
    ...entry,
    target: `${step.id}: ${entry.target}`,
  }));
  const more = entries.length - MAX_PLAN_ENTRIES_PER_STEP;
  return more > 0
    ? [
        ...entries.slice(0, MAX_PLAN_ENTRIES_PER_STEP),
        {
          target: `${step.id}: ${more} more`,
          act: entries.slice(MAX_PLAN_ENTRIES_PER_STEP).some((entry) => entry.act),
        },
      ]
    : entries;
}

/** A probe only plans, to inform a later step's `if`: its failure means it found nothing. */
const isProbe = (step: RunbookStep) => step.dryRun === true;

function recordedRunOf(record: ActionRecord | undefined, actionId: string) {
  if (record?.runbook === undefined || record.steps === undefined) {
    throw new RunbookRecordError(`Run ${actionId} has no runbook or steps recorded`);
  }
  if (record.steps.length !== record.runbook.steps.length) {
    throw new RunbookRecordError(`Run ${actionId} records another number of steps than it runs`);
  }
  return { record, runbook: record.runbook, steps: [...record.steps] };
}

/**
 * One round of a run. While a step's action runs, it reads how the action stands: once ended,
 * records the step (and stops the run at a failure its step does not continue past); while it
 * awaits approval, the run awaits approval too; past its deadline, the step failed. With no step
 * running, it starts the next one whose `if` holds (the others are skipped), as a child action:
 * the run's requester (so its approval needs a second person), its source and ticket, a derived
 * action id. It returns the wait before the next round, or the run's outcome once all have ended.
 */
export async function advanceRunbook(
  input: AdvanceRunbookInput,
  dependencies: AdvanceRunbookDependencies,
  now: Date,
): Promise<RunbookRound> {
  const { record, runbook, steps } = recordedRunOf(
    await dependencies.actions.get(input.actionId),
    input.actionId,
  );
  const plan: PlanEntry[] = [...(record.plan ?? [])];
  const save = (status: 'running' | 'awaiting_approval') =>
    dependencies.runs.recordProgress(input.actionId, { status, steps, plan });
  const outcomes = () =>
    new Map<string, StepOutcome>(
      steps.flatMap((step) =>
        isFinal(step.status)
          ? [[step.id, { status: step.status, targets: step.targets ?? 0 }]]
          : [],
      ),
    );

  for (const [index, step] of steps.entries()) {
    if (isFinal(step.status)) continue;
    const definition = stepOf(runbook, index);
    if (step.status === 'pending') {
      if (definition.if !== undefined && !conditionHolds(definition.if, outcomes())) {
        steps[index] = {
          ...step,
          status: 'skipped',
          summary: `Skipped: it runs only if ${describeCondition(definition.if)}`,
          endedAt: now.toISOString(),
        };
        plan.push(...stepPlan(steps[index], undefined));
        auditEvent(
          'target_outcome',
          `Step ${step.id} skipped: ${describeCondition(definition.if)} did not hold`,
          {
            target: step.id,
            outcome: 'skipped',
          },
        );
        continue;
      }
      steps[index] = await startStep(record, runbook, index, dependencies, now);
      if (isFinal(steps[index].status)) {
        plan.push(...stepPlan(steps[index], undefined));
        if (stopsRun(steps, index, definition)) break;
        continue;
      }
      await save('running');
      return {
        done: false,
        waitSeconds: nextWaitSeconds(0, input.schedule.maxWaitSeconds),
        step: waitingOn(steps[index]),
      };
    }
    const childActionId = step.childActionId;
    if (childActionId === undefined) {
      throw new RunbookRecordError(`Step ${step.id} of run ${input.actionId} runs no action`);
    }
    const state = await dependencies.runs.stepAction(childActionId);
    if (state === undefined) {
      throw new RunbookRecordError(`Step ${step.id}'s action ${childActionId} has no record`);
    }
    const stepStatus = STEP_STATUS_OF_ACTION[state.status];
    if ((TERMINAL_ACTION_STATUSES as readonly ActionStatus[]).includes(state.status)) {
      steps[index] = {
        ...step,
        status: stepStatus,
        ...(state.summary === undefined ? {} : { summary: state.summary }),
        targets: countedTargets(state),
        endedAt: now.toISOString(),
      };
      plan.push(...stepPlan(steps[index], state));
      auditEvent(
        'target_outcome',
        `Step ${step.id} ${stepStatus}${state.summary ? `: ${state.summary}` : ''}`,
        {
          target: step.id,
          outcome: stepStatus,
        },
      );
      if (stopsRun(steps, index, definition)) break;
      continue;
    }
    const deadline = input.schedule.stepDeadlineSeconds[index] ?? 0;
    const startedAt = Date.parse(step.startedAt ?? record.createdAt);
    if (now.getTime() - startedAt > deadline * 1000) {
      steps[index] = {
        ...step,
        status: 'failed',
        summary: `Its action ${childActionId} was still ${state.status} after ${deadline} s, past its workflow's deadline`,
        targets: 0,
        endedAt: now.toISOString(),
      };
      auditEvent('target_outcome', `Step ${step.id} failed: ${steps[index].summary}`, {
        target: step.id,
        outcome: 'failed',
        error: 'RunbookStepDeadlineExceeded',
      });
      if (stopsRun(steps, index, definition)) break;
      continue;
    }
    const polls = (step.polls ?? 0) + 1;
    if (stepStatus === 'awaiting_approval' && step.status !== 'awaiting_approval') {
      auditEvent(
        'decision',
        `Step ${step.id} awaits approval: approve or reject ${childActionId}`,
        {
          decision: 'held',
        },
      );
    }
    steps[index] = { ...step, status: stepStatus, polls };
    await save(stepStatus === 'awaiting_approval' ? 'awaiting_approval' : 'running');
    return {
      done: false,
      waitSeconds: nextWaitSeconds(polls, input.schedule.maxWaitSeconds),
      step: waitingOn(steps[index]),
    };
  }
  await save('running');
  return { done: true, waitSeconds: 0, outcome: runOutcome(runbook, steps, record.dryRun) };
}

/**
 * Whether the step that just ended stops the run: a failure its step does not continue past.
 * The steps after it are recorded as not run.
 */
function stopsRun(steps: RunbookStepRecord[], index: number, definition: RunbookStep): boolean {
  const step = steps[index];
  if (step === undefined || !isFailure(step.status) || definition.continueOnFailure) return false;
  for (let later = index + 1; later < steps.length; later += 1) {
    const laterStep = steps[later];
    if (laterStep === undefined) continue;
    steps[later] = {
      ...laterStep,
      status: 'not_run',
      summary: `Not run: the run stopped at ${step.id}`,
    };
  }
  return true;
}

/**
 * Starts one step as its own action: the request filled from the run's inputs and checked like
 * any other, under the step's derived action id. An action already there under that id was
 * started by an earlier attempt of this round, and is the step's.
 */
async function startStep(
  run: ActionRecord,
  runbook: Runbook,
  index: number,
  dependencies: AdvanceRunbookDependencies,
  now: Date,
): Promise<RunbookStepRecord> {
  const definition = stepOf(runbook, index);
  const childActionId = childActionIdOf(run.actionId, index);
  const base = { id: definition.id, action: definition.action };
  const request = ActionRequestSchema.safeParse({
    ...stepRequestOf(runbook, index, runRequestOf(run)),
    ...(run.requestedBy === undefined ? {} : { requestedBy: run.requestedBy }),
  });
  if (!request.success) {
    const problems = request.error.issues.map(
      (issue) => `${issue.path.join('.')}: ${issue.message}`,
    );
    auditEvent('target_outcome', `Step ${definition.id} failed: its request is invalid`, {
      target: definition.id,
      outcome: 'failed',
    });
    return {
      ...base,
      status: 'failed',
      summary: `Its request is invalid: ${problems.join('; ')}`.slice(0, 1000),
      targets: 0,
      endedAt: now.toISOString(),
    };
  }
  const source = {
    name: run.source?.name ?? 'api',
    title: `Runbook ${runbook.name}, step ${definition.id} of ${run.actionId}`,
  };
  try {
    await acceptAction(
      {
        actions: dependencies.actions,
        workflows: dependencies.workflows,
        retentionDays: dependencies.retentionDays,
      },
      request.data,
      now,
      childActionId,
      source,
      run.requester,
      run.actionId,
    );
    await dependencies.audit.append(
      acceptedEntries(
        childActionId,
        {
          source: 'runbook',
          identity: `${source.title}, requested by ${run.requestedBy ?? 'unnamed'}`,
          payloadDigest: payloadDigest(JSON.stringify(request.data)),
        },
        now,
      ),
    );
  } catch (error) {
    if (!(error instanceof ActionAlreadyExistsError)) throw error;
  }
  auditEvent('decision', `Step ${definition.id} started: ${definition.action} ${childActionId}`, {
    decision: 'accepted',
  });
  return { ...base, status: 'running', childActionId, startedAt: now.toISOString(), polls: 0 };
}

/**
 * The run's status once its steps have ended: stopped at a failure (failed, or rejected or
 * expired as that step was), planned for a dry run, partially succeeded when a step partly did or
 * one failed that the run went on after (a probe that found nothing does not count), succeeded.
 */
export function runOutcome(
  runbook: Runbook,
  steps: readonly RunbookStepRecord[],
  dryRun: boolean,
): RunOutcome {
  const describe = (step: RunbookStepRecord) =>
    `${step.id} ${step.status.replaceAll('_', ' ')}${step.summary ? ` (${step.summary})` : ''}`;
  const details = steps.map(describe).join('; ');
  const cut = (text: string) => (text.length > 1000 ? `${text.slice(0, 999)}…` : text);
  const stopped = steps.find(
    (step, index) => isFailure(step.status) && !stepOf(runbook, index).continueOnFailure,
  );
  if (stopped !== undefined) {
    const status =
      stopped.status === 'rejected' || stopped.status === 'expired' ? stopped.status : 'failed';
    return { status, summary: cut(`Stopped at step ${stopped.id}: ${details}`) };
  }
  const partly = steps.some(
    (step, index) =>
      !isProbe(stepOf(runbook, index)) &&
      (step.status === 'partially_succeeded' || isFailure(step.status)),
  );
  const lead = dryRun ? `Dry run of ${runbook.name}` : `Runbook ${runbook.name}`;
  return {
    status: dryRun ? 'planned' : partly ? 'partially_succeeded' : 'succeeded',
    summary: cut(`${lead}: ${details}`),
  };
}
