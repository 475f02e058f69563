import { describe, expect, it } from 'vitest';
import {
  CallbackConfigurationError,
  CallbackDeliveryError,
  parseCallbackDestinations,
  SignedCallbackSender,
  UnknownCallbackError,
} from '../../../lib/callbacks/signed-callback.ts';
import { DEFAULT_RETRY_POLICY } from '../../../lib/citrix/retry.ts';
import { verifyStandardWebhook } from '../../../lib/webhooks/standard-webhooks.ts';
import { type RecordedRequest, useLoopbackServers } from '../../support/loopback-server.ts';
import { rejection } from '../../support/rejection.ts';

const startLoopback = useLoopbackServers();

const SECRET = `whsec_${Buffer.from('callback signing secret, 32 bytes').toString('base64')}`;
const RAW_SECRET = 'Q8d0mZk3b1V7xT2pL9sW4yN6rC5eA0hJ';
const PAYLOAD = { actionId: 'act_1', status: 'succeeded', results: [{ outcome: 'succeeded' }] };

/** A receiver on loopback answering with `statuses` in turn (the last one repeats). */
function fakeReceiver(...statuses: number[]) {
  let answered = 0;
  return startLoopback((_request, response) => {
    const status = statuses[Math.min(answered, statuses.length - 1)] ?? 500;
    answered += 1;
    response.writeHead(status).end();
  });
}

function headersOf(request: RecordedRequest): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(request.headers).map(([name, value]) => [
      name,
      Array.isArray(value) ? value.join(', ') : value,
    ]),
  );
}

function sender(
  destinations: Record<string, URL>,
  overrides: { secret?: string; maxAttempts?: number; now?: () => number } = {},
) {
  const sleeps: number[] = [];
  const callbacks = new SignedCallbackSender({
    destinations: new Map(Object.entries(destinations)),
    signingSecret: async () => overrides.secret ?? SECRET,
    timeoutMs: 2000,
    retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: overrides.maxAttempts ?? 3 },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...(overrides.now ? { now: overrides.now } : {}),
  });
  return { callbacks, sleeps };
}

describe('SignedCallbackSender.send', () => {
  it('POSTs the payload as JSON, signed so that verifyStandardWebhook accepts it', async () => {
    const receiver = await fakeReceiver(204);
    const url = new URL('/hooks/citrix?tenant=acme', receiver.baseUrl);
    const { callbacks } = sender({ soar: url });

    expect(await callbacks.send('soar', PAYLOAD, 'act_1:succeeded')).toEqual({
      status: 204,
      attempts: 1,
    });

    const request = receiver.requests[0] as RecordedRequest;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/hooks/citrix?tenant=acme');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['webhook-id']).toBe('act_1:succeeded');
    expect(JSON.parse(request.body)).toEqual(PAYLOAD);
    expect(() => verifyStandardWebhook(SECRET, request.body, headersOf(request))).not.toThrow();
    // A different secret does not verify: the signature really is over this body with this key.
    expect(() => verifyStandardWebhook(RAW_SECRET, request.body, headersOf(request))).toThrow();
  });

  it('signs with a raw (unprefixed) secret as the inbound endpoint accepts it', async () => {
    const receiver = await fakeReceiver(200);
    const { callbacks } = sender({ soar: receiver.baseUrl }, { secret: RAW_SECRET });
    await callbacks.send('soar', PAYLOAD, 'act_1:failed');
    const request = receiver.requests[0] as RecordedRequest;
    expect(() => verifyStandardWebhook(RAW_SECRET, request.body, headersOf(request))).not.toThrow();
  });

  it('retries 503 and 429 with the same webhook-id, re-signing each attempt with a fresh timestamp', async () => {
    const receiver = await fakeReceiver(503, 429, 200);
    let clock = Date.now();
    const now = () => {
      clock += 1500;
      return clock;
    };
    const { callbacks, sleeps } = sender({ soar: receiver.baseUrl }, { now });

    expect(await callbacks.send('soar', PAYLOAD, 'act_1:succeeded')).toEqual({
      status: 200,
      attempts: 3,
    });

    expect(receiver.requests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    const ids = receiver.requests.map((request) => request.headers['webhook-id']);
    expect(ids).toEqual(['act_1:succeeded', 'act_1:succeeded', 'act_1:succeeded']);
    const timestamps = receiver.requests.map((request) =>
      Number(request.headers['webhook-timestamp']),
    );
    expect(new Set(timestamps).size).toBe(3);
    expect(timestamps).toEqual([...timestamps].sort((a, b) => a - b));
    for (const request of receiver.requests) {
      expect(() => verifyStandardWebhook(SECRET, request.body, headersOf(request))).not.toThrow();
    }
  });

  it('fails with the last status after the policy attempts, never quoting the secret or the URL path', async () => {
    const receiver = await fakeReceiver(500);
    const url = new URL('/hooks/T0KEN-in-path?key=query-token', receiver.baseUrl);
    const { callbacks } = sender({ soar: url }, { maxAttempts: 2 });

    const error = await rejection(callbacks.send('soar', PAYLOAD, 'act_1:succeeded'));
    expect(error).toBeInstanceOf(CallbackDeliveryError);
    expect(error).toMatchObject({
      name: 'CallbackDeliveryError',
      destination: 'soar',
      status: 500,
      attempts: 2,
    });
    expect(error.message).toContain(receiver.baseUrl.origin);
    for (const secret of [SECRET, 'T0KEN-in-path', 'query-token']) {
      expect(error.message).not.toContain(secret);
    }
    expect(receiver.requests).toHaveLength(2);
  });

  it.each([400, 401, 404, 410])('does not retry a %i', async (status) => {
    const receiver = await fakeReceiver(status);
    const { callbacks } = sender({ soar: receiver.baseUrl });
    expect(await rejection(callbacks.send('soar', PAYLOAD, 'act_1:succeeded'))).toMatchObject({
      name: 'CallbackDeliveryError',
      status,
      attempts: 1,
    });
    expect(receiver.requests).toHaveLength(1);
  });

  it('does not follow a redirect', async () => {
    const elsewhere = await fakeReceiver(200);
    const receiver = await startLoopback((_request, response) => {
      response.writeHead(302, { location: elsewhere.baseUrl.href }).end();
    });
    const { callbacks } = sender({ soar: receiver.baseUrl });

    const error = await rejection(callbacks.send('soar', PAYLOAD, 'act_1:succeeded'));
    expect(error).toMatchObject({ name: 'CallbackDeliveryError', status: 302, attempts: 1 });
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('refuses an unknown destination without sending or reading the secret', async () => {
    const receiver = await fakeReceiver(200);
    let secretReads = 0;
    const callbacks = new SignedCallbackSender({
      destinations: new Map([['soar', receiver.baseUrl]]),
      signingSecret: async () => {
        secretReads += 1;
        return SECRET;
      },
      timeoutMs: 2000,
      retry: DEFAULT_RETRY_POLICY,
    });

    const error = await rejection(callbacks.send('elsewhere', PAYLOAD, 'act_1:succeeded'));
    expect(error).toBeInstanceOf(UnknownCallbackError);
    expect(error).toMatchObject({ name: 'UnknownCallbackError', destination: 'elsewhere' });
    expect(receiver.requests).toHaveLength(0);
    expect(secretReads).toBe(0);
  });

  it('reports a receiver that cannot be reached, without a status', async () => {
    const closed = await fakeReceiver(200);
    await closed.close();
    const { callbacks } = sender({ soar: closed.baseUrl }, { maxAttempts: 2 });
    expect(await rejection(callbacks.send('soar', PAYLOAD, 'act_1:succeeded'))).toMatchObject({
      name: 'CallbackDeliveryError',
      status: undefined,
      attempts: 2,
    });
  });

  it('refuses a message id that could split headers', async () => {
    const receiver = await fakeReceiver(200);
    const { callbacks } = sender({ soar: receiver.baseUrl });
    await expect(callbacks.send('soar', PAYLOAD, 'act_1\r\nx-injected: 1')).rejects.toThrow(
      TypeError,
    );
    expect(receiver.requests).toHaveLength(0);
  });
});

describe('parseCallbackDestinations', () => {
  it('reads named https destinations, keeping a query, and loopback http', () => {
    const destinations = parseCallbackDestinations(
      JSON.stringify({
        soar: 'https://soar.example.com/hooks/citrix?tenant=acme',
        'local-test-1': 'http://127.0.0.1:9000/hook',
      }),
    );
    expect([...destinations.keys()]).toEqual(['soar', 'local-test-1']);
    expect(destinations.get('soar')?.href).toBe(
      'https://soar.example.com/hooks/citrix?tenant=acme',
    );
    expect(destinations.get('local-test-1')?.href).toBe('http://127.0.0.1:9000/hook');
  });

  it.each([undefined, '', '  ', '{}'])('has no destinations for %j', (value) => {
    expect(parseCallbackDestinations(value).size).toBe(0);
  });

  const configurationError = (json: string): Error => {
    try {
      parseCallbackDestinations(json);
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected a CallbackConfigurationError');
  };

  it.each([
    ['http to a remote host', { soar: 'http://soar.example.com/hook' }, /"soar" must be https/],
    [
      'credentials in the URL',
      { soar: 'https://user:hunter2@soar.example.com/hook' },
      /"soar" must not carry credentials/,
    ],
    ['a fragment', { soar: 'https://soar.example.com/hook#x' }, /"soar" must not have a fragment/],
    ['a non-URL', { soar: 'soar.example.com' }, /"soar" is not a valid URL/],
    ['a non-string URL', { soar: 42 }, /"soar" must be a URL string/],
    ['an upper-case name', { SOAR: 'https://soar.example.com' }, /"SOAR" must be 1-40/],
    ['a name with a dot', { 'soar.prod': 'https://soar.example.com' }, /"soar.prod" must be 1-40/],
    ['a name too long', { ['a'.repeat(41)]: 'https://soar.example.com' }, /must be 1-40/],
  ])('refuses %s, naming the entry', (_case, value, message) => {
    const error = configurationError(JSON.stringify(value));
    expect(error).toBeInstanceOf(CallbackConfigurationError);
    expect(error.name).toBe('CallbackConfigurationError');
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('hunter2');
  });

  it.each(['not json', '[]', '"https://soar.example.com"', 'null'])('refuses %j', (json) => {
    expect(configurationError(json)).toBeInstanceOf(CallbackConfigurationError);
  });
});
