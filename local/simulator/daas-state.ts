import { randomUUID } from 'node:crypto';
import {
  DEFAULT_LOGOFF_ERROR,
  type FixtureJob,
  type FixtureSession,
  formatStateChangeTime,
  type JobStatus,
  type LogoffOutcome,
  type LogoffTiming,
  type SentMessage,
  type SimulatorFixture,
  type StateChangeTimeFormat,
} from './fixture.ts';

interface LogoffJob {
  id: string;
  clientId: string;
  sessionId: string;
  logoff: LogoffOutcome;
  errorString: string | undefined;
  createdAt: number;
}

/** How an injected fault makes a log off job end, whatever its session says. */
export interface LogoffJobOutcome {
  logoff: Exclude<LogoffOutcome, 'complete'>;
  errorString?: string;
}

/** `JobResponseModel` as `GET /cvad/manage/Jobs/{id}` returns it. */
export interface JobView {
  Id: string;
  Type: 'LogoffSessions';
  Status: JobStatus;
  OverallProgressPercent: number;
  IsCancellable: boolean;
  ErrorString: string | null;
  CreationTime: string;
  StartTime: string | null;
  EndTime: string | null;
  Parameters: { Name: string; Value: string }[];
}

/** A session as the DaaS API returns it: the fixture data without `simulation`. */
export type SessionView = Omit<FixtureSession, 'simulation'> & {
  LogoffInProgress: boolean;
  IsHidden: boolean;
};

/** What DaasState needs from the resolved settings. */
export interface DaasSettings {
  logoff: LogoffTiming;
  stateChangeTimeFormat: StateChangeTimeFormat;
}

const iso = (ms: number) => new Date(ms).toISOString();
const PENDING: ReadonlySet<JobStatus> = new Set(['NotStarted', 'InProgress']);

/** When a job that ends `complete` completes; a `fail` or `never` job never completes. */
function completedAt(job: LogoffJob, timing: LogoffTiming): number | undefined {
  return job.logoff === 'complete'
    ? job.createdAt + timing.notStartedMs + timing.inProgressMs
    : undefined;
}

/**
 * Job progress is a pure function of the creation time and the clock, computed on every read
 * (no timers), so nothing keeps the process alive and tests control speed through the timing.
 */
export function logoffJobView(job: LogoffJob, timing: LogoffTiming, now: number): JobView {
  const startAt = job.createdAt + timing.notStartedMs;
  const endAt = startAt + timing.inProgressMs;
  const base = {
    Id: job.id,
    Type: 'LogoffSessions' as const,
    IsCancellable: false,
    CreationTime: iso(job.createdAt),
    Parameters: [{ Name: 'SessionId', Value: job.sessionId }],
  };
  if (now < startAt) {
    return {
      ...base,
      Status: 'NotStarted',
      OverallProgressPercent: 0,
      ErrorString: null,
      StartTime: null,
      EndTime: null,
    };
  }
  if (now < endAt || job.logoff === 'never') {
    const elapsed = timing.inProgressMs === 0 ? 1 : (now - startAt) / timing.inProgressMs;
    return {
      ...base,
      Status: 'InProgress',
      OverallProgressPercent: Math.min(99, Math.floor(elapsed * 100)),
      ErrorString: null,
      StartTime: iso(startAt),
      EndTime: null,
    };
  }
  const failed = job.logoff === 'fail';
  return {
    ...base,
    Status: failed ? 'Failed' : 'Complete',
    OverallProgressPercent: 100,
    ErrorString: failed ? (job.errorString ?? DEFAULT_LOGOFF_ERROR) : null,
    StartTime: iso(startAt),
    EndTime: iso(endAt),
  };
}

/**
 * Citrix DaaS sessions and the log off jobs acting on them. Jobs are indexed by session, so a
 * search over thousands of sessions with thousands of jobs stays linear.
 */
export class DaasState {
  readonly #timing: LogoffTiming;
  readonly #format: StateChangeTimeFormat;
  readonly #now: () => number;
  // Keyed by lower-cased id: Citrix ids are GUIDs and compared case-insensitively.
  readonly #sessions = new Map<string, FixtureSession>();
  readonly #jobs = new Map<string, LogoffJob>();
  readonly #jobsBySession = new Map<string, LogoffJob[]>();

  constructor(fixture: SimulatorFixture, settings: DaasSettings, now: () => number) {
    this.#timing = settings.logoff;
    this.#format = settings.stateChangeTimeFormat;
    this.#now = now;
    for (const session of fixture.sessions) this.#sessions.set(session.Id.toLowerCase(), session);
    for (const job of fixture.jobs ?? []) {
      this.#addJob({
        id: job.Id,
        clientId: job.simulation.clientId,
        sessionId: job.simulation.sessionId,
        logoff: job.simulation.logoff,
        errorString: job.simulation.errorString,
        createdAt: Date.parse(job.CreationTime),
      });
    }
  }

  #addJob(job: LogoffJob): void {
    this.#jobs.set(job.id.toLowerCase(), job);
    const key = job.sessionId.toLowerCase();
    const jobs = this.#jobsBySession.get(key);
    if (jobs) jobs.push(job);
    else this.#jobsBySession.set(key, [job]);
  }

  #jobsFor(sessionId: string, now: number): JobView[] {
    return (this.#jobsBySession.get(sessionId.toLowerCase()) ?? []).map((job) =>
      logoffJobView(job, this.#timing, now),
    );
  }

  /** When the session's first completed log off job completed; undefined while it is live. */
  #loggedOffAt(session: FixtureSession, now: number): number | undefined {
    let first: number | undefined;
    for (const job of this.#jobsBySession.get(session.Id.toLowerCase()) ?? []) {
      const end = completedAt(job, this.#timing);
      if (end !== undefined && end <= now && (first === undefined || end < first)) first = end;
    }
    return first;
  }

  /** A session is gone once one of its log off jobs has completed. */
  #isLoggedOff(session: FixtureSession, now: number): boolean {
    return this.#loggedOffAt(session, now) !== undefined;
  }

  #logoffInProgress(session: FixtureSession, now: number): boolean {
    const jobs = this.#jobsFor(session.Id, now);
    if (jobs.some((job) => PENDING.has(job.Status))) return true;
    // After a failed log off the flag clears; without any job the fixture's value stands.
    return jobs.length > 0 ? false : (session.LogoffInProgress ?? false);
  }

  /** `StateChangeTime` for a state change at `ms`, in the fixture's format. */
  #stateChangeTime(ms: number): string {
    return formatStateChangeTime(ms, this.#format);
  }

  /** The live session with this id, or undefined when unknown or already logged off. */
  find(sessionId: string): FixtureSession | undefined {
    const session = this.#sessions.get(sessionId.toLowerCase());
    return session && !this.#isLoggedOff(session, this.#now()) ? session : undefined;
  }

  /** Live sessions that searches can see (hidden ones excluded), in fixture order. */
  searchable(): FixtureSession[] {
    const now = this.#now();
    return [...this.#sessions.values()].filter(
      (session) => !session.IsHidden && !this.#isLoggedOff(session, now),
    );
  }

  view(session: FixtureSession): SessionView {
    const { simulation: _simulation, ...publicFields } = structuredClone(session);
    return {
      ...publicFields,
      IsHidden: session.IsHidden ?? false,
      LogoffInProgress: this.#logoffInProgress(session, this.#now()),
    };
  }

  /** A session that was not already disconnected becomes Disconnected as of now. */
  disconnect(session: FixtureSession): void {
    if (session.State === 'Disconnected') return;
    session.State = 'Disconnected';
    session.StateChangeTime = this.#stateChangeTime(this.#now());
  }

  /**
   * Starts a log off job owned by `clientId`; its outcome is `outcome` (an injected fault), or
   * else fixed by the session's simulation.
   */
  startLogoff(session: FixtureSession, clientId: string, outcome?: LogoffJobOutcome): JobView {
    const job: LogoffJob = {
      id: randomUUID(),
      clientId,
      sessionId: session.Id,
      logoff: outcome?.logoff ?? session.simulation?.logoff ?? 'complete',
      errorString: outcome ? outcome.errorString : session.simulation?.errorString,
      createdAt: this.#now(),
    };
    this.#addJob(job);
    return logoffJobView(job, this.#timing, this.#now());
  }

  sendMessage(session: FixtureSession, message: Omit<SentMessage, 'SentAt'>): void {
    session.simulation ??= {};
    session.simulation.messages ??= [];
    session.simulation.messages.push({ ...message, SentAt: iso(this.#now()) });
  }

  /** Jobs are only visible to the API client that started them, as in Citrix. */
  job(jobId: string, clientId: string): JobView | undefined {
    const job = this.#jobs.get(jobId.toLowerCase());
    if (!job || job.clientId !== clientId) return undefined;
    return logoffJobView(job, this.#timing, this.#now());
  }

  jobsOf(clientId: string): JobView[] {
    const now = this.#now();
    return [...this.#jobs.values()]
      .filter((job) => job.clientId === clientId)
      .map((job) => logoffJobView(job, this.#timing, now));
  }

  /**
   * Sessions a completed log off has removed, in fixture order, as they were at the end: with
   * `StateChangeTime` set to when the log off completed (in the fixture's format) and
   * `LogoffInProgress: false`. `State` keeps its last value: the DaaS API has no logged-off state,
   * and Citrix itself no longer lists these sessions.
   */
  loggedOffSessions(): FixtureSession[] {
    const now = this.#now();
    return [...this.#sessions.values()].flatMap((session) => {
      const at = this.#loggedOffAt(session, now);
      if (at === undefined) return [];
      return [
        {
          ...structuredClone(session),
          StateChangeTime: this.#stateChangeTime(at),
          LogoffInProgress: false,
        },
      ];
    });
  }

  snapshot(): { sessions: FixtureSession[]; jobs: FixtureJob[] } {
    const now = this.#now();
    const sessions = [...this.#sessions.values()]
      .filter((session) => !this.#isLoggedOff(session, now))
      .map((session) => ({
        ...structuredClone(session),
        LogoffInProgress: this.#logoffInProgress(session, now),
      }));
    const jobs = [...this.#jobs.values()].map((job) => ({
      ...logoffJobView(job, this.#timing, now),
      simulation: {
        clientId: job.clientId,
        sessionId: job.sessionId,
        logoff: job.logoff,
        ...(job.errorString === undefined ? {} : { errorString: job.errorString }),
      },
    }));
    return { sessions, jobs };
  }
}
