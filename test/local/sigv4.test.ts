import { createHash } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { LocalPeopleSchema } from '../../local/people.ts';
import { type ReceivedRequest, SigV4VerificationError, verifySigV4 } from '../../local/sigv4.ts';
import { rejection } from '../support/rejection.ts';
import { sigV4Headers, TEST_PEOPLE } from '../support/signed-request.ts';

/**
 * The local stand-in for API Gateway's IAM authorization: a request signed by a person's key
 * (the AWS SDK's own signer, as the CLI uses) is theirs; anything else is refused with the
 * message API Gateway gives.
 */
const SESSION_TOKEN = 'local-session-token-for-the-on-call-person';
const PEOPLE = LocalPeopleSchema.parse({
  ...TEST_PEOPLE,
  'on.call@example.com': {
    accessKeyId: 'TESTONCALL0000000003',
    secretAccessKey: 'test-on-call-secret-access-key',
    sessionToken: SESSION_TOKEN,
  },
});
const REQUESTER = TEST_PEOPLE['requester@example.com'];
const API = 'http://127.0.0.1:3000';
const NOW = new Date('2026-12-03T10:00:00.000Z');

/** A request as the local server receives it, signed for `url` (and sent as `sent` says). */
async function received(
  url: string,
  options: {
    body?: string;
    credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
    signingDate?: Date;
    sent?: Partial<ReceivedRequest>;
  } = {},
): Promise<ReceivedRequest> {
  const body = options.body ?? '';
  const method = body ? 'POST' : 'GET';
  const headers = await sigV4Headers(url, {
    method,
    body,
    credentials: options.credentials ?? REQUESTER,
    signingDate: options.signingDate ?? NOW,
    ...(body ? { headers: { 'content-type': 'application/json' } } : {}),
  });
  const target = new URL(url);
  return {
    method,
    path: target.pathname,
    query: target.search.slice(1),
    headers: { ...headers, 'user-agent': 'test' },
    body,
    ...options.sent,
  };
}

/** API Gateway's answer to `request`: the person, or its error type and message. */
async function verdict(request: ReceivedRequest, now = NOW) {
  try {
    return { person: (await verifySigV4(request, PEOPLE, now)).name };
  } catch (error) {
    if (!(error instanceof SigV4VerificationError)) throw error;
    return { errorType: error.errorType, message: error.message };
  }
}

const BODY = JSON.stringify({ action: 'device.wipe', target: { deviceId: '1042' }, reason: 'r' });
const MISMATCH = {
  errorType: 'InvalidSignatureException',
  message: expect.stringMatching(/^The request signature we calculated does not match/),
};

describe('verifySigV4', () => {
  it('finds the person who signed a POST with a body', async () => {
    expect(await verdict(await received(`${API}/v1/actions`, { body: BODY }))).toEqual({
      person: 'requester@example.com',
    });
  });

  it('finds the person who signed a GET with a query string, encoded as sent', async () => {
    const url = `${API}/v1/actions?target=alice%40example.com&since=PT24H&status=failed%2Crefused`;
    expect(await verdict(await received(url))).toEqual({ person: 'requester@example.com' });
  });

  it('finds a person signing with temporary credentials and their session token', async () => {
    const credentials = { ...PEOPLE.people[2], sessionToken: SESSION_TOKEN } as {
      accessKeyId: string;
      secretAccessKey: string;
      sessionToken: string;
    };
    expect(await verdict(await received(`${API}/v1/actions`, { credentials }))).toEqual({
      person: 'on.call@example.com',
    });
  });

  it('refuses the right access key with the wrong secret', async () => {
    const credentials = { ...REQUESTER, secretAccessKey: 'not-the-requester-secret' };
    expect(await verdict(await received(`${API}/v1/actions`, { body: BODY, credentials }))).toEqual(
      MISMATCH,
    );
  });

  it('refuses an access key nobody holds', async () => {
    const credentials = { accessKeyId: 'AKIDNOBODY0000000000', secretAccessKey: 'whatever' };
    expect(await verdict(await received(`${API}/v1/actions`, { credentials }))).toEqual({
      errorType: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    });
  });

  it('refuses a tampered body, whether or not its hash header was changed to match', async () => {
    const request = await received(`${API}/v1/actions`, { body: BODY });
    const tampered = BODY.replace('1042', '2001');
    expect(await verdict({ ...request, body: tampered })).toEqual({
      errorType: 'InvalidSignatureException',
      message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
    });
    const rehashed = {
      ...request,
      body: tampered,
      headers: {
        ...request.headers,
        'x-amz-content-sha256': createHash('sha256').update(tampered).digest('hex'),
      },
    };
    expect(await verdict(rehashed)).toEqual(MISMATCH);
  });

  it('refuses a request sent to another path, or with another query', async () => {
    const id = 'act_0123456789abcdef0123456789abcdef';
    const approve = await received(`${API}/v1/actions/${id}/reject`, { body: '{}' });
    expect(await verdict({ ...approve, path: `/v1/actions/${id}/approve` })).toEqual(MISMATCH);
    const list = await received(`${API}/v1/actions?ticket=INC1`);
    expect(await verdict({ ...list, query: 'ticket=INC2' })).toEqual(MISMATCH);
  });

  it('refuses a signature that does not cover the host', async () => {
    const signer = new SignatureV4({
      service: 'execute-api',
      region: 'eu-west-1',
      credentials: REQUESTER,
      sha256: Hash.bind(null, 'sha256'),
    });
    const signed = await signer.sign(
      new HttpRequest({
        method: 'GET',
        protocol: 'http:',
        hostname: '127.0.0.1',
        path: '/v1/actions',
        headers: {},
      }),
      { signingDate: NOW },
    );
    const headers = Object.fromEntries(
      Object.entries(signed.headers).map(([name, value]) => [name, String(value)]),
    );
    const request = {
      method: 'GET',
      path: '/v1/actions',
      query: '',
      headers: { ...headers, host: '127.0.0.1:3000' },
      body: '',
    };
    expect(await verdict(request)).toEqual({
      errorType: 'InvalidSignatureException',
      message: "'Host' must be a 'SignedHeader' in the AWS Authorization.",
    });
  });

  it('refuses a request signed more than 5 minutes before or after now', async () => {
    const request = await received(`${API}/v1/actions`);
    expect(await verdict(request, new Date(NOW.getTime() + 5 * 60_000 + 1000))).toEqual({
      errorType: 'InvalidSignatureException',
      message:
        'Signature expired: 20261203T100000Z is now earlier than 20261203T100001Z (20261203T100501Z - 5 min.)',
    });
    expect(await verdict(request, new Date(NOW.getTime() - 6 * 60_000))).toEqual({
      errorType: 'InvalidSignatureException',
      message:
        'Signature not yet current: 20261203T100000Z is still later than 20261203T095900Z (20261203T095400Z + 5 min.)',
    });
    expect(await verdict(request, new Date(NOW.getTime() + 4 * 60_000))).toEqual({
      person: 'requester@example.com',
    });
  });

  it('refuses a session token the person does not have, and a person without theirs', async () => {
    const withToken = { ...REQUESTER, sessionToken: 'a-token-nobody-issued-0000' };
    expect(await verdict(await received(`${API}/v1/actions`, { credentials: withToken }))).toEqual({
      errorType: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    });
    const onCall = PEOPLE.people[2] as { accessKeyId: string; secretAccessKey: string };
    const withoutToken = {
      accessKeyId: onCall.accessKeyId,
      secretAccessKey: onCall.secretAccessKey,
    };
    expect(
      await verdict(await received(`${API}/v1/actions`, { credentials: withoutToken })),
    ).toMatchObject({ errorType: 'UnrecognizedClientException' });
  });

  it.each([
    ['no Authorization header', {}, 'Missing Authentication Token'],
    [
      'a Standard Webhooks signature instead',
      { 'webhook-id': 'msg_1', 'webhook-timestamp': '1', 'webhook-signature': 'v1,abc' },
      'Missing Authentication Token',
    ],
    [
      'another scheme',
      { authorization: 'Bearer eyJhbGciOi' },
      "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter.",
    ],
  ])('refuses %s', async (_, headers, message) => {
    const request = {
      method: 'GET',
      path: '/v1/actions',
      query: '',
      headers: { host: 'h', ...headers },
      body: '',
    };
    expect((await verdict(request)).message).toBe(message);
  });

  it('refuses a credential scoped to another service', async () => {
    const request = await received(`${API}/v1/actions`);
    const authorization = String(request.headers.authorization).replace('/execute-api/', '/s3/');
    expect(await verdict({ ...request, headers: { ...request.headers, authorization } })).toEqual({
      errorType: 'InvalidSignatureException',
      message: "Credential should be scoped to correct service: 'execute-api'.",
    });
  });

  it('throws nothing but its own error, whatever the headers', async () => {
    const request = await received(`${API}/v1/actions`);
    for (const authorization of [
      'AWS4-HMAC-SHA256 Credential=a/b/c/execute-api/aws4_request, SignedHeaders=host, Signature=00',
      'AWS4-HMAC-SHA256 Credential=, SignedHeaders=, Signature=',
      'AWS4-HMAC-SHA256',
      'AWS4-HMAC-SHA256 Credential=x/20261203/eu-west-1/execute-api/aws4_request/extra, SignedHeaders=host;x-amz-date, Signature=ab',
    ]) {
      const error = await rejection(
        verifySigV4({ ...request, headers: { ...request.headers, authorization } }, PEOPLE, NOW),
      );
      expect(error, authorization).toBeInstanceOf(SigV4VerificationError);
    }
  });
});
