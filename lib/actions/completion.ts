import * as z from 'zod';
import { auditEvent } from '../audit/context.ts';
import type { HourlyLimitCounter } from '../guardrails/limits.ts';
import { logger } from '../runtime/logger.ts';
import { recordActionCompletion } from '../runtime/metrics.ts';
import {
  CaughtErrorSchema,
  deriveActionStatus,
  describePlan,
  planResults,
  summarizeCaughtError,
  targetVerdict,
} from './outcome.ts';
import {
  ACTION_STATUSES,
  ActionTypeSchema,
  type ResolvedTarget,
  ResolvedTargetSchema,
  type TargetOutcome,
  type TargetResult,
  TargetResultSchema,
  targetKey,
} from './schema.ts';
import type { ActionCompletion, ActionStore, BatchedTargets } from './store.ts';

/** What CompleteAction receives: whatever path the workflow took to its end. */
export const CompletionInputSchema = z.object({
  actionId: z.string(),
  action: ActionTypeSchema,
  dryRun: z.boolean(),
  resolution: z
    .union([
      z.object({ targets: z.array(ResolvedTargetSchema) }),
      /** A batched action (sessions): its targets and results are in its batch items. */
      z.object({ batches: z.array(z.number().int().min(0)), targets: z.number().int().min(0) }),
      /** A runbook run: its targets are its steps, each an action of its own. */
      z.object({ schedule: z.object({ stepDeadlineSeconds: z.array(z.number()) }) }),
    ])
    .optional(),
  results: z.array(TargetResultSchema).optional(),
  error: CaughtErrorSchema.optional(),
  /**
   * Set by the approval path: rejected by an approver, nobody decided in time, or the hold itself
   * failed (its record, or the wait) before anything was done.
   */
  ended: z.enum(['rejected', 'expired', 'failed']).optional(),
  /** A runbook run: its status and summary, as its last round derived them from its steps. */
  runbook: z.object({ status: z.enum(ACTION_STATUSES), summary: z.string() }).optional(),
});
export type CompletionInput = z.output<typeof CompletionInputSchema>;

/**
 * The workflows' last resort (`RecordFailureLastResort`): completing or failing the action could
 * not be recorded, with the error that stopped it. Marks the action failed, and nothing else.
 */
export const LastResortInputSchema = z.object({
  actionId: z.string(),
  lastResort: CaughtErrorSchema,
});
export type LastResortInput = z.output<typeof LastResortInputSchema>;

/** What the complete-action task receives: a completion, or the last resort. */
export const CompleteActionTaskInputSchema = z.union([
  LastResortInputSchema,
  CompletionInputSchema,
]);
export type CompleteActionTaskInput = z.output<typeof CompleteActionTaskInputSchema>;

export interface CompleteActionDependencies {
  /** `get` reads what a failed action did; `failUnfinished` is the last resort. */
  readonly actions: Pick<ActionStore, 'complete' | 'get' | 'failUnfinished'>;
  /** Reads a batched action's targets and results. */
  readonly batched: BatchedTargets;
  /** Gives back the hourly reservation of what an action that ended early never did. */
  readonly counter: Pick<HourlyLimitCounter, 'release'>;
}

/** The last resort's answer: whether it marked the action failed (false: it had already ended). */
export interface LastResortOutcome {
  readonly markedFailed: boolean;
}

/** The complete-action task: a completion, or the last resort. */
export function runCompleteActionTask(
  input: CompleteActionTaskInput,
  dependencies: CompleteActionDependencies,
  now: Date,
): Promise<ActionCompletion | LastResortOutcome> {
  return 'lastResort' in input
    ? failUnfinishedAction(input, dependencies.actions)
    : completeAction(input, dependencies, now);
}

/**
 * Records the action's final status. An action that ended before completing (rejected, expired,
 * failed as a whole) gives back the hourly reservation of every target it never acted on.
 */
export async function completeAction(
  input: CompletionInput,
  { actions, counter, batched }: CompleteActionDependencies,
  now: Date,
): Promise<ActionCompletion> {
  const { completion, results } = await decideBatchedCompletion(input, batched, now);
  await actions.complete(input.actionId, completion);
  recordActionCompletion(input.action, completion.status, results);
  if ((input.ended !== undefined || input.error !== undefined) && !input.dryRun) {
    await releaseReservation(input, { actions, counter, batched });
  }
  return completion;
}

/**
 * The last resort: the action ends `failed` in one small conditional write, so that it never
 * stays `running` because its completion could not be recorded. An outcome already recorded
 * stays; the hourly reservation is not touched (it lapses with the hour).
 */
export async function failUnfinishedAction(
  input: LastResortInput,
  actions: Pick<ActionStore, 'failUnfinished'>,
): Promise<LastResortOutcome> {
  const error = summarizeCaughtError(input.lastResort);
  const markedFailed = await actions.failUnfinished(input.actionId, {
    summary: `Action failed: its outcome could not be recorded (${error.name}: ${error.message})`,
    error,
  });
  logger.error('action marked failed by the last resort', { markedFailed, error: error.name });
  return { markedFailed };
}

/**
 * A batched action's status comes from the results in its batches, which stay there: the record
 * and the workflow's state get the status and summary only, whatever the number of targets.
 */
async function decideBatchedCompletion(
  input: CompletionInput,
  batched: BatchedTargets,
  now: Date,
): Promise<{ completion: ActionCompletion; results: readonly TargetResult[] }> {
  const resolution = input.resolution;
  const unbatched = (completion: ActionCompletion) => ({
    completion,
    results: completion.results ?? [],
  });
  if (resolution === undefined || !('batches' in resolution)) {
    return unbatched(decideCompletion(input, now));
  }
  if (resolution.batches.length === 0) {
    return unbatched(decideCompletion({ ...input, resolution: { targets: [] } }, now));
  }
  const contents = await batched.read(input.actionId, resolution.batches.length);
  const results = Object.values(contents.results);
  const {
    results: _results,
    targets: _targets,
    ...status
  } = decideCompletion({ ...input, resolution: { targets: contents.targets ?? [] }, results }, now);
  // The record gets the status only; the metrics count every target's result.
  return { completion: status, results };
}

/**
 * An action reserved its actionable targets against the hourly limit when it was resolved. Ended
 * before completing, it gives back what it never did (else a flood of failing or held requests
 * would use up the hour): everything when held (rejected, expired, hold failed) or failed before
 * acting, and otherwise all but the targets it may have acted on. Best effort and idempotent: a
 * failure is logged, never fails the recorded outcome, and the reservation then lapses with the hour.
 */
async function releaseReservation(
  input: CompletionInput,
  { actions, counter, batched }: CompleteActionDependencies,
): Promise<void> {
  try {
    const keep = await targetsPossiblyActedOn(input, actions, batched);
    const released = await counter.release(input.action, input.actionId, { keep });
    logger.info('hourly limit reservation', { released, kept: keep });
  } catch (error) {
    logger.error('hourly limit reservation could not be released', error as Error);
  }
}

/** Outcomes that prove a target was left alone: what was never sent is not counted. */
const UNTOUCHED: readonly TargetOutcome[] = ['skipped', 'refused', 'planned'];

/**
 * How many of an action's reserved targets it may have acted on, when it ended before
 * completing. Only a recorded outcome proves a target untouched: an actionable target without
 * one stays counted, since its iteration may have acted before its result could be recorded.
 */
async function targetsPossiblyActedOn(
  input: CompletionInput,
  actions: Pick<ActionStore, 'get'>,
  batched: BatchedTargets,
): Promise<number> {
  // Held and never approved, or failed while resolving (no resolution): nothing was done.
  if (input.ended !== undefined || input.resolution === undefined) return 0;
  const resolution = input.resolution;
  if ('schedule' in resolution) {
    // A run counts once, and has acted as soon as it started a step's action.
    const run = await actions.get(input.actionId);
    return run?.steps?.some((step) => step.childActionId !== undefined) === true ? 1 : 0;
  }
  if ('batches' in resolution) {
    if (resolution.batches.length === 0) return 0;
    const contents = await batched.read(input.actionId, resolution.batches.length);
    return countPossiblyActedOn(contents.targets ?? [], contents.results ?? {});
  }
  const record = await actions.get(input.actionId);
  return countPossiblyActedOn(resolution.targets, record?.results ?? {});
}

function countPossiblyActedOn(
  targets: readonly ResolvedTarget[],
  results: Readonly<Record<string, TargetResult>>,
): number {
  return targets.filter((target) => {
    const outcome = results[targetKey(target)]?.outcome;
    return targetVerdict(target).act && (outcome === undefined || !UNTOUCHED.includes(outcome));
  }).length;
}

const REFUSALS: readonly string[] = ['GuardrailRefusedError', 'TooManyTargetsError'];

/** The final status: planned, from the per-target results, a run's from its steps, or ended as a whole. */
export function decideCompletion(input: CompletionInput, now: Date): ActionCompletion {
  // A batched action's targets are in its batches, a run's are its steps.
  const resolution = input.resolution;
  const targets =
    resolution === undefined || 'batches' in resolution || 'schedule' in resolution
      ? undefined
      : resolution.targets;
  if (input.ended === 'rejected') {
    const error = summarizeCaughtError(input.error ?? { Error: 'ActionRejectedError' });
    return { status: 'rejected', summary: `Rejected; nothing was done: ${error.message}` };
  }
  if (input.ended === 'expired') {
    auditEvent('decision', 'Expired: nobody approved the action in time', { decision: 'expired' });
    return {
      status: 'expired',
      summary: 'Nobody approved the action in time; nothing was done',
    };
  }
  if (input.error !== undefined || input.ended === 'failed') {
    const error = summarizeCaughtError(input.error ?? { Error: 'ApprovalHoldFailedError' });
    // A guard that no approval can override refused the action before anything was done: a
    // limit rule, or more targets than the action (or sweep) may touch at all.
    if (REFUSALS.includes(error.name)) {
      return { status: 'refused', summary: `Refused: ${error.message}`, error };
    }
    return { status: 'failed', summary: `Action failed: ${error.message}`, error };
  }
  if (input.runbook !== undefined) return input.runbook;
  if (input.dryRun) {
    const planned = targets ?? [];
    return {
      status: 'planned',
      summary: describePlan(input.action, planned),
      targets: planned,
      results: planResults(planned, now),
    };
  }
  const results = input.results ?? [];
  return { ...deriveActionStatus(input.action, results), results };
}
