import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { verifyStandardWebhook } from '../../../lib/webhooks/standard-webhooks-verify.ts';

/**
 * The `standard` source verifies Standard Webhooks signatures with Node's HMAC
 * (lib/webhooks/standard-webhooks-verify.ts) rather than the `standardwebhooks` library, which
 * its function would otherwise carry. Whatever the secret, body, id, timestamp and signature
 * header, both accept and refuse the same deliveries.
 */
const RUNS = 400;

/** What the library decides: the failed check's message, or undefined when it accepts. */
function libraryOutcome(
  secret: string,
  body: string,
  headers: Record<string, string>,
): string | undefined {
  let webhook: Webhook;
  try {
    webhook = webhookFor(secret);
  } catch {
    return 'The signing secret is not a usable key';
  }
  try {
    webhook.verify(body, headers, { jsonParse: false });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function nativeOutcome(
  secret: string,
  body: string,
  headers: Record<string, string>,
): string | undefined {
  try {
    verifyStandardWebhook(secret, body, headers);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The library's reading of a secret, as the signing side (lib/webhooks/standard-webhooks.ts). */
const webhookFor = (secret: string) =>
  secret.startsWith('whsec_') ? new Webhook(secret) : new Webhook(secret, { format: 'raw' });

const secrets = fc.oneof(
  fc
    .uint8Array({ minLength: 1, maxLength: 64 })
    .map((key) => `whsec_${Buffer.from(key).toString('base64')}`),
  // Without its padding, as some tools write it.
  fc
    .uint8Array({ minLength: 3, maxLength: 64 })
    .map((key) => `whsec_${Buffer.from(key).toString('base64').replace(/=+$/, '')}`),
  // Raw secrets, as Secrets Manager generates them, and any text.
  fc.stringMatching(/^[A-Za-z0-9]{16,64}$/),
  fc.string({ minLength: 1, maxLength: 32, unit: 'grapheme' }),
);
const ids = fc.string({ minLength: 1, maxLength: 40 }).filter((id) => !/[\s,]/.test(id));
const bodies = fc.oneof(fc.json(), fc.string({ unit: 'grapheme' }));
/** Seconds from now, within the five minutes either way (and a margin for the test's own time). */
const offsets = fc.integer({ min: -290, max: 290 });

describe('Standard Webhooks verification on node:crypto', () => {
  it('accepts what the library signs, whatever the secret, id, timestamp and body', () => {
    fc.assert(
      fc.property(secrets, ids, offsets, bodies, (secret, id, offset, body) => {
        const at = new Date(Date.now() + offset * 1000);
        const webhook = webhookFor(secret);
        const headers = {
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': webhook.sign(id, at, body),
        };
        expect(nativeOutcome(secret, body, headers)).toBeUndefined();
        expect(libraryOutcome(secret, body, headers)).toBeUndefined();
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses what the library refuses: another secret, body, id or signature list', () => {
    const signatures = fc.oneof(
      fc.string(),
      fc
        .array(fc.tuple(fc.constantFrom('v1', 'v1a', 'v2', ''), fc.base64String()), {
          maxLength: 3,
        })
        .map((list) => list.map(([version, value]) => `${version},${value}`).join(' ')),
    );
    fc.assert(
      fc.property(
        secrets,
        fc.option(secrets, { nil: undefined }),
        ids,
        bodies,
        signatures,
        fc.boolean(),
        (secret, other, id, body, extra, withSigned) => {
          const at = new Date();
          // Signed with the secret itself, or with another one when there is one.
          const signed = webhookFor(other ?? secret).sign(id, at, body);
          const headers = {
            'webhook-id': id,
            'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
            'webhook-signature': withSigned ? `${extra} ${signed}` : extra,
          };
          const native = nativeOutcome(secret, body, headers);
          const library = libraryOutcome(secret, body, headers);
          expect(native === undefined, `${native} / ${library}`).toBe(library === undefined);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('refuses a timestamp more than five minutes away, or not a number, as the library does', () => {
    fc.assert(
      fc.property(
        secrets,
        fc.oneof(
          fc.integer({ min: 310, max: 10 ** 6 }),
          fc.integer({ min: -(10 ** 6), max: -310 }),
        ),
        (secret, offset) => {
          const at = new Date(Date.now() + offset * 1000);
          const webhook = webhookFor(secret);
          const headers = {
            'webhook-id': 'msg_1',
            'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
            'webhook-signature': webhook.sign('msg_1', at, '{}'),
          };
          expect(nativeOutcome(secret, '{}', headers)).toBe(libraryOutcome(secret, '{}', headers));
          const invalid = { ...headers, 'webhook-timestamp': 'soon' };
          expect(nativeOutcome(secret, '{}', invalid)).toBe(libraryOutcome(secret, '{}', invalid));
        },
      ),
      { numRuns: 100 },
    );
  });
});
