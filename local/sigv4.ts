import { createHash, timingSafeEqual } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { LocalPeople, LocalPerson } from './people.ts';

/**
 * What API Gateway does for a route with IAM authorization, for `npm start`: verify the request's
 * SigV4 signature (service `execute-api`) and find who signed it. The signature is computed again
 * with the SDK's own signer (@smithy/signature-v4) over the request as received, never by hand,
 * and compared in constant time. Failures answer as API Gateway does: 403 with its message.
 */

export const SIGV4_SERVICE = 'execute-api';
/** How far `x-amz-date` may be from the server clock, either way, as in AWS. */
export const SIGNATURE_TOLERANCE_MS = 5 * 60_000;

/** The `x-amzn-ErrorType` API Gateway answers with, by what went wrong. */
export type SigV4ErrorType =
  | 'MissingAuthenticationTokenException'
  | 'IncompleteSignatureException'
  | 'InvalidSignatureException'
  | 'UnrecognizedClientException';

/** A request that is not signed by a known person; `message` is API Gateway's text. */
export class SigV4VerificationError extends Error {
  override name = 'SigV4VerificationError';
  readonly errorType: SigV4ErrorType;

  constructor(errorType: SigV4ErrorType, message: string) {
    super(message);
    this.errorType = errorType;
  }
}

/** The request as received: raw path and query (still percent-encoded), lower-case header names. */
export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  /** The query string without `?`, as sent. */
  readonly query: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
const INVALID_TOKEN = 'The security token included in the request is invalid.';
const ALGORITHM = 'AWS4-HMAC-SHA256';
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

const fail = (type: SigV4ErrorType, message: string) => new SigV4VerificationError(type, message);

/** `Credential=…, SignedHeaders=…, Signature=…` after the algorithm. */
function authorizationParts(authorization: string): Record<string, string> {
  const parts: Record<string, string> = {};
  for (const part of authorization.slice(ALGORITHM.length).split(',')) {
    const at = part.indexOf('=');
    if (at > 0) parts[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  return parts;
}

function parseAmzDate(value: string): Date | undefined {
  const match = AMZ_DATE.exec(value);
  if (match === null) return undefined;
  const [, year, month, day, hour, minute, second] = match.map(Number);
  const date = new Date(Date.UTC(year ?? 0, (month ?? 1) - 1, day, hour, minute, second));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

const amzDate = (date: Date) => `${date.toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`;

function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The query string as the signer takes it: decoded names and values, repeats as arrays. */
function queryOf(raw: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(raw)) {
    const seen = query[name];
    query[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  return query;
}

/**
 * The person who signed `request`, or `SigV4VerificationError`. Requires `host` and `x-amz-date`
 * among the signed headers, a date within 5 minutes of `now`, an access key of a person, the
 * person's session token when they have one (signed), and `x-amz-content-sha256`, when sent, to
 * be the body's hash. Only the headers the client signed are signed again.
 */
export async function verifySigV4(
  request: ReceivedRequest,
  people: LocalPeople,
  now: Date,
): Promise<LocalPerson> {
  const authorization = request.headers.authorization;
  if (authorization === undefined || authorization.trim() === '') {
    throw fail('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  const parts = authorization.startsWith(`${ALGORITHM} `) ? authorizationParts(authorization) : {};
  const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((name) => !parts[name]);
  if (missing.length > 0) {
    throw fail(
      'IncompleteSignatureException',
      missing.map((name) => `Authorization header requires '${name}' parameter.`).join(' '),
    );
  }
  const [accessKeyId = '', scopeDate, region, service, terminator, ...extra] = (
    parts.Credential ?? ''
  ).split('/');
  if (extra.length > 0 || terminator !== 'aws4_request') {
    throw fail(
      'IncompleteSignatureException',
      "Credential should be scoped with a valid terminator: 'aws4_request'.",
    );
  }
  if (service !== SIGV4_SERVICE) {
    throw fail(
      'InvalidSignatureException',
      `Credential should be scoped to correct service: '${SIGV4_SERVICE}'.`,
    );
  }
  if (!region || !/^[a-z0-9-]{1,32}$/.test(region)) {
    throw fail('InvalidSignatureException', 'Credential should be scoped to a valid region.');
  }
  const date = request.headers['x-amz-date'];
  const signingDate = date === undefined ? undefined : parseAmzDate(date);
  if (date === undefined || signingDate === undefined) {
    throw fail(
      'IncompleteSignatureException',
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    );
  }
  if (signingDate.getTime() < now.getTime() - SIGNATURE_TOLERANCE_MS) {
    const earliest = new Date(now.getTime() - SIGNATURE_TOLERANCE_MS);
    throw fail(
      'InvalidSignatureException',
      `Signature expired: ${date} is now earlier than ${amzDate(earliest)} (${amzDate(now)} - 5 min.)`,
    );
  }
  if (signingDate.getTime() > now.getTime() + SIGNATURE_TOLERANCE_MS) {
    const latest = new Date(now.getTime() + SIGNATURE_TOLERANCE_MS);
    throw fail(
      'InvalidSignatureException',
      `Signature not yet current: ${date} is still later than ${amzDate(latest)} (${amzDate(now)} + 5 min.)`,
    );
  }
  if (scopeDate !== date.slice(0, 8)) {
    throw fail(
      'InvalidSignatureException',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${date.slice(0, 8)}', from '${date}'.`,
    );
  }
  const signedHeaders = (parts.SignedHeaders ?? '').split(';');
  for (const required of ['host', 'x-amz-date']) {
    if (!signedHeaders.includes(required)) {
      throw fail(
        'InvalidSignatureException',
        `'${required === 'host' ? 'Host' : 'X-Amz-Date'}' must be a 'SignedHeader' in the AWS Authorization.`,
      );
    }
  }
  const person = people.personWithAccessKey(accessKeyId);
  if (person === undefined) throw fail('UnrecognizedClientException', INVALID_TOKEN);
  const token = request.headers['x-amz-security-token'];
  const tokenAccepted =
    person.sessionToken === undefined
      ? token === undefined
      : token !== undefined &&
        signedHeaders.includes('x-amz-security-token') &&
        sameSecret(token, person.sessionToken);
  if (!tokenAccepted) throw fail('UnrecognizedClientException', INVALID_TOKEN);
  const contentHash = request.headers['x-amz-content-sha256'];
  if (
    contentHash !== undefined &&
    contentHash !== createHash('sha256').update(request.body, 'utf8').digest('hex')
  ) {
    throw fail(
      'InvalidSignatureException',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = request.headers[name];
    if (value === undefined) throw fail('InvalidSignatureException', MISMATCH);
    headers[name] = value;
  }
  const signer = new SignatureV4({
    service: SIGV4_SERVICE,
    region,
    credentials: {
      accessKeyId: person.accessKeyId,
      secretAccessKey: person.secretAccessKey,
      ...(person.sessionToken === undefined ? {} : { sessionToken: person.sessionToken }),
    },
    sha256: Hash.bind(null, 'sha256'),
    // The client's choice stands: its x-amz-content-sha256 is signed only if it sent one.
    applyChecksum: false,
  });
  const resigned = await signer.sign(
    new HttpRequest({
      method: request.method,
      protocol: 'http:',
      hostname: 'localhost',
      path: request.path,
      query: queryOf(request.query),
      headers,
      body: request.body,
    }),
    { signingDate, signableHeaders: new Set(signedHeaders) },
  );
  const expected = authorizationParts(String(resigned.headers.authorization ?? ''));
  const given = Buffer.from(parts.Signature ?? '', 'utf8');
  const computed = Buffer.from(expected.Signature ?? '', 'utf8');
  const matches =
    given.length === computed.length &&
    timingSafeEqual(given, computed) &&
    expected.SignedHeaders === parts.SignedHeaders;
  if (!matches) throw fail('InvalidSignatureException', MISMATCH);
  return person;
}
