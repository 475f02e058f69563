import { describe, expect, it } from 'vitest';
import { CitrixTokenProvider } from '../../../lib/citrix/cloud-auth.ts';
import {
  CitrixAuthenticationError,
  CitrixResponseValidationError,
  CitrixUnavailableError,
} from '../../../lib/citrix/errors.ts';
import type { RetryPolicy } from '../../../lib/citrix/retry.ts';
import { rejection } from '../../support/rejection.ts';

const SECRET = 's3cr3t+/=&value';
const RETRY: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 100,
  maxDelayMs: 1000,
  maxRetryAfterMs: 30_000,
};

interface SeenCall {
  readonly url: string;
  readonly init: RequestInit | undefined;
}

type Responder = (call: SeenCall) => Response | Promise<Response>;

function tokenResponse(token: string, expiresIn: string | number = '3600'): Response {
  return Response.json({ token_type: 'bearer', access_token: token, expires_in: expiresIn });
}

function setup(responders: Responder[], options: { maxAttempts?: number } = {}) {
  const calls: SeenCall[] = [];
  const sleeps: number[] = [];
  let now = 1_000_000;
  const fakeFetch: typeof fetch = async (input, init) => {
    const call = { url: String(input), init };
    calls.push(call);
    const responder = responders[Math.min(calls.length, responders.length) - 1];
    if (!responder) throw new Error('no responder');
    return responder(call);
  };
  const provider = new CitrixTokenProvider({
    baseUrl: new URL('http://127.0.0.1:9'),
    customerId: 'loy6oujtu6a4',
    credentials: async () => ({ clientId: 'client-1', clientSecret: SECRET }),
    timeoutMs: 1000,
    retry: { ...RETRY, maxAttempts: options.maxAttempts ?? RETRY.maxAttempts },
    fetch: fakeFetch,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    now: () => now,
  });
  return {
    provider,
    calls,
    sleeps,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('CitrixTokenProvider', () => {
  it('requests a client-credentials token in the documented form', async () => {
    const { provider, calls } = setup([() => tokenResponse('token-1')]);

    await expect(provider.getToken()).resolves.toBe('token-1');

    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call?.url).toBe('http://127.0.0.1:9/cctrustoauth2/loy6oujtu6a4/tokens/clients');
    expect(call?.init?.method).toBe('POST');
    expect(call?.init?.redirect).toBe('manual');
    const headers = new Headers(call?.init?.headers);
    expect(headers.get('content-type')).toBe('application/x-www-form-urlencoded');
    expect(headers.get('accept')).toBe('application/json');
    const body = new URLSearchParams(String(call?.init?.body));
    expect(Object.fromEntries(body)).toEqual({
      grant_type: 'client_credentials',
      client_id: 'client-1',
      client_secret: SECRET,
    });
  });

  it('reuses the token while it is fresh', async () => {
    const { provider, calls } = setup([
      () => tokenResponse('token-1'),
      () => tokenResponse('token-2'),
    ]);

    expect(await provider.getToken()).toBe('token-1');
    expect(await provider.getToken()).toBe('token-1');

    expect(calls).toHaveLength(1);
  });

  it('refreshes 60 s before expiry (expires_in arrives as a string)', async () => {
    const { provider, calls, advance } = setup([
      () => tokenResponse('token-1', '3600'),
      () => tokenResponse('token-2', 3600),
    ]);

    expect(await provider.getToken()).toBe('token-1');
    advance(3_600_000 - 60_001);
    expect(await provider.getToken()).toBe('token-1');
    advance(1);
    expect(await provider.getToken()).toBe('token-2');

    expect(calls).toHaveLength(2);
  });

  it('shares one in-flight request between concurrent callers', async () => {
    let release: (() => void) | undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { provider, calls } = setup([
      async () => {
        await gate;
        return tokenResponse('token-1');
      },
    ]);

    const pending = Promise.all([provider.getToken(), provider.getToken(), provider.getToken()]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    release?.();

    expect(await pending).toEqual(['token-1', 'token-1', 'token-1']);
    expect(calls).toHaveLength(1);
  });

  it('invalidate drops only the token it names', async () => {
    const { provider, calls } = setup([
      () => tokenResponse('token-1'),
      () => tokenResponse('token-2'),
    ]);

    await provider.getToken();
    provider.invalidate('some-older-token');
    expect(await provider.getToken()).toBe('token-1');
    provider.invalidate('token-1');
    expect(await provider.getToken()).toBe('token-2');

    expect(calls).toHaveLength(2);
  });

  it.each([400, 401])(
    'turns a %i from the token endpoint into CitrixAuthenticationError without retrying',
    async (status) => {
      const { provider, calls, sleeps } = setup([
        () =>
          Response.json(
            // A server that echoes the secret must still not leak it.
            {
              error: 'invalid_client',
              error_description: `bad secret ${SECRET} / ${encodeURIComponent(SECRET)}`,
            },
            { status },
          ),
      ]);

      const error = await rejection(provider.getToken());

      expect(error).toBeInstanceOf(CitrixAuthenticationError);
      expect(error.name).toBe('CitrixAuthenticationError');
      expect((error as CitrixAuthenticationError).status).toBe(status);
      expect((error as CitrixAuthenticationError).errorType).toBe('invalid_client');
      expect((error as CitrixAuthenticationError).path).toBe(
        '/cctrustoauth2/loy6oujtu6a4/tokens/clients',
      );
      expect(calls).toHaveLength(1);
      expect(sleeps).toEqual([]);
      const serialised = `${error.message} ${JSON.stringify(error)} ${error.stack}`;
      expect(serialised).toContain('[REDACTED]');
      expect(serialised).not.toContain(SECRET);
      expect(serialised).not.toContain(encodeURIComponent(SECRET));
      expect(serialised).not.toContain('s3cr3t');
    },
  );

  it('retries 503 from the token endpoint with backoff', async () => {
    const { provider, calls, sleeps } = setup([
      () => new Response('busy', { status: 503 }),
      () => tokenResponse('token-1'),
    ]);

    expect(await provider.getToken()).toBe('token-1');
    expect(calls).toHaveLength(2);
    expect(sleeps).toEqual([50]);
  });

  it('does not cache a failed request', async () => {
    const { provider, calls } = setup(
      [() => new Response('down', { status: 500 }), () => tokenResponse('token-1')],
      { maxAttempts: 1 },
    );

    await expect(provider.getToken()).rejects.toBeInstanceOf(CitrixUnavailableError);
    expect(await provider.getToken()).toBe('token-1');
    expect(calls).toHaveLength(2);
  });

  it('does not cache a failed credentials lookup', async () => {
    let lookups = 0;
    const provider = new CitrixTokenProvider({
      baseUrl: new URL('http://127.0.0.1:9'),
      customerId: 'acme',
      credentials: async () => {
        lookups += 1;
        if (lookups === 1) throw new Error('secrets manager unavailable');
        return { clientId: 'c', clientSecret: SECRET };
      },
      timeoutMs: 1000,
      retry: RETRY,
      fetch: async () => tokenResponse('token-1'),
    });

    await expect(provider.getToken()).rejects.toThrow('secrets manager unavailable');
    expect(await provider.getToken()).toBe('token-1');
  });

  it.each([
    ['missing access_token', { expires_in: '3600' }],
    ['empty access_token', { access_token: '', expires_in: '3600' }],
    ['header-unsafe access_token', { access_token: 'abc\r\nX-Evil: 1', expires_in: '3600' }],
    ['non-numeric expires_in', { access_token: 'token-x', expires_in: 'soon' }],
    ['zero expires_in', { access_token: 'token-x', expires_in: '0' }],
  ])('rejects a token response with %s without quoting it', async (_label, body) => {
    const { provider } = setup([() => Response.json(body)]);

    const error = await rejection(provider.getToken());

    expect(error).toBeInstanceOf(CitrixResponseValidationError);
    expect(error.message).not.toContain('token-x');
    expect(error.message).not.toContain('abc');
  });

  it('uses half the lifetime of a token shorter-lived than the refresh margin', async () => {
    const { provider, calls, advance } = setup([
      () => tokenResponse('token-1', '30'),
      () => tokenResponse('token-2', '30'),
    ]);

    expect(await provider.getToken()).toBe('token-1');
    advance(14_999);
    expect(await provider.getToken()).toBe('token-1');
    advance(1);
    expect(await provider.getToken()).toBe('token-2');
    expect(calls).toHaveLength(2);
  });
});
