import { describe, expect, it, vi } from 'vitest';
import type { CaughtError } from '../../../lib/actions/outcome.ts';
import { planOf } from '../../../lib/actions/outcome.ts';
import type {
  ResolvedSession,
  SessionActionType,
  SessionTargetResult,
} from '../../../lib/actions/schema.ts';
import type { CallContext, DaasJob, JobStatus } from '../../../lib/citrix/daas-client.ts';
import {
  CitrixNotFoundError,
  CitrixThrottledError,
  CitrixUnavailableError,
} from '../../../lib/citrix/errors.ts';
import {
  type BatchEntry,
  batchContents,
  type SessionBatch,
  SessionBatchContents,
  SessionBatchSchema,
  type SessionBatchStore,
  type ThrottleGate,
} from '../../../lib/sessions/batch-items.ts';
import {
  advanceBatch,
  type BatchRoundDependencies,
  type BatchRoundOutcome,
  batchesOf,
  failBatch,
  REQUESTS_IN_FLIGHT,
  writeSessionBatches,
} from '../../../lib/sessions/batches.ts';
import {
  DEFAULT_SESSION_WORKFLOW_SETTINGS,
  EXECUTION_HISTORY_LIMIT,
  estimateHistoryEvents,
  MAX_THROTTLED_ROUNDS,
  maxBatchRounds,
  maxPollRounds,
  type SessionController,
  type SessionWorkflowSettings,
  SessionWorkflowSettingsSchema,
  transitionsPerSession,
  wavesOf,
  windowOf,
} from '../../../lib/sessions/session-actions.ts';
import { warnBatchedSessions } from '../../../lib/sessions/warnings.ts';

const SETTINGS = DEFAULT_SESSION_WORKFLOW_SETTINGS;
const POLL_ROUNDS = maxPollRounds(SETTINGS);
const ACTION_ID = 'act_0000000000000000000000000000b47c';
const NOW = new Date('2026-11-23T03:00:00.000Z');
const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

const session = (n: number, overrides: Partial<ResolvedSession> = {}): ResolvedSession => ({
  sessionId: `s-${n}`,
  userName: `user${n}@example.com`,
  machineName: `vda-${n}.example.com`,
  actionable: true,
  ...overrides,
});
const sessions = (count: number) => Array.from({ length: count }, (_, n) => session(n));

const throttled = (retryAfterMs?: number) =>
  new CitrixThrottledError({
    status: 429,
    method: 'POST',
    path: '/cvad/manage/Sessions/x/$logoff',
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
const notFound = () =>
  new CitrixNotFoundError({ status: 404, method: 'POST', path: '/cvad/manage/Sessions/x' });
const unavailable = () =>
  new CitrixUnavailableError({ status: 503, method: 'GET', path: '/cvad/manage/Jobs/x' });

/** Batch items in a Map, saved only over the version before (as DynamoSessionBatchStore). */
class MemoryBatchStore implements SessionBatchStore {
  readonly items = new Map<string, SessionBatch>();
  /** Every save that was stored, in order. */
  readonly saved: SessionBatch[] = [];
  /** Decides per save whether it fails: before it is stored, or after (the reply lost). */
  failure: ((batch: SessionBatch) => 'before' | 'after' | undefined) | undefined;

  async write(batches: readonly SessionBatch[]): Promise<void> {
    for (const batch of batches) this.items.set(keyOf(batch), structuredClone(batch));
  }

  async read(actionId: string, index: number): Promise<SessionBatch> {
    const batch = this.items.get(`${actionId}/${index}`);
    if (batch === undefined) throw new Error(`no batch ${index}`);
    return structuredClone(batch);
  }

  async readAll(actionId: string, count: number): Promise<SessionBatch[]> {
    return Promise.all(Array.from({ length: count }, (_, index) => this.read(actionId, index)));
  }

  async save(batch: SessionBatch): Promise<void> {
    // Whatever is saved must be a valid batch item.
    SessionBatchSchema.parse(batch);
    const failure = this.failure?.(batch);
    if (failure === 'before') throw new Error('lost before saving');
    const stored = this.items.get(keyOf(batch));
    if (stored === undefined || stored.version !== batch.version - 1) {
      throw Object.assign(new Error('saved by another round'), {
        name: 'SessionBatchConflictError',
      });
    }
    this.items.set(keyOf(batch), structuredClone(batch));
    this.saved.push(structuredClone(batch));
    if (failure === 'after') throw new Error('lost after saving');
  }

  batch(index = 0): SessionBatch {
    const batch = this.items.get(`${ACTION_ID}/${index}`);
    if (batch === undefined) throw new Error(`no batch ${index}`);
    return batch;
  }

  entry(sessionId: string, index = 0): BatchEntry {
    const entry = this.batch(index).entries.find((e) => e.target.sessionId === sessionId);
    if (entry === undefined) throw new Error(`no entry ${sessionId}`);
    return entry;
  }
}
const keyOf = (batch: SessionBatch) => `${batch.actionId}/${batch.index}`;

class MemoryGate implements ThrottleGate {
  until: number | undefined;
  readonly closes: number[] = [];

  async closedUntil(now: Date): Promise<number | undefined> {
    return this.until !== undefined && this.until > now.getTime() ? this.until : undefined;
  }

  async close(untilMs: number): Promise<void> {
    this.closes.push(untilMs);
    if (this.until === undefined || untilMs > this.until) this.until = untilMs;
  }
}

type SendReply = { readonly jobId?: string } | undefined;

/** DaaS as the batch sees it: every send and job read counted, replies set per test. */
class FakeCitrix {
  /** Every send, in order; `throttled` when Citrix answered 429 (and so did not act on it). */
  readonly log: { readonly sessionId: string; throttled: boolean }[] = [];
  readonly reads: string[] = [];
  readonly contexts: (CallContext | undefined)[] = [];
  onSend: (sessionId: string) => Promise<SendReply> = async () => undefined;
  onRead: (jobId: string) => Promise<DaasJob> = async (jobId) => ({
    Id: jobId,
    Status: 'InProgress',
  });

  readonly controller: SessionController = {
    disconnectSession: async (sessionId, context) => {
      await this.#send(sessionId, context);
      return undefined;
    },
    logoffSession: async (sessionId, context) => (await this.#send(sessionId, context)) ?? {},
  };

  readonly jobs = {
    getJob: async (jobId: string, context?: CallContext): Promise<DaasJob> => {
      this.reads.push(jobId);
      this.contexts.push(context);
      return this.onRead(jobId);
    },
  };

  async #send(sessionId: string, context: CallContext | undefined): Promise<SendReply> {
    const sent = { sessionId, throttled: false };
    this.log.push(sent);
    this.contexts.push(context);
    try {
      return await this.onSend(sessionId);
    } catch (error) {
      sent.throttled = error instanceof CitrixThrottledError;
      throw error;
    }
  }

  /** Every session sent, in order, 429s included. */
  get sends(): string[] {
    return this.log.map((sent) => sent.sessionId);
  }

  /** Sends Citrix may have acted on: any answer but a 429. */
  actedOn(sessionId: string): number {
    return this.log.filter((sent) => sent.sessionId === sessionId && !sent.throttled).length;
  }

  /** True when the session was sent again after a send Citrix may have acted on. */
  sentAfterActing(sessionId: string): boolean {
    const sends = this.log.filter((sent) => sent.sessionId === sessionId);
    return sends.slice(0, -1).some((sent) => !sent.throttled);
  }

  /** Log off replies with a job per session: `job-<sessionId>`. */
  withJobs(): this {
    this.onSend = async (sessionId) => ({ jobId: `job-${sessionId}` });
    return this;
  }

  /** Every job read answers with the status of its session in `statuses` (else InProgress). */
  readsAs(statuses: Record<string, JobStatus | Error>, errorString?: string): this {
    this.onRead = async (jobId) => {
      const status = statuses[jobId.replace(/^job-/, '')] ?? 'InProgress';
      if (status instanceof Error) throw status;
      return { Id: jobId, Status: status, ...(errorString ? { ErrorString: errorString } : {}) };
    };
    return this;
  }
}

function batchWith(entries: BatchEntry[], overrides: Partial<SessionBatch> = {}): SessionBatch {
  return {
    actionId: ACTION_ID,
    index: 0,
    version: 0,
    rounds: 0,
    throttledRounds: 0,
    waitSeconds: SETTINGS.initialWaitSeconds,
    entries,
    ...overrides,
  };
}

const finishedEntry = (target: ResolvedSession, outcome: SessionTargetResult['outcome']) => ({
  target,
  step: 'finished' as const,
  result: { outcome, finishedAt: NOW.toISOString() },
});

/** A batch of `targets` (or of `batch`) in a store, and the round function over it. */
async function harness(setup: {
  readonly targets?: readonly ResolvedSession[];
  readonly batch?: SessionBatch;
  readonly action?: SessionActionType;
  readonly settings?: SessionWorkflowSettings;
}) {
  const settings = setup.settings ?? SETTINGS;
  const store = new MemoryBatchStore();
  const gate = new MemoryGate();
  const citrix = new FakeCitrix();
  const clock = { now: NOW };
  const [batch] = setup.batch
    ? [setup.batch]
    : batchesOf(ACTION_ID, setup.targets ?? [], 200, SETTINGS);
  if (batch === undefined) throw new Error('no batch');
  await store.write([batch]);
  const dependencies: BatchRoundDependencies = {
    controller: citrix.controller,
    jobs: citrix.jobs,
    gate,
    store,
    settings,
  };
  const action = setup.action ?? 'session.logoff';
  const round = (index = 0): Promise<BatchRoundOutcome> =>
    advanceBatch({ actionId: ACTION_ID, action, index }, dependencies, () => clock.now);
  const advance = (seconds: number) => {
    clock.now = new Date(clock.now.getTime() + seconds * 1000);
  };
  return { store, gate, citrix, clock, round, advance, dependencies };
}

// A small seeded generator, so that a failing sequence can be replayed.
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
};
const byId = (results: readonly SessionTargetResult[]) =>
  Object.fromEntries(results.map((result) => [result.sessionId, result]));

describe('advanceBatch: sending', () => {
  it('claims every pending session in the batch item before it sends any', async () => {
    const { store, citrix, round } = await harness({
      targets: sessions(3),
      action: 'session.disconnect',
    });
    const stepsWhenSent: string[][] = [];
    citrix.onSend = async () => {
      stepsWhenSent.push(store.batch().entries.map((entry) => entry.step));
      return undefined;
    };

    await round();

    expect(citrix.sends.sort()).toEqual(['s-0', 's-1', 's-2']);
    expect(stepsWhenSent).toEqual([
      ['claimed', 'claimed', 'claimed'],
      ['claimed', 'claimed', 'claimed'],
      ['claimed', 'claimed', 'claimed'],
    ]);
    // The claim is its own save, before the round's last.
    expect(store.saved.map((saved) => saved.version)).toEqual([1, 2]);
    expect(store.saved[0]?.entries.every((entry) => entry.step === 'claimed')).toBe(true);
  });

  it('finishes a disconnect in one round, sending each session once with a single attempt', async () => {
    const { store, citrix, round } = await harness({
      targets: sessions(3),
      action: 'session.disconnect',
    });

    const { round: next, finished } = await round();

    expect(next).toEqual({
      done: true,
      waitSeconds: SETTINGS.initialWaitSeconds * 2,
      counts: { pending: 0, claimed: 0, submitted: 0, finished: 3 },
    });
    expect(finished.map((result) => [result.sessionId, result.outcome])).toEqual([
      ['s-0', 'succeeded'],
      ['s-1', 'succeeded'],
      ['s-2', 'succeeded'],
    ]);
    expect(finished[0]).toEqual({
      ...session(0),
      outcome: 'succeeded',
      finishedAt: NOW.toISOString(),
    });
    expect(citrix.contexts).toEqual([
      { transactionId: ACTION_ID, maxAttempts: 1 },
      { transactionId: ACTION_ID, maxAttempts: 1 },
      { transactionId: ACTION_ID, maxAttempts: 1 },
    ]);
    expect(store.batch()).toMatchObject({ rounds: 1, version: 2, throttledRounds: 0 });

    // A finished batch is left alone: no call, no save, nothing reported again.
    const again = await round();
    expect(again.round.done).toBe(true);
    expect(again.finished).toEqual([]);
    expect(citrix.sends).toHaveLength(3);
    expect(store.saved).toHaveLength(2);
  });

  it('records a session Citrix refuses as failed with the error, and sends the rest', async () => {
    const { citrix, round } = await harness({ targets: sessions(2), action: 'session.disconnect' });
    citrix.onSend = async (sessionId) => {
      if (sessionId === 's-0') throw notFound();
      return undefined;
    };

    const { round: next, finished } = await round();

    expect(next.done).toBe(true);
    expect(byId(finished)['s-0']).toMatchObject({
      outcome: 'failed',
      error: { name: 'CitrixNotFoundError' },
    });
    expect(byId(finished)['s-1']?.outcome).toBe('succeeded');
  });

  it('skips sessions not marked actionable (protected users) without sending them', async () => {
    const { citrix, round } = await harness({
      targets: [
        session(0, { actionable: false, skipReason: 'Protected user' }),
        session(1, { actionable: undefined }),
        session(2),
      ],
      action: 'session.disconnect',
    });

    const { round: next, finished } = await round();

    expect(citrix.sends).toEqual(['s-2']);
    expect(next.done).toBe(true);
    expect(byId(finished)['s-0']).toMatchObject({ outcome: 'skipped', note: 'Protected user' });
    expect(byId(finished)['s-0']).not.toHaveProperty('error');
    expect(byId(finished)['s-1']).toMatchObject({ outcome: 'skipped', note: 'Not actionable' });
    expect(byId(finished)['s-2']?.outcome).toBe('succeeded');
  });
});

describe('advanceBatch: log off jobs', () => {
  it('submits log offs, then reads each job in later rounds until it succeeds, fails or passes its deadline', async () => {
    const { store, citrix, round, advance } = await harness({ targets: sessions(4) });
    citrix.onSend = async (sessionId) =>
      // Citrix logged s-3 off synchronously: no job to follow.
      sessionId === 's-3' ? {} : { jobId: `job-${sessionId}` };

    const first = await round();
    expect(first.round).toMatchObject({
      done: false,
      waitSeconds: SETTINGS.initialWaitSeconds,
      counts: { pending: 0, claimed: 0, submitted: 3, finished: 1 },
    });
    expect(first.finished.map((result) => [result.sessionId, result.outcome])).toEqual([
      ['s-3', 'succeeded'],
    ]);
    const deadline = at(SETTINGS.deadlineSeconds).toISOString();
    expect(store.entry('s-0')).toEqual({
      target: session(0),
      step: 'submitted',
      jobId: 'job-s-0',
      polls: 0,
      deadline,
    });
    expect(citrix.reads).toEqual([]);

    advance(first.round.waitSeconds);
    citrix.readsAs({ 's-0': 'Complete', 's-1': 'Failed', 's-2': unavailable() }, 'User busy');
    const second = await round();
    expect(citrix.reads.sort()).toEqual(['job-s-0', 'job-s-1', 'job-s-2']);
    expect(citrix.contexts.at(-1)).toEqual({ transactionId: ACTION_ID, maxAttempts: 1 });
    expect(byId(second.finished)['s-0']).toMatchObject({
      outcome: 'succeeded',
      job: { id: 'job-s-0', status: 'Complete' },
    });
    expect(byId(second.finished)['s-1']).toMatchObject({
      outcome: 'failed',
      job: { id: 'job-s-1' },
      error: {
        name: 'LogoffJobFailedError',
        message: 'Citrix job job-s-1 ended Failed: User busy',
      },
    });
    // A job that could not be read is read again next round.
    expect(second.finished.map((result) => result.sessionId).sort()).toEqual(['s-0', 's-1']);
    expect(store.entry('s-2')).toMatchObject({ step: 'submitted', polls: 1 });
    expect(second.round).toMatchObject({ done: false, waitSeconds: 4 });

    // Close to the deadline, the wait is not shortened to it (that would add rounds the history
    // bound does not count): the round after the deadline judges the job.
    advance(SETTINGS.deadlineSeconds - 2 - 3);
    citrix.readsAs({});
    const third = await round();
    expect(third.round).toMatchObject({ done: false, waitSeconds: 8 });
    expect(store.entry('s-2')).toMatchObject({
      step: 'submitted',
      polls: 2,
      jobStatus: 'InProgress',
    });

    advance(8);
    const last = await round();
    expect(last.round.done).toBe(true);
    expect(last.finished).toEqual([
      {
        ...session(2),
        outcome: 'timed_out',
        job: { id: 'job-s-2', status: 'InProgress' },
        error: {
          name: 'LogoffJobDeadlineExceededError',
          message: `Citrix job job-s-2 still InProgress after 3 checks; deadline ${deadline} passed`,
        },
        finishedAt: at(SETTINGS.deadlineSeconds + 5).toISOString(),
      },
    ]);
    // Each session was sent once, in the first round only.
    expect(citrix.sends.sort()).toEqual(['s-0', 's-1', 's-2', 's-3']);
  });
});

describe('advanceBatch: a sliding window of sessions in flight', () => {
  it('sends at most its share of SESSION_CONCURRENCY, and the next sessions in the round that finds jobs ended', async () => {
    // 10 batches at once share 30 sessions in flight: 3 for this batch of 7.
    const settings = { ...SETTINGS, concurrency: 30 };
    expect(windowOf(settings)).toBe(3);
    expect(wavesOf({ ...settings, batchSize: 7 })).toBe(3);
    const { store, citrix, round, advance } = await harness({ targets: sessions(7), settings });
    citrix.onSend = async (sessionId) => ({ jobId: `job-${sessionId}` });

    const first = await round();
    expect(citrix.sends).toEqual(['s-0', 's-1', 's-2']);
    expect(first.round.counts).toMatchObject({ pending: 4, submitted: 3, finished: 0 });
    // Only the window is claimed: the rest stay pending, never marked as possibly sent.
    expect(store.entry('s-3').step).toBe('pending');

    advance(first.round.waitSeconds);
    citrix.readsAs({ 's-0': 'Complete', 's-1': 'Complete' });
    const second = await round();
    // Two jobs ended, so two more sessions go out in the same round. Fewer than a window's worth
    // were sent, so the wait keeps growing (what bounds the rounds: maxBatchRounds).
    expect(citrix.sends).toEqual(['s-0', 's-1', 's-2', 's-3', 's-4']);
    expect(second.round).toMatchObject({
      done: false,
      waitSeconds: 2 * SETTINGS.initialWaitSeconds,
      counts: { pending: 2, submitted: 3, finished: 2 },
    });

    for (
      let rounds = 0;
      rounds < 10 && !store.batch().entries.every((e) => e.step === 'finished');
      rounds += 1
    ) {
      advance(SETTINGS.initialWaitSeconds);
      citrix.readsAs(
        Object.fromEntries(sessions(7).map((target) => [target.sessionId, 'Complete' as const])),
      );
      await round();
    }
    expect(store.batch().entries.map((entry) => entry.result?.outcome)).toEqual(
      Array(7).fill('succeeded'),
    );
    // Each session sent once, never more than 3 in flight.
    expect([...citrix.sends].sort()).toEqual(sessions(7).map((target) => target.sessionId));
    for (const saved of store.saved) {
      expect(
        saved.entries.filter((entry) => entry.step === 'submitted').length,
      ).toBeLessThanOrEqual(3);
    }
  });

  it.each([1, 2, 3, 4, 5])(
    'sends every session within the round bound when jobs of a narrow window end at different times (seed %i)',
    async (seed) => {
      const next = random(seed);
      // 40 sessions, 4 in flight (W = 10 windows), jobs of 1 s up to past the 120 s deadline.
      const settings = { ...SETTINGS, concurrency: 40, batchSize: 40, deadlineSeconds: 120 };
      expect(wavesOf(settings)).toBe(10);
      const { store, citrix, clock, round, advance } = await harness({
        targets: sessions(40),
        settings,
      });
      const endsAt = new Map<string, number>();
      citrix.onSend = async (sessionId) => {
        endsAt.set(sessionId, clock.now.getTime() + Math.ceil(next() * 130) * 1000);
        return { jobId: `job-${sessionId}` };
      };
      citrix.onRead = async (jobId) => {
        const ends = endsAt.get(jobId.replace(/^job-/, '')) ?? 0;
        return { Id: jobId, Status: clock.now.getTime() >= ends ? 'Complete' : 'InProgress' };
      };

      let outcome = await round();
      while (!outcome.round.done) {
        advance(outcome.round.waitSeconds);
        outcome = await round();
      }

      const batch = store.batch();
      expect(batch.rounds).toBeLessThanOrEqual(maxBatchRounds(settings));
      // Every session was sent, once: none left unsent by the round limit.
      expect([...citrix.sends].sort()).toEqual(
        sessions(40)
          .map((target) => target.sessionId)
          .sort(),
      );
      for (const entry of batch.entries) {
        expect(entry.result?.outcome, entry.target.sessionId).toMatch(/^(succeeded|timed_out)$/);
      }
    },
  );

  it('counts the windows in the history bound: more windows, more rounds per batch', () => {
    const one = maxBatchRounds(SETTINGS);
    const four = { ...SETTINGS, concurrency: 500 };
    expect(wavesOf(four)).toBe(4);
    // Each window may take the polls of a deadline and two of the longest waits.
    const perWindow = maxPollRounds({
      ...SETTINGS,
      deadlineSeconds: SETTINGS.deadlineSeconds + 2 * SETTINGS.maxWaitSeconds,
    });
    expect(maxBatchRounds(four)).toBe(one + 4 * perWindow);
    expect(estimateHistoryEvents({ ...SETTINGS, concurrency: 500 }, 1000)).toBeGreaterThan(
      estimateHistoryEvents(SETTINGS, 1000),
    );
  });
});

describe('advanceBatch: rounds that were lost or ran twice', () => {
  it('finishes a session a lost round left claimed as SubmissionUnconfirmedError, never sending it again', async () => {
    const { store, citrix, round } = await harness({ targets: sessions(3) });
    citrix.withJobs();
    // The round sends, then dies before its last save (a Lambda timeout, say).
    store.failure = (batch) =>
      batch.entries.some((entry) => entry.step === 'submitted') ? 'before' : undefined;
    await expect(round()).rejects.toThrow('lost before saving');
    expect(citrix.sends).toHaveLength(3);
    expect(store.batch().entries.map((entry) => entry.step)).toEqual([
      'claimed',
      'claimed',
      'claimed',
    ]);
    store.failure = undefined;

    // The workflow's retry runs the round again.
    const retried = await round();
    expect(citrix.sends.sort()).toEqual(['s-0', 's-1', 's-2']);
    expect(citrix.reads).toEqual([]);
    expect(retried.round.done).toBe(true);
    expect(retried.finished).toHaveLength(3);
    for (const result of retried.finished) {
      expect(result).toMatchObject({
        outcome: 'failed',
        error: { name: 'SubmissionUnconfirmedError' },
      });
      expect(result.error?.message).toMatch(/not sent again/);
    }
  });

  it('sends the pending sessions of a batch but not its claimed ones', async () => {
    const { citrix, round } = await harness({
      batch: batchWith(
        [
          { target: session(0), step: 'claimed' },
          { target: session(1), step: 'pending' },
        ],
        { rounds: 1, version: 1 },
      ),
      action: 'session.disconnect',
    });

    const { finished } = await round();

    expect(citrix.sends).toEqual(['s-1']);
    expect(byId(finished)['s-0']?.error?.name).toBe('SubmissionUnconfirmedError');
    expect(byId(finished)['s-1']?.outcome).toBe('succeeded');
  });

  it('sends each session once when the same round runs twice at once: the later claim is refused', async () => {
    const { citrix, round, store } = await harness({ targets: sessions(5) });
    citrix.withJobs();

    const [first, second] = await Promise.allSettled([round(), round()]);

    expect([first.status, second.status].sort()).toEqual(['fulfilled', 'rejected']);
    const refused = (first.status === 'rejected' ? first : second) as PromiseRejectedResult;
    expect((refused.reason as Error).name).toBe('SessionBatchConflictError');
    for (const target of sessions(5)) expect(citrix.actedOn(target.sessionId)).toBe(1);
    expect(store.batch().entries.every((entry) => entry.step === 'submitted')).toBe(true);
  });
});

describe('advanceBatch: throttling', () => {
  it('puts a throttled session back to pending, sends no more that round and closes the gate for Retry-After', async () => {
    const targets = sessions(REQUESTS_IN_FLIGHT + 5);
    const { store, gate, citrix, round, advance } = await harness({
      targets,
      action: 'session.disconnect',
    });
    citrix.onSend = async (sessionId) => {
      if (sessionId === 's-0') throw throttled(7_000);
      // The others in flight answer later than the 429.
      await new Promise((resolve) => setTimeout(resolve, 5));
      return undefined;
    };

    const first = await round();

    // The first REQUESTS_IN_FLIGHT were in flight when the 429 came back; the rest were not sent.
    expect(citrix.sends.sort()).toEqual(
      targets
        .slice(0, REQUESTS_IN_FLIGHT)
        .map((target) => target.sessionId)
        .sort(),
    );
    expect(store.entry('s-0')).toEqual({ target: session(0), step: 'pending' });
    for (const target of targets.slice(REQUESTS_IN_FLIGHT)) {
      expect(store.entry(target.sessionId)).toEqual({ target, step: 'pending' });
    }
    expect(first.finished.map((result) => result.outcome)).toEqual(
      Array(REQUESTS_IN_FLIGHT - 1).fill('succeeded'),
    );
    expect(gate.until).toBe(NOW.getTime() + 7_000);
    expect(first.round).toEqual({
      done: false,
      waitSeconds: 7,
      counts: { pending: 6, claimed: 0, submitted: 0, finished: REQUESTS_IN_FLIGHT - 1 },
    });
    expect(store.batch()).toMatchObject({ throttledRounds: 1, rounds: 1 });

    // While the gate is closed a round calls nothing and waits out the rest of it.
    advance(3);
    citrix.onSend = async () => undefined;
    const closed = await round();
    expect(citrix.sends).toHaveLength(REQUESTS_IN_FLIGHT);
    expect(closed.round).toMatchObject({ done: false, waitSeconds: 4 });
    expect(closed.finished).toEqual([]);
    expect(store.batch()).toMatchObject({ throttledRounds: 2, rounds: 2 });

    advance(4);
    const reopened = await round();
    expect(reopened.round.done).toBe(true);
    expect(reopened.finished.map((result) => result.sessionId).sort()).toEqual(
      ['s-0', ...targets.slice(REQUESTS_IN_FLIGHT).map((target) => target.sessionId)].sort(),
    );
    for (const target of targets) expect(citrix.actedOn(target.sessionId)).toBe(1);
    // s-0 was sent again only because its 429 meant Citrix had not acted on it.
    expect(citrix.log.filter((sent) => sent.sessionId === 's-0')).toEqual([
      { sessionId: 's-0', throttled: true },
      { sessionId: 's-0', throttled: false },
    ]);
    expect(citrix.sends).toHaveLength(targets.length + 1);
  });

  it('waits a doubling backoff, capped at a minute, when a 429 carries no Retry-After', async () => {
    const { gate, citrix, round, advance, clock } = await harness({ targets: sessions(1) });
    citrix.onSend = async () => {
      throw throttled();
    };
    const waits: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const started = clock.now.getTime();
      const { round: next } = await round();
      expect(gate.until).toBe(started + next.waitSeconds * 1000);
      waits.push(next.waitSeconds);
      advance(next.waitSeconds);
    }
    expect(waits).toEqual([2, 4, 8]);

    const capped = await harness({
      batch: batchWith([{ target: session(0), step: 'pending' }], { throttledRounds: 6 }),
    });
    capped.citrix.onSend = async () => {
      throw throttled();
    };
    expect((await capped.round()).round.waitSeconds).toBe(60);
    expect(capped.gate.until).toBe(NOW.getTime() + 60_000);
  });

  it('keeps a job whose read was throttled as it was, and sends nothing that round', async () => {
    const deadline = at(600).toISOString();
    const submitted: BatchEntry = {
      target: session(0),
      step: 'submitted',
      jobId: 'job-s-0',
      jobStatus: 'InProgress',
      polls: 2,
      deadline,
    };
    const { store, gate, citrix, round } = await harness({
      batch: batchWith([submitted, { target: session(1), step: 'pending' }], {
        rounds: 3,
        version: 3,
      }),
    });
    citrix.withJobs().readsAs({ 's-0': throttled(5_000) });

    const { round: next, finished } = await round();

    expect(citrix.reads).toEqual(['job-s-0']);
    expect(citrix.sends).toEqual([]);
    expect(finished).toEqual([]);
    expect(store.entry('s-0')).toEqual(submitted);
    expect(store.entry('s-1').step).toBe('pending');
    expect(gate.until).toBe(NOW.getTime() + 5_000);
    expect(next).toMatchObject({ done: false, waitSeconds: 5 });
    expect(store.batch().throttledRounds).toBe(1);
  });
});

describe('advanceBatch: the last round', () => {
  it('finishes every unfinished session when the batch reaches its last round, calling nothing', async () => {
    const target = (n: number) => session(n);
    const { store, citrix, round } = await harness({
      batch: batchWith(
        [
          { target: target(0), step: 'pending' },
          {
            target: target(1),
            step: 'submitted',
            jobId: 'job-s-1',
            jobStatus: 'InProgress',
            polls: 5,
            deadline: at(600).toISOString(),
          },
          finishedEntry(target(2), 'succeeded'),
          { target: target(3), step: 'claimed' },
        ],
        { rounds: maxBatchRounds(SETTINGS) - 1, version: 9, throttledRounds: MAX_THROTTLED_ROUNDS },
      ),
    });

    const { round: next, finished } = await round();

    expect(citrix.sends).toEqual([]);
    expect(citrix.reads).toEqual([]);
    expect(next).toMatchObject({
      done: true,
      counts: { pending: 0, claimed: 0, submitted: 0, finished: 4 },
    });
    const results = byId(finished);
    expect(Object.keys(results).sort()).toEqual(['s-0', 's-1', 's-3']);
    expect(results['s-0']).toMatchObject({
      outcome: 'failed',
      error: { name: 'CitrixThrottledError' },
    });
    expect(results['s-0']).not.toHaveProperty('job');
    expect(results['s-1']).toMatchObject({
      outcome: 'timed_out',
      job: { id: 'job-s-1', status: 'InProgress' },
      error: { name: 'LogoffJobDeadlineExceededError' },
    });
    expect(results['s-3']?.error?.name).toBe('SubmissionUnconfirmedError');
    expect(store.entry('s-2')).toEqual(finishedEntry(target(2), 'succeeded'));
  });

  it('says a session left unsent at the last round was not sent for want of room, unless Citrix kept throttling', async () => {
    const { citrix, round } = await harness({
      batch: batchWith([{ target: session(0), step: 'pending' }], {
        rounds: maxBatchRounds(SETTINGS) - 1,
        throttledRounds: 2,
      }),
    });
    const { finished } = await round();
    expect(citrix.sends).toEqual([]);
    expect(finished[0]).toMatchObject({
      outcome: 'failed',
      error: { name: 'BatchRoundLimitError' },
    });
  });

  it('allows a batch the rounds of every poll and every throttled round, and no more', () => {
    // One window per batch (the defaults): the first round, the polls, the throttled rounds.
    expect(maxBatchRounds(SETTINGS)).toBe(1 + POLL_ROUNDS + MAX_THROTTLED_ROUNDS);
  });

  it.each(Array.from({ length: 40 }, (_, seed) => seed + 1))(
    'never sends a session twice, and always ends, whatever Citrix and the store do (seed %i)',
    async (seed) => {
      const next = random(seed);
      const targets = Array.from({ length: 25 }, (_, n) =>
        session(n, next() < 0.1 ? { actionable: false, skipReason: 'Protected user' } : {}),
      );
      const action: SessionActionType = seed % 3 === 0 ? 'session.disconnect' : 'session.logoff';
      const { store, citrix, round, advance, dependencies } = await harness({ targets, action });
      const storeFails = seed % 4 !== 0;
      // Every fifth sequence is a throttling storm, long enough to reach the last round.
      const storm = seed % 5 === 0;
      citrix.onSend = async (sessionId) => {
        const roll = next();
        if (roll < (storm ? 0.95 : 0.3))
          throw throttled(next() < 0.5 ? Math.floor(next() * 10_000) : undefined);
        if (roll < 0.4) throw notFound();
        return next() < 0.2 ? {} : { jobId: `job-${sessionId}` };
      };
      citrix.onRead = async (jobId) => {
        const roll = next();
        if (storm || roll < 0.2) throw throttled(next() < 0.5 ? 3_000 : undefined);
        if (roll < 0.3) throw unavailable();
        const status: JobStatus = roll < 0.45 ? 'Complete' : roll < 0.5 ? 'Failed' : 'InProgress';
        return { Id: jobId, Status: status };
      };
      store.failure = () => {
        if (!storeFails) return undefined;
        const roll = next();
        return roll < 0.1 ? 'before' : roll < 0.15 ? 'after' : undefined;
      };

      const reported: string[] = [];
      let failuresInARow = 0;
      let done = false;
      for (let iteration = 0; iteration < 500 && !done; iteration += 1) {
        // Now and then the same round is invoked twice at once.
        const twice = next() < 0.1;
        const outcomes = await Promise.allSettled(twice ? [round(), round()] : [round()]);
        const fulfilled = outcomes.flatMap((outcome) =>
          outcome.status === 'fulfilled' ? [outcome.value] : [],
        );
        for (const outcome of fulfilled) {
          reported.push(...outcome.finished.map((result) => result.sessionId));
        }
        if (fulfilled.length === 0) {
          failuresInARow += 1;
          advance(1);
          // The workflow's Retry gives up: FailBatch records what is left.
          if (failuresInARow >= 3) {
            store.failure = undefined;
            const failed = await failBatch(
              { actionId: ACTION_ID, index: 0 },
              dependencies.store,
              { Error: 'States.TaskFailed', Cause: 'retries exhausted' },
              new Date(),
            );
            reported.push(...failed.finished.map((result) => result.sessionId));
            done = true;
          }
          continue;
        }
        failuresInARow = 0;
        const [latest] = fulfilled;
        done = latest?.round.done === true;
        advance(latest?.round.waitSeconds ?? 1);
      }

      expect(done).toBe(true);
      const batch = store.batch();
      expect(batch.entries.every((entry) => entry.step === 'finished')).toBe(true);
      expect(batch.rounds).toBeLessThanOrEqual(maxBatchRounds(SETTINGS));
      for (const { target, result } of batch.entries) {
        // Sent again only after a 429, which Citrix did not act on.
        const actedOn = citrix.actedOn(target.sessionId);
        expect(actedOn, target.sessionId).toBeLessThanOrEqual(1);
        expect(citrix.sentAfterActing(target.sessionId), target.sessionId).toBe(false);
        if (target.actionable !== true) {
          expect(citrix.sends).not.toContain(target.sessionId);
          expect(result?.outcome).toBe('skipped');
        }
        if (result?.outcome === 'succeeded') expect(actedOn).toBe(1);
      }
      // Each finished session reported once at most (exactly once when no save was lost).
      expect(new Set(reported).size).toBe(reported.length);
      if (!storeFails) expect(reported.length).toBe(targets.length);
    },
  );
});

describe('failBatch', () => {
  it('finishes every unfinished session with the error, calling nothing; skipped ones stay skipped', async () => {
    const store = new MemoryBatchStore();
    const skipped = finishedEntry(session(4, { actionable: false }), 'skipped');
    const succeeded = finishedEntry(session(5), 'succeeded');
    await store.write([
      batchWith(
        [
          { target: session(0), step: 'pending' },
          {
            target: session(1, { actionable: false, skipReason: 'Protected user' }),
            step: 'pending',
          },
          { target: session(2), step: 'claimed' },
          {
            target: session(3),
            step: 'submitted',
            jobId: 'job-s-3',
            jobStatus: 'InProgress',
            polls: 1,
            deadline: at(600).toISOString(),
          },
          skipped,
          succeeded,
        ],
        { version: 4, rounds: 3 },
      ),
    ]);
    const caught: CaughtError = {
      Error: 'SessionBatchStoreUnavailableError',
      Cause: JSON.stringify({ errorMessage: 'Batch store unavailable', trace: ['secret stack'] }),
    };

    const { round, finished } = await failBatch(
      { actionId: ACTION_ID, index: 0 },
      store,
      caught,
      NOW,
    );

    expect(round).toEqual({
      done: true,
      waitSeconds: 1,
      counts: { pending: 0, claimed: 0, submitted: 0, finished: 6 },
    });
    const error = { name: 'SessionBatchStoreUnavailableError', message: 'Batch store unavailable' };
    expect(finished).toEqual([
      { ...session(0), outcome: 'failed', error, finishedAt: NOW.toISOString() },
      {
        ...session(1, { actionable: false, skipReason: 'Protected user' }),
        outcome: 'skipped',
        note: 'Protected user',
        finishedAt: NOW.toISOString(),
      },
      { ...session(2), outcome: 'failed', error, finishedAt: NOW.toISOString() },
      {
        ...session(3),
        outcome: 'failed',
        job: { id: 'job-s-3', status: 'InProgress' },
        error,
        finishedAt: NOW.toISOString(),
      },
    ]);
    expect(store.batch().version).toBe(5);
    expect(store.entry('s-4')).toEqual(skipped);
    expect(store.entry('s-5')).toEqual(succeeded);
    expect(store.batch().entries.every((entry) => entry.step === 'finished')).toBe(true);
  });
});

describe('batchesOf and writeSessionBatches', () => {
  it('splits the sessions into batches of the batch size, in order, each pending', () => {
    const targets = sessions(250);
    const batches = batchesOf(ACTION_ID, targets, 100, SETTINGS);

    expect(batches.map((batch) => [batch.index, batch.entries.length])).toEqual([
      [0, 100],
      [1, 100],
      [2, 50],
    ]);
    expect(batches.flatMap((batch) => batch.entries.map((entry) => entry.target))).toEqual(targets);
    for (const batch of batches) {
      expect(SessionBatchSchema.parse(batch)).toEqual(batch);
      expect(batch).toMatchObject({
        actionId: ACTION_ID,
        version: 0,
        rounds: 0,
        throttledRounds: 0,
        waitSeconds: SETTINGS.initialWaitSeconds,
      });
      expect(batch.entries.every((entry) => entry.step === 'pending')).toBe(true);
    }
    expect(batchesOf(ACTION_ID, sessions(3), 1, SETTINGS)).toHaveLength(3);
  });

  it('gives a dry run its plan as finished results, and its rounds send nothing', async () => {
    const targets = [session(0), session(1, { actionable: false, skipReason: 'Protected user' })];
    const [batch] = batchesOf(ACTION_ID, targets, 100, SETTINGS, NOW);

    // An entry keeps the outcome; the session is its target already.
    expect(batch?.entries).toEqual([
      {
        target: targets[0],
        step: 'finished',
        result: { outcome: 'planned', finishedAt: NOW.toISOString() },
      },
      {
        target: targets[1],
        step: 'finished',
        result: {
          outcome: 'skipped',
          note: 'Protected user: would be skipped',
          finishedAt: NOW.toISOString(),
        },
      },
    ]);

    const { citrix, store, round } = await harness({ batch });
    const { round: next, finished } = await round();
    expect(next.done).toBe(true);
    expect(finished).toEqual([]);
    expect(citrix.sends).toEqual([]);
    expect(store.saved).toEqual([]);
  });

  it('writes the batches before marking the action running with their count', async () => {
    const calls: string[] = [];
    const store = {
      write: vi.fn(async (batches: readonly SessionBatch[]) => {
        calls.push(`write ${batches.length}`);
      }),
    };
    const actions = {
      markRunning: vi.fn(async () => {
        calls.push('markRunning');
      }),
    };
    const targets = sessions(5);
    const numbers = await writeSessionBatches(
      { store, actions, settings: { batchSize: 2, initialWaitSeconds: 2 } },
      ACTION_ID,
      targets,
      undefined,
    );

    expect(numbers).toEqual([0, 1, 2]);
    expect(calls).toEqual(['write 3', 'markRunning']);
    expect(actions.markRunning).toHaveBeenCalledWith(ACTION_ID, targets, { batches: 3 });

    // No session: nothing to write, and no batch to point at.
    calls.length = 0;
    expect(
      await writeSessionBatches(
        { store, actions, settings: { batchSize: 2, initialWaitSeconds: 2 } },
        ACTION_ID,
        [],
        undefined,
      ),
    ).toEqual([]);
    expect(calls).toEqual(['markRunning']);
    expect(actions.markRunning).toHaveBeenLastCalledWith(ACTION_ID, []);
  });
});

describe('warnBatchedSessions and batchContents', () => {
  it('reads back targets in order, results keyed by session id, the warnings and the plan', async () => {
    const store = new MemoryBatchStore();
    const targets = [
      ...sessions(4),
      session(4, { actionable: false, skipReason: 'Protected user' }),
    ];
    await store.write(batchesOf(ACTION_ID, targets, 2, SETTINGS));
    const contents = new SessionBatchContents(store);

    // Before any warning or result, there are neither.
    const before = await contents.read(ACTION_ID, 3);
    expect(before).toEqual({ targets, results: {}, plan: planOf(targets) });
    expect(before).not.toHaveProperty('warnings');

    const gone = new CitrixNotFoundError({
      status: 404,
      method: 'POST',
      path: '/x',
      detail: 'Session gone',
    });
    const warningError = { name: 'CitrixNotFoundError', message: gone.message };
    await warnBatchedSessions(
      {
        messenger: {
          sendMessage: async (sessionId) => {
            if (sessionId === 's-3') throw gone;
          },
        },
        store,
      },
      ACTION_ID,
      3,
      { title: 'Security', text: 'Save your work', graceSeconds: 30 },
    );
    // Each batch saved over its version (the store refuses any other): claimed, then the
    // outcomes; the batch with nobody to warn is left as it was.
    expect((await store.readAll(ACTION_ID, 3)).map((batch) => batch.version)).toEqual([2, 2, 0]);

    const citrix = new FakeCitrix();
    await advanceBatch(
      { actionId: ACTION_ID, action: 'session.disconnect', index: 0 },
      {
        controller: citrix.controller,
        jobs: citrix.jobs,
        gate: new MemoryGate(),
        store,
        settings: SETTINGS,
      },
      () => NOW,
    );
    await failBatch(
      { actionId: ACTION_ID, index: 2 },
      store,
      { Error: 'States.Timeout', Cause: 'Task timed out' },
      NOW,
    );

    const read = await contents.read(ACTION_ID, 3);
    expect(read).toEqual(batchContents(await store.readAll(ACTION_ID, 3)));
    expect(read.targets).toEqual(targets);
    expect(read.warnings).toEqual([
      { sessionId: 's-0', status: 'sent' },
      { sessionId: 's-1', status: 'sent' },
      { sessionId: 's-2', status: 'sent' },
      { sessionId: 's-3', status: 'failed', error: warningError },
    ]);
    expect(Object.keys(read.results).sort()).toEqual(['s-0', 's-1', 's-4']);
    expect(read.results['s-0']).toMatchObject({ sessionId: 's-0', outcome: 'succeeded' });
    expect(read.results['s-4']).toMatchObject({ outcome: 'skipped', note: 'Protected user' });
    expect(read.plan).toEqual([
      { target: 's-0', act: true },
      { target: 's-1', act: true },
      { target: 's-2', act: true },
      { target: 's-3', act: true },
      { target: 's-4', act: false, reason: 'Protected user' },
    ]);
  });
});

describe('the execution history bound', () => {
  it('counts every round of every batch: the events outside the batches, plus so many per batch', () => {
    const outside = estimateHistoryEvents(SETTINGS, 0);
    const perBatch = estimateHistoryEvents(SETTINGS, 1) - outside;
    const { batchSize } = SETTINGS;
    expect(estimateHistoryEvents(SETTINGS, batchSize)).toBe(outside + perBatch);
    expect(estimateHistoryEvents(SETTINGS, batchSize + 1)).toBe(outside + 2 * perBatch);
    expect(estimateHistoryEvents({ ...SETTINGS, maxTargets: 25 * batchSize })).toBe(
      outside + 25 * perBatch,
    );
    // Each round is at least a task (5 events), a Choice (2) and a Wait (2).
    expect(perBatch).toBeGreaterThanOrEqual(9 * maxBatchRounds(SETTINGS));
    // A longer deadline means more poll rounds, so more events per batch.
    expect(
      estimateHistoryEvents({ ...SETTINGS, deadlineSeconds: 3600 }, 1) - outside,
    ).toBeGreaterThan(perBatch);
  });

  it('accepts 5,000 sessions per action with the defaults and refuses a combination past 80% of the limit, naming maxTargets', () => {
    const thousands = { ...SETTINGS, maxTargets: 5000 };
    expect(SessionWorkflowSettingsSchema.safeParse(thousands).success).toBe(true);
    expect(estimateHistoryEvents(thousands)).toBeLessThanOrEqual(EXECUTION_HISTORY_LIMIT * 0.8);

    for (const tooMany of [
      { ...SETTINGS, maxTargets: 10_000 },
      { ...SETTINGS, maxTargets: 5000, batchSize: 50 },
      { ...SETTINGS, maxTargets: 5000, deadlineSeconds: 3600 },
    ]) {
      expect(estimateHistoryEvents(tooMany)).toBeGreaterThan(EXECUTION_HISTORY_LIMIT * 0.8);
      const parsed = SessionWorkflowSettingsSchema.safeParse(tooMany);
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues.map((issue) => issue.path)).toEqual([['maxTargets']]);
      expect(parsed.error?.issues[0]?.message).toMatch(/80% of the 25000-event/);
    }
  });

  it('costs at most 10 state transitions per session for short and long log off jobs', () => {
    // A batch's transitions, spread over its sessions. 4 s: the first round and two polls, 9
    // transitions; 300 s: the first round and 13 polls, 42.
    expect(transitionsPerSession(SETTINGS, 4)).toBeCloseTo(9 / SETTINGS.batchSize);
    expect(transitionsPerSession(SETTINGS, 300)).toBeCloseTo(42 / SETTINGS.batchSize);
    for (const jobSeconds of [4, 300]) {
      expect(transitionsPerSession(SETTINGS, jobSeconds)).toBeLessThanOrEqual(10);
    }
  });
});
