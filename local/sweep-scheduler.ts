import type { Sweep } from '../lib/sweeps/config.ts';
import { nextRun } from '../lib/sweeps/schedule.ts';

/**
 * The local stand-in for EventBridge Scheduler: each enabled sweep runs at its next scheduled
 * time, computed the way Scheduler does (a rate counts from when `npm start` started, as it
 * counts from the deployment in AWS). A disabled sweep has no schedule here either.
 */
export interface ScheduledSweep {
  readonly name: string;
  readonly enabled: boolean;
  /** Undefined for a disabled sweep. */
  readonly nextRun: Date | undefined;
}

// setTimeout holds at most 2^31-1 ms; a later run is re-armed on the way.
const MAX_TIMER_MS = 2_147_000_000;

export class LocalSweepScheduler {
  readonly #sweeps: readonly Sweep[];
  readonly #run: (sweep: Sweep, scheduledAt: Date) => Promise<void>;
  readonly #since: Date;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #next = new Map<string, Date>();

  constructor(
    sweeps: readonly Sweep[],
    run: (sweep: Sweep, scheduledAt: Date) => Promise<void>,
    since: Date = new Date(),
  ) {
    this.#sweeps = sweeps;
    this.#run = run;
    this.#since = since;
    for (const sweep of sweeps) {
      if (sweep.enabled) this.#next.set(sweep.name, this.#nextAfter(sweep, since));
    }
  }

  #nextAfter(sweep: Sweep, after: Date): Date {
    return nextRun(sweep.schedule, sweep.timezone, after, this.#since);
  }

  /** Every sweep, in file order, with its next run. */
  schedule(): ScheduledSweep[] {
    return this.#sweeps.map((sweep) => ({
      name: sweep.name,
      enabled: sweep.enabled,
      nextRun: this.#next.get(sweep.name),
    }));
  }

  start(): void {
    for (const sweep of this.#sweeps) if (sweep.enabled) this.#arm(sweep);
  }

  #arm(sweep: Sweep): void {
    const at = this.#next.get(sweep.name);
    if (at === undefined) return;
    const delay = Math.max(0, at.getTime() - Date.now());
    const timer = setTimeout(
      () => {
        if (Date.now() < at.getTime()) {
          this.#arm(sweep);
          return;
        }
        this.#next.set(sweep.name, this.#nextAfter(sweep, at));
        this.#arm(sweep);
        // A failed run is reported by `run`; the schedule goes on, as Scheduler's does.
        void this.#run(sweep, at);
      },
      Math.min(delay, MAX_TIMER_MS),
    );
    timer.unref();
    this.#timers.set(sweep.name, timer);
  }

  stop(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}
