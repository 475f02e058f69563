import * as z from 'zod';
import { unhandled } from '../actions/declaration.ts';
import { planOf } from '../actions/outcome.ts';
import {
  ErrorSummarySchema,
  type ResolvedSession,
  ResolvedSessionSchema,
  type SessionTargetResult,
  SessionTargetResultSchema,
} from '../actions/schema.ts';
import type { BatchedContents, BatchedTargets } from '../actions/store.ts';
import { MAX_BATCH_SIZE } from './session-actions.ts';

/**
 * A session action's targets, results and claims live in batch items outside the workflow's
 * state and outside the action record, so that neither the 256 KB state limit nor the 400 KB item
 * limit bounds how many sessions one action may touch. The workflow maps over batch numbers only;
 * each iteration advances its batch one round at a time (`advanceBatch`), and a round covers every
 * session of the batch: one Lambda call, one Choice and one Wait, whatever the batch size.
 */

/**
 * Where a session is: `pending` (not sent), `claimed` (recorded as about to be sent: if a round
 * ends here, the request may have reached Citrix, so it is never sent again), `submitted` (a log
 * off job to poll), or `finished` with its result.
 */
export const BATCH_STEPS = ['pending', 'claimed', 'submitted', 'finished'] as const;

/**
 * A finished session's result as its batch entry keeps it: the outcome only, since the entry
 * already holds the session (`fullResult` puts the two back together).
 */
export const StoredResultSchema = SessionTargetResultSchema.pick({
  outcome: true,
  note: true,
  job: true,
  error: true,
  finishedAt: true,
});
export type StoredResult = z.infer<typeof StoredResultSchema>;

/** The part of a result its batch entry keeps. */
export function storedResult(result: SessionTargetResult): StoredResult {
  return StoredResultSchema.parse(result);
}

/** A finished entry's whole result: its session and its outcome. */
export function fullResult(entry: {
  readonly target: ResolvedSession;
  readonly result?: StoredResult | undefined;
}): SessionTargetResult | undefined {
  return entry.result === undefined ? undefined : { ...entry.target, ...entry.result };
}

/**
 * Where a session's warning is, in its entry: `claimed` (recorded before the `$sendMessage`, so
 * that a retried warning task never sends it again), `sent`, `failed` (Citrix refused it, or it
 * was never sent), or `unconfirmed` (sent, but the reply was lost: it may have reached the user).
 * An entry without a warning has not been warned yet.
 */
export const WARNING_STEPS = ['claimed', 'sent', 'failed', 'unconfirmed'] as const;

export const BatchEntrySchema = z.object({
  target: ResolvedSessionSchema,
  step: z.enum(BATCH_STEPS),
  jobId: z.string().optional(),
  jobStatus: z.string().optional(),
  polls: z.number().int().min(0).optional(),
  deadline: z.iso.datetime().optional(),
  result: StoredResultSchema.optional(),
  warning: z
    .object({ status: z.enum(WARNING_STEPS), error: ErrorSummarySchema.optional() })
    .optional(),
});
export type BatchEntry = z.infer<typeof BatchEntrySchema>;
export type EntryWarning = NonNullable<BatchEntry['warning']>;
type RecordWarning = NonNullable<BatchedContents['warnings']>[number];

/** The summary of a warning that may have been sent, and is therefore never sent again. */
export const unconfirmedWarning = (why: string) => ({
  name: 'WarningUnconfirmedError',
  message: `${why}: it may have been sent, and is not sent again`.slice(0, 500),
});

/**
 * A warning as the action record shows it: sent or failed. One that may have been sent (its
 * reply was lost, or it is claimed by a task that is sending it or died) shows as failed with
 * WarningUnconfirmedError, since nobody can say the user saw it.
 */
export function recordWarning(sessionId: string, warning: EntryWarning): RecordWarning {
  switch (warning.status) {
    case 'sent':
      return { sessionId, status: 'sent' };
    case 'failed':
      return { sessionId, status: 'failed', ...(warning.error ? { error: warning.error } : {}) };
    case 'unconfirmed':
      return {
        sessionId,
        status: 'failed',
        error: warning.error ?? unconfirmedWarning('Its reply was lost'),
      };
    case 'claimed':
      return {
        sessionId,
        status: 'failed',
        error: unconfirmedWarning('Being sent, or its task ended before recording the reply'),
      };
  }
  return unhandled(warning.status);
}

export const SessionBatchSchema = z.object({
  actionId: z.string(),
  index: z.number().int().min(0),
  /** Bumped by every save: a save over a newer version is refused (optimistic locking). */
  version: z.number().int().min(0),
  rounds: z.number().int().min(0),
  throttledRounds: z.number().int().min(0),
  /** The next poll wait; back to the first wait whenever new log off jobs were started. */
  waitSeconds: z.number().int().min(1),
  entries: z.array(BatchEntrySchema).min(1).max(MAX_BATCH_SIZE),
});
export type SessionBatch = z.infer<typeof SessionBatchSchema>;

export interface SessionBatchStore {
  /** Writes the batches of a newly resolved action (a retried resolve writes them again). */
  write(batches: readonly SessionBatch[]): Promise<void>;
  read(actionId: string, index: number): Promise<SessionBatch>;
  /** Every batch of the action, in order. */
  readAll(actionId: string, count: number): Promise<SessionBatch[]>;
  /** Saves `batch` (its version already bumped) only over `version - 1`. */
  save(batch: SessionBatch): Promise<void>;
}

/**
 * Citrix's throttling as every batch of every action sees it. One batch's 429 closes it for all,
 * until Retry-After has passed, so concurrent iterations back off together.
 */
export interface ThrottleGate {
  /** Epoch milliseconds before which no request should be sent; undefined when open. */
  closedUntil(now: Date): Promise<number | undefined>;
  close(untilMs: number): Promise<void>;
}

/** A batched session action's targets, results, warnings and plan, in the order resolved. */
export function batchContents(batches: readonly SessionBatch[]): BatchedContents {
  const entries = batches.flatMap((batch) => batch.entries);
  const targets = entries.map((entry) => entry.target);
  const warnings = entries.flatMap((entry) =>
    entry.warning === undefined ? [] : [recordWarning(entry.target.sessionId, entry.warning)],
  );
  return {
    targets,
    results: Object.fromEntries(
      entries.flatMap((entry) =>
        entry.result === undefined
          ? []
          : [[entry.target.sessionId, { ...entry.target, ...entry.result }]],
      ),
    ),
    plan: planOf(targets),
    ...(warnings.length === 0 ? {} : { warnings }),
  };
}

/** What the action store reads a batched session action back with. */
export class SessionBatchContents implements BatchedTargets {
  readonly #store: Pick<SessionBatchStore, 'readAll'>;

  constructor(store: Pick<SessionBatchStore, 'readAll'>) {
    this.#store = store;
  }

  async read(actionId: string, batches: number): Promise<BatchedContents> {
    return batchContents(await this.#store.readAll(actionId, batches));
  }
}

/** The batch numbers the workflow's Map iterates over: `[0, 1, …, count - 1]`. */
export const batchNumbers = (count: number): number[] => Array.from({ length: count }, (_, i) => i);
