import { describe, expect, it } from 'vitest';
import {
  durationSeconds,
  IsoDurationSchema,
  parseStateChangeTime,
} from '../../../lib/sessions/state-change-time.ts';

describe('parseStateChangeTime', () => {
  it('reads ISO 8601 with a zone, an offset, or none (UTC)', () => {
    expect(parseStateChangeTime('2020-11-16T14:02:49Z')).toBe(Date.parse('2020-11-16T14:02:49Z'));
    expect(parseStateChangeTime('2020-11-16T14:02:49.123Z')).toBe(
      Date.parse('2020-11-16T14:02:49.123Z'),
    );
    expect(parseStateChangeTime('2020-11-16T15:02:49+01:00')).toBe(
      Date.parse('2020-11-16T14:02:49Z'),
    );
    // No zone is UTC, never the machine's local time.
    expect(parseStateChangeTime('2020-11-16T14:02:49')).toBe(Date.parse('2020-11-16T14:02:49Z'));
  });

  it('reads the US form of Citrix’s sample as UTC, with AM and PM', () => {
    expect(parseStateChangeTime('11/16/2020 2:02:49 PM')).toBe(Date.parse('2020-11-16T14:02:49Z'));
    expect(parseStateChangeTime('11/16/2020 2:02:49 AM')).toBe(Date.parse('2020-11-16T02:02:49Z'));
    expect(parseStateChangeTime('1/2/2021 12:00:00 AM')).toBe(Date.parse('2021-01-02T00:00:00Z'));
    expect(parseStateChangeTime('1/2/2021 12:30:00 PM')).toBe(Date.parse('2021-01-02T12:30:00Z'));
    expect(parseStateChangeTime(' 11/16/2020 2:02:49 pm ')).toBe(
      Date.parse('2020-11-16T14:02:49Z'),
    );
  });

  it('is undefined for anything it cannot read, rather than a guess', () => {
    for (const text of [
      undefined,
      null,
      '',
      '   ',
      'yesterday',
      '16/11/2020 2:02:49 PM', // day first: month 16 does not exist
      '2/30/2021 1:00:00 PM', // 30 February would roll over into March
      '11/16/2020 13:02:49 PM', // 13 PM
      '11/16/2020 0:02:49 AM',
      '11/16/2020 2:61:49 PM',
      '11/16/2020 14:02:49', // 24-hour without AM/PM
      '2020-11-16', // a date without a time
      '2020-13-16T14:02:49Z',
      '1605535369000',
    ]) {
      expect(parseStateChangeTime(text), String(text)).toBeUndefined();
    }
  });
});

describe('durationSeconds and IsoDurationSchema', () => {
  it('counts weeks, days, hours, minutes and seconds', () => {
    expect(durationSeconds('PT8H')).toBe(8 * 3600);
    expect(durationSeconds('P2D')).toBe(2 * 86_400);
    expect(durationSeconds('P1DT12H')).toBe(36 * 3600);
    expect(durationSeconds('P1W')).toBe(7 * 86_400);
    expect(durationSeconds('PT90M')).toBe(5400);
    expect(durationSeconds('PT30S')).toBe(30);
  });

  it('refuses months, years, empty and malformed durations', () => {
    for (const text of ['P', 'PT', 'P1M', 'P1Y', 'P1DT', '8h', 'PT-1H', '']) {
      expect(durationSeconds(text), text).toBeUndefined();
    }
    expect(IsoDurationSchema.safeParse('PT8H').success).toBe(true);
    for (const text of ['P1M', 'PT0H', 'P', '8 hours']) {
      expect(IsoDurationSchema.safeParse(text).success, text).toBe(false);
    }
  });
});
