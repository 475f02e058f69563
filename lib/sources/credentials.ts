import { createHash, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import type { InboundDelivery } from './types.ts';

/** What every source's credential check and secret share (lib/sources/<source>.ts). */

/**
 * Hashing both sides first gives equal-length buffers, so neither the comparison nor an early
 * length check reveals how long the expected value is.
 */
export function constantTimeEqual(given: string, expected: string): boolean {
  const givenDigest = createHash('sha256').update(given, 'utf8').digest();
  const expectedDigest = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(givenDigest, expectedDigest);
}

export function header(delivery: InboundDelivery, name: string): string | undefined {
  // The contract gives lower-case names; a caller that forgot to normalise still gets a match.
  for (const [key, value] of Object.entries(delivery.headers ?? {})) {
    if (key.toLowerCase() === name && typeof value === 'string') return value;
  }
  return undefined;
}

/** A secret that is missing or empty would match an empty credential: refuse instead. */
export function configured(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/**
 * A value someone wrote in a template or a doc ("replace-with-…", "set-me", "changeme") is public:
 * a secret holding one would let anyone who read it authenticate, so it is refused.
 */
const PLACEHOLDER = /^\s*(?:replace[-_ ]?with|set[-_ ]?me|change[-_ ]?me|placeholder)/i;

/** A credential in a source's secret: at least `minLength` characters, never a placeholder. */
export const credential = (minLength: number) =>
  z
    .string()
    .min(minLength)
    .refine((value) => !PLACEHOLDER.test(value), 'must be the real credential, not a placeholder');
