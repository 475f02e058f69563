import { randomUUID } from 'node:crypto';
import {
  DEFAULT_LOGOFF_ERROR,
  type FixtureJob,
  type FixtureSession,
  type JobStatus,
  type LogoffOutcome,
  type LogoffTiming,
  type SentMessage,
  type SimulatorFixture,
} from './fixture.ts';

interface LogoffJob {
  id: string;
  clientId: string;
  sessionId: string;
  logoff: LogoffOutcome;
  errorString: string | undefined;
  createdAt: number;
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

const iso = (ms: number) => new Date(ms).toISOString();
const PENDING: ReadonlySet<JobStatus> = new Set(['NotStarted', 'InProgress']);

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

/** Citrix DaaS sessions and the log off jobs acting on them. */
export class DaasState {
  readonly #timing: LogoffTiming;
  readonly #now: () => number;
  // Keyed by lower-cased id: Citrix ids are GUIDs and compared case-insensitively.
  readonly #sessions = new Map<string, FixtureSession>();
  readonly #jobs = new Map<string, LogoffJob>();

  constructor(fixture: SimulatorFixture, timing: LogoffTiming, now: () => number) {
    this.#timing = timing;
    this.#now = now;
    for (const session of fixture.sessions) this.#sessions.set(session.Id.toLowerCase(), session);
    for (const job of fixture.jobs ?? []) {
      this.#jobs.set(job.Id.toLowerCase(), {
        id: job.Id,
        clientId: job.simulation.clientId,
        sessionId: job.simulation.sessionId,
        logoff: job.simulation.logoff,
        errorString: job.simulation.errorString,
        createdAt: Date.parse(job.CreationTime),
      });
    }
  }

  #jobsFor(sessionId: string, now: number): JobView[] {
    const key = sessionId.toLowerCase();
    return [...this.#jobs.values()]
      .filter((job) => job.sessionId.toLowerCase() === key)
      .map((job) => logoffJobView(job, this.#timing, now));
  }

  /** A session is gone once one of its log off jobs has completed. */
  #isLoggedOff(session: FixtureSession, now: number): boolean {
    return this.#jobsFor(session.Id, now).some((job) => job.Status === 'Complete');
  }

  #logoffInProgress(session: FixtureSession, now: number): boolean {
    const jobs = this.#jobsFor(session.Id, now);
    if (jobs.some((job) => PENDING.has(job.Status))) return true;
    // After a failed log off the flag clears; without any job the fixture's value stands.
    return jobs.length > 0 ? false : (session.LogoffInProgress ?? false);
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

  disconnect(session: FixtureSession): void {
    session.State = 'Disconnected';
  }

  /** Starts a log off job owned by `clientId`; its outcome is fixed by the session's simulation. */
  startLogoff(session: FixtureSession, clientId: string): JobView {
    const job: LogoffJob = {
      id: randomUUID(),
      clientId,
      sessionId: session.Id,
      logoff: session.simulation?.logoff ?? 'complete',
      errorString: session.simulation?.errorString,
      createdAt: this.#now(),
    };
    this.#jobs.set(job.id, job);
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
