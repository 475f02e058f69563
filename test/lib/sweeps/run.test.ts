import { describe, expect, it } from 'vitest';
import { parseSweeps } from '../../../lib/sweeps/config.ts';
import {
  RunSweepEventSchema,
  SweepNotFoundError,
  sweepAcceptance,
  sweepNamed,
} from '../../../lib/sweeps/run.ts';

const FILE = parseSweeps({
  sweeps: [
    {
      name: 'stale-sessions',
      description: 'Log off stale sessions',
      schedule: 'cron(0 2 * * ? *)',
      find: { sessions: { state: 'Disconnected', olderThan: 'PT8H' } },
      action: 'session.logoff',
      mode: 'enforce',
      maxTargets: 100,
      enabled: true,
    },
    {
      name: 'unhealthy-devices',
      schedule: 'rate(1 hour)',
      find: { devices: { jailbroken: true } },
      action: 'device.selectiveWipe',
      mode: 'report',
      maxTargets: 20,
      enabled: true,
      ticket: 'CHG-1',
    },
  ],
});
const AT = '2026-11-23T02:00:00Z';

describe('sweepAcceptance', () => {
  it('makes an enforce run an action that acts, requested by the sweep', () => {
    const acceptance = sweepAcceptance(sweepNamed(FILE, 'stale-sessions'), {
      sweep: 'stale-sessions',
      scheduledAt: AT,
    });
    expect(acceptance).toEqual({
      idempotencyKey: `sweep:stale-sessions:${AT}`,
      source: { name: 'sweep', title: 'stale-sessions' },
      requester: { kind: 'sweep', key: 'sweep:stale-sessions', name: 'stale-sessions' },
      request: {
        action: 'session.logoff',
        target: {
          sweep: 'stale-sessions',
          maxTargets: 100,
          observe: true,
          find: { sessions: { state: 'Disconnected', olderThan: 'PT8H' } },
        },
        reason: 'Sweep stale-sessions: Log off stale sessions',
        requestedBy: 'stale-sessions',
        dryRun: false,
        urgency: 'normal',
      },
    });
  });

  it('makes a report-mode run a dry run that still records its findings', () => {
    const { request } = sweepAcceptance(sweepNamed(FILE, 'unhealthy-devices'), {
      sweep: 'unhealthy-devices',
      scheduledAt: AT,
    });
    expect(request).toMatchObject({
      dryRun: true,
      requestedBy: 'unhealthy-devices',
      ticket: 'CHG-1',
      target: { observe: true, find: { devices: { jailbroken: true, graceHours: 24 } } },
    });
  });

  it('makes --dry-run plan only, leave findings alone, and key the run apart', () => {
    const sweep = sweepNamed(FILE, 'stale-sessions');
    const scheduled = sweepAcceptance(sweep, { sweep: sweep.name, scheduledAt: AT });
    const dry = sweepAcceptance(sweep, { sweep: sweep.name, scheduledAt: AT, dryRun: true });
    expect(dry.request).toMatchObject({ dryRun: true, target: { observe: false } });
    expect(dry.idempotencyKey).toBe(`sweep:stale-sessions:${AT}:dry-run`);
    expect(dry.idempotencyKey).not.toBe(scheduled.idempotencyKey);
  });
});

describe('sweepNamed and RunSweepEventSchema', () => {
  it('names the declared sweeps when asked for an unknown one', () => {
    expect(() => sweepNamed(FILE, 'nope')).toThrow(SweepNotFoundError);
    expect(() => sweepNamed(FILE, 'nope')).toThrow(
      'No sweep is named "nope" (declared: stale-sessions, unhealthy-devices)',
    );
  });

  it('takes a sweep and a scheduled time, and nothing else', () => {
    expect(
      RunSweepEventSchema.safeParse({ sweep: 'stale-sessions', scheduledAt: AT }).success,
    ).toBe(true);
    expect(RunSweepEventSchema.safeParse({ sweep: 'stale-sessions' }).success).toBe(false);
    expect(
      RunSweepEventSchema.safeParse({ sweep: 'stale-sessions', scheduledAt: AT, extra: 1 }).success,
    ).toBe(false);
  });
});
