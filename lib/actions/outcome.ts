import * as z from 'zod';
import {
  type ActionStatus,
  type ActionType,
  byProduct,
  declarationOf,
  type ErrorSummary,
  type PlanScope,
  type ResolvedSession,
  type ResolvedTarget,
  type SessionTargetResult,
  type TargetResult,
  targetKey,
} from './schema.ts';

/** The `{Error, Cause}` object a Step Functions Catch puts at its ResultPath. */
export const CaughtErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });
export type CaughtError = z.infer<typeof CaughtErrorSchema>;

const LambdaCauseSchema = z.object({ errorMessage: z.string() });
const MAX_MESSAGE_LENGTH = 1000;

/**
 * A Lambda task's Cause is a JSON document (errorType, errorMessage, trace) on AWS and the plain
 * message in the local engine; only the message is kept, never the stack trace.
 */
export function summarizeCaughtError(caught: CaughtError): ErrorSummary {
  let message = caught.Cause ?? '';
  try {
    const parsed = LambdaCauseSchema.safeParse(JSON.parse(message));
    if (parsed.success) message = parsed.data.errorMessage;
  } catch {
    // Not JSON: already the message.
  }
  return { name: caught.Error, message: message.slice(0, MAX_MESSAGE_LENGTH) || caught.Error };
}

export interface TargetProgress {
  readonly done: boolean;
  readonly jobId?: string | undefined;
  readonly jobStatus?: string | undefined;
}

/** The final word on one target, from its progress or from the error that ended it. */
export function buildTargetResult(
  target: ResolvedSession,
  progress: TargetProgress | undefined,
  caught: CaughtError | undefined,
  now: Date,
): SessionTargetResult {
  // The status in progress is the last one read before the error; after a failed job it is stale
  // (the error message carries the final status), so only a timed-out job keeps it.
  const lastStatus = caught?.Error === 'LogoffJobFailedError' ? undefined : progress?.jobStatus;
  const job =
    progress?.jobId === undefined
      ? undefined
      : { id: progress.jobId, ...(lastStatus ? { status: lastStatus } : {}) };
  const base = { ...target, ...(job ? { job } : {}), finishedAt: now.toISOString() };
  // Only a session marked actionable is acted on (the workflow fails closed), so one without the
  // mark that never got a step is skipped, not an unfinished failure.
  if (target.actionable !== true && progress === undefined && caught === undefined) {
    return { ...base, outcome: 'skipped', note: target.skipReason ?? 'Not actionable' };
  }
  if (caught !== undefined) {
    const outcome = caught.Error === 'LogoffJobDeadlineExceededError' ? 'timed_out' : 'failed';
    return { ...base, outcome, error: summarizeCaughtError(caught) };
  }
  if (progress?.done !== true) {
    return {
      ...base,
      outcome: 'failed',
      error: { name: 'IncompleteTargetError', message: 'The workflow ended before the target did' },
    };
  }
  return { ...base, outcome: 'succeeded' };
}

/** How each action reads in a summary and a plan: its declaration's wording. */
const wordingOf = (action: ActionType) => declarationOf(action).wording;

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;
/** A target that is skipped (not refused): an unmanaged or protected device, a protected session. */
const isSkipped = (target: ResolvedTarget) =>
  !('administratorId' in target) && !targetVerdict(target).act;

export interface DerivedStatus {
  readonly status: ActionStatus;
  readonly summary: string;
}

/**
 * The action's status from its targets: all acted on → succeeded, some → partially_succeeded,
 * none → failed. Skipped targets (reported, deliberately left alone) count against neither; an
 * action with no target, or only skipped ones, did all that could be done and succeeded.
 */
export function deriveActionStatus(
  action: ActionType,
  results: readonly TargetResult[],
): DerivedStatus {
  const { done, noun, nothing } = wordingOf(action);
  const count = (outcome: TargetResult['outcome']) =>
    results.filter((result) => result.outcome === outcome).length;
  const skipped = count('skipped');
  const refused = results.filter((result) => result.outcome === 'refused');
  const actionable = results.length - skipped;
  const skippedResults = results.filter((result) => result.outcome === 'skipped');
  const allUnmanaged = skippedResults.every((result) => 'deviceId' in result && !result.managed);
  const skippedNote = `${skipped} skipped (${allUnmanaged ? 'not managed' : 'protected or not managed'})`;
  if (results.length === 0) {
    return { status: 'succeeded', summary: `No ${noun}s matched the target; ${nothing}` };
  }
  if (actionable === 0) {
    return {
      status: 'succeeded',
      summary: `No ${noun} could be acted on; ${nothing}, ${skippedNote}`,
    };
  }
  if (refused.length === actionable) {
    const reasons = refused.map((result) => ('note' in result && result.note) || 'refused');
    return { status: 'refused', summary: `Refused: ${reasons.join('; ')}; ${nothing}` };
  }
  const succeeded = count('succeeded');
  const timedOut = count('timed_out');
  const unconfirmed = count('unconfirmed');
  const failed = actionable - succeeded - timedOut - unconfirmed - refused.length;
  const parts = [`${succeeded} of ${plural(actionable, noun)} ${done}`];
  if (failed > 0) parts.push(`${failed} failed`);
  if (timedOut > 0) parts.push(`${timedOut} timed out`);
  if (unconfirmed > 0) {
    parts.push(`${unconfirmed} sent, not confirmed (check before sending again)`);
  }
  if (refused.length > 0) parts.push(`${refused.length} refused`);
  if (skipped > 0) parts.push(skippedNote);
  const status: ActionStatus =
    succeeded === actionable ? 'succeeded' : succeeded === 0 ? 'failed' : 'partially_succeeded';
  return { status, summary: parts.join(', ') };
}

/** A dry run's results: what would be acted on is `planned`, what would be skipped says so. */
export function planResults(targets: readonly ResolvedTarget[], now: Date): TargetResult[] {
  return targets.map((target): TargetResult => {
    if ('administratorId' in target && !target.allowed) {
      return {
        ...target,
        outcome: 'refused',
        note: target.refusal ?? 'Refused by a guard',
        finishedAt: now.toISOString(),
      };
    }
    if (isSkipped(target)) {
      return {
        ...target,
        outcome: 'skipped',
        note: `${targetVerdict(target).reason ?? 'Not actionable'}: would be skipped`,
        finishedAt: now.toISOString(),
      } as TargetResult;
    }
    return { ...target, outcome: 'planned', finishedAt: now.toISOString() };
  });
}

export function describePlan(action: ActionType, targets: readonly ResolvedTarget[]): string {
  const { would, noun } = wordingOf(action);
  const skipped = targets.filter(isSkipped).length;
  const refused = targets.filter((target) => 'administratorId' in target && !target.allowed);
  const actionable = targets.length - skipped - refused.length;
  if (targets.length === 0) return `Dry run: no ${noun}s matched the target`;
  if (actionable === 0 && refused.length > 0) {
    const reasons = refused.map((target) => ('refusal' in target && target.refusal) || 'refused');
    return `Dry run: would refuse: ${reasons.join('; ')}`;
  }
  const plan = `Dry run: would ${would} ${plural(actionable, noun)}`;
  if (refused.length > 0) return `${plan} and refuse ${refused.length}`;
  const unmanaged = targets.every(
    (target) => !isSkipped(target) || ('deviceId' in target && !target.managed),
  );
  return skipped > 0
    ? `${plan} and skip ${skipped} (${unmanaged ? 'not managed' : 'protected or not managed'})`
    : plan;
}

/** Whether a resolved target is to be acted on, and if not, why. */
export function targetVerdict(target: ResolvedTarget): { act: boolean; reason?: string } {
  return byProduct<{ act: boolean; reason?: string }>(target, {
    administrators: (administrator) =>
      administrator.allowed
        ? { act: true }
        : { act: false, reason: administrator.refusal ?? 'Refused' },
    devices: (device) =>
      (device.actionable ?? device.managed)
        ? { act: true }
        : { act: false, reason: device.skipReason ?? 'Not managed by Endpoint Management' },
    sessions: (session) =>
      session.actionable === false
        ? { act: false, reason: session.skipReason ?? 'Not actionable' }
        : { act: true },
  });
}

/** The plan recorded before acting: each target, whether it will be acted on, and why not. */
export function planOf(
  targets: readonly ResolvedTarget[],
): { target: string; act: boolean; reason?: string }[] {
  return targets.map((target) => ({ target: targetKey(target), ...targetVerdict(target) }));
}

/** Entries of each list in a plan's scope: enough to read, small enough for the record. */
export const MAX_SCOPE_ENTRIES = 25;

/** A session action's sessions counted by delivery group and machine; undefined for the rest. */
export function planScopeOf(targets: readonly ResolvedTarget[]): PlanScope | undefined {
  const sessions = targets.filter((target): target is ResolvedSession => 'sessionId' in target);
  if (sessions.length === 0 || sessions.length !== targets.length) return undefined;
  const count = (name: (session: ResolvedSession) => string | undefined) => {
    const counts = new Map<string, { targets: number; actionable: number }>();
    for (const session of sessions) {
      const key = name(session) ?? '(unknown)';
      const entry = counts.get(key) ?? { targets: 0, actionable: 0 };
      entry.targets += 1;
      if (targetVerdict(session).act) entry.actionable += 1;
      counts.set(key, entry);
    }
    const sorted = [...counts]
      .map(([key, entry]) => ({ name: key, ...entry }))
      .sort((a, b) => b.targets - a.targets || a.name.localeCompare(b.name));
    return {
      listed: sorted.slice(0, MAX_SCOPE_ENTRIES),
      more: Math.max(0, sorted.length - MAX_SCOPE_ENTRIES),
    };
  };
  const groups = count((session) => session.deliveryGroup);
  const machines = count((session) => session.machineName);
  return {
    targets: sessions.length,
    actionable: sessions.filter((session) => targetVerdict(session).act).length,
    byDeliveryGroup: groups.listed,
    moreDeliveryGroups: groups.more,
    byMachine: machines.listed,
    moreMachines: machines.more,
  };
}
