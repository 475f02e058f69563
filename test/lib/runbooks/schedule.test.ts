import { describe, expect, it } from 'vitest';
import { MAX_APPROVAL_TIMEOUT_SECONDS } from '../../../lib/guardrails/config.ts';
import { RUNBOOK_LIMITS, type Runbook } from '../../../lib/runbooks/definition.ts';
import { listRunbooksSync, RUNBOOKS_DIR } from '../../../lib/runbooks/files.ts';
import {
  DEFAULT_MAX_WAIT_SECONDS,
  estimateRunbookHistoryEvents,
  HISTORY_EVENT_BUDGET,
  nextWaitSeconds,
  RUNBOOK_WORKFLOW_TIMEOUT_SECONDS,
  roundsWithin,
  runSchedule,
  stepDeadlineSeconds,
} from '../../../lib/runbooks/schedule.ts';
import { ACTION_WORKFLOW_TIMEOUT_SECONDS } from '../../../lib/workflow/asl/timeouts.ts';

/**
 * How a run waits on its steps, and the bound on its history that follows: each step's rounds
 * are bounded by its deadline, and the longest wait grows when a run could otherwise pass 80% of
 * Step Functions' 25,000 events.
 */

const runbookOf = (steps: number, action = 'session.logoff'): Runbook => ({
  name: 'long',
  description: 'Many steps',
  inputs: {},
  steps: Array.from({ length: steps }, (_, index) => ({
    id: `s${index}`,
    action,
    target: { user: 'alice@example.com' },
    continueOnFailure: true,
  })),
});

describe('the waits of a run', () => {
  it('double from 5 s up to the longest wait', () => {
    expect([0, 1, 2, 3, 4, 5, 40].map((polls) => nextWaitSeconds(polls, 60))).toEqual([
      5, 10, 20, 40, 60, 60, 60,
    ]);
  });

  it('count one round after each wait, and the first', () => {
    // 5 + 10 + 20 = 35 s: rounds at 0, 5, 15 and 35 s.
    expect(roundsWithin(35, 60)).toBe(4);
    // 75 s of ramp, then a round a minute.
    expect(roundsWithin(75 + 600, 60)).toBe(5 + 10);
  });

  it('give a step as long as its own workflow may take, with the approval window in force', () => {
    expect(stepDeadlineSeconds('session.logoff', 3600)).toBe(
      ACTION_WORKFLOW_TIMEOUT_SECONDS['session-action'] + 120,
    );
    expect(stepDeadlineSeconds('device.wipe', 900)).toBe(
      ACTION_WORKFLOW_TIMEOUT_SECONDS['device-action'] - 2700 + 120,
    );
    expect(() => stepDeadlineSeconds('runbook.run', 3600)).toThrow(RangeError);
  });
});

describe('the history of a run', () => {
  it('waits at most a minute for the shipped runbooks with the default approval window', () => {
    for (const runbook of listRunbooksSync(RUNBOOKS_DIR)) {
      expect(runSchedule(runbook, 3600).maxWaitSeconds, runbook.name).toBe(
        DEFAULT_MAX_WAIT_SECONDS,
      );
    }
  });

  it.each([
    [1, 3600],
    [RUNBOOK_LIMITS.maxSteps, 3600],
    [RUNBOOK_LIMITS.maxSteps, 86_400],
    [RUNBOOK_LIMITS.maxSteps, MAX_APPROVAL_TIMEOUT_SECONDS],
  ])('stays within 80%% of the event limit: %i session steps, %i s approvals', (steps, window) => {
    const schedule = runSchedule(runbookOf(steps), window);
    const events = estimateRunbookHistoryEvents(
      schedule.stepDeadlineSeconds,
      schedule.maxWaitSeconds,
    );

    expect(events).toBeLessThanOrEqual(HISTORY_EVENT_BUDGET);
    expect(schedule.maxWaitSeconds).toBeGreaterThanOrEqual(DEFAULT_MAX_WAIT_SECONDS);
    // The longest wait is the shortest that fits: a second less would not.
    if (schedule.maxWaitSeconds > DEFAULT_MAX_WAIT_SECONDS) {
      expect(
        estimateRunbookHistoryEvents(schedule.stepDeadlineSeconds, schedule.maxWaitSeconds - 1),
      ).toBeGreaterThan(HISTORY_EVENT_BUDGET);
    }
  });

  it('gives the workflow a backstop timeout beyond every step deadline, within a year', () => {
    const worst = runSchedule(runbookOf(RUNBOOK_LIMITS.maxSteps), MAX_APPROVAL_TIMEOUT_SECONDS);
    const steps = worst.stepDeadlineSeconds.reduce((sum, deadline) => sum + deadline, 0);
    expect(RUNBOOK_WORKFLOW_TIMEOUT_SECONDS).toBeGreaterThan(steps + MAX_APPROVAL_TIMEOUT_SECONDS);
    expect(RUNBOOK_WORKFLOW_TIMEOUT_SECONDS).toBeLessThan(365 * 86_400);
  });
});
