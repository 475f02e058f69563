import * as z from 'zod';
import { TooManyTargetsError } from '../actions/errors.ts';
import type { ResolvedSession, SessionTarget } from '../actions/schema.ts';
import type { CallContext, DaasJob, DaasSession } from '../citrix/daas-client.ts';
import { parseUserIdentifier } from '../citrix/ids.ts';
import {
  type FleetTarget,
  findFleetSessions,
  findSweepSessions,
  type SessionSearch,
} from './fleet.ts';

/** The part of the DaaS client the session workflow needs (narrow, so tests can substitute it). */
export interface SessionDirectory extends SessionSearch {
  getSession(sessionId: string, context?: CallContext): Promise<DaasSession>;
}

export interface SessionController {
  disconnectSession(sessionId: string, context?: CallContext): Promise<DaasSession | undefined>;
  logoffSession(sessionId: string, context?: CallContext): Promise<{ jobId?: string }>;
}

export interface JobReader {
  getJob(jobId: string, context?: CallContext): Promise<DaasJob>;
}

/** Sessions per batch item: 200 sessions are about 200 KB, under DynamoDB's 400 KB item limit. */
export const MAX_BATCH_SIZE = 200;
/** Batches the workflow's Map advances at once (its MaxConcurrency), each a Lambda call per round. */
export const BATCHES_IN_PARALLEL = 10;

/**
 * Rounds a batch may spend waiting for Citrix's throttling to end. Past them, the sessions not yet
 * sent are recorded as not sent, so a throttling storm cannot stretch the history without bound.
 */
export const MAX_THROTTLED_ROUNDS = 10;
/**
 * Task invocations one batch can take under these settings, the most its workflow loop can run.
 * The wait between rounds starts again at `initialWaitSeconds` only when a round sends the first
 * session of a new window's worth (sessions sent crossing a multiple of the window) or the last
 * pending session, and grows otherwise. Between two such rounds at most D + 2 × maxWait passes (by
 * then every session sent before has ended or passed its deadline, D, and its room was refilled),
 * so each of the W windows takes at most P(D + 2 × maxWait) rounds; after the last send, the jobs
 * take P(D). With one window per batch everything is sent in the first round that is not
 * throttled, so only the throttled rounds, T, come before the last send:
 * `rounds ≤ 1 + (W > 1 ? W × P(D + 2 × maxWait) : 0) + P(D) + T`.
 */
export function maxBatchRounds(
  settings: Pick<
    SessionWorkflowSettings,
    'batchSize' | 'concurrency' | 'initialWaitSeconds' | 'maxWaitSeconds' | 'deadlineSeconds'
  >,
): number {
  const waves = wavesOf(settings);
  const perWindow = maxPollRounds({
    ...settings,
    deadlineSeconds: settings.deadlineSeconds + 2 * settings.maxWaitSeconds,
  });
  return 1 + (waves > 1 ? waves * perWindow : 0) + maxPollRounds(settings) + MAX_THROTTLED_ROUNDS;
}

/** Sessions one batch has in flight at most: its share of SESSION_CONCURRENCY. */
export function windowOf(
  settings: Pick<SessionWorkflowSettings, 'batchSize' | 'concurrency'>,
): number {
  return Math.min(settings.batchSize, Math.ceil(settings.concurrency / BATCHES_IN_PARALLEL));
}

/** How many windows of sessions one batch sends, one after the other. */
export function wavesOf(
  settings: Pick<SessionWorkflowSettings, 'batchSize' | 'concurrency'>,
): number {
  return Math.ceil(settings.batchSize / windowOf(settings));
}

/** Step Functions' hard limit on events in a Standard execution's history. */
export const EXECUTION_HISTORY_LIMIT = 25_000;
/**
 * History events outside the batches: each state before and after the Map (resolve, approval,
 * warning, complete, notify, with their retries) and the execution's own start and end.
 */
const EVENTS_OUTSIDE_BATCHES = 200;
/**
 * Events of one batch besides its rounds: the Map iteration (2) and a FailBatch task (5) with its
 * retries (at most 9, 3 events each).
 */
const EVENTS_PER_BATCH = 34;
/**
 * Events of one round: the task (entered, scheduled, started, succeeded, exited), its retries (at
 * most 4, 3 events each), the Choice (entered, exited) and the Wait (entered, exited).
 */
const EVENTS_PER_ROUND = 21;

export interface SessionWorkflowSettings {
  readonly maxTargets: number;
  /** Sessions per batch item; BATCHES_IN_PARALLEL batches are acted on at once. */
  readonly batchSize: number;
  /**
   * Sessions of one action in flight at most (sent, job not yet ended): each of the batches acted
   * on at once sends at most its share, and the next ones as earlier jobs end.
   */
  readonly concurrency: number;
  readonly initialWaitSeconds: number;
  readonly maxWaitSeconds: number;
  readonly deadlineSeconds: number;
}

export const SessionWorkflowSettingsSchema: z.ZodType<SessionWorkflowSettings> = z
  .object({
    /** More sessions than this and the action is refused as a whole rather than partly done. */
    maxTargets: z.number().int().min(1).max(10_000),
    batchSize: z.number().int().min(1).max(MAX_BATCH_SIZE),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(BATCHES_IN_PARALLEL * MAX_BATCH_SIZE),
    /** First wait before reading a log off job; doubles every round up to maxWaitSeconds. */
    initialWaitSeconds: z.number().int().min(1).max(60),
    maxWaitSeconds: z.number().int().min(1).max(300),
    /** How long a log off job may take before the target is reported as timed out. */
    deadlineSeconds: z
      .number()
      .int()
      .min(1)
      .max(6 * 3600),
  })
  .refine((settings) => settings.maxWaitSeconds >= settings.initialWaitSeconds, {
    message: 'maxWaitSeconds must be at least initialWaitSeconds',
    path: ['maxWaitSeconds'],
  })
  .refine((settings) => estimateHistoryEvents(settings) <= EXECUTION_HISTORY_LIMIT * 0.8, {
    message: `maxTargets, batchSize, deadlineSeconds and the waits together could exceed 80% of the ${EXECUTION_HISTORY_LIMIT}-event execution history limit`,
    path: ['maxTargets'],
  });

export const DEFAULT_SESSION_WORKFLOW_SETTINGS: SessionWorkflowSettings = {
  maxTargets: 50,
  batchSize: 200,
  // Every session of the batches acted on at once: one wave per batch (within the history bound).
  concurrency: 2000,
  initialWaitSeconds: 2,
  maxWaitSeconds: 30,
  deadlineSeconds: 600,
};

/** Upper bound of the poll rounds one log off job can take under these settings. */
export function maxPollRounds(
  settings: Pick<
    SessionWorkflowSettings,
    'initialWaitSeconds' | 'maxWaitSeconds' | 'deadlineSeconds'
  >,
): number {
  let elapsed = 0;
  let wait = settings.initialWaitSeconds;
  let rounds = 0;
  while (elapsed < settings.deadlineSeconds) {
    elapsed += wait;
    rounds += 1;
    wait = Math.min(wait * 2, settings.maxWaitSeconds);
  }
  // One more read may happen at the deadline itself.
  return rounds + 1;
}

/**
 * Worst-case history of one execution (docs/architecture.md): every batch runs all its rounds.
 * `events ≤ 200 + ⌈maxTargets / batchSize⌉ × (34 + 21 × R)`, R = `maxBatchRounds(settings)`.
 */
export function estimateHistoryEvents(
  settings: SessionWorkflowSettings,
  targets: number = settings.maxTargets,
): number {
  const batches = Math.ceil(targets / settings.batchSize);
  const rounds = maxBatchRounds(settings);
  return EVENTS_OUTSIDE_BATCHES + batches * (EVENTS_PER_BATCH + EVENTS_PER_ROUND * rounds);
}

/** Ideal state transitions per session: every round of every batch, spread over its sessions. */
export function transitionsPerSession(
  settings: SessionWorkflowSettings,
  jobSeconds: number,
): number {
  let elapsed = 0;
  let wait = settings.initialWaitSeconds;
  let polls = 0;
  while (elapsed < jobSeconds) {
    elapsed += wait;
    polls += 1;
    wait = Math.min(wait * 2, settings.maxWaitSeconds);
  }
  // Jobs of equal length: the first round sends a window; each window is polled `polls` times, and
  // the round that finds it ended sends the next. Each round: task, Choice, Wait (the last has no Wait); plus the
  // iteration itself.
  const rounds = 1 + wavesOf(settings) * polls;
  const perBatch = 1 + rounds * 3 - 1;
  return perBatch / settings.batchSize;
}

export { TooManyTargetsError };

export class LogoffJobFailedError extends Error {
  override name = 'LogoffJobFailedError';
}

export class LogoffJobDeadlineExceededError extends Error {
  override name = 'LogoffJobDeadlineExceededError';
}

/**
 * Every name a session's user goes by, in order of trust: the UPN, the `DOMAIN\user` name, then
 * the name the client sent (untrusted, but a protected user listed under it is still protected).
 * Blank names and repeats (compared case-insensitively) are left out.
 */
export function sessionUserNames(session: DaasSession): string[] {
  const seen = new Set<string>();
  const names: string[] = [];
  for (const name of [session.User?.PrincipalName, session.User?.Name, session.UntrustedUserName]) {
    const trimmed = name?.trim();
    if (!trimmed || seen.has(trimmed.toLowerCase())) continue;
    seen.add(trimmed.toLowerCase());
    names.push(trimmed);
  }
  return names;
}

export function describeSession(session: DaasSession): ResolvedSession {
  const userNames = sessionUserNames(session);
  return {
    sessionId: session.Id,
    userName: userNames[0],
    ...(userNames.length > 0 ? { userNames } : {}),
    machineName: session.Machine?.DnsName ?? session.Machine?.Name ?? undefined,
    deliveryGroup: session.Machine?.DeliveryGroup?.Name ?? undefined,
    state: session.State,
  };
}

/**
 * Turns a request's target into the sessions to act on. More sessions than `maxTargets` (or than
 * a sweep's own `maxTargets`) and the action is refused whole, never cut to a partial set.
 */
export async function resolveSessionTargets(
  directory: SessionDirectory,
  target: SessionTarget,
  settings: Pick<SessionWorkflowSettings, 'maxTargets'>,
  context: CallContext,
  now: Date = new Date(),
): Promise<ResolvedSession[]> {
  if ('sessionId' in target) {
    return [describeSession(await directory.getSession(target.sessionId, context))];
  }
  if ('sweep' in target) {
    const findings = await findSweepSessions(directory, target.find.sessions, now, context);
    const matched = findings.filter((finding) => finding.skipReason === undefined).length;
    refuseOver(
      matched,
      Math.min(target.maxTargets, settings.maxTargets),
      () =>
        `Sweep ${target.sweep} matched ${matched} sessions; it may act on at most ${target.maxTargets}${settings.maxTargets < target.maxTargets ? ` (SESSION_MAX_TARGETS is ${settings.maxTargets})` : ''}`,
    );
    return findings.map(({ session, skipReason }) =>
      skipReason === undefined
        ? describeSession(session)
        : { ...describeSession(session), actionable: false, skipReason },
    );
  }
  const sessions =
    'user' in target
      ? await directory.searchSessionsByUser(parseUserIdentifier(target.user), context)
      : await findFleetSessions(directory, target, context);
  refuseOver(
    sessions.length,
    settings.maxTargets,
    () =>
      `${describeTarget(target)} has ${sessions.length} sessions; one action may touch at most ${settings.maxTargets} (SESSION_MAX_TARGETS)`,
  );
  return sessions.map(describeSession);
}

function refuseOver(count: number, max: number, message: () => string): void {
  if (count > max) throw new TooManyTargetsError(message());
}

function describeTarget(target: { readonly user: string } | FleetTarget): string {
  if ('user' in target) return target.user;
  if ('users' in target) return `${target.users.length} users`;
  if ('deliveryGroup' in target) return `Delivery group ${target.deliveryGroup}`;
  if ('machine' in target) return `Machine ${target.machine}`;
  return `Client address ${target.clientAddress}`;
}
