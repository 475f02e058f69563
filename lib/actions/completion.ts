import * as z from 'zod';
import { auditEvent } from '../audit/context.ts';
import type { HourlyLimitCounter } from '../guardrails/limits.ts';
import { logger } from '../runtime/logger.ts';
import {
  CaughtErrorSchema,
  deriveActionStatus,
  describePlan,
  planResults,
  summarizeCaughtError,
} from './outcome.ts';
import {
  ACTION_STATUSES,
  type ActionType,
  ActionTypeSchema,
  ResolvedTargetSchema,
  TargetResultSchema,
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

export interface CompleteActionDependencies {
  readonly actions: Pick<ActionStore, 'complete'>;
  /** Reads a batched action's targets and results. */
  readonly batched: BatchedTargets;
  /** Gives back the hourly reservation of a held action that ended without doing anything. */
  readonly counter: Pick<HourlyLimitCounter, 'release'>;
}

/** Records the action's final status, and gives back a held action's hourly reservation. */
export async function completeAction(
  input: CompletionInput,
  { actions, counter, batched }: CompleteActionDependencies,
  now: Date,
): Promise<ActionCompletion> {
  const completion = await decideBatchedCompletion(input, batched, now);
  await actions.complete(input.actionId, completion);
  if (input.ended !== undefined && !input.dryRun) {
    await releaseReservation(counter, input.action, input.actionId);
  }
  return completion;
}

/**
 * A batched action's status comes from the results in its batches, which stay there: the record
 * and the workflow's state get the status and summary only, whatever the number of targets.
 */
async function decideBatchedCompletion(
  input: CompletionInput,
  batched: BatchedTargets,
  now: Date,
): Promise<ActionCompletion> {
  const resolution = input.resolution;
  if (resolution === undefined || !('batches' in resolution)) return decideCompletion(input, now);
  if (resolution.batches.length === 0) {
    return decideCompletion({ ...input, resolution: { targets: [] } }, now);
  }
  const contents = await batched.read(input.actionId, resolution.batches.length);
  const {
    results: _results,
    targets: _targets,
    ...status
  } = decideCompletion(
    {
      ...input,
      resolution: { targets: contents.targets ?? [] },
      results: Object.values(contents.results),
    },
    now,
  );
  return status;
}

/**
 * A held action reserved its targets against the hourly limit; rejected, expired or failed while
 * held, it did nothing, so the reservation goes back (else a flood of held requests would use up
 * the hour). Best effort and idempotent: a failure is logged, never fails the recorded outcome,
 * and the reservation then lapses with the hour.
 */
async function releaseReservation(
  counter: Pick<HourlyLimitCounter, 'release'>,
  action: ActionType,
  actionId: string,
): Promise<void> {
  try {
    const released = await counter.release(action, actionId);
    logger.info('hourly limit reservation', { released });
  } catch (error) {
    logger.error('hourly limit reservation could not be released', error as Error);
  }
}

const REFUSALS: readonly string[] = ['GuardrailRefusedError', 'TooManyTargetsError'];

/** The final status: planned, from the per-target results, a run's from its steps, or ended as a whole. */
export function decideCompletion(input: CompletionInput, now: Date): ActionCompletion {
  const targets =
    input.resolution !== undefined && 'batches' in input.resolution
      ? undefined
      : input.resolution?.targets;
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
