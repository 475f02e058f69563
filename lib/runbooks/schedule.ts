import { type ActionType, ActionTypeSchema, workflowFor } from '../actions/schema.ts';
import { MAX_APPROVAL_TIMEOUT_SECONDS } from '../guardrails/config.ts';
import {
  ACTION_WORKFLOW_TIMEOUT_SECONDS,
  FILE_APPROVAL_WINDOW_SECONDS,
} from '../workflow/asl/timeouts.ts';
import { RUNBOOK_ACTION, RUNBOOK_LIMITS, type Runbook } from './definition.ts';

/**
 * How a run waits on its steps, and why its history stays bounded. The runbook workflow loops
 * `AdvanceRunbook → IsRunbookDone → WaitForStep`; while a step's action runs (or awaits
 * approval) each wait doubles from FIRST_WAIT_SECONDS up to the run's `maxWaitSeconds`, and a step
 * whose action has not ended by its deadline (its own workflow's, with the approval window in
 * force) is recorded as failed. So the polls of a step are bounded, and with them the events of
 * the run's history (docs/architecture.md, "Runbook runs").
 */

export const FIRST_WAIT_SECONDS = 5;
/** The longest wait between two looks at a step, unless the history bound needs longer. */
export const DEFAULT_MAX_WAIT_SECONDS = 60;
const LONGEST_MAX_WAIT_SECONDS = 86_400;

/**
 * Events one `AdvanceRunbook` round adds at most: the task (5), up to 6 retries of 3 (the
 * `recordWrite` policy), the Choice (2) and the Wait (2).
 */
export const EVENTS_PER_ROUND = 27;
/**
 * Every state outside the loop, retries included: StartRunbook, IsDryRun, the run's own approval
 * hold and its outcomes, CompleteAction or RecordActionFailure, NotifyOutcome, the end.
 */
export const EVENTS_OUTSIDE_LOOP = 200;
/** Step Functions' history limit, and the share of it a run may plan to use. */
export const HISTORY_EVENT_LIMIT = 25_000;
export const HISTORY_EVENT_BUDGET = 0.8 * HISTORY_EVENT_LIMIT;
/** How long after its own workflow's deadline a step's action may still record how it ended. */
export const STEP_DEADLINE_MARGIN_SECONDS = 120;

/** The longest a step's action can run: its workflow's timeout with the approval window in force. */
export function stepDeadlineSeconds(action: ActionType, approvalTimeoutSeconds: number): number {
  const workflow = workflowFor(action);
  if (workflow === 'runbook') throw new RangeError('A runbook step cannot run a runbook');
  return (
    ACTION_WORKFLOW_TIMEOUT_SECONDS[workflow] +
    (approvalTimeoutSeconds - FILE_APPROVAL_WINDOW_SECONDS) +
    STEP_DEADLINE_MARGIN_SECONDS
  );
}

/** The wait after the step's `polls`-th look: 5, 10, 20, 40 … seconds, at most `maxWaitSeconds`. */
export function nextWaitSeconds(polls: number, maxWaitSeconds: number): number {
  return Math.min(maxWaitSeconds, FIRST_WAIT_SECONDS * 2 ** Math.min(polls, 30));
}

/** Rounds that look at a step running for up to `seconds`: one after each wait, and the first. */
export function roundsWithin(seconds: number, maxWaitSeconds: number): number {
  let rounds = 1;
  for (let waited = 0; waited < seconds; rounds += 1) {
    waited += nextWaitSeconds(rounds - 1, maxWaitSeconds);
  }
  return rounds;
}

/**
 * The most events a run's history can hold: the states outside the loop, then one round that
 * starts each step (it also records the step before it), the rounds while each step's action
 * runs, and the last round that finds the run done.
 */
export function estimateRunbookHistoryEvents(
  stepDeadlines: readonly number[],
  maxWaitSeconds: number,
): number {
  const rounds =
    1 + stepDeadlines.reduce((sum, deadline) => sum + roundsWithin(deadline, maxWaitSeconds), 0);
  return EVENTS_OUTSIDE_LOOP + EVENTS_PER_ROUND * rounds;
}

/** What AdvanceRunbook needs to wait on the run's steps: the longest wait, each step's deadline. */
export interface RunSchedule {
  readonly maxWaitSeconds: number;
  readonly stepDeadlineSeconds: number[];
}

export class RunbookScheduleError extends Error {
  override name = 'RunbookScheduleError';
}

/**
 * The run's schedule: the default longest wait, or, for a run whose steps could together last
 * so long that its rounds would pass the history budget, the shortest wait that keeps it within.
 */
export function runSchedule(runbook: Runbook, approvalTimeoutSeconds: number): RunSchedule {
  const deadlines = runbook.steps.map((step) => {
    if (step.action === RUNBOOK_ACTION) {
      throw new RunbookScheduleError(`Step ${step.id} runs a runbook: runbooks do not nest`);
    }
    return stepDeadlineSeconds(ActionTypeSchema.parse(step.action), approvalTimeoutSeconds);
  });
  const fits = (wait: number) =>
    estimateRunbookHistoryEvents(deadlines, wait) <= HISTORY_EVENT_BUDGET;
  if (fits(DEFAULT_MAX_WAIT_SECONDS)) {
    return { maxWaitSeconds: DEFAULT_MAX_WAIT_SECONDS, stepDeadlineSeconds: deadlines };
  }
  if (!fits(LONGEST_MAX_WAIT_SECONDS)) {
    throw new RunbookScheduleError(
      `Runbook ${runbook.name}'s steps could last longer than its history can record`,
    );
  }
  let fast = DEFAULT_MAX_WAIT_SECONDS;
  let slow = LONGEST_MAX_WAIT_SECONDS;
  while (slow - fast > 1) {
    const middle = Math.floor((fast + slow) / 2);
    if (fits(middle)) slow = middle;
    else fast = middle;
  }
  return { maxWaitSeconds: slow, stepDeadlineSeconds: deadlines };
}

/**
 * The runbook workflow's execution timeout: a backstop the per-step deadlines always come before,
 * for the most steps, each with the longest approval window, and the run's own approval hold.
 */
export const RUNBOOK_WORKFLOW_TIMEOUT_SECONDS =
  FILE_APPROVAL_WINDOW_SECONDS +
  RUNBOOK_LIMITS.maxSteps *
    (Math.max(...Object.values(ACTION_WORKFLOW_TIMEOUT_SECONDS)) -
      FILE_APPROVAL_WINDOW_SECONDS +
      MAX_APPROVAL_TIMEOUT_SECONDS +
      STEP_DEADLINE_MARGIN_SECONDS +
      LONGEST_MAX_WAIT_SECONDS) +
  1800;
