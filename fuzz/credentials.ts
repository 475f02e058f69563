import { createHmac } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { signStandardWebhook } from '../lib/webhooks/standard-webhooks.ts';
import { LOCAL_DEMO_SOURCE_SECRETS } from '../local/defaults.ts';
import { SIGV4_SERVICE } from '../local/sigv4.ts';

/**
 * How each route's caller proves itself, as the real tools do it, and the ways to get it wrong:
 * every source's own scheme with the local demo secrets, and SigV4 for the people's routes.
 */

/** Right, or one of the ways a sender gets it wrong (each route uses those its scheme has). */
export const AUTH_VARIANTS = [
  'valid',
  'missing',
  'wrong-secret',
  'lookalike',
  'stale',
  'tampered',
  'garbage',
] as const;
export type AuthVariant = (typeof AUTH_VARIANTS)[number];

/**
 * The people the fuzz stack knows: one asks, two may approve. (A lookalike of one of them cannot
 * be configured at all: LOCAL_PEOPLE refuses it, as the approvals would.)
 */
export const FUZZ_PEOPLE = {
  'soc.lead@example.com': {
    accessKeyId: 'FUZZSOCLEAD000000001',
    secretAccessKey: 'fuzz-soc-lead-secret-access-key',
  },
  'it.oncall@example.com': {
    accessKeyId: 'FUZZITONCALL00000002',
    secretAccessKey: 'fuzz-it-oncall-secret-access-key',
  },
  'night.shift@example.com': {
    accessKeyId: 'FUZZNIGHTSHIFT000003',
    secretAccessKey: 'fuzz-night-shift-secret-access-key',
  },
} as const;
export type FuzzPerson = keyof typeof FUZZ_PEOPLE;

/** A request ready to send: header values as the bytes travel (UTF-8 read as Latin-1). */
export interface SignedParts {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const secrets = LOCAL_DEMO_SOURCE_SECRETS;
/** A zero-width space inside a credential: the same to the eye, not to a constant-time compare. */
const lookalike = (secret: string) => `${secret.slice(0, 4)}\u200b${secret.slice(4)}`;
/**
 * A header value as its bytes travel: UTF-8 read as Latin-1 (what a server sees of non-ASCII),
 * without the control characters HTTP forbids (a client cannot send them).
 */
export const wire = (value: string) =>
  Buffer.from(value, 'utf8')
    .toString('latin1')
    .replace(/(?!\t)\p{Cc}/gu, '');
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const pagerDutySignature = (secret: string, body: string) =>
  `v1=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;

/** The source's credential for `body`, right or wrong as `variant` says. */
export function sourceAuth(
  source: 'splunk' | 'sentinel' | 'pagerduty' | 'servicenow' | 'standard',
  variant: AuthVariant,
  body: string,
  now: Date,
  webhookId: string,
): { headers: Record<string, string>; pathToken?: string; body: string } {
  const sent = variant === 'tampered' ? `${body} ` : body;
  switch (source) {
    case 'splunk': {
      const token = {
        valid: secrets.splunk.token,
        missing: '',
        'wrong-secret': 'wrong-splunk-token-0123456789abcdef',
        lookalike: lookalike(secrets.splunk.token),
        stale: secrets.splunk.token.toUpperCase(),
        tampered: secrets.splunk.token,
        garbage: '%00%ff..%2f',
      }[variant];
      // Splunk's credential is the URL itself: a tampered body is still authentic.
      return { headers: {}, pathToken: token, body: sent };
    }
    case 'sentinel': {
      const key = {
        valid: secrets.sentinel.apiKey,
        missing: undefined,
        'wrong-secret': 'wrong-sentinel-api-key-0123456789',
        lookalike: lookalike(secrets.sentinel.apiKey),
        stale: ` ${secrets.sentinel.apiKey}x`,
        tampered: secrets.sentinel.apiKey,
        garbage: 'x'.repeat(4096),
      }[variant];
      return { headers: key === undefined ? {} : { 'x-api-key': wire(key) }, body: sent };
    }
    case 'pagerduty': {
      const signingSecret = secrets.pagerduty.signingSecrets[0];
      const signature = {
        valid: pagerDutySignature(signingSecret, body),
        missing: undefined,
        'wrong-secret': pagerDutySignature('wrong-pagerduty-secret', body),
        lookalike: pagerDutySignature(lookalike(signingSecret), body),
        stale: `v0=${pagerDutySignature(signingSecret, body).slice(3)}`,
        tampered: pagerDutySignature(signingSecret, body),
        garbage: `v1=${'z'.repeat(64)},v1=,,v1`,
      }[variant];
      return {
        headers: signature === undefined ? {} : { 'x-pagerduty-signature': signature },
        body: sent,
      };
    }
    case 'servicenow': {
      const { username, password } = secrets.servicenow;
      const authorization = {
        valid: basic(username, password),
        missing: undefined,
        'wrong-secret': basic(username, 'wrong-password-0123456789'),
        lookalike: basic(lookalike(username), password),
        stale: `Bearer ${Buffer.from(`${username}:${password}`).toString('base64')}`,
        tampered: basic(username, password),
        garbage: 'Basic !!!not base64!!!',
      }[variant];
      return {
        headers: authorization === undefined ? {} : { authorization: wire(authorization) },
        body: sent,
      };
    }
    case 'standard': {
      if (variant === 'missing') return { headers: {}, body: sent };
      const at = variant === 'stale' ? new Date(now.getTime() - 10 * 60_000) : now;
      const secret =
        variant === 'wrong-secret'
          ? `whsec_${Buffer.from('not the fuzz stack secret').toString('base64')}`
          : variant === 'lookalike'
            ? `whsec_${Buffer.from('citrix-response local demo secret\u200b').toString('base64')}`
            : secrets.standard.signingSecret;
      const headers = signStandardWebhook(secret, webhookId, at, body);
      if (variant === 'garbage') headers['webhook-signature'] = 'v1,%%%% v2,abc';
      return {
        headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, wire(v)])),
        body: sent,
      };
    }
  }
}

const signers = new Map<string, SignatureV4>();
function signerFor(accessKeyId: string, secretAccessKey: string): SignatureV4 {
  const key = `${accessKeyId}:${secretAccessKey}`;
  let signer = signers.get(key);
  if (signer === undefined) {
    signer = new SignatureV4({
      service: SIGV4_SERVICE,
      region: 'eu-west-1',
      credentials: { accessKeyId, secretAccessKey },
      sha256: Hash.bind(null, 'sha256'),
    });
    signers.set(key, signer);
  }
  return signer;
}

/**
 * A people's route request SigV4-signed (service execute-api) as the CLI signs it, by `person`,
 * or wrong as `variant` says. `extra` headers are signed too.
 */
export async function personAuth(
  apiUrl: string,
  path: string,
  body: string,
  person: FuzzPerson,
  variant: AuthVariant,
  now: Date,
  extra: Record<string, string> = {},
): Promise<SignedParts> {
  if (variant === 'missing') {
    return { path, headers: { 'content-type': 'application/json', ...extra }, body };
  }
  if (variant === 'garbage') {
    return {
      path,
      headers: {
        'content-type': 'application/json',
        authorization: 'AWS4-HMAC-SHA256 Credential=%%%, SignedHeaders=, Signature=zz',
        'x-amz-date': '2026-13-45',
        ...extra,
      },
      body,
    };
  }
  const own = FUZZ_PEOPLE[person];
  const credentials =
    variant === 'wrong-secret'
      ? { accessKeyId: own.accessKeyId, secretAccessKey: 'not-the-right-secret-key' }
      : variant === 'lookalike'
        ? { accessKeyId: `${own.accessKeyId.slice(0, -1)}O`, secretAccessKey: own.secretAccessKey }
        : own;
  const target = new URL(path, apiUrl);
  const signed = await signerFor(credentials.accessKeyId, credentials.secretAccessKey).sign(
    new HttpRequest({
      method: 'POST',
      protocol: target.protocol,
      hostname: target.hostname,
      port: Number(target.port),
      path: target.pathname,
      query: Object.fromEntries(target.searchParams),
      headers: { host: target.host, 'content-type': 'application/json', ...extra },
      body,
    }),
    { signingDate: variant === 'stale' ? new Date(now.getTime() - 20 * 60_000) : now },
  );
  const headers = Object.fromEntries(
    Object.entries(signed.headers).map(([name, value]) => [name, String(value)]),
  );
  return { path, headers, body: variant === 'tampered' ? `${body} ` : body };
}
