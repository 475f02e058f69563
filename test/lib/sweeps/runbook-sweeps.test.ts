import { describe, expect, it } from 'vitest';
import { loadSweeps, parseSweeps, SweepsFileError } from '../../../lib/sweeps/config.ts';
import { sweepAcceptance } from '../../../lib/sweeps/run.ts';

/**
 * A sweep may run a runbook on its schedule instead of one action over what it finds: checked at
 * load as a request would be (the runbook is deployed, its inputs hold), run as a dry run in
 * report mode. The repository's runbooks are installed (test/support/runbooks.setup.ts).
 */

const runbookSweep = (overrides: Record<string, unknown> = {}) => ({
  name: 'offboard-contractor',
  schedule: 'cron(0 8 ? * MON *)',
  runbook: { name: 'departing-administrator', inputs: { admin: 'contractor@example.com' } },
  mode: 'enforce',
  enabled: true,
  ...overrides,
});

const problem = (input: unknown): string => {
  try {
    parseSweeps(input);
  } catch (error) {
    expect(error).toBeInstanceOf(SweepsFileError);
    return (error as Error).message;
  }
  throw new Error('parsed');
};

describe('a runbook sweep', () => {
  it('names its runbook and inputs instead of find, action and maxTargets', () => {
    expect(parseSweeps({ sweeps: [runbookSweep()] }).sweeps[0]).toEqual({
      ...runbookSweep(),
      timezone: 'UTC',
    });
  });

  it.each([
    [
      { runbook: { name: 'no-such-runbook' } },
      'sweeps[0] (sweep "offboard-contractor").runbook.name: no runbook named "no-such-runbook"',
    ],
    [
      { runbook: { name: 'departing-administrator' } },
      'sweeps[0] (sweep "offboard-contractor").runbook.inputs.admin: is required',
    ],
    [
      { runbook: { name: 'departing-administrator', inputs: { admin: 'contractor' } } },
      'sweeps[0] (sweep "offboard-contractor").runbook.inputs.admin: must match',
    ],
    [
      { find: { sessions: { state: 'Disconnected' } } },
      'sweeps[0] (sweep "offboard-contractor").find: is not a field of this sweep',
    ],
  ])('is refused at load, naming the field: %j', (overrides, message) => {
    expect(problem({ sweeps: [runbookSweep(overrides)] })).toContain(message);
  });

  it('runs the runbook as the sweep, as a dry run in report mode', () => {
    const event = { sweep: 'offboard-contractor', scheduledAt: '2026-03-02T08:00:00Z' };
    const only = (overrides: Record<string, unknown> = {}) => {
      const [sweep] = parseSweeps({ sweeps: [runbookSweep(overrides)] }).sweeps;
      if (sweep === undefined) throw new Error('no sweep');
      return sweep;
    };
    const enforce = sweepAcceptance(only(), event);
    expect(enforce).toMatchObject({
      idempotencyKey: 'sweep:offboard-contractor:2026-03-02T08:00:00Z',
      request: {
        action: 'runbook.run',
        target: { runbook: 'departing-administrator' },
        inputs: { admin: 'contractor@example.com' },
        reason: 'Sweep offboard-contractor',
        dryRun: false,
      },
      source: { name: 'sweep', title: 'offboard-contractor' },
    });
    expect(sweepAcceptance(only({ mode: 'report' }), event).request.dryRun).toBe(true);
  });

  it('is shipped disabled, as an example, in config/sweeps.json', () => {
    const shipped = loadSweeps('config/sweeps.json').sweeps.filter((sweep) => 'runbook' in sweep);
    expect(shipped.map((sweep) => [sweep.name, sweep.enabled, sweep.mode])).toEqual([
      ['contractor-offboarding', false, 'report'],
    ]);
  });
});
