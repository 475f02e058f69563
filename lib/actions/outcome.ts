import { z } from 'zod';
import type {
  ActionStatus,
  ActionType,
  ErrorSummary,
  ResolvedSession,
  TargetResult,
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
): TargetResult {
  // The status in progress is the last one read before the error; after a failed job it is stale
  // (the error message carries the final status), so only a timed-out job keeps it.
  const lastStatus = caught?.Error === 'LogoffJobFailedError' ? undefined : progress?.jobStatus;
  const job =
    progress?.jobId === undefined
      ? undefined
      : { id: progress.jobId, ...(lastStatus ? { status: lastStatus } : {}) };
  const base = { ...target, ...(job ? { job } : {}), finishedAt: now.toISOString() };
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

const VERBS: Record<ActionType, string> = {
  'session.logoff': 'logged off',
  'session.disconnect': 'disconnected',
};

export interface DerivedStatus {
  readonly status: ActionStatus;
  readonly summary: string;
}

export function deriveActionStatus(
  action: ActionType,
  results: readonly TargetResult[],
): DerivedStatus {
  const verb = VERBS[action];
  if (results.length === 0) {
    return { status: 'succeeded', summary: `No sessions matched the target; nothing was ${verb}` };
  }
  const succeeded = results.filter((result) => result.outcome === 'succeeded').length;
  const timedOut = results.filter((result) => result.outcome === 'timed_out').length;
  const failed = results.length - succeeded - timedOut;
  const parts = [`${succeeded} of ${results.length} sessions ${verb}`];
  if (failed > 0) parts.push(`${failed} failed`);
  if (timedOut > 0) parts.push(`${timedOut} timed out`);
  const status: ActionStatus =
    succeeded === results.length ? 'succeeded' : succeeded === 0 ? 'failed' : 'partially_succeeded';
  return { status, summary: parts.join(', ') };
}

export function planResults(targets: readonly ResolvedSession[], now: Date): TargetResult[] {
  return targets.map((target) => ({
    ...target,
    outcome: 'planned',
    finishedAt: now.toISOString(),
  }));
}

export function describePlan(action: ActionType, targets: readonly ResolvedSession[]): string {
  const verb = action === 'session.logoff' ? 'log off' : 'disconnect';
  return targets.length === 0
    ? 'Dry run: no sessions matched the target'
    : `Dry run: would ${verb} ${targets.length} session${targets.length === 1 ? '' : 's'}`;
}
