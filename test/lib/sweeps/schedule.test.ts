import { describe, expect, it } from 'vitest';
import { nextRun, parseSchedule } from '../../../lib/sweeps/schedule.ts';
import {
  ScheduleExpressionSchema,
  TimeZoneSchema,
} from '../../../lib/sweeps/schedule-expression.ts';

describe('parseSchedule', () => {
  it('reads rates in minutes, hours and days', () => {
    expect(parseSchedule('rate(1 hour)')).toEqual({ kind: 'rate', seconds: 3600 });
    expect(parseSchedule('rate(15 minutes)')).toEqual({ kind: 'rate', seconds: 900 });
    expect(parseSchedule('rate(2 days)')).toEqual({ kind: 'rate', seconds: 172_800 });
  });

  it('refuses a rate whose unit does not agree with its number, or of zero', () => {
    expect(parseSchedule('rate(1 hours)')).toMatch(/rate\(1 hour\) for one/);
    expect(parseSchedule('rate(5 hour)')).toMatch(/rate\(5 hours\) for more/);
    expect(parseSchedule('rate(0 minutes)')).toBe('a rate must be at least 1');
    expect(parseSchedule('rate(1 week)')).toMatch(/must be rate/);
  });

  it('shifts AWS day-of-week numbers (1 = Sunday) to croner’s (0 = Sunday)', () => {
    expect(parseSchedule('cron(0 6 ? * 2 *)')).toEqual({ kind: 'cron', pattern: '0 6 ? * 1' });
    expect(parseSchedule('cron(0 6 ? * 2-6 *)')).toEqual({
      kind: 'cron',
      pattern: '0 6 ? * 1-5',
    });
    expect(parseSchedule('cron(0 6 ? * 1,7 *)')).toEqual({ kind: 'cron', pattern: '0 6 ? * 0,6' });
    expect(parseSchedule('cron(0 6 ? * MON *)')).toEqual({ kind: 'cron', pattern: '0 6 ? * MON' });
    expect(parseSchedule('cron(0/15 * * * ? *)')).toEqual({
      kind: 'cron',
      pattern: '0-59/15 * * * ?',
    });
  });

  it('refuses cron expressions EventBridge would refuse', () => {
    expect(parseSchedule('cron(0 2 * * *)')).toMatch(/6 fields/);
    expect(parseSchedule('cron(0 2 * * * *)')).toMatch(/\? in exactly one/);
    expect(parseSchedule('cron(0 2 ? * ? *)')).toMatch(/\? in exactly one/);
    expect(parseSchedule('cron(0 2 * * ? 2027)')).toMatch(/year must be \*/);
    expect(parseSchedule('cron(0 25 * * ? *)')).toMatch(/25/);
    expect(parseSchedule('every day')).toMatch(/must be rate/);
    expect(ScheduleExpressionSchema.safeParse('cron(0 2 * * ? *)').success).toBe(true);
    expect(ScheduleExpressionSchema.safeParse('rate(1 hours)').success).toBe(false);
  });
});

describe('nextRun', () => {
  it('runs AWS day 2 on Mondays, at the hour of the schedule’s time zone', () => {
    // Sunday 22 November 2026, noon UTC.
    const after = new Date('2026-11-22T12:00:00Z');
    expect(nextRun('cron(0 6 ? * 2 *)', 'UTC', after).toISOString()).toBe(
      '2026-11-23T06:00:00.000Z',
    );
    // 06:00 in Paris (UTC+1 in November) is 05:00 UTC.
    expect(nextRun('cron(0 6 ? * 2 *)', 'Europe/Paris', after).toISOString()).toBe(
      '2026-11-23T05:00:00.000Z',
    );
    // 06:00 in New York (UTC-5 in November) is 11:00 UTC.
    expect(nextRun('cron(0 6 ? * MON *)', 'America/New_York', after).toISOString()).toBe(
      '2026-11-23T11:00:00.000Z',
    );
    // AWS 1 is Sunday: the next one is a week on.
    expect(nextRun('cron(0 6 ? * 1 *)', 'UTC', after).toISOString()).toBe(
      '2026-11-29T06:00:00.000Z',
    );
  });

  it('gives the first run strictly after the time given', () => {
    const at = new Date('2026-11-23T02:00:00Z');
    expect(nextRun('cron(0 2 * * ? *)', 'UTC', at).toISOString()).toBe('2026-11-24T02:00:00.000Z');
  });

  it('counts a rate from since, not from the time asked', () => {
    const since = new Date('2026-11-23T03:10:00Z');
    expect(
      nextRun('rate(1 hour)', 'UTC', new Date('2026-11-23T05:30:00Z'), since).toISOString(),
    ).toBe('2026-11-23T06:10:00.000Z');
    expect(
      nextRun('rate(1 hour)', 'UTC', new Date('2026-11-23T04:10:00Z'), since).toISOString(),
    ).toBe('2026-11-23T05:10:00.000Z');
    expect(nextRun('rate(15 minutes)', 'UTC', since).toISOString()).toBe(
      '2026-11-23T03:25:00.000Z',
    );
  });

  it('throws on an expression it cannot read', () => {
    expect(() => nextRun('rate(1 hours)', 'UTC', new Date())).toThrow(TypeError);
  });
});

describe('TimeZoneSchema', () => {
  it('takes IANA names only', () => {
    expect(TimeZoneSchema.safeParse('Europe/Paris').success).toBe(true);
    expect(TimeZoneSchema.safeParse('UTC').success).toBe(true);
    expect(TimeZoneSchema.safeParse('Mars/Olympus').success).toBe(false);
  });
});
