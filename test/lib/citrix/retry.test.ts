import { describe, expect, it } from 'vitest';
import {
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  isRetryableStatus,
  parseRetryAfterMs,
  type RetryPolicy,
} from '../../../lib/citrix/retry.ts';

describe('isRetryableStatus', () => {
  it.each([408, 429, 500, 502, 503, 504, 599])('retries %i', (status) => {
    expect(isRetryableStatus(status)).toBe(true);
  });

  it.each([200, 202, 301, 400, 401, 403, 404, 409, 422, 600])('does not retry %i', (status) => {
    expect(isRetryableStatus(status)).toBe(false);
  });
});

describe('backoffDelayMs', () => {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1000 };

  it('uses the full exponential cap when random() is at its top', () => {
    const nearlyOne = () => 0.999_999;
    const delays = [1, 2, 3, 4, 5, 6].map((attempt) => backoffDelayMs(attempt, policy, nearlyOne));
    expect(delays.map(Math.round)).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('is full jitter: scales the cap by random()', () => {
    expect(backoffDelayMs(3, policy, () => 0)).toBe(0);
    expect(backoffDelayMs(3, policy, () => 0.5)).toBe(200);
    expect(backoffDelayMs(3, policy, () => 0.25)).toBe(100);
  });

  it('stays within 0..maxDelayMs for any attempt and random value', () => {
    for (let attempt = 1; attempt <= 40; attempt += 1) {
      for (const r of [0, 0.1, 0.5, 0.9, 0.999]) {
        const delay = backoffDelayMs(attempt, policy, () => r);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(policy.maxDelayMs);
      }
    }
  });
});

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');

  it('reads delta-seconds', () => {
    expect(parseRetryAfterMs('0', now)).toBe(0);
    expect(parseRetryAfterMs('7', now)).toBe(7000);
    expect(parseRetryAfterMs(' 120 ', now)).toBe(120_000);
  });

  it('reads an HTTP-date relative to now', () => {
    expect(parseRetryAfterMs('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
  });

  it('reads an RFC 3339 date', () => {
    expect(parseRetryAfterMs('2025-01-01T00:01:00Z', now)).toBe(60_000);
  });

  it('returns 0 for a date in the past', () => {
    expect(parseRetryAfterMs('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0);
  });

  it.each([null, undefined, '', '-5', '1.5', 'soon', '1 2', 'Mon, 99 Foo 2025 00:00:00 GMT'])(
    'returns undefined for %j',
    (header) => {
      expect(parseRetryAfterMs(header, now)).toBeUndefined();
    },
  );
});
