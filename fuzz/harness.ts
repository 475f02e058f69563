import { Agent, request } from 'node:http';
import fc from 'fast-check';
import pLimit from 'p-limit';
import type { ActionStatus } from '../lib/actions/schema.ts';
import { ApprovalRequestSchema } from '../lib/api/approvals.ts';
import { demoFixture, type SimulatorFixture } from '../local/simulator/fixture.ts';
import { type LocalStack, startLocalStack } from '../local/stack.ts';
import { casesFor, FUZZ_ROUTES, type FuzzCase, type FuzzRoute } from './cases.ts';
import { FUZZ_PEOPLE, personAuth, sourceAuth, wire } from './credentials.ts';

/**
 * Sends generated requests through the local stack (the same handlers, ASL and simulator as
 * `npm start`) and checks, for every route: no answer is a 5xx; an unauthenticated or malformed
 * request never starts anything; no request that started nothing made a Citrix call; the heap,
 * after a GC, stays under a bound.
 */

export interface FuzzOptions {
  /** Cases per route. */
  readonly runs: number;
  readonly seed: number;
  readonly routes?: readonly FuzzRoute[];
  /** Connections to the API at once (default 32). */
  readonly concurrency?: number;
  /** heapUsed after a GC may not pass this many MB (checked only when `gc` is exposed). */
  readonly heapLimitMb?: number;
  /** Told of each route's counts as it finishes. */
  readonly onRoute?: (stats: RouteStats) => void;
}

export interface RouteStats {
  readonly route: FuzzRoute;
  cases: number;
  /** Answers by status code. */
  readonly statuses: Record<number, number>;
  /** Actions started (or resumed, for approve): they ran against the simulator. */
  started: number;
  /** Cases that started nothing, and how many of them a Citrix-call check covered. */
  startedNothing: number;
  checkedForCitrixCalls: number;
  /** Citrix requests the simulator received during batches that started nothing: must be 0. */
  citrixCallsForInvalid: number;
  peakHeapMb: number | undefined;
  durationMs: number;
}

export interface Violation {
  readonly route: FuzzRoute;
  readonly kind:
    | '5xx'
    | 'started from invalid input'
    | 'Citrix call for invalid input'
    | 'never settled'
    | 'heap over bound';
  readonly detail: string;
}

export interface FuzzReport {
  readonly stats: RouteStats[];
  readonly violations: Violation[];
  readonly heapLimitMb: number;
  readonly gcExposed: boolean;
}

/** Bodies are small; the 413 cases are cut short by the functions and the server. */
const MAX_DETAIL = 300;
const PLAUSIBLE_BATCH = 32;
const QUIET_BATCH = 256;
const SETTLE_TIMEOUT_MS = 120_000;

/** Percent-encodes a path segment byte by byte (lone surrogates included, as their UTF-8). */
function segment(value: string): string {
  return [...Buffer.from(value, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

interface Answer {
  readonly status: number;
  readonly body: string;
}

function send(
  agent: Agent,
  apiUrl: string,
  path: string,
  headers: Record<string, string>,
  body: string,
): Promise<Answer> {
  return new Promise((resolve) => {
    const sending = request(new URL(path, apiUrl), { method: 'POST', agent, headers });
    sending.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
    });
    // No answer at all (a reset connection) is a failure of the server, as a 5xx is.
    sending.on('error', (error) => resolve({ status: 599, body: `no answer: ${error.message}` }));
    sending.end(body);
  });
}

const PEOPLE_PATH: Record<'actions' | 'approve' | 'reject', (actionId: string) => string> = {
  actions: () => '/v1/actions',
  approve: (actionId) => `/v1/actions/${segment(actionId)}/approve`,
  reject: (actionId) => `/v1/actions/${segment(actionId)}/reject`,
};

/** The request a case stands for, signed now. */
async function requestOf(
  apiUrl: string,
  fuzzCase: FuzzCase,
  actionId: string,
): Promise<{ path: string; headers: Record<string, string>; body: string }> {
  const extra = Object.fromEntries(
    Object.entries(fuzzCase.headers).map(([name, value]) => [name, wire(value)]),
  );
  const now = new Date();
  const { route } = fuzzCase;
  switch (route) {
    case 'actions':
    case 'approve':
    case 'reject': {
      const signed = await personAuth(
        apiUrl,
        PEOPLE_PATH[route](actionId),
        fuzzCase.body,
        fuzzCase.person,
        fuzzCase.auth,
        now,
        route === 'actions' && 'idempotency-key' in extra === false
          ? { ...extra, 'idempotency-key': wire(fuzzCase.messageId) }
          : extra,
      );
      return signed;
    }
    case 'splunk':
    case 'sentinel':
    case 'pagerduty':
    case 'servicenow':
    case 'standard': {
      const auth = sourceAuth(route, fuzzCase.auth, fuzzCase.body, now, fuzzCase.messageId);
      const path =
        route === 'splunk'
          ? `/v1/webhooks/splunk/${segment(auth.pathToken ?? '')}`
          : `/v1/webhooks/${route}`;
      return {
        path,
        headers: { 'content-type': 'application/json', ...extra, ...auth.headers },
        body: auth.body,
      };
    }
  }
}

/** The actions an answer started (or resumed): their workflows reach Citrix. */
function startedBy(route: FuzzRoute, answer: Answer, actionId: string): string[] {
  if (answer.status !== 200 && answer.status !== 202) return [];
  let body: {
    actionId?: string;
    duplicate?: boolean;
    actions?: { actionId: string; duplicate: boolean }[];
  };
  try {
    body = JSON.parse(answer.body);
  } catch {
    return [];
  }
  switch (route) {
    case 'approve':
    case 'reject':
      return answer.status === 200 ? [actionId] : [];
    case 'actions':
      return body.actionId !== undefined && body.duplicate === false ? [body.actionId] : [];
    case 'splunk':
    case 'sentinel':
    case 'pagerduty':
    case 'servicenow':
    case 'standard':
      return (body.actions ?? []).filter((a) => !a.duplicate).map((a) => a.actionId);
  }
}

/** Whether a case may start anything: a decision body is valid whatever else the case is. */
function mayStart(fuzzCase: FuzzCase): boolean {
  if (fuzzCase.family === 'plausible') return true;
  if (fuzzCase.family === 'unauthenticated') return false;
  if (fuzzCase.route !== 'approve' && fuzzCase.route !== 'reject') return false;
  try {
    // No body is no comment, as the CLI sends a decision without one.
    const body: unknown = fuzzCase.body.trim() === '' ? {} : JSON.parse(fuzzCase.body);
    return ApprovalRequestSchema.safeParse(body).success;
  } catch {
    return false;
  }
}

const UNSETTLED: readonly ActionStatus[] = ['accepted', 'running'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long the simulator must receive nothing before a batch starts, and the most to wait. */
const QUIET_MS = 250;
const QUIET_WAIT_MS = 10_000;

/** Waits until no Citrix request is in flight and none arrived for QUIET_MS (at most QUIET_WAIT_MS). */
async function quietSimulator(simulator: {
  settled(): Promise<void>;
  requestCount(): number;
}): Promise<void> {
  const deadline = Date.now() + QUIET_WAIT_MS;
  while (Date.now() < deadline) {
    await simulator.settled();
    const seen = simulator.requestCount();
    await sleep(QUIET_MS);
    if (simulator.requestCount() === seen) return;
  }
}

/** Whether an action has ended, or waits for a person, before `deadline`: it reaches Citrix no more. */
async function settleOne(stack: LocalStack, actionId: string, deadline: number): Promise<boolean> {
  while (Date.now() < deadline) {
    const record = await stack.actions.get(actionId);
    if (record !== undefined && !UNSETTLED.includes(record.status)) {
      if (record.status !== 'awaiting_approval') await stack.runner.execution(actionId)?.done;
      return true;
    }
    await Promise.race([stack.runner.execution(actionId)?.done, sleep(25)]);
  }
  return false;
}

/** Waits for every action to settle (settleOne); the ones that did not in time. */
async function settle(stack: LocalStack, actionIds: readonly string[]): Promise<string[]> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  const stuck: string[] = [];
  for (let i = 0; i < actionIds.length; i += 64) {
    const chunk = actionIds.slice(i, i + 64);
    const settled = await Promise.all(chunk.map((id) => settleOne(stack, id, deadline)));
    stuck.push(...chunk.filter((_, index) => !settled[index]));
  }
  return stuck;
}

/** Actions waiting for approval, for the approve and reject cases to decide. */
class PendingApprovals {
  readonly #ready: string[] = [];
  readonly #stack: LocalStack;
  readonly #agent: Agent;

  constructor(stack: LocalStack, agent: Agent) {
    this.#stack = stack;
    this.#agent = agent;
  }

  take(): string | undefined {
    return this.#ready.pop();
  }

  giveBack(actionId: string): void {
    this.#ready.push(actionId);
  }

  /** At least `count` ready: a full wipe needs a second person's approval. */
  async fill(count: number): Promise<void> {
    const wanted = Math.max(0, count - this.#ready.length);
    const limit = pLimit(16);
    const created = await limit.map(Array.from({ length: wanted }), async () => {
      const body = JSON.stringify({
        action: 'device.wipe',
        target: { user: 'alice@example.com' },
        reason: 'Fuzz: an action to approve or reject',
      });
      const signed = await personAuth(
        this.#stack.apiUrl,
        '/v1/actions',
        body,
        'soc.lead@example.com',
        'valid',
        new Date(),
      );
      const answer = await send(
        this.#agent,
        this.#stack.apiUrl,
        signed.path,
        signed.headers,
        signed.body,
      );
      const { actionId } = JSON.parse(answer.body) as { actionId?: string };
      if (answer.status !== 202 || actionId === undefined) {
        throw new Error(`Could not request an action to decide: ${answer.status} ${answer.body}`);
      }
      return actionId;
    });
    await settle(this.#stack, created);
    for (const actionId of created) {
      if ((await this.#stack.actions.get(actionId))?.status === 'awaiting_approval') {
        this.#ready.push(actionId);
      }
    }
  }
}

function heapMb(): number | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return undefined;
  gc();
  return Math.round(process.memoryUsage().heapUsed / 1024 / 1024);
}

const preview = (text: string) =>
  text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}… (${text.length} characters)` : text;

async function fuzzRoute(
  stack: LocalStack,
  agent: Agent,
  route: FuzzRoute,
  options: FuzzOptions,
  violations: Violation[],
): Promise<RouteStats> {
  const began = Date.now();
  const stats: RouteStats = {
    route,
    cases: 0,
    statuses: {},
    started: 0,
    startedNothing: 0,
    checkedForCitrixCalls: 0,
    citrixCallsForInvalid: 0,
    peakHeapMb: heapMb(),
    durationMs: 0,
  };
  const cases = fc.sample(casesFor(route), {
    numRuns: options.runs,
    seed: options.seed + FUZZ_ROUTES.indexOf(route),
  });
  // Cases that can start nothing go many at once; the others in small batches, so that a batch
  // that started nothing (and so is checked for Citrix calls) is common.
  const quiet = cases.filter((c) => !mayStart(c));
  const loud = cases.filter((c) => mayStart(c));
  const batches: FuzzCase[][] = [];
  // Few batches, few reads of the simulator's record (each read copies it whole).
  for (let i = 0; i < quiet.length; i += QUIET_BATCH) batches.push(quiet.slice(i, i + QUIET_BATCH));
  for (let i = 0; i < loud.length; i += PLAUSIBLE_BATCH)
    batches.push(loud.slice(i, i + PLAUSIBLE_BATCH));
  const pending = new PendingApprovals(stack, agent);
  const simulator = stack.simulator;
  if (simulator === undefined) throw new Error('The fuzz stack runs against the simulator');
  const decides = route === 'approve' || route === 'reject';
  for (const [index, batch] of batches.entries()) {
    const wanted = batch.filter((c) => c.actionId === 'pending').length;
    if (decides && wanted > 0) await pending.fill(wanted);
    // What earlier valid work still sends (a shared Endpoint Management session's logout, say)
    // must not count against this batch: start once the simulator has been quiet a while.
    await quietSimulator(simulator);
    const before = simulator.requestCount();
    const answered = await Promise.all(
      batch.map(async (fuzzCase) => {
        const actionId =
          fuzzCase.actionId === 'pending'
            ? (pending.take() ?? `act_${'0'.repeat(32)}`)
            : fuzzCase.actionId;
        const sent = await requestOf(stack.apiUrl, fuzzCase, actionId);
        const answer = await send(agent, stack.apiUrl, sent.path, sent.headers, sent.body);
        return { fuzzCase, actionId, sent, answer };
      }),
    );
    const calls = simulator.requestCount() - before;
    const started: string[] = [];
    for (const { fuzzCase, actionId, sent, answer } of answered) {
      stats.cases += 1;
      stats.statuses[answer.status] = (stats.statuses[answer.status] ?? 0) + 1;
      const startedHere = startedBy(route, answer, actionId);
      started.push(...startedHere);
      if (
        startedHere.length === 0 &&
        fuzzCase.actionId === 'pending' &&
        actionId.startsWith('act_')
      ) {
        pending.giveBack(actionId);
      }
      const detail = () =>
        `${fuzzCase.family}/${fuzzCase.auth} POST ${sent.path} ${preview(JSON.stringify(sent.body))} → ${answer.status} ${preview(answer.body)}`;
      if (answer.status >= 500) violations.push({ route, kind: '5xx', detail: detail() });
      if (startedHere.length > 0 && !mayStart(fuzzCase)) {
        violations.push({ route, kind: 'started from invalid input', detail: detail() });
      }
    }
    stats.started += started.length;
    if (started.length === 0) {
      stats.startedNothing += batch.length;
      stats.checkedForCitrixCalls += batch.length;
      stats.citrixCallsForInvalid += calls;
      if (calls > 0) {
        violations.push({
          route,
          kind: 'Citrix call for invalid input',
          detail: `${calls} Citrix request(s) during batch ${index} (${batch.length} cases that started nothing): ${preview(
            JSON.stringify(
              simulator
                .requests()
                .slice(before)
                .map((r) => r),
            ),
          )}`,
        });
      }
    } else {
      stats.startedNothing += answered.filter(
        (a) => startedBy(route, a.answer, a.actionId).length === 0,
      ).length;
      const stuck = await settle(stack, started);
      for (const actionId of stuck) {
        violations.push({
          route,
          kind: 'never settled',
          detail: `${actionId} still running after ${SETTLE_TIMEOUT_MS} ms`,
        });
      }
    }
    if (index % 50 === 49) {
      const heap = heapMb();
      if (heap !== undefined) stats.peakHeapMb = Math.max(stats.peakHeapMb ?? 0, heap);
    }
  }
  // Every action has settled: the next route starts on the starting tenant and an empty record.
  simulator.reset();
  const heap = heapMb();
  if (heap !== undefined) stats.peakHeapMb = Math.max(stats.peakHeapMb ?? 0, heap);
  stats.durationMs = Date.now() - began;
  return stats;
}

/** Default bound on heapUsed after a GC, in MB: the stack, its records and the fuzz's own cases. */
export const DEFAULT_HEAP_LIMIT_MB = 768;

function fastDemoFixture(): SimulatorFixture {
  const fixture = demoFixture();
  return {
    ...fixture,
    settings: { ...fixture.settings, logoff: { notStartedMs: 5, inProgressMs: 15 } },
  };
}

/** Starts the local stack, fuzzes each route in turn against it, and closes it. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const stack = await startLocalStack({
    // Thousands of executions: none keeps its history in memory.
    retainWorkflowEvents: false,
    env: {
      LOCAL_PEOPLE: JSON.stringify(FUZZ_PEOPLE),
      LOGOFF_INITIAL_WAIT_SECONDS: '1',
      CITRIX_MAX_ATTEMPTS: '3',
      CITRIX_REQUEST_TIMEOUT_MS: '2000',
      // Over the hourly limits an action waits for approval: the decision cases need them.
      APPROVAL_TIMEOUT_SECONDS: '86400',
      // Thousands of full wipes are requested to be decided: the hourly limit (10 by default)
      // would refuse all but the first, and leave approve and reject nothing to decide.
      GUARDRAIL_LIMITS: JSON.stringify({
        'device.wipe': { perRequest: 5, perHour: 20_000, overLimit: 'refuse' },
      }),
    },
    // The demo tenant, its log off jobs ending in milliseconds rather than seconds.
    simulatorFixture: fastDemoFixture(),
    // Workflows' waits (a log off's job polls, a warning's grace period, a runbook's steps) in ms.
    waitTimeOverrides: { WaitForJobs: 10, WaitGracePeriod: 10, WaitForStep: 10 },
    retryIntervalOverrides: {
      ResolveTargets: 10,
      AdvanceBatch: 10,
      FailBatch: 10,
      CompleteAction: 10,
      RecordActionFailure: 10,
    },
  });
  // A connection per request: a kept-alive socket the server closed while a batch settled (its
  // keep-alive timeout is 5 s) would reset under the next request and read as no answer.
  const agent = new Agent({ keepAlive: false, maxSockets: options.concurrency ?? 32 });
  const violations: Violation[] = [];
  const stats: RouteStats[] = [];
  const heapLimitMb = options.heapLimitMb ?? DEFAULT_HEAP_LIMIT_MB;
  try {
    for (const route of options.routes ?? FUZZ_ROUTES) {
      const routeStats = await fuzzRoute(stack, agent, route, options, violations);
      if (routeStats.peakHeapMb !== undefined && routeStats.peakHeapMb > heapLimitMb) {
        violations.push({
          route,
          kind: 'heap over bound',
          detail: `heapUsed after GC ${routeStats.peakHeapMb} MB > ${heapLimitMb} MB`,
        });
      }
      stats.push(routeStats);
      options.onRoute?.(routeStats);
    }
  } finally {
    agent.destroy();
    await stack.close();
  }
  return { stats, violations, heapLimitMb, gcExposed: heapMb() !== undefined };
}

/** The counts as a table, one line per route. */
export function formatReport(report: FuzzReport): string {
  const header = [
    'route',
    'cases',
    '2xx',
    '4xx by status',
    '5xx',
    'started',
    'Citrix calls (invalid)',
    'checked',
    'peak heap',
    'time',
  ];
  const rows = report.stats.map((s) => {
    const by = (test: (status: number) => boolean) =>
      Object.entries(s.statuses).filter(([status]) => test(Number(status)));
    const count = (test: (status: number) => boolean) =>
      by(test).reduce((sum, [, n]) => sum + n, 0);
    return [
      s.route,
      String(s.cases),
      String(count((status) => status < 300)),
      by((status) => status >= 400 && status < 500)
        .map(([status, n]) => `${status}:${n}`)
        .join(' '),
      String(count((status) => status >= 500)),
      String(s.started),
      String(s.citrixCallsForInvalid),
      `${s.checkedForCitrixCalls}/${s.startedNothing}`,
      s.peakHeapMb === undefined ? 'n/a' : `${s.peakHeapMb} MB`,
      `${(s.durationMs / 1000).toFixed(1)} s`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}
