import { describe, expect, it } from 'vitest';
import type { ResolvedSession } from '../../../lib/actions/schema.ts';
import type { CallContext } from '../../../lib/citrix/daas-client.ts';
import {
  CitrixNotFoundError,
  CitrixThrottledError,
  CitrixTimeoutError,
  CitrixUnavailableError,
} from '../../../lib/citrix/errors.ts';
import {
  type SessionBatch,
  SessionBatchSchema,
  type SessionBatchStore,
} from '../../../lib/sessions/batch-items.ts';
import { batchesOf } from '../../../lib/sessions/batches.ts';
import { DEFAULT_SESSION_WORKFLOW_SETTINGS } from '../../../lib/sessions/session-actions.ts';
import {
  recordWarningFailure,
  WARNING_CONCURRENCY,
  WARNING_THROTTLE_ATTEMPTS,
  WARNING_WINDOW,
  warnBatchedSessions,
} from '../../../lib/sessions/warnings.ts';
import { rejection } from '../../support/rejection.ts';

const ACTION_ID = 'act_0000000000000000000000000000a11e';
const WARNING = { title: 'Security', text: 'Save your work', graceSeconds: 30 };
const session = (n: number, overrides: Partial<ResolvedSession> = {}): ResolvedSession => ({
  sessionId: `s-${n}`,
  userName: `user${n}@example.com`,
  actionable: true,
  ...overrides,
});
const sessions = (count: number) => Array.from({ length: count }, (_, n) => session(n));

/** Batch items in memory, saved only over their version, as the DynamoDB store does. */
class MemoryBatchStore implements Pick<SessionBatchStore, 'readAll' | 'save'> {
  readonly items = new Map<number, SessionBatch>();
  /** Decides per save (1-based, counting attempts) whether DynamoDB is unavailable for it. */
  unavailable: (attempt: number) => boolean = () => false;
  #attempts = 0;

  constructor(targets: readonly ResolvedSession[], batchSize: number) {
    for (const batch of batchesOf(ACTION_ID, targets, batchSize, DEFAULT_SESSION_WORKFLOW_SETTINGS))
      this.items.set(batch.index, batch);
  }

  async readAll(_actionId: string, count: number): Promise<SessionBatch[]> {
    return Array.from({ length: count }, (_, index) =>
      structuredClone(this.items.get(index)),
    ).filter((batch) => batch !== undefined);
  }

  async save(batch: SessionBatch): Promise<void> {
    SessionBatchSchema.parse(batch);
    this.#attempts += 1;
    if (this.unavailable(this.#attempts)) {
      throw Object.assign(new Error('throttled'), { name: 'SessionBatchStoreUnavailableError' });
    }
    if (this.items.get(batch.index)?.version !== batch.version - 1) {
      throw Object.assign(new Error('saved by another round'), {
        name: 'SessionBatchConflictError',
      });
    }
    this.items.set(batch.index, structuredClone(batch));
  }

  warningOf(sessionId: string) {
    for (const batch of this.items.values()) {
      const entry = batch.entries.find((candidate) => candidate.target.sessionId === sessionId);
      if (entry) return entry.warning;
    }
    return undefined;
  }
}

/** A messenger that counts the messages each session got, failing as `fail` says. */
function countingMessenger(
  fail: (sessionId: string, attempt: number) => Error | undefined = () => undefined,
) {
  const received = new Map<string, number>();
  const attempts = new Map<string, number>();
  const contexts: (CallContext | undefined)[] = [];
  return {
    received,
    contexts,
    sendMessage: async (sessionId: string, _message: unknown, context?: CallContext) => {
      contexts.push(context);
      const attempt = (attempts.get(sessionId) ?? 0) + 1;
      attempts.set(sessionId, attempt);
      const error = fail(sessionId, attempt);
      if (error) throw error;
      received.set(sessionId, (received.get(sessionId) ?? 0) + 1);
    },
  };
}

const details = { method: 'POST', path: '/cvad/manage/Sessions/x/$sendMessage' };

describe('warnBatchedSessions', () => {
  it('warns each actionable session once, one attempt per message, and records each outcome', async () => {
    const targets = [
      ...sessions(5),
      session(5, { actionable: false, skipReason: 'protected' }),
      session(6, { actionable: undefined }),
    ];
    const store = new MemoryBatchStore(targets, 4);
    const messenger = countingMessenger((sessionId) => {
      if (sessionId === 's-1') return new CitrixNotFoundError({ ...details, status: 404 });
      if (sessionId === 's-2') return new CitrixUnavailableError({ ...details, status: 502 });
      if (sessionId === 's-3') return new CitrixTimeoutError('POST', details.path, 'timed out');
      return undefined;
    });

    const run = await warnBatchedSessions({ messenger, store }, ACTION_ID, 2, WARNING);

    expect([...messenger.received.keys()].sort()).toEqual(['s-0', 's-4']);
    // The HTTP layer must not send a message again: a 5xx or a timeout may follow a delivery.
    expect(messenger.contexts.every((context) => context?.maxAttempts === 1)).toBe(true);
    expect(messenger.contexts[0]?.transactionId).toBe(ACTION_ID);
    expect(run.warnings).toEqual([
      { sessionId: 's-0', status: 'sent' },
      {
        sessionId: 's-1',
        status: 'failed',
        error: { name: 'CitrixNotFoundError', message: expect.stringContaining('404') },
      },
      {
        sessionId: 's-2',
        status: 'failed',
        error: {
          name: 'WarningUnconfirmedError',
          message: expect.stringMatching(
            /CitrixUnavailableError.*502.*may have been sent, and is not sent again/,
          ),
        },
      },
      {
        sessionId: 's-3',
        status: 'failed',
        error: {
          name: 'WarningUnconfirmedError',
          message: expect.stringMatching(/CitrixTimeoutError: timed out: it may have been sent/),
        },
      },
      { sessionId: 's-4', status: 'sent' },
    ]);
    expect(run.decided).toEqual(run.warnings);
    expect(store.warningOf('s-2')?.status).toBe('unconfirmed');
    expect(store.warningOf('s-5')).toBeUndefined();
    expect(store.warningOf('s-6')).toBeUndefined();
  });

  it('sends WARNING_CONCURRENCY messages at a time', async () => {
    const store = new MemoryBatchStore(sessions(12), 200);
    let inFlight = 0;
    let most = 0;
    const messenger = {
      sendMessage: async () => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight -= 1;
      },
    };
    const run = await warnBatchedSessions({ messenger, store }, ACTION_ID, 1, WARNING);
    expect(most).toBe(WARNING_CONCURRENCY);
    expect(run.warnings.map((w) => w.sessionId)).toEqual(sessions(12).map((t) => t.sessionId));
  });

  it('claims each session in its batch item before its message goes out', async () => {
    const store = new MemoryBatchStore(sessions(3), 200);
    const seen: (string | undefined)[] = [];
    const messenger = {
      sendMessage: async (sessionId: string) => {
        seen.push(store.warningOf(sessionId)?.status);
      },
    };
    await warnBatchedSessions({ messenger, store }, ACTION_ID, 1, WARNING);
    expect(seen).toEqual(['claimed', 'claimed', 'claimed']);
    expect(store.warningOf('s-2')).toEqual({ status: 'sent' });
  });

  it('sends again only what Citrix throttled (it did not act on it), waiting its Retry-After', async () => {
    const store = new MemoryBatchStore(sessions(2), 200);
    const throttled = new CitrixThrottledError({ ...details, status: 429, retryAfterMs: 1500 });
    const messenger = countingMessenger((sessionId, attempt) =>
      (sessionId === 's-0' && attempt === 1) || sessionId === 's-1' ? throttled : undefined,
    );
    const waits: number[] = [];
    const run = await warnBatchedSessions(
      { messenger, store, sleep: async (ms) => void waits.push(ms) },
      ACTION_ID,
      1,
      WARNING,
    );
    expect(messenger.received.get('s-0')).toBe(1);
    expect(messenger.received.has('s-1')).toBe(false);
    expect(waits).toEqual(Array(WARNING_THROTTLE_ATTEMPTS).fill(1500));
    expect(run.warnings).toEqual([
      { sessionId: 's-0', status: 'sent' },
      {
        sessionId: 's-1',
        status: 'failed',
        error: { name: 'CitrixThrottledError', message: expect.stringContaining('429') },
      },
    ]);
  });

  it('never sends a message twice when the task fails mid-batch and is retried', async () => {
    const targets = sessions(3 * WARNING_WINDOW + 10);
    const store = new MemoryBatchStore(targets, 2 * WARNING_WINDOW);
    const messenger = countingMessenger();
    // DynamoDB throttles the save after the second window went out: the task fails, as a Lambda
    // would, with its retryable error, and the workflow runs it again.
    store.unavailable = (attempt) => attempt === 3;
    const failed = await rejection(
      warnBatchedSessions({ messenger, store }, ACTION_ID, 2, WARNING),
    );
    expect(failed.name).toBe('SessionBatchStoreUnavailableError');
    expect(messenger.received.size).toBe(2 * WARNING_WINDOW);

    const retried = await warnBatchedSessions({ messenger, store }, ACTION_ID, 2, WARNING);

    // Every session got its message, and none got two.
    expect(messenger.received.size).toBe(targets.length);
    expect([...messenger.received.values()].every((count) => count === 1)).toBe(true);
    // The window whose outcomes were lost is on record as maybe sent; the rest as sent.
    const second = targets.slice(WARNING_WINDOW, 2 * WARNING_WINDOW).map((t) => t.sessionId);
    const unconfirmed = retried.warnings.filter((w) => w.error?.name === 'WarningUnconfirmedError');
    expect(unconfirmed.map((w) => w.sessionId)).toEqual(second);
    expect(retried.warnings.filter((w) => w.status === 'sent')).toHaveLength(
      targets.length - WARNING_WINDOW,
    );
    // The retry audits what it decided: the unconfirmed window and the sessions it sent.
    expect(retried.decided).toHaveLength(targets.length - WARNING_WINDOW);
  });

  it('lets two attempts running at once never claim the same session', async () => {
    const targets = sessions(2 * WARNING_WINDOW);
    const store = new MemoryBatchStore(targets, 200);
    const received = new Map<string, number>();
    let other: Promise<unknown> | undefined;
    const messenger = {
      sendMessage: async (sessionId: string) => {
        received.set(sessionId, (received.get(sessionId) ?? 0) + 1);
        // While this attempt sends its first window, another one starts (a retry after a
        // timeout while this Lambda still runs).
        other ??= warnBatchedSessions({ messenger, store }, ACTION_ID, 1, WARNING);
      },
    };
    const first = await rejection(warnBatchedSessions({ messenger, store }, ACTION_ID, 1, WARNING));
    await other;
    expect(first.name).toBe('SessionBatchConflictError');
    expect(received.size).toBe(targets.length);
    expect([...received.values()].every((count) => count === 1)).toBe(true);
  });
});

describe('recordWarningFailure', () => {
  it('keeps what was decided, marks claims as maybe sent and the rest as not warned, sending nothing', async () => {
    const targets = [...sessions(4), session(4, { actionable: false })];
    const store = new MemoryBatchStore(targets, 200);
    const batch = store.items.get(0) as SessionBatch;
    store.items.set(0, {
      ...batch,
      entries: batch.entries.map((entry, n) =>
        n === 0
          ? { ...entry, warning: { status: 'sent' } }
          : n === 1
            ? { ...entry, warning: { status: 'claimed' } }
            : entry,
      ),
    });

    const run = await recordWarningFailure(store, ACTION_ID, 1, {
      name: 'States.Timeout',
      message: 'Task timed out',
    });

    expect(run.warnings).toEqual([
      { sessionId: 's-0', status: 'sent' },
      {
        sessionId: 's-1',
        status: 'failed',
        error: {
          name: 'WarningUnconfirmedError',
          message: expect.stringMatching(/failed while sending it \(States.Timeout\)/),
        },
      },
      ...['s-2', 's-3'].map((sessionId) => ({
        sessionId,
        status: 'failed',
        error: { name: 'States.Timeout', message: 'The warning task failed: Task timed out' },
      })),
    ]);
    expect(run.decided.map((w) => w.sessionId)).toEqual(['s-1', 's-2', 's-3']);
    expect(store.warningOf('s-4')).toBeUndefined();
  });
});
