import { describe, expect, it } from 'vitest';
import { barProgress, lineProgress, progressOf, stopsFollowing } from '../../cli/follow.ts';
import { colorsFor } from '../../cli/output.ts';
import { ACTION_ID, viewOf } from './support/fake-api.ts';

const CHILD_ID = 'act_fedcba9876543210fedcba9876543210';

describe('progressOf', () => {
  it('counts the targets with an outcome against the plan', () => {
    const view = viewOf({
      status: 'running',
      plan: [
        { target: 'a', act: true },
        { target: 'b', act: true },
        { target: 'c', act: false },
      ],
      results: [{ outcome: 'succeeded' }, { outcome: 'skipped' }],
    });

    expect(progressOf(view)).toEqual({ done: 2, total: 3 });
  });

  it('counts nothing done in a plan, and falls back to the scope of a batched session action', () => {
    const planned = viewOf({
      status: 'planned',
      results: [{ outcome: 'planned' }],
      plan: [{ target: 'a', act: true }],
    });
    const batched = viewOf({
      status: 'running',
      scope: {
        targets: 900,
        actionable: 880,
        byDeliveryGroup: [],
        moreDeliveryGroups: 0,
        byMachine: [],
        moreMachines: 0,
      },
      results: [{ outcome: 'succeeded' }],
    });

    expect(progressOf(planned)).toEqual({ done: 0, total: 1 });
    expect(progressOf(batched)).toEqual({ done: 1, total: 900 });
  });
});

describe('stopsFollowing', () => {
  it('at an end, or at a wait for approval', () => {
    expect(stopsFollowing(viewOf({ status: 'running' }))).toBe(false);
    expect(stopsFollowing(viewOf({ status: 'expired' }))).toBe(true);
    expect(stopsFollowing(viewOf({ status: 'awaiting_approval' }))).toBe(true);
  });

  it('not at the wait just decided, which a poll may still see', () => {
    expect(stopsFollowing(viewOf({ status: 'awaiting_approval' }), ACTION_ID)).toBe(false);
  });

  it("at a runbook step's wait, unless that step was just decided", () => {
    const run = viewOf({
      status: 'running',
      steps: [
        { id: 'wipe', action: 'device.wipe', status: 'awaiting_approval', childActionId: CHILD_ID },
      ],
    });

    expect(stopsFollowing(run)).toBe(true);
    expect(stopsFollowing(run, CHILD_ID)).toBe(false);
  });
});

describe('lineProgress', () => {
  it('writes a line when the action or one of its steps changes status, never twice', () => {
    let written = '';
    const progress = lineProgress(
      { write: (text: string) => (written += text) },
      colorsFor({ write: () => undefined }, {}, false),
    );
    const step = (status: string) => [{ id: 'logoff', action: 'session.logoff', status }];

    progress.update(viewOf({ status: 'running', steps: step('pending') }), new Map());
    progress.update(viewOf({ status: 'running', steps: step('running') }), new Map());
    progress.update(viewOf({ status: 'running', steps: step('running') }), new Map());
    progress.update(viewOf({ status: 'succeeded', steps: step('succeeded') }), new Map());

    expect(written.split('\n')).toEqual([
      `${ACTION_ID} running`,
      '  step logoff (session.logoff) pending',
      '  step logoff (session.logoff) running',
      `${ACTION_ID} succeeded`,
      '  step logoff (session.logoff) succeeded',
      '',
    ]);
  });
});

describe('barProgress', () => {
  const step = (status: string, targets?: number) => ({
    id: 'logoff',
    action: 'session.logoff',
    status,
    childActionId: CHILD_ID,
    ...(targets === undefined ? {} : { targets }),
  });

  /** What a bar display draws for these updates, once stopped (it redraws on a timer). */
  function draw(...updates: [ReturnType<typeof viewOf>, Map<string, ReturnType<typeof viewOf>>][]) {
    let drawn = '';
    const terminal = { write: (text: string) => (drawn += text), isTTY: true };
    const progress = barProgress(terminal, colorsFor(terminal, {}, false));
    for (const [view, children] of updates) progress.update(view, children);
    progress.stop();
    return drawn;
  }

  it("draws a bar per runbook step: a running step's targets done out of its plan", () => {
    const child = viewOf({
      status: 'running',
      plan: [
        { target: 'a', act: true },
        { target: 'b', act: true },
      ],
      results: [{ outcome: 'succeeded' }],
    });

    const drawn = draw([
      viewOf({ status: 'running', steps: [step('running')] }),
      new Map([[CHILD_ID, child]]),
    ]);

    expect(drawn).toMatch(/logoff =+-+ 1\/2 targets {2}running/);
  });

  it('an ended step keeps the count it ended with; one not started is an empty bar', () => {
    const drawn = draw([
      viewOf({
        status: 'running',
        steps: [step('succeeded', 2), { id: 'wipe', action: 'device.wipe', status: 'pending' }],
      }),
      new Map(),
    ]);

    expect(drawn).toMatch(/logoff =+ 2\/2 targets {2}succeeded/);
    expect(drawn).toMatch(/wipe {3}-+ 0\/0 targets {2}pending/);
  });
});
