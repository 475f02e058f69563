import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { verifyStandardWebhook, WebhookSignatureError } from '../webhooks/standard-webhooks.ts';
import type { InboundDelivery, SourceName, SourceSecrets } from './types.ts';

/**
 * Why a delivery was not accepted as coming from the configured source. The message names the
 * failed check and never carries a credential, a token or a signature, sent or stored.
 */
export class SourceAuthenticationError extends Error {
  override name = 'SourceAuthenticationError';
}

/**
 * Checks that a delivery was sent by a holder of the source's secret; throws
 * `SourceAuthenticationError` otherwise. Every comparison is constant time.
 */
export function authenticateDelivery<S extends SourceName>(
  delivery: InboundDelivery & { source: S },
  secret: SourceSecrets[S],
): void {
  // Type parameters do not narrow `secret` from `delivery.source`; the casts below restate it.
  const source: SourceName = delivery.source;
  switch (source) {
    case 'servicenow':
      checkBasicAuth(delivery, secret as SourceSecrets['servicenow']);
      return;
    case 'splunk':
      checkPathToken(delivery, secret as SourceSecrets['splunk']);
      return;
    case 'sentinel':
      checkApiKey(delivery, secret as SourceSecrets['sentinel']);
      return;
    case 'pagerduty':
      checkPagerDutySignature(delivery, secret as SourceSecrets['pagerduty']);
      return;
    case 'standard':
      checkStandardWebhook(delivery, secret as SourceSecrets['standard']);
      return;
    default: {
      // Every source has its case: a new one without a check is a type error here.
      const unknown: never = source;
      throw new SourceAuthenticationError(`Unknown source ${String(unknown)}`);
    }
  }
}

/**
 * Hashing both sides first gives equal-length buffers, so neither the comparison nor an early
 * length check reveals how long the expected value is.
 */
function constantTimeEqual(given: string, expected: string): boolean {
  const givenDigest = createHash('sha256').update(given, 'utf8').digest();
  const expectedDigest = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(givenDigest, expectedDigest);
}

function header(delivery: InboundDelivery, name: string): string | undefined {
  // The contract gives lower-case names; a caller that forgot to normalise still gets a match.
  for (const [key, value] of Object.entries(delivery.headers ?? {})) {
    if (key.toLowerCase() === name && typeof value === 'string') return value;
  }
  return undefined;
}

/** A secret that is missing or empty would match an empty credential: refuse instead. */
function configured(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

const BASIC = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i;

function checkBasicAuth(delivery: InboundDelivery, secret: SourceSecrets['servicenow']): void {
  if (!configured(secret?.username) || !configured(secret?.password)) {
    throw new SourceAuthenticationError('No ServiceNow username and password are configured');
  }
  const authorization = header(delivery, 'authorization');
  if (authorization === undefined || authorization.trim() === '') {
    throw new SourceAuthenticationError('Missing Authorization header');
  }
  if (!/^Basic(?:[ \t]|$)/i.test(authorization)) {
    throw new SourceAuthenticationError('The Authorization header is not HTTP Basic');
  }
  const encoded = BASIC.exec(authorization)?.[1];
  if (encoded === undefined) {
    throw new SourceAuthenticationError('The Basic credentials are not base64');
  }
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  // RFC 7617: the user-id cannot contain a colon, the password can.
  const colon = decoded.indexOf(':');
  if (colon < 0) {
    throw new SourceAuthenticationError('The Basic credentials have no username:password pair');
  }
  // Both halves are compared before deciding, so the time does not say which one was wrong.
  const usernameMatches = constantTimeEqual(decoded.slice(0, colon), secret.username);
  const passwordMatches = constantTimeEqual(decoded.slice(colon + 1), secret.password);
  if (!(usernameMatches && passwordMatches)) {
    throw new SourceAuthenticationError('Wrong username or password');
  }
}

function checkPathToken(delivery: InboundDelivery, secret: SourceSecrets['splunk']): void {
  if (!configured(secret?.token)) {
    throw new SourceAuthenticationError('No Splunk webhook token is configured');
  }
  const token = delivery.pathToken;
  if (typeof token !== 'string' || token === '') {
    throw new SourceAuthenticationError('Missing token in the webhook URL');
  }
  if (!constantTimeEqual(token, secret.token)) {
    throw new SourceAuthenticationError('Wrong webhook token in the URL');
  }
}

function checkApiKey(delivery: InboundDelivery, secret: SourceSecrets['sentinel']): void {
  if (!configured(secret?.apiKey)) {
    throw new SourceAuthenticationError('No Sentinel API key is configured');
  }
  const apiKey = header(delivery, 'x-api-key');
  if (apiKey === undefined || apiKey === '') {
    throw new SourceAuthenticationError('Missing x-api-key header');
  }
  if (!constantTimeEqual(apiKey, secret.apiKey)) {
    throw new SourceAuthenticationError('Wrong x-api-key');
  }
}

/**
 * `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]`, one signature per signing secret PagerDuty holds
 * (several during a rotation); we may also hold several. Any v1 match over the raw UTF-8 body is
 * enough; other versions are ignored, as PagerDuty's verification guide says.
 */
function checkPagerDutySignature(
  delivery: InboundDelivery,
  secret: SourceSecrets['pagerduty'],
): void {
  const secrets = Array.isArray(secret?.signingSecrets)
    ? secret.signingSecrets.filter(configured)
    : [];
  if (secrets.length === 0) {
    throw new SourceAuthenticationError('No PagerDuty signing secret is configured');
  }
  const signatureHeader = header(delivery, 'x-pagerduty-signature');
  if (signatureHeader === undefined || signatureHeader.trim() === '') {
    throw new SourceAuthenticationError('Missing X-PagerDuty-Signature header');
  }
  const given = signatureHeader
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.startsWith('v1='))
    .map((part) => part.slice('v1='.length).toLowerCase());
  if (given.length === 0) {
    throw new SourceAuthenticationError('X-PagerDuty-Signature has no v1 signature');
  }
  const body = typeof delivery.rawBody === 'string' ? delivery.rawBody : '';
  const expected = secrets.map((key) =>
    createHmac('sha256', key).update(body, 'utf8').digest('hex'),
  );
  // Every pair is compared, so the time does not depend on which signature matched.
  let matched = false;
  for (const signature of given) {
    for (const candidate of expected) {
      if (constantTimeEqual(signature, candidate)) matched = true;
    }
  }
  if (!matched) {
    throw new SourceAuthenticationError('No X-PagerDuty-Signature matches a signing secret');
  }
}

/**
 * Standard Webhooks: `webhook-id`, `webhook-timestamp` (at most 5 minutes off) and
 * `webhook-signature` over the exact body, under the shared webhook secret.
 */
function checkStandardWebhook(delivery: InboundDelivery, secret: SourceSecrets['standard']): void {
  if (!configured(secret?.signingSecret)) {
    throw new SourceAuthenticationError('No Standard Webhooks secret is configured');
  }
  try {
    verifyStandardWebhook(secret.signingSecret, delivery.rawBody, delivery.headers);
  } catch (error) {
    if (!(error instanceof WebhookSignatureError)) throw error;
    // The library's reasons name the failed check, never the secret or the signature.
    throw new SourceAuthenticationError(error.message, { cause: error });
  }
}
