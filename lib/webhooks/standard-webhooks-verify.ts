import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks verification (standardwebhooks.com) on Node's own HMAC-SHA256 and base64: what
 * a receiving function needs, without the `standardwebhooks` library's pure-JS SHA-256 and base64
 * (about 12 KB of bundle). Signing keeps the library (lib/webhooks/standard-webhooks.ts), and the
 * tests verify here what the library signs.
 */

/** Why a request was not accepted as coming from a holder of the signing secret. */
export class WebhookSignatureError extends Error {
  override name = 'WebhookSignatureError';
}

const REQUIRED_HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const;
export const SECRET_PREFIX = 'whsec_';
/** How far `webhook-timestamp` may be from now, either way (the libraries' tolerance). */
const TOLERANCE_SECONDS = 5 * 60;
/**
 * Standard base64, padded or not, of at least 4 characters: where the library's decoder gives a
 * key, the same key (it also tolerates a stray last character, which this refuses).
 */
const BASE64 = /^[A-Za-z0-9+/]{2,}(?:[A-Za-z0-9+/]{2}|[A-Za-z0-9+/]=|==)$/;

/**
 * The HMAC key of a secret: `whsec_` + base64 of the key, or, without the prefix (as Secrets
 * Manager generates it), the secret's own bytes (the libraries' `format: 'raw'`). Undefined when
 * nothing can be signed or verified with it.
 */
function signingKeyOf(secret: string): Buffer | undefined {
  if (typeof secret !== 'string') return undefined;
  const key = secret.startsWith(SECRET_PREFIX)
    ? BASE64.test(secret.slice(SECRET_PREFIX.length))
      ? Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64')
      : undefined
    : // One byte per character (code point), as the libraries read a raw secret.
      Buffer.from(Uint8Array.from(secret, (character) => character.charCodeAt(0)));
  return key !== undefined && key.length > 0 ? key : undefined;
}

/** Whether `secret` is a key Standard Webhooks can sign with (`whsec_` + base64, or raw bytes). */
export function isUsableSigningSecret(secret: string): boolean {
  return signingKeyOf(secret) !== undefined;
}

/** `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, the signature Standard Webhooks sends. */
function signatureOf(key: Buffer, id: string, timestamp: number, rawBody: string): string {
  return createHmac('sha256', key).update(`${id}.${timestamp}.${rawBody}`, 'utf8').digest('base64');
}

/**
 * Verifies the signature over the exact raw body, with a 5-minute tolerance on
 * `webhook-timestamp` in both directions. Several space-separated signatures (rotation) are
 * accepted; any `v1` one that matches is enough, compared in constant time. The messages name the
 * failed check, never the secret or a signature.
 */
export function verifyStandardWebhook(
  secret: string,
  rawBody: string,
  headers: Readonly<Record<string, string | undefined>>,
  now: Date = new Date(),
): void {
  const normalized: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) normalized[name.toLowerCase()] = value;
  }
  const missing = REQUIRED_HEADERS.filter((name) => !normalized[name]);
  if (missing.length > 0) {
    throw new WebhookSignatureError(`Missing header ${missing.join(', ')}`);
  }
  const key = signingKeyOf(secret);
  if (key === undefined) {
    // A `whsec_` secret that is not base64, or an empty one: nothing can verify against it.
    throw new WebhookSignatureError('The signing secret is not a usable key');
  }
  const timestamp = Number.parseInt(normalized['webhook-timestamp'] ?? '', 10);
  if (Number.isNaN(timestamp)) {
    throw new WebhookSignatureError('Invalid Signature Headers');
  }
  const seconds = Math.floor(now.getTime() / 1000);
  if (seconds - timestamp > TOLERANCE_SECONDS) {
    throw new WebhookSignatureError('Message timestamp too old');
  }
  if (timestamp > seconds + TOLERANCE_SECONDS) {
    throw new WebhookSignatureError('Message timestamp too new');
  }
  const expected = Buffer.from(
    signatureOf(key, normalized['webhook-id'] ?? '', timestamp, rawBody),
  );
  let matched = false;
  for (const versioned of (normalized['webhook-signature'] ?? '').split(' ')) {
    const [version, signature = ''] = versioned.split(',');
    if (version !== 'v1') continue;
    const given = Buffer.from(signature);
    // Every v1 signature is compared, so the time does not say which one matched.
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  if (!matched) throw new WebhookSignatureError('No matching signature found');
}
