import { describe, expect, it } from 'vitest';
import {
  ApiAnswerError,
  ApiClient,
  ApiUnreachableError,
  SignatureRefusedError,
} from '../../cli/api-client.ts';
import { personCredentials } from '../../cli/credentials.ts';
import { closedPort } from '../support/loopback-server.ts';
import { ACTION_ID, FAKE_PEOPLE, type FakePerson, useFakeApi, viewOf } from './support/fake-api.ts';

const startFakeApi = useFakeApi();

function clientFor(
  baseUrl: URL,
  person: FakePerson | { accessKeyId: string; secretAccessKey: string },
) {
  const keys = typeof person === 'string' ? FAKE_PEOPLE[person] : person;
  const sleeps: number[] = [];
  const client = new ApiClient({
    baseUrl,
    region: 'eu-west-1',
    credentials: personCredentials(
      { AWS_ACCESS_KEY_ID: keys.accessKeyId, AWS_SECRET_ACCESS_KEY: keys.secretAccessKey },
      undefined,
    ),
    fetch,
    sleep: async (milliseconds) => {
      sleeps.push(milliseconds);
    },
  });
  return { client, sleeps };
}

describe('ApiClient', () => {
  it('signs every request with SigV4 for execute-api, verifiable with @smithy/signature-v4', async () => {
    // Prepare
    const fake = await startFakeApi((request) =>
      request.method === 'POST'
        ? { status: 202, body: { actionId: ACTION_ID, status: 'accepted', duplicate: false } }
        : request.query.size > 0
          ? { status: 200, body: { actions: [] } }
          : { status: 200, body: viewOf({ status: 'running' }) },
    );
    const { client } = clientFor(fake.server.baseUrl, 'it.manager');

    // Act
    await client.submit(
      { action: 'session.logoff', target: { user: 'a@example.com' }, reason: 'r' },
      'key-1',
    );
    await client.view(ACTION_ID);
    await client.list({ ticket: 'INC 0012 (sev*1)', target: "o'brien@example.com", limit: '5' });

    // Assess
    expect(fake.requests.map((request) => request.person)).toEqual([
      'it.manager',
      'it.manager',
      'it.manager',
    ]);
    expect(fake.requests[0]?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAFAKEITMANAGER002\/\d{8}\/eu-west-1\/execute-api\/aws4_request, /,
    );
    expect(fake.requests[2]?.query.get('ticket')).toBe('INC 0012 (sev*1)');
  });

  it('keeps the stage of a base URL (…/prod/) in every path', async () => {
    const fake = await startFakeApi(() => ({ status: 200, body: viewOf({ status: 'running' }) }));
    const { client } = clientFor(new URL('prod', fake.server.baseUrl), 'soc.lead');

    await client.view(ACTION_ID);

    expect(fake.requests[0]?.path).toBe(`/prod/v1/actions/${ACTION_ID}`);
    expect(fake.requests[0]?.person).toBe('soc.lead');
  });

  it('sends the Idempotency-Key, and the same one again when it retries a 503', async () => {
    let calls = 0;
    const fake = await startFakeApi(() => {
      calls += 1;
      return calls === 1
        ? { status: 503, body: { message: 'Service Unavailable' } }
        : { status: 202, body: { actionId: ACTION_ID, status: 'accepted' } };
    });
    const { client, sleeps } = clientFor(fake.server.baseUrl, 'soc.lead');

    const accepted = await client.submit({ action: 'session.logoff' }, 'invocation-key-1');

    expect(accepted.actionId).toBe(ACTION_ID);
    expect(fake.requests.map((request) => request.headers['idempotency-key'])).toEqual([
      'invocation-key-1',
      'invocation-key-1',
    ]);
    expect(fake.requests.every((request) => request.person === 'soc.lead')).toBe(true);
    expect(sleeps).toHaveLength(1);
  });

  it('never retries a POST without an idempotency key (a decision)', async () => {
    const fake = await startFakeApi(() => ({
      status: 503,
      body: { message: 'Service Unavailable' },
    }));
    const { client } = clientFor(fake.server.baseUrl, 'soc.lead');

    await expect(client.decide(ACTION_ID, 'approve', undefined)).rejects.toBeInstanceOf(
      ApiAnswerError,
    );
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.json).toEqual({});
  });

  it("reports the API's error code, message and fields", async () => {
    const fake = await startFakeApi(() => ({
      status: 400,
      body: {
        error: {
          code: 'invalid_request',
          message: 'Invalid request: requestedBy',
          fields: [{ field: 'requestedBy', message: 'is not a field of this request' }],
        },
      },
    }));
    const { client } = clientFor(fake.server.baseUrl, 'soc.lead');

    const error = await client.submit({}, 'k').catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ApiAnswerError);
    expect(error).toMatchObject({
      status: 400,
      code: 'invalid_request',
      fields: [{ field: 'requestedBy', message: 'is not a field of this request' }],
    });
  });

  it('a refused signature names the access key by its last 4 characters, never the secret', async () => {
    const fake = await startFakeApi(() => ({ status: 200, body: {} }));
    // soc.lead's key id with a secret that is not theirs: the signature does not verify.
    const stranger = {
      accessKeyId: FAKE_PEOPLE['soc.lead'].accessKeyId,
      secretAccessKey: 'not-the-secret-value-0000',
    };
    const { client } = clientFor(fake.server.baseUrl, stranger);

    const error = await client.view(ACTION_ID).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(SignatureRefusedError);
    const { message } = error as Error;
    expect(message).toContain('403 The request signature we calculated does not match');
    expect(fake.requests[0]?.person).toBeUndefined();
    expect(message).toContain('access key …0001 from AWS_ACCESS_KEY_ID');
    expect(message).toContain('--profile');
    expect(message).not.toContain(stranger.secretAccessKey);
    expect(message).not.toContain(stranger.accessKeyId);
  });

  it('says to run npm start, or to pass --api, when nothing listens', async () => {
    const port = await closedPort();
    const { client } = clientFor(new URL(`http://127.0.0.1:${port}`), 'soc.lead');

    const error = await client.view(ACTION_ID).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ApiUnreachableError);
    expect((error as Error).message).toMatch(/ECONNREFUSED.*npm start.*--api/);
  });
});
