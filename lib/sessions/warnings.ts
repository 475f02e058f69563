import pLimit from 'p-limit';
import type { ActionRecord, ErrorSummary, SessionWarning } from '../actions/schema.ts';
import type { CallContext, SessionMessage } from '../citrix/daas-client.ts';
import {
  CitrixApiError,
  CitrixConfigurationError,
  CitrixThrottledError,
  InvalidCitrixIdError,
} from '../citrix/errors.ts';
import {
  type BatchEntry,
  type EntryWarning,
  recordWarning,
  type SessionBatch,
  type SessionBatchStore,
  unconfirmedWarning,
} from './batch-items.ts';

export interface SessionMessenger {
  sendMessage(sessionId: string, message: SessionMessage, context?: CallContext): Promise<void>;
}

type Warnings = NonNullable<ActionRecord['warnings']>;

/** `$sendMessage` calls in flight at once: a user's sessions are warned in a few rounds. */
export const WARNING_CONCURRENCY = 5;
/**
 * Sessions claimed by one save of their batch before their messages go out: what a task that
 * dies mid-batch can leave unconfirmed at most, against one write per this many messages.
 */
export const WARNING_WINDOW = 25;
/** Attempts of one message that Citrix keeps answering 429 (it did not act on any of them). */
export const WARNING_THROTTLE_ATTEMPTS = 3;
/** Longest wait before sending a throttled message again, whatever Retry-After says. */
const MAX_THROTTLE_WAIT_MS = 10_000;

export interface WarningDependencies {
  readonly messenger: SessionMessenger;
  readonly store: Pick<SessionBatchStore, 'readAll' | 'save'>;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface WarningRun {
  /** Every warning of the action so far, as the record shows them. */
  readonly warnings: Warnings;
  /** The warnings this task decided (sent, failed, or found unconfirmed), for the audit trail. */
  readonly decided: Warnings;
}

/** Only a session the guardrails marked actionable is acted on, so only it is warned. */
const toWarn = (entry: BatchEntry) =>
  entry.target.actionable === true && entry.warning === undefined;

/**
 * Warns the user of each session that will be acted on (protected sessions are left alone), and
 * never twice, however often the task is retried: each session's warning is claimed in its batch
 * item (a save conditional on the batch's version) before its `$sendMessage`, and a claim found
 * by a later attempt (its task died or lost the reply) is recorded as unconfirmed and not sent
 * again. Messages are sent with one attempt each, since a 5xx or a timeout may follow a delivered
 * message; only a 429, which Citrix did not act on, is sent again (WARNING_THROTTLE_ATTEMPTS).
 * A failed warning is recorded per session and never stops the containment that follows.
 */
export async function warnBatchedSessions(
  dependencies: WarningDependencies,
  actionId: string,
  batchCount: number,
  warning: SessionWarning,
): Promise<WarningRun> {
  const context: CallContext = { transactionId: actionId, maxAttempts: 1 };
  const message: SessionMessage = {
    title: warning.title,
    text: warning.text,
    style: 'Exclamation',
  };
  const decided = new Map<string, EntryWarning>();
  const batches: SessionBatch[] = [];
  for (const stored of await dependencies.store.readAll(actionId, batchCount)) {
    let batch = stored;
    // Claims an earlier attempt left: their messages may have gone out, so they are not sent.
    let outcomes = new Map<string, EntryWarning>();
    for (const entry of batch.entries) {
      if (entry.warning?.status === 'claimed') outcomes.set(entry.target.sessionId, LEFT_CLAIMED);
    }
    for (;;) {
      const window = batch.entries.filter(toWarn).slice(0, WARNING_WINDOW);
      if (window.length === 0 && outcomes.size === 0) break;
      // One save records the last window's outcomes and claims the next window.
      const claims = new Map(window.map((entry) => [entry.target.sessionId, CLAIMED] as const));
      batch = await saveWarnings(dependencies.store, batch, new Map([...outcomes, ...claims]));
      for (const [sessionId, outcome] of outcomes) decided.set(sessionId, outcome);
      if (window.length === 0) break;
      outcomes = await sendWindow(dependencies, window, message, context);
    }
    batches.push(batch);
  }
  const warnings = batches.flatMap((batch) =>
    batch.entries.flatMap((entry) =>
      entry.warning === undefined ? [] : [recordWarning(entry.target.sessionId, entry.warning)],
    ),
  );
  return {
    warnings,
    decided: [...decided].map(([sessionId, outcome]) => recordWarning(sessionId, outcome)),
  };
}

/**
 * The warning task failed as a whole (timed out, crashed): what was decided stays; a claimed
 * session may have been warned and is recorded as unconfirmed; a session never claimed was not
 * warned and is recorded as failed with that error. Nothing is sent.
 */
export async function recordWarningFailure(
  store: Pick<SessionBatchStore, 'readAll' | 'save'>,
  actionId: string,
  batchCount: number,
  failure: ErrorSummary,
): Promise<WarningRun> {
  const notSent: EntryWarning = {
    status: 'failed',
    error: {
      name: failure.name,
      message: `The warning task failed: ${failure.message}`.slice(0, 500),
    },
  };
  const unconfirmed: EntryWarning = {
    status: 'unconfirmed',
    error: unconfirmedWarning(`The warning task failed while sending it (${failure.name})`),
  };
  const decided: Warnings = [];
  const warnings: Warnings = [];
  for (const stored of await store.readAll(actionId, batchCount)) {
    const outcomes = new Map<string, EntryWarning>();
    for (const entry of stored.entries) {
      if (toWarn(entry)) outcomes.set(entry.target.sessionId, notSent);
      if (entry.warning?.status === 'claimed') outcomes.set(entry.target.sessionId, unconfirmed);
    }
    const batch = outcomes.size === 0 ? stored : await saveWarnings(store, stored, outcomes);
    for (const [sessionId, outcome] of outcomes) decided.push(recordWarning(sessionId, outcome));
    for (const entry of batch.entries) {
      if (entry.warning) warnings.push(recordWarning(entry.target.sessionId, entry.warning));
    }
  }
  return { warnings, decided };
}

const CLAIMED: EntryWarning = { status: 'claimed' };
const LEFT_CLAIMED: EntryWarning = {
  status: 'unconfirmed',
  error: unconfirmedWarning('The task that sent it ended before recording the reply'),
};

/**
 * Saves `warnings` into the batch over the version read: another attempt that saved in between
 * makes the store throw (SessionBatchConflictError), so two attempts never claim one session.
 */
async function saveWarnings(
  store: Pick<SessionBatchStore, 'save'>,
  batch: SessionBatch,
  warnings: ReadonlyMap<string, EntryWarning>,
): Promise<SessionBatch> {
  const next: SessionBatch = {
    ...batch,
    version: batch.version + 1,
    entries: batch.entries.map((entry) => {
      const warning = warnings.get(entry.target.sessionId);
      return warning === undefined ? entry : { ...entry, warning };
    }),
  };
  await store.save(next);
  return next;
}

/** Sends the claimed window's messages, a few at a time; every outcome is caught. */
async function sendWindow(
  dependencies: WarningDependencies,
  window: readonly BatchEntry[],
  message: SessionMessage,
  context: CallContext,
): Promise<Map<string, EntryWarning>> {
  const limit = pLimit(WARNING_CONCURRENCY);
  const outcomes = await Promise.all(
    window.map((entry) =>
      limit(async () => {
        const { sessionId } = entry.target;
        return [sessionId, await sendOne(dependencies, sessionId, message, context)] as const;
      }),
    ),
  );
  return new Map(outcomes);
}

async function sendOne(
  dependencies: WarningDependencies,
  sessionId: string,
  message: SessionMessage,
  context: CallContext,
): Promise<EntryWarning> {
  const sleep = dependencies.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt += 1) {
    try {
      await dependencies.messenger.sendMessage(sessionId, message, context);
      return { status: 'sent' };
    } catch (error) {
      if (error instanceof CitrixThrottledError && attempt < WARNING_THROTTLE_ATTEMPTS) {
        await sleep(Math.min(error.retryAfterMs ?? 1000 * 2 ** attempt, MAX_THROTTLE_WAIT_MS));
        continue;
      }
      const summary = summaryOf(error);
      if (notSent(error)) return { status: 'failed', error: summary };
      return {
        status: 'unconfirmed',
        error: unconfirmedWarning(`${summary.name}: ${summary.message}`),
      };
    }
  }
}

/**
 * Whether the message certainly did not reach the user: refused before sending (a bad id or
 * configuration), or answered 4xx (429 included). A 5xx, a timeout or anything else may follow
 * a delivered message.
 */
const notSent = (error: unknown): boolean =>
  error instanceof InvalidCitrixIdError ||
  error instanceof CitrixConfigurationError ||
  (error instanceof CitrixApiError && error.status < 500);

const summaryOf = (error: unknown): ErrorSummary =>
  error instanceof Error
    ? { name: error.name, message: error.message.slice(0, 500) }
    : { name: 'Error', message: String(error).slice(0, 500) };

const defaultSleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms);
  });
