import { MultiBar, type SingleBar } from 'cli-progress';
import { TERMINAL_ACTION_STATUSES } from '../lib/actions/schema.ts';
import type { ActionViewAnswer, RunbookStepAnswer } from './answers.ts';
import type { ApiClient } from './api-client.ts';
import type { Output } from './io.ts';
import { type Colors, statusText } from './output.ts';

/** Polls start a second apart and slow down to one every five while nothing changes. */
export const POLL_DELAYS = { firstMs: 1000, maxMs: 5000, factor: 1.5 } as const;

const TERMINAL: ReadonlySet<string> = new Set(TERMINAL_ACTION_STATUSES);

/** Targets done and in all, from the view: its plan (recorded before acting) and its results. */
export function progressOf(view: ActionViewAnswer): { done: number; total: number } {
  const results = view.results ?? [];
  const done = results.filter((result) => result.outcome !== 'planned').length;
  const total = view.plan?.length ?? view.scope?.targets ?? results.length;
  return { done: Math.min(done, total), total };
}

/** The steps of a runbook run waiting for a person; a plain action waits itself. */
export function awaitingSteps(view: ActionViewAnswer): RunbookStepAnswer[] {
  return (view.steps ?? []).filter((step) => step.status === 'awaiting_approval');
}

/**
 * Whether following stops here: the action ended, or waits for a person (other than the one
 * `decided` — the action or step just approved, whose wait is over even if a poll still sees it).
 */
export function stopsFollowing(view: ActionViewAnswer, decided?: string): boolean {
  if (TERMINAL.has(view.status)) return true;
  const waiting = awaitingSteps(view).filter((step) => step.childActionId !== decided);
  if (view.steps !== undefined) return waiting.length > 0;
  return view.status === 'awaiting_approval' && view.actionId !== decided;
}

/** What the person sees while an action runs. */
export interface ProgressReporter {
  /** The action's view, and the views of the runbook steps running now (by child action id). */
  update(view: ActionViewAnswer, children: ReadonlyMap<string, ActionViewAnswer>): void;
  stop(): void;
}

/** Without a terminal: one line per change of status, of the action or of a step. */
export function lineProgress(stream: Output, colors: Colors): ProgressReporter {
  const seen = new Map<string, string>();
  const report = (key: string, line: string, status: string) => {
    if (seen.get(key) === status) return;
    seen.set(key, status);
    stream.write(`${line}\n`);
  };
  return {
    update(view) {
      report(view.actionId, `${view.actionId} ${statusText(view.status, colors)}`, view.status);
      for (const step of view.steps ?? []) {
        report(`step:${step.id}`, `  step ${step.id} (${step.action}) ${step.status}`, step.status);
      }
    },
    stop() {},
  };
}

/** On a terminal: a live bar per action (a runbook: per step), targets done out of all. */
export function barProgress(stream: Output, colors: Colors): ProgressReporter {
  const bars = new MultiBar({
    stream: stream as NodeJS.WritableStream,
    format: `{label} ${colors.cyan('{bar}')} {value}/{total} targets  {status}`,
    barsize: 24,
    clearOnComplete: false,
    autopadding: true,
    // Nothing counted yet (a step not started) is an empty bar, not a full one.
    emptyOnZero: true,
  });
  const byKey = new Map<string, SingleBar>();
  const show = (
    key: string,
    label: string,
    counts: { done: number; total: number },
    status: string,
  ) => {
    const payload = { label, status };
    const bar = byKey.get(key);
    if (bar === undefined) byKey.set(key, bars.create(counts.total, counts.done, payload));
    else {
      bar.setTotal(counts.total);
      bar.update(counts.done, payload);
    }
  };
  // A step's action is read only while it runs: once it ended, its last counts stand.
  const lastCounts = new Map<string, { done: number; total: number }>();
  const stepCounts = (step: RunbookStepAnswer, child: ActionViewAnswer | undefined) => {
    const counted = child === undefined ? lastCounts.get(step.id) : progressOf(child);
    const ended = TERMINAL.has(step.status) && step.targets !== undefined;
    const counts = ended ? { done: step.targets ?? 0, total: step.targets ?? 0 } : counted;
    if (counts !== undefined) lastCounts.set(step.id, counts);
    return counts ?? { done: 0, total: 0 };
  };
  return {
    update(view, children) {
      if (view.steps === undefined) {
        show(view.actionId, view.action, progressOf(view), view.status);
        return;
      }
      const width = Math.max(...view.steps.map((step) => step.id.length));
      for (const step of view.steps) {
        const child =
          step.childActionId === undefined ? undefined : children.get(step.childActionId);
        show(step.id, step.id.padEnd(width), stepCounts(step, child), step.status);
      }
    },
    stop() {
      bars.stop();
    },
  };
}

/**
 * Polls `GET /v1/actions/{actionId}` until the action ends or waits for a person, with backoff
 * (1 s, slowing to 5 s; back to 1 s when something changes). A runbook run's running steps are
 * read too, for their targets. Returns the last view.
 */
export async function follow(
  api: ApiClient,
  actionId: string,
  reporter: ProgressReporter,
  sleep: (milliseconds: number) => Promise<void>,
  decided?: string,
): Promise<ActionViewAnswer> {
  let delay: number = POLL_DELAYS.firstMs;
  let last = '';
  try {
    for (;;) {
      const view = await api.view(actionId);
      const children = new Map<string, ActionViewAnswer>();
      for (const step of view.steps ?? []) {
        if (step.childActionId !== undefined && !TERMINAL.has(step.status)) {
          children.set(step.childActionId, await api.view(step.childActionId));
        }
      }
      reporter.update(view, children);
      if (stopsFollowing(view, decided)) return view;
      const now = JSON.stringify([view.status, view.results?.length, view.steps]);
      delay =
        now === last
          ? Math.min(delay * POLL_DELAYS.factor, POLL_DELAYS.maxMs)
          : POLL_DELAYS.firstMs;
      last = now;
      await sleep(delay);
    }
  } finally {
    reporter.stop();
  }
}
