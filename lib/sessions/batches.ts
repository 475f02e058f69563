import pLimit from 'p-limit';
import { unhandled } from '../actions/declaration.ts';
import {
  buildTargetResult,
  type CaughtError,
  planResults,
  type TargetProgress,
} from '../actions/outcome.ts';
import {
  type ResolvedSession,
  type ResolvedTarget,
  type SessionActionType,
  type SessionTargetResult,
  sessionOperationOf,
} from '../actions/schema.ts';
import type { ActionStore } from '../actions/store.ts';
import type { CallContext } from '../citrix/daas-client.ts';
import { SUCCESSFUL_JOB_STATUSES, TERMINAL_JOB_STATUSES } from '../citrix/daas-client.ts';
import type { GuardedResolution } from '../guardrails/apply.ts';
import {
  type BATCH_STEPS,
  type BatchEntry,
  batchNumbers,
  fullResult,
  type SessionBatch,
  type SessionBatchStore,
  storedResult,
  type ThrottleGate,
} from './batch-items.ts';
import {
  type JobReader,
  LogoffJobDeadlineExceededError,
  LogoffJobFailedError,
  MAX_THROTTLED_ROUNDS,
  maxBatchRounds,
  type SessionController,
  type SessionWorkflowSettings,
  windowOf,
} from './session-actions.ts';

/**
 * Citrix requests one round sends at once; the rest wait for a free slot. 25 per batch, 250 for
 * the batches acted on at once: the first 429 closes the shared gate for all of them.
 */
export const REQUESTS_IN_FLIGHT = 25;
/** Wait after a 429 that carries no Retry-After: doubles per throttled round, up to the cap. */
const THROTTLE_BACKOFF_SECONDS = { first: 2, max: 60 } as const;

/** What one round tells the workflow: whether the batch is done, and how long to wait. */
export interface BatchRound {
  readonly done: boolean;
  readonly waitSeconds: number;
  readonly counts: Readonly<Record<(typeof BATCH_STEPS)[number], number>>;
}

/** A round, and the results of the sessions it finished (each reported once, for the audit). */
export interface BatchRoundOutcome {
  readonly round: BatchRound;
  readonly finished: readonly SessionTargetResult[];
}

export interface BatchRoundDependencies {
  readonly controller: SessionController;
  readonly jobs: JobReader;
  readonly gate: ThrottleGate;
  readonly store: Pick<SessionBatchStore, 'read' | 'save'>;
  readonly settings: SessionWorkflowSettings;
}

export class BatchRoundLimitError extends Error {
  override name = 'BatchRoundLimitError';
}

/** A claimed session whose request may or may not have reached Citrix: never sent again. */
export class SubmissionUnconfirmedError extends Error {
  override name = 'SubmissionUnconfirmedError';
}

/** Splits resolved sessions into batch items, each session `pending` (or done, when skipped). */
export function batchesOf(
  actionId: string,
  targets: readonly ResolvedSession[],
  batchSize: number,
  settings: Pick<SessionWorkflowSettings, 'initialWaitSeconds'>,
  plannedAt?: Date,
): SessionBatch[] {
  const batches: SessionBatch[] = [];
  for (let start = 0; start < targets.length; start += batchSize) {
    batches.push({
      actionId,
      index: batches.length,
      version: 0,
      rounds: 0,
      throttledRounds: 0,
      waitSeconds: settings.initialWaitSeconds,
      entries: targets.slice(start, start + batchSize).map(
        (target): BatchEntry =>
          plannedAt === undefined
            ? { target, step: 'pending' }
            : // A dry run's result is its plan; nothing is ever sent for it.
              {
                target,
                step: 'finished',
                result: storedResult(planResults([target], plannedAt)[0] as SessionTargetResult),
              },
      ),
    });
  }
  return batches;
}

/**
 * One round of one batch: reads every running log off job, then sends the sessions not yet sent
 * (claimed first, in the batch item, so that a repeated round never sends one twice), unless
 * Citrix is throttling. Saves the batch and says how long to wait before the next round.
 */
export async function advanceBatch(
  request: {
    readonly actionId: string;
    readonly action: SessionActionType;
    readonly index: number;
  },
  dependencies: BatchRoundDependencies,
  now: () => Date,
): Promise<BatchRoundOutcome> {
  const { store, gate, settings } = dependencies;
  // The gate is read beside the batch: one round trip fewer before the round can send.
  const [batch, closedUntil] = await Promise.all([
    store.read(request.actionId, request.index),
    gate.closedUntil(now()),
  ]);
  if (isFinished(batch)) return { round: roundOf(batch, settings), finished: [] };
  const round: SessionBatch = { ...batch, rounds: batch.rounds + 1, entries: [...batch.entries] };
  const entryAt = (position: number) => round.entries[position] as BatchEntry;
  const finish = (position: number, progress?: TargetProgress, caught?: CaughtError) => {
    const entry = entryAt(position);
    round.entries[position] = {
      ...entry,
      step: 'finished',
      result: storedResult(buildTargetResult(entry.target, progress, caught, now())),
    };
  };

  // Sessions never to be acted on, and claims that a lost round left behind.
  round.entries.forEach((entry, position) => {
    if (entry.step === 'pending' && entry.target.actionable !== true) finish(position);
    if (entry.step === 'claimed') {
      finish(
        position,
        progressOf(entry),
        caughtOf(
          'SubmissionUnconfirmedError',
          'The round that sent this session ended before recording the reply: it may have been acted on, and it is not sent again. Check the session in Citrix.',
        ),
      );
    }
  });

  if (round.rounds >= maxBatchRounds(settings)) {
    const throttled = round.throttledRounds >= MAX_THROTTLED_ROUNDS;
    round.entries.forEach((entry, position) => {
      if (entry.step !== 'finished')
        finish(position, progressOf(entry), roundLimitError(entry, throttled));
    });
    return saveRound(store, batch, round, batch.version, settings, now);
  }

  if (closedUntil !== undefined) {
    round.throttledRounds += 1;
    return saveRound(store, batch, round, batch.version, settings, now, closedUntil);
  }

  const context: CallContext = { transactionId: request.actionId, maxAttempts: 1 };
  const throttle = new Throttle(gate, round.throttledRounds);

  // Read every running log off job.
  await concurrently(positionsAt(round, 'submitted'), async (position) => {
    if (throttle.closed) return;
    const entry = entryAt(position);
    const polled: BatchEntry = { ...entry, polls: (entry.polls ?? 0) + 1 };
    round.entries[position] = polled;
    try {
      const job = await dependencies.jobs.getJob(entry.jobId as string, context);
      round.entries[position] = { ...polled, jobStatus: job.Status };
      if ((SUCCESSFUL_JOB_STATUSES as readonly string[]).includes(job.Status)) {
        return finish(position, { ...progressOf(entryAt(position)), done: true });
      }
      if ((TERMINAL_JOB_STATUSES as readonly string[]).includes(job.Status)) {
        const detail = job.ErrorString ? `: ${job.ErrorString}` : '';
        return finish(
          position,
          progressOf(entryAt(position)),
          caughtFrom(new LogoffJobFailedError(`Citrix job ${job.Id} ended ${job.Status}${detail}`)),
        );
      }
    } catch (error) {
      if (await throttle.noted(error, now())) {
        round.entries[position] = entry;
        return;
      }
      // A job that cannot be read now is read again next round, until its deadline.
    }
    const running = entryAt(position);
    if (Date.parse(running.deadline as string) <= now().getTime()) {
      finish(
        position,
        progressOf(running),
        caughtFrom(
          new LogoffJobDeadlineExceededError(
            `Citrix job ${running.jobId} still ${running.jobStatus ?? 'unread'} after ${running.polls ?? 0} checks; deadline ${running.deadline} passed`,
          ),
        ),
      );
    }
  });

  // Send the sessions not yet sent, as many as the batch's window has room for (a sliding window:
  // a round that finds jobs ended sends the next sessions at once), each claimed first.
  const window = windowOf(settings);
  const room = Math.max(0, window - positionsAt(round, 'submitted').length);
  const unsentBefore = positionsAt(round, 'pending').length;
  const pending = throttle.closed ? [] : positionsAt(round, 'pending').slice(0, room);
  let version = batch.version;
  let started = false;
  if (pending.length > 0) {
    for (const position of pending)
      round.entries[position] = { ...entryAt(position), step: 'claimed' };
    await store.save({ ...round, version: version + 1 });
    version += 1;
    const deadline = new Date(now().getTime() + settings.deadlineSeconds * 1000).toISOString();
    await concurrently(pending, async (position) => {
      const entry = entryAt(position);
      // Not sent: a 429 came back for another session of this round.
      if (throttle.closed) {
        round.entries[position] = { ...entry, step: 'pending' };
        return;
      }
      try {
        const jobId = await sendAction(
          dependencies.controller,
          request.action,
          entry.target.sessionId,
          context,
        );
        if (jobId === undefined) return finish(position, { done: true });
        round.entries[position] = { ...entry, step: 'submitted', jobId, polls: 0, deadline };
        started = true;
      } catch (error) {
        // A 429 means Citrix did not act on it: pending again, for a later round.
        if (await throttle.noted(error, now())) {
          round.entries[position] = { ...entry, step: 'pending' };
          return;
        }
        finish(position, undefined, caughtFrom(error));
      }
    });
  }

  if (throttle.closed) round.throttledRounds += 1;
  // The waits start again only for a new window's worth of sessions or the last one sent, never
  // for each session a sliding window lets in: that is what bounds the rounds (maxBatchRounds).
  const unsentAfter = positionsAt(round, 'pending').length;
  const sentBefore = round.entries.length - unsentBefore;
  const sentAfter = round.entries.length - unsentAfter;
  const newWindow =
    Math.floor(sentAfter / window) > Math.floor(sentBefore / window) ||
    (unsentAfter === 0 && unsentBefore > 0);
  round.waitSeconds =
    started && newWindow
      ? settings.initialWaitSeconds
      : Math.min(round.waitSeconds * 2, settings.maxWaitSeconds);
  return saveRound(store, batch, round, version, settings, now, throttle.untilMs);
}

/** Runs `work` for each position, REQUESTS_IN_FLIGHT at a time; `work` catches its own errors. */
async function concurrently(
  positions: readonly number[],
  work: (position: number) => Promise<void>,
): Promise<void> {
  const limit = pLimit(REQUESTS_IN_FLIGHT);
  await Promise.all(positions.map((position) => limit(() => work(position))));
}

async function sendAction(
  controller: SessionController,
  action: SessionActionType,
  sessionId: string,
  context: CallContext,
): Promise<string | undefined> {
  const operation = sessionOperationOf(action);
  switch (operation) {
    case 'disconnect':
      await controller.disconnectSession(sessionId, context);
      return undefined;
    case 'logoff':
      // Without a job URL Citrix has logged the session off synchronously.
      return (await controller.logoffSession(sessionId, context)).jobId;
  }
  return unhandled(operation);
}

/** One round's view of Citrix's throttling: the first 429 closes the shared gate. */
class Throttle {
  readonly #gate: ThrottleGate;
  readonly #throttledRounds: number;
  untilMs: number | undefined;

  constructor(gate: ThrottleGate, throttledRounds: number) {
    this.#gate = gate;
    this.#throttledRounds = throttledRounds;
  }

  get closed(): boolean {
    return this.untilMs !== undefined;
  }

  /** True (and the gate closed) when `error` is Citrix's 429. */
  async noted(error: unknown, now: Date): Promise<boolean> {
    if (!(error instanceof Error) || error.name !== 'CitrixThrottledError') return false;
    const retryAfterMs = (error as { retryAfterMs?: number }).retryAfterMs;
    const backoffSeconds = Math.min(
      THROTTLE_BACKOFF_SECONDS.first * 2 ** this.#throttledRounds,
      THROTTLE_BACKOFF_SECONDS.max,
    );
    const until = now.getTime() + (retryAfterMs ?? backoffSeconds * 1000);
    if (this.untilMs === undefined || until > this.untilMs) {
      this.untilMs = until;
      await this.#gate.close(until);
    }
    return true;
  }
}

/** Saves the round over `version`; waits out the throttle when it is closed until `closedUntil`. */
async function saveRound(
  store: Pick<SessionBatchStore, 'save'>,
  before: SessionBatch,
  round: SessionBatch,
  version: number,
  settings: SessionWorkflowSettings,
  now: () => Date,
  closedUntil?: number,
): Promise<BatchRoundOutcome> {
  const saved: SessionBatch = { ...round, version: version + 1 };
  await store.save(saved);
  const finished = newlyFinished(before, saved);
  const next = roundOf(saved, settings);
  if (next.done || closedUntil === undefined) return { round: next, finished };
  const waitSeconds = Math.max(1, Math.ceil((closedUntil - now().getTime()) / 1000));
  return { round: { ...next, waitSeconds }, finished };
}

function newlyFinished(before: SessionBatch, after: SessionBatch): SessionTargetResult[] {
  return after.entries.flatMap((entry, position) =>
    entry.result !== undefined && before.entries[position]?.result === undefined
      ? [fullResult(entry) as SessionTargetResult]
      : [],
  );
}

function roundOf(batch: SessionBatch, settings: SessionWorkflowSettings): BatchRound {
  const counts = { pending: 0, claimed: 0, submitted: 0, finished: 0 };
  for (const entry of batch.entries) counts[entry.step] += 1;
  // No wait is shortened to a job's deadline: a job past it is judged by the next round, at most
  // maxWaitSeconds late, and the rounds stay within maxBatchRounds.
  return {
    done: counts.finished === batch.entries.length,
    waitSeconds: Math.max(1, Math.min(batch.waitSeconds, settings.maxWaitSeconds)),
    counts,
  };
}

const isFinished = (batch: SessionBatch) =>
  batch.entries.every((entry) => entry.step === 'finished');

const positionsAt = (batch: SessionBatch, step: BatchEntry['step']) =>
  batch.entries.flatMap((entry, position) => (entry.step === step ? [position] : []));

function progressOf(entry: BatchEntry): TargetProgress | undefined {
  if (entry.step === 'pending') return undefined;
  return { done: false, jobId: entry.jobId, jobStatus: entry.jobStatus };
}

function caughtOf(name: string, message: string): CaughtError {
  return { Error: name, Cause: JSON.stringify({ errorMessage: message }) };
}

function caughtFrom(error: unknown): CaughtError {
  return error instanceof Error
    ? caughtOf(error.name, error.message)
    : caughtOf('Error', String(error));
}

function roundLimitError(entry: BatchEntry, throttled: boolean): CaughtError {
  if (entry.step === 'submitted') {
    return caughtOf(
      'LogoffJobDeadlineExceededError',
      `Citrix job ${entry.jobId} still ${entry.jobStatus ?? 'unread'} when the batch reached its last round`,
    );
  }
  return throttled
    ? caughtOf(
        'CitrixThrottledError',
        'Not sent: Citrix kept throttling until the batch reached its last round',
      )
    : caughtOf(
        'BatchRoundLimitError',
        'Not sent: the batch reached its last round (the bound that keeps the workflow history under its limit) before its window had room',
      );
}

/**
 * Records every session of the batch not yet finished as failed with `caught`, sending nothing:
 * the batch's workflow step failed as a whole. A claimed or submitted session keeps its job, and
 * the error says it may have been acted on.
 */
export async function failBatch(
  request: { readonly actionId: string; readonly index: number },
  store: Pick<SessionBatchStore, 'read' | 'save'>,
  caught: CaughtError,
  now: Date,
): Promise<BatchRoundOutcome> {
  const batch = await store.read(request.actionId, request.index);
  const entries = batch.entries.map((entry): BatchEntry => {
    if (entry.step === 'finished') return entry;
    // A session never to be acted on is skipped, whatever else failed.
    const skipped = entry.step === 'pending' && entry.target.actionable !== true;
    const result = buildTargetResult(
      entry.target,
      progressOf(entry),
      skipped ? undefined : caught,
      now,
    ) as SessionTargetResult;
    return { ...entry, step: 'finished', result: storedResult(result) };
  });
  const saved = { ...batch, version: batch.version + 1, entries };
  await store.save(saved);
  const counts = { pending: 0, claimed: 0, submitted: 0, finished: entries.length };
  return { round: { done: true, waitSeconds: 1, counts }, finished: newlyFinished(batch, saved) };
}

/** What ResolveTargets hands the session workflow: batch numbers and a count, never the sessions. */
export interface BatchedResolution {
  readonly guardrails: GuardedResolution['guardrails'];
  /** The batch numbers the Map iterates over. */
  readonly batches: number[];
  readonly targets: number;
}

/**
 * Writes the resolved sessions in batch items, then marks the action running with their count:
 * the record never points at batches not yet written. Returns the batch numbers.
 */
export async function writeSessionBatches(
  dependencies: {
    readonly store: Pick<SessionBatchStore, 'write'>;
    readonly actions: Pick<ActionStore, 'markRunning'>;
    readonly settings: Pick<SessionWorkflowSettings, 'batchSize' | 'initialWaitSeconds'>;
  },
  actionId: string,
  targets: readonly ResolvedTarget[],
  plannedAt: Date | undefined,
): Promise<number[]> {
  const sessions = targets.filter((target): target is ResolvedSession => 'sessionId' in target);
  if (sessions.length === 0) {
    await dependencies.actions.markRunning(actionId, []);
    return [];
  }
  const batches = batchesOf(
    actionId,
    sessions,
    dependencies.settings.batchSize,
    dependencies.settings,
    plannedAt,
  );
  await dependencies.store.write(batches);
  await dependencies.actions.markRunning(actionId, sessions, { batches: batches.length });
  return batchNumbers(batches.length);
}
