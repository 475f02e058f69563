import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { acceptAction } from '../lib/actions/accept.ts';
import { ActionRequestSchema, type SessionTargetResult } from '../lib/actions/schema.ts';
import { sessionWorkflowSettingsFromEnv } from '../lib/runtime/session-settings.ts';
import {
  BATCHES_IN_PARALLEL,
  estimateHistoryEvents,
  type SessionWorkflowSettings,
  transitionsPerSession,
  wavesOf,
  windowOf,
} from '../lib/sessions/session-actions.ts';
import type { SimulatorFixture } from '../local/simulator/fixture.ts';
import { fleetFixture } from '../local/simulator/fleet.ts';
import { type LocalStack, startLocalStack } from '../local/stack.ts';
import type { WorkflowEvent } from '../local/workflow-runner.ts';

/**
 * One `session.logoff` of 1,000 sessions through the local stack (the real handlers and ASL in
 * aws-local-stepfunctions, the Citrix simulator, and dynalite on a thread of its own) with
 * 2-second log off jobs and the workflow's real waits, measured 3 times after an unmeasured
 * warm-up of 50 sessions; the tables show the median run. Ten batches of 100 are advanced at once, each with a sliding window of
 * `windowOf(settings)` = 25 sessions in flight: a round reads the window's jobs and, in the same
 * round, sends the next 25 into the room freed, so each batch goes through `wavesOf(settings)` = 4
 * windows in one Map iteration. The baseline is the ideal run time, ⌈N / C⌉ × job seconds, where
 * C = min(BATCHES_IN_PARALLEL, batches) × windowOf(settings) sessions are in flight at once
 * (here 10 × 25 = 250, so 4 × 2 s = 8 s). `npm run bench -- session-scale` runs it alone.
 */

const SESSIONS = 1000;
const JOB_SECONDS = 2;
/** Sessions per batch item: 10 batches, all advanced at once (BATCHES_IN_PARALLEL). */
const BATCH_SIZE = 100;
/** Sessions of the action in flight at once: a window of 25 in each of the 10 batches. */
const CONCURRENCY = 250;
const DELIVERY_GROUP = 'Containment Bench';
/** Measured runs, each on 1,000 sessions of its own; the tables show the median run. */
const RUNS = 3;
/**
 * A small log off run first, in a delivery group of its own and not measured: the code paths the
 * measured run takes are compiled by then, as in warm Lambda functions.
 */
const WARM_UP_SESSIONS = 50;
const WARM_UP_DELIVERY_GROUP = 'Warm-up';
const TARGET_RATIO = 1.25;
const TARGET_TRANSITIONS = 10;

/** The previous design (one Map iteration per session), measured on 50 sessions. */
const BEFORE = {
  sessions: 50,
  wallSeconds: 31.6,
  idealSeconds: 20,
  historyEvents: 1118,
} as const;

const ENV = {
  SESSION_MAX_TARGETS: String(SESSIONS),
  SESSION_BATCH_SIZE: String(BATCH_SIZE),
  SESSION_CONCURRENCY: String(CONCURRENCY),
  LOGOFF_INITIAL_WAIT_SECONDS: String(JOB_SECONDS),
  // 4 windows per batch with the default 600 s deadline could outgrow the history bound the
  // settings check (estimateHistoryEvents counts every window's poll rounds).
  LOGOFF_DEADLINE_SECONDS: '120',
  GUARDRAIL_LIMITS: JSON.stringify({
    'session.logoff': { perRequest: SESSIONS, perHour: (RUNS + 1) * SESSIONS },
  }),
  APPROVAL_REQUIRED: 'none',
};

const groupOf = (run: number) => `${DELIVERY_GROUP} ${run + 1}`;

/**
 * The fleet fixture: the sessions of each measured run in a delivery group of their own, the
 * warm-up's in another; log off jobs InProgress for 2 s.
 */
function benchFixture(): SimulatorFixture {
  const fleet = fleetFixture({ sessions: WARM_UP_SESSIONS + RUNS * SESSIONS });
  return {
    ...fleet,
    settings: { ...fleet.settings, logoff: { notStartedMs: 0, inProgressMs: JOB_SECONDS * 1000 } },
    sessions: fleet.sessions.map((session, index) => ({
      ...session,
      Machine: {
        ...session.Machine,
        DeliveryGroup: {
          Name:
            index < WARM_UP_SESSIONS
              ? WARM_UP_DELIVERY_GROUP
              : groupOf(Math.floor((index - WARM_UP_SESSIONS) / SESSIONS)),
        },
      },
    })),
  };
}

/**
 * Step Functions history events the local engine's events stand for: each state's entered and
 * exited; each Lambda attempt scheduled, started and succeeded (or failed); the Map's started and
 * succeeded, and each iteration's started and succeeded; the execution's start and end.
 */
function historyEventsOf(events: readonly WorkflowEvent[]): number {
  let count = 0;
  for (const event of events) {
    switch (event.type) {
      case 'StateEntered':
        count += 1 + (event.state.type === 'Task' ? 3 : event.state.type === 'Map' ? 1 : 0);
        break;
      case 'StateExited':
        count += 1 + (event.state.type === 'Map' ? 1 : 0);
        break;
      case 'StateRetried':
        // The failed attempt was counted; the next one is scheduled, started and ends.
        count += 3;
        break;
      case 'StateFailed':
      case 'StateCaught':
        break;
      default:
        count += 1;
    }
  }
  return count;
}

interface Span {
  readonly state: string;
  readonly index: number | undefined;
  readonly start: number;
  readonly end: number;
  /** The state's output when it exited (for AdvanceBatch, `$.round` tells what the round did). */
  readonly output: unknown;
}

/** Entered → exited spans of each state (by name and Map iteration index). */
function spansOf(events: readonly WorkflowEvent[]): Span[] {
  const open = new Map<string, number>();
  const spans: Span[] = [];
  for (const event of events) {
    if (event.type !== 'StateEntered' && event.type !== 'StateExited') continue;
    const key = `${event.state.name}#${event.index ?? ''}`;
    if (event.type === 'StateEntered') open.set(key, event.timestamp);
    else {
      const start = open.get(key) ?? event.timestamp;
      open.delete(key);
      spans.push({
        state: event.state.name,
        index: event.index,
        start,
        end: event.timestamp,
        output: event.state.output,
      });
    }
  }
  return spans;
}

type Counts = Readonly<Record<'pending' | 'claimed' | 'submitted' | 'finished', number>>;
/** What a round did: sent a window only, read a window and sent the next, read the last, or read jobs still running. */
type RoundKind = 'send' | 'pollAndSend' | 'last' | 'extraPoll';

/** The batch's step counts after a round, from the AdvanceBatch state's output. */
function countsOf(span: Span): Counts | undefined {
  const round = (span.output as { round?: { counts?: Counts } } | null | undefined)?.round;
  return round?.counts;
}

/**
 * Each AdvanceBatch round of one batch with its kind, in order: a round polled when the batch had
 * jobs running before it, and sent when it left fewer sessions pending than before it.
 */
function classifyRounds(rounds: readonly Span[]): { span: Span; kind: RoundKind }[] {
  let before: Counts | undefined;
  return rounds.map((span) => {
    const after = countsOf(span);
    const total = after ? after.pending + after.claimed + after.submitted + after.finished : 0;
    const pendingBefore = before ? before.pending + before.claimed : total;
    const polled = (before?.submitted ?? 0) > 0;
    const sent = after !== undefined && after.pending + after.claimed < pendingBefore;
    const done = after !== undefined && after.finished === total;
    before = after;
    const kind: RoundKind = !polled ? 'send' : sent ? 'pollAndSend' : done ? 'last' : 'extraPoll';
    return { span, kind };
  });
}

/** The event loop's busy share in each 100 ms, to tell CPU-bound rounds from waiting on I/O. */
function sampleEventLoop() {
  const samples: { at: number; busy: number }[] = [];
  let last = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    samples.push({ at: Date.now(), busy: performance.eventLoopUtilization(now, last).utilization });
    last = now;
  }, 100);
  const cpuStart = process.cpuUsage();
  return {
    stop: () => {
      clearInterval(timer);
      const cpu = process.cpuUsage(cpuStart);
      return { samples, cpuMs: (cpu.user + cpu.system) / 1000 };
    },
  };
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const mean = (values: readonly number[]) =>
  values.length === 0 ? Number.NaN : sum(values) / values.length;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const millis = (ms: number) => `${ms.toFixed(0)} ms`;

function table(title: string, header: readonly string[], rows: readonly (readonly string[])[]) {
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (row: readonly string[]) =>
    `  ${row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ')}`;
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(`  ${widths.map((width) => '-'.repeat(width)).join('  ')}`);
  for (const row of rows) console.log(line(row));
}

/**
 * Where the run's time went beyond the ideal, from the states' entered and exited times. A batch's
 * Map iteration is its critical path: the first round (send a window), then per window a wait and
 * the round that reads the window's jobs and sends the next one (the last such round only reads),
 * plus any round that found jobs still running and its wait. The ideal is the windows' job time;
 * the rest is before the Map, the rounds, the waits beyond the job time, the Choice states and
 * engine steps, the stragglers (the Map waits for its slowest batch), and after the Map.
 */
function profile(
  events: readonly WorkflowEvent[],
  settings: SessionWorkflowSettings,
  run: { readonly startedAt: number; readonly endedAt: number; readonly idealMs: number },
  load: ReturnType<ReturnType<typeof sampleEventLoop>['stop']>,
) {
  const spans = spansOf(events);
  const top = (state: string) =>
    spans.find((span) => span.state === state && span.index === undefined);
  const map = top('ActOnEachBatch');
  const complete = top('CompleteAction');
  const iterations = new Map<number, { start: number; end: number }>();
  for (const event of events) {
    if (event.type === 'MapIterationStarted') {
      iterations.set(event.index, { start: event.timestamp, end: event.timestamp });
    }
    if (event.type === 'MapIterationSucceeded' || event.type === 'MapIterationFailed') {
      const iteration = iterations.get(event.index);
      if (iteration) iteration.end = event.timestamp;
    }
  }
  const inner = spans.filter((span) => span.index !== undefined);
  const rounds = inner.filter((span) => span.state === 'AdvanceBatch');
  const roundsOf = new Map<number, Span[]>();
  for (const span of rounds) {
    const index = span.index ?? -1;
    roundsOf.set(index, [...(roundsOf.get(index) ?? []), span]);
  }
  const classified = [...roundsOf.values()].flatMap((list) =>
    classifyRounds([...list].sort((a, b) => a.start - b.start)),
  );
  const durationsOf = (kind: RoundKind) =>
    classified.filter((round) => round.kind === kind).map(({ span }) => span.end - span.start);
  const waits = inner.filter((s) => s.state === 'WaitForJobs').map((s) => s.end - s.start);
  const batches = iterations.size;
  const window = windowOf(settings);
  const windows = wavesOf(settings);
  // Map waves: batches beyond BATCHES_IN_PARALLEL wait for a free slot (none here: 10 batches).
  const mapWaves = Math.ceil(batches / BATCHES_IN_PARALLEL);
  const iterationMs = mean([...iterations.values()].map((it) => it.end - it.start));
  const kinds = (['send', 'pollAndSend', 'last', 'extraPoll'] as const).map((kind) => {
    const durations = durationsOf(kind);
    return {
      kind,
      perBatch: durations.length / batches,
      /** Time per batch (the sum over batches, spread over them): on each batch's critical path. */
      perBatchMs: sum(durations) / batches,
      mean: mean(durations),
      slowest: durations.length === 0 ? Number.NaN : Math.max(...durations),
    };
  });
  const [send, pollAndSend, last, extraPoll] = kinds as [
    (typeof kinds)[number],
    (typeof kinds)[number],
    (typeof kinds)[number],
    (typeof kinds)[number],
  ];
  const roundsMs = sum(kinds.map((kind) => kind.perBatchMs));
  const waitsMs = sum(waits) / batches;
  const engineMs = iterationMs - roundsMs - waitsMs;
  const mapMs = map ? map.end - map.start : Number.NaN;
  const completeMs = complete ? complete.end - complete.start : Number.NaN;
  const beforeMap = map ? map.start - run.startedAt : Number.NaN;
  const afterMap = map ? run.endedAt - map.end : Number.NaN;
  const overhead = run.endedAt - run.startedAt - run.idealMs;
  const row = (step: string, ms: number) => [
    step,
    millis(ms),
    `${((ms / overhead) * 100).toFixed(0)}%`,
  ];
  const each = (kind: (typeof kinds)[number]) =>
    kind.perBatch === 0
      ? 'none'
      : `${kind.perBatch.toFixed(2)} per batch, mean ${millis(kind.mean)}, slowest ${millis(kind.slowest)}`;
  const waves = mapWaves === 1 ? '' : `${mapWaves} Map waves × `;
  const resolve = top('ResolveTargets');
  const rows: string[][] = [
    row(
      `before the Map: accept, ResolveTargets (search ${SESSIONS}, write ${batches} batch items ${millis(resolve ? resolve.end - resolve.start : Number.NaN)})`,
      beforeMap,
    ),
    row(
      `${waves}first round (claim, send ${window}, save; ${each(send)})`,
      mapWaves * send.perBatchMs,
    ),
    row(
      `${waves}${windows - 1} rounds that read a window and send the next (read ${window} jobs, claim, send ${window}, save; ${each(pollAndSend)})`,
      mapWaves * pollAndSend.perBatchMs,
    ),
    row(
      `${waves}last round (read the last ${window} jobs, save; ${each(last)})`,
      mapWaves * last.perBatchMs,
    ),
    row(
      `${waves}rounds that found jobs still running (${each(extraPoll)})`,
      mapWaves * extraPoll.perBatchMs,
    ),
    row(
      `${waves}WaitForJobs beyond ${windows} windows × ${JOB_SECONDS} s (${(waits.length / batches).toFixed(2)} waits per batch, mean ${millis(mean(waits))})`,
      mapWaves * waitsMs - run.idealMs,
    ),
    row(`${waves}Choice states and engine steps`, mapWaves * engineMs),
    row(
      `stragglers, Map hand-offs (Map ${seconds(mapMs)} − ${waves}mean iteration ${seconds(iterationMs)})`,
      mapMs - mapWaves * iterationMs,
    ),
    row(`after the Map: CompleteAction (read ${batches} batch items, write the record)`, afterMap),
  ];
  table(
    `Where the time goes: ${seconds(run.endedAt - run.startedAt)} = ideal ${seconds(run.idealMs)} + ${seconds(overhead)}, by step on a batch's critical path (CompleteAction itself ${millis(completeMs)})`,
    ['overhead over the ideal', 'time', 'share'],
    rows,
  );
  // A sample belongs to the rounds when some AdvanceBatch ran during its 100 ms.
  const inRound = (at: number) => rounds.some((span) => span.start < at && span.end > at - 100);
  const during = load.samples.filter((sample) => inRound(sample.at)).map((s) => s.busy);
  const outside = load.samples.filter((sample) => !inRound(sample.at)).map((s) => s.busy);
  const percent = (share: number) => `${(share * 100).toFixed(0)}%`;
  table(
    'The engine, handlers and simulator share one thread (dynalite has its own)',
    ['machine', 'value'],
    [
      ['event loop busy while a round runs', percent(mean(during))],
      ['event loop busy otherwise (waits)', percent(mean(outside))],
      ['process CPU over the run', millis(load.cpuMs)],
      ['cores, load average (1 min)', `${availableParallelism()}, ${loadavg()[0]?.toFixed(1)}`],
    ],
  );
}

interface MeasuredRun {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly wallMs: number;
  readonly events: WorkflowEvent[];
  readonly load: ReturnType<ReturnType<typeof sampleEventLoop>['stop']>;
  readonly record: NonNullable<Awaited<ReturnType<LocalStack['actions']['get']>>>;
  readonly results: SessionTargetResult[];
  readonly succeeded: number;
  readonly sentOnce: number;
  readonly sentTwice: number;
  readonly everyTargetPosted: boolean;
}

/** One measured log off of the delivery group's 1,000 sessions, from acceptance to the record's final status. */
async function measureRun(
  stack: LocalStack,
  deliveryGroup: string,
  captured: () => { events: WorkflowEvent[]; recordFinalAt: number | undefined },
): Promise<MeasuredRun> {
  const sampler = sampleEventLoop();
  const startedAt = Date.now();
  const { actionId } = await acceptAction(
    { actions: stack.actions, workflows: stack.runner, retentionDays: 1 },
    ActionRequestSchema.parse({
      action: 'session.logoff',
      target: { deliveryGroup },
      reason: 'Benchmark: 1,000 sessions in batches',
      requestedBy: 'bench',
    }),
    new Date(startedAt),
  );
  const done = await stack.runner.execution(actionId)?.done;
  const { events, recordFinalAt } = captured();
  const endedAt = recordFinalAt ?? Date.now();
  const load = sampler.stop();
  if (done?.status !== 'SUCCEEDED') {
    throw new Error(`The execution did not succeed: ${JSON.stringify(done)}`);
  }
  const record = await stack.actions.get(actionId);
  if (record === undefined) throw new Error('The action record is missing');

  const results = Object.values(record.results) as SessionTargetResult[];
  const succeeded = results.filter((result) => result.outcome === 'succeeded').length;
  const posts = new Map<string, number>();
  for (const request of stack.simulator?.requests() ?? []) {
    const match = /^\/cvad\/manage\/Sessions\/([^/]+)\/\$logoff$/.exec(request.path);
    if (request.method === 'POST' && match?.[1]) {
      posts.set(match[1], (posts.get(match[1]) ?? 0) + 1);
    }
  }
  // This run's sessions only (the warm-up's and earlier runs' were logged off before).
  const measured = results.map((result) => posts.get(result.sessionId) ?? 0);
  return {
    startedAt,
    endedAt,
    wallMs: endedAt - startedAt,
    events,
    load,
    record,
    results,
    succeeded,
    sentOnce: measured.filter((count) => count === 1).length,
    sentTwice: [...posts.values()].filter((count) => count > 1).length,
    everyTargetPosted: results.every((result) => posts.get(result.sessionId) === 1),
  };
}

export async function sessionScaleSuite(): Promise<void> {
  const settings: SessionWorkflowSettings = sessionWorkflowSettingsFromEnv(ENV);
  const events: WorkflowEvent[] = [];
  let recordFinalAt: number | undefined;
  const stack = await startLocalStack({
    env: ENV,
    simulatorFixture: benchFixture(),
    onWorkflowEvent: (_, event) => {
      events.push(event);
      // CompleteAction writes the record's final status.
      if (event.type === 'StateExited' && event.state.name === 'CompleteAction') {
        recordFinalAt = event.timestamp;
      }
    },
  });
  try {
    const warmUp = await acceptAction(
      { actions: stack.actions, workflows: stack.runner, retentionDays: 1 },
      ActionRequestSchema.parse({
        action: 'session.logoff',
        target: { deliveryGroup: WARM_UP_DELIVERY_GROUP },
        reason: 'Benchmark warm-up, not measured',
        requestedBy: 'bench',
      }),
      new Date(),
    );
    const warmedUp = await stack.runner.execution(warmUp.actionId)?.done;
    if (warmedUp?.status !== 'SUCCEEDED') {
      throw new Error(`The warm-up did not succeed: ${JSON.stringify(warmedUp)}`);
    }
    const runs: MeasuredRun[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      events.length = 0;
      recordFinalAt = undefined;
      runs.push(
        await measureRun(stack, groupOf(run), () => ({ events: [...events], recordFinalAt })),
      );
    }
    const byRatio = [...runs].sort((a, b) => a.wallMs - b.wallMs);
    const median = byRatio[Math.floor(RUNS / 2)] as MeasuredRun;
    const { startedAt, endedAt, load, record, results, succeeded } = median;
    const { sentOnce, sentTwice, everyTargetPosted } = median;
    const runEvents = median.events;
    const batches = Math.ceil(SESSIONS / settings.batchSize);
    const concurrency = Math.min(BATCHES_IN_PARALLEL, batches) * windowOf(settings);
    const idealMs = Math.ceil(SESSIONS / concurrency) * JOB_SECONDS * 1000;
    const wallMs = median.wallMs;
    const ratio = wallMs / idealMs;
    const transitions = runEvents.filter((event) => event.type === 'StateEntered');
    const batchTransitions = transitions.filter((event) => event.index !== undefined).length;
    const history = historyEventsOf(runEvents);
    const estimate = estimateHistoryEvents(settings, SESSIONS);
    const beforeRatio = BEFORE.wallSeconds / BEFORE.idealSeconds;
    const verdict = (ok: boolean) => (ok ? 'ok' : 'OVER');

    console.log(
      `\nsession.logoff of ${SESSIONS} sessions, ${JOB_SECONDS} s log off jobs, real waits: ` +
        `SESSION_BATCH_SIZE=${settings.batchSize}, SESSION_CONCURRENCY=${settings.concurrency}, LOGOFF_DEADLINE_SECONDS=${settings.deadlineSeconds}; ` +
        `${batches} batches, ${Math.min(BATCHES_IN_PARALLEL, batches)} at once × window ${windowOf(settings)} → C = ${concurrency} sessions in flight, ${wavesOf(settings)} windows per batch`,
    );
    table(
      'Before (previous design, 50 sessions) and after (batches with sliding windows, 1,000 sessions)',
      ['measure', 'before', 'after', 'target', ''],
      [
        [
          'wall time to the final status',
          `${BEFORE.wallSeconds.toFixed(1)} s`,
          seconds(wallMs),
          '',
          '',
        ],
        [
          'ideal ⌈N / C⌉ × job seconds',
          `${BEFORE.idealSeconds.toFixed(1)} s`,
          seconds(idealMs),
          '',
          '',
        ],
        [
          `wall / ideal, each of ${RUNS} runs`,
          '',
          runs.map((run) => `${(run.wallMs / idealMs).toFixed(2)}x`).join(' '),
          '',
          '',
        ],
        [
          'wall / ideal (median run, shown throughout)',
          `${beforeRatio.toFixed(2)}x`,
          `${ratio.toFixed(2)}x`,
          `≤ ${TARGET_RATIO.toFixed(2)}x`,
          verdict(ratio <= TARGET_RATIO),
        ],
        [
          'history events (run)',
          BEFORE.historyEvents.toLocaleString('en-US'),
          history.toLocaleString('en-US'),
          '',
          '',
        ],
        [
          'history events per session',
          `~${(BEFORE.historyEvents / BEFORE.sessions).toFixed(0)}`,
          (history / SESSIONS).toFixed(2),
          '',
          '',
        ],
        [
          'estimateHistoryEvents(settings, 1000), worst case',
          '',
          estimate.toLocaleString('en-US'),
          '≤ 20,000',
          verdict(estimate <= 20_000 && history <= estimate),
        ],
        [
          'state transitions per session, measured (all states)',
          '',
          (transitions.length / SESSIONS).toFixed(3),
          `≤ ${TARGET_TRANSITIONS}`,
          verdict(transitions.length / SESSIONS <= TARGET_TRANSITIONS),
        ],
        ['  of which in the Map iterations', '', (batchTransitions / SESSIONS).toFixed(3), '', ''],
        ...[JOB_SECONDS, 4, 300].map((jobSeconds) => {
          const computed = transitionsPerSession(settings, jobSeconds);
          return [
            `transitionsPerSession(settings, ${jobSeconds} s jobs)`,
            '',
            computed.toFixed(3),
            `≤ ${TARGET_TRANSITIONS}`,
            verdict(computed <= TARGET_TRANSITIONS),
          ];
        }),
      ],
    );
    table(
      'Outcome',
      ['check', 'value', ''],
      [
        ['record status', record.status, verdict(record.status === 'succeeded')],
        [
          'sessions succeeded',
          `${succeeded} of ${SESSIONS}`,
          verdict(succeeded === SESSIONS && results.length === SESSIONS),
        ],
        [
          'log off POSTs: sessions sent exactly once',
          `${sentOnce} of ${SESSIONS}`,
          verdict(sentOnce === SESSIONS && everyTargetPosted),
        ],
        [
          'log off POSTs: sessions sent more than once',
          String(sentTwice),
          verdict(sentTwice === 0),
        ],
      ],
    );
    profile(runEvents, settings, { startedAt, endedAt, idealMs }, load);
    for (const run of runs) {
      if (run.record.status !== 'succeeded' || run.succeeded !== SESSIONS) {
        throw new Error(`Not every session succeeded: ${run.record.summary}`);
      }
      if (run.sentOnce !== SESSIONS || run.sentTwice !== 0 || !run.everyTargetPosted) {
        throw new Error('A session was not sent exactly once');
      }
    }
  } finally {
    await stack.close();
  }
}
