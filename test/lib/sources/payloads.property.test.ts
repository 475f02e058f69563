import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { authenticateDelivery } from '../../../lib/sources/authenticate.ts';
import { SourceAuthenticationError, SourcePayloadError } from '../../../lib/sources/errors.ts';
import { parseSourcePayload } from '../../../lib/sources/payloads.ts';
import {
  type InboundDelivery,
  SOURCES,
  type SourceName,
  type SourceSecrets,
} from '../../../lib/sources/types.ts';
import { signStandardWebhook } from '../../../lib/webhooks/standard-webhooks.ts';
import { mutatedJson, sampleOf } from '../../support/source-samples.ts';

const RUNS = 300;

/** Any UTF-16 string, lone surrogates included: what a broken client could put in a body. */
const utf16 = fc
  .array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 40 })
  .map((codes) => String.fromCharCode(...codes));
const anyText = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), utf16);

/** The sample with a few of its values replaced by arbitrary JSON, removed, or re-typed. */
function mutatedSample(source: SourceName): fc.Arbitrary<string> {
  const replacement = fc.oneof(
    fc.constant(undefined),
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(null, '', 0, -1, 1.5, true, [], {}, 'x'.repeat(600)),
    anyText,
  );
  return mutatedJson(sampleOf(source), replacement, 4);
}

/** Bodies of every kind: raw text, arbitrary JSON, arbitrary JS values as JSON, mutated samples. */
const bodies = (source: SourceName) =>
  fc.oneof(
    anyText,
    fc.json(),
    fc.anything().map((value) => JSON.stringify(value) ?? 'null'),
    mutatedSample(source),
  );

/** What a Standard Webhooks delivery's id is read from; the other sources ignore it. */
const HEADERS = { 'webhook-id': 'msg_2f1c0d' };

function expectOnlySourcePayloadError(source: SourceName, body: string): void {
  try {
    const event = parseSourcePayload(source, body, HEADERS);
    // What a successful parse returns is always usable downstream.
    expect(event.source).toBe(source);
    expect(typeof event.deliveryKey).toBe('string');
    expect(event.deliveryKey.length).toBeGreaterThan(0);
    expect(typeof event.title).toBe('string');
    expect(typeof event.fields).toBe('object');
    expect(() => JSON.stringify(event.fields)).not.toThrow();
  } catch (error) {
    if (!(error instanceof SourcePayloadError)) throw error;
    expect(error.fields.length).toBeGreaterThan(0);
    for (const field of error.fields) {
      expect(typeof field.field).toBe('string');
      expect(field.field.length).toBeGreaterThan(0);
      expect(typeof field.message).toBe('string');
    }
  }
}

describe('parseSourcePayload on arbitrary bodies', () => {
  it.each(SOURCES)('%s: returns an event or throws SourcePayloadError, nothing else', (source) => {
    fc.assert(
      fc.property(bodies(source), (body) => expectOnlySourcePayloadError(source, body)),
      { numRuns: RUNS },
    );
  });

  it.each(SOURCES)(
    '%s: every mutation of the sample is parsed or named field by field',
    (source) => {
      fc.assert(
        fc.property(mutatedSample(source), (body) => expectOnlySourcePayloadError(source, body)),
        { numRuns: RUNS },
      );
    },
  );
});

// ---------------------------------------------------------------------------------------------

function secretsOf(text: fc.Arbitrary<string>): {
  [S in SourceName]: fc.Arbitrary<SourceSecrets[S]>;
} {
  return {
    servicenow: fc.record({
      username: text.filter((name) => !name.includes(':')),
      password: text,
    }),
    splunk: fc.record({ token: text }),
    sentinel: fc.record({ apiKey: text }),
    pagerduty: fc.record({ signingSecrets: fc.array(text, { minLength: 1, maxLength: 3 }) }),
    // A raw key (no `whsec_` prefix): any text is one.
    standard: fc.record({ signingSecret: text.filter((key) => !key.startsWith('whsec_')) }),
  };
}
/** Any non-empty secret, however short or odd. */
const secretsArbitrary = secretsOf(
  fc.oneof(
    fc.string({ minLength: 1, maxLength: 40 }),
    anyText.filter((text) => text.length > 0),
  ),
);
/** Secrets no arbitrary credential can equal by chance. */
const unguessableSecrets = secretsOf(
  fc.string({ minLength: 16, maxLength: 40 }).map((text) => `secret-${text}`),
);

const base64Of = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const headerValue = fc.oneof(
  anyText,
  anyText.map((text) => `Basic ${base64Of(text)}`),
  anyText.map((text) => `Basic ${text}`),
  fc
    .array(
      fc.oneof(
        anyText,
        fc.uint8Array({ maxLength: 32 }).map((bytes) => `v1=${Buffer.from(bytes).toString('hex')}`),
      ),
      { maxLength: 4 },
    )
    .map((parts) => parts.join(',')),
);
const headersArbitrary = fc.oneof(
  fc.dictionary(anyText, fc.option(headerValue, { nil: undefined }), { maxKeys: 4 }),
  fc.record(
    {
      authorization: headerValue,
      'x-api-key': headerValue,
      'x-pagerduty-signature': headerValue,
      'webhook-id': headerValue,
      'webhook-timestamp': fc.oneof(headerValue, fc.nat().map(String)),
      'webhook-signature': headerValue,
    },
    { requiredKeys: [] },
  ),
);

function deliveryArbitrary(source: SourceName): fc.Arbitrary<InboundDelivery> {
  return fc.record(
    {
      source: fc.constant(source),
      rawBody: bodies(source),
      headers: headersArbitrary,
      pathToken: anyText,
    },
    { requiredKeys: ['source', 'rawBody', 'headers'] },
  );
}

function authenticationOutcome(delivery: InboundDelivery, secret: unknown): 'accepted' | 'refused' {
  try {
    authenticateDelivery(delivery, secret as never);
    return 'accepted';
  } catch (error) {
    if (!(error instanceof SourceAuthenticationError)) throw error;
    return 'refused';
  }
}

/** The credential a genuine sender would present for `secret`. */
function genuine(
  source: SourceName,
  secret: SourceSecrets[SourceName],
  rawBody: string,
): InboundDelivery {
  switch (source) {
    case 'servicenow': {
      const { username, password } = secret as SourceSecrets['servicenow'];
      return {
        source,
        rawBody,
        headers: { authorization: `Basic ${base64Of(`${username}:${password}`)}` },
      };
    }
    case 'splunk':
      return { source, rawBody, headers: {}, pathToken: (secret as SourceSecrets['splunk']).token };
    case 'sentinel':
      return {
        source,
        rawBody,
        headers: { 'x-api-key': (secret as SourceSecrets['sentinel']).apiKey },
      };
    case 'pagerduty': {
      const [key = ''] = (secret as SourceSecrets['pagerduty']).signingSecrets.slice(-1);
      const hex = createHmac('sha256', key).update(rawBody, 'utf8').digest('hex');
      return { source, rawBody, headers: { 'x-pagerduty-signature': `v2=abc,v1=${hex}` } };
    }
    case 'standard': {
      const key = (secret as SourceSecrets['standard']).signingSecret;
      return { source, rawBody, headers: signStandardWebhook(key, 'msg_1', new Date(), rawBody) };
    }
  }
}

describe('authenticateDelivery on arbitrary deliveries', () => {
  it.each(SOURCES)('%s: refuses with SourceAuthenticationError, never anything else', (source) => {
    fc.assert(
      fc.property(deliveryArbitrary(source), unguessableSecrets[source], (delivery, secret) => {
        expect(authenticationOutcome(delivery, secret)).toBe('refused');
      }),
      { numRuns: RUNS },
    );
  });

  it.each(SOURCES)('%s: a secret of any shape never causes another error', (source) => {
    fc.assert(
      fc.property(deliveryArbitrary(source), fc.anything(), (delivery, secret) => {
        expect(['accepted', 'refused']).toContain(authenticationOutcome(delivery, secret));
      }),
      { numRuns: RUNS },
    );
  });

  it.each(SOURCES)('%s: accepts the genuine credential for any secret and body', (source) => {
    fc.assert(
      fc.property(secretsArbitrary[source], bodies(source), (secret, rawBody) => {
        expect(authenticationOutcome(genuine(source, secret, rawBody), secret)).toBe('accepted');
      }),
      { numRuns: RUNS },
    );
  });

  it.each(SOURCES)('%s: refuses the genuine credential of another secret', (source) => {
    fc.assert(
      fc.property(
        secretsArbitrary[source],
        secretsArbitrary[source],
        bodies(source),
        (secret, other, rawBody) => {
          fc.pre(JSON.stringify(secret) !== JSON.stringify(other));
          const forged = genuine(source, other, rawBody);
          const sharesACredential =
            source === 'pagerduty' &&
            (other as SourceSecrets['pagerduty']).signingSecrets
              .slice(-1)
              .some((key) => (secret as SourceSecrets['pagerduty']).signingSecrets.includes(key));
          fc.pre(!sharesACredential);
          expect(authenticationOutcome(forged, secret)).toBe('refused');
        },
      ),
      { numRuns: RUNS },
    );
  });
});
