/** Retry policy for Citrix Cloud calls (token endpoint and DaaS REST API). */

export interface RetryPolicy {
  /** Total attempts, including the first one. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /**
   * Longest Retry-After we wait for inside one invocation; anything longer is surfaced as a
   * throttling error so that the workflow's own Retry does the waiting instead of a billed Lambda.
   */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 8000,
  maxRetryAfterMs: 30000,
};

/** 401 is not listed: it is handled by one token refresh, not by backoff. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/** Exponential backoff with full jitter; `attempt` is 1 for the first retry. */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number): number {
  const exponent = Math.max(0, attempt - 1);
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
  return random() * cap;
}

const DELTA_SECONDS = /^\d+$/;
// IMF-fixdate (RFC 9110) and RFC 3339 (used by some Citrix APIs). Date.parse alone is too lenient.
const IMF_FIXDATE = /^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC_3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Retry-After as milliseconds from `now`; undefined when absent or unparseable; 0 for a past date. */
export function parseRetryAfterMs(
  header: string | null | undefined,
  now: number,
): number | undefined {
  if (header === null || header === undefined) return undefined;
  const value = header.trim();
  if (DELTA_SECONDS.test(value)) {
    const seconds = Number(value);
    return Number.isSafeInteger(seconds) ? seconds * 1000 : undefined;
  }
  if (!IMF_FIXDATE.test(value) && !RFC_3339.test(value)) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
