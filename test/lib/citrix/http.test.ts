import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  CitrixApiError,
  CitrixAuthenticationError,
  CitrixForbiddenError,
  CitrixNotFoundError,
  CitrixResponseValidationError,
  CitrixThrottledError,
  CitrixTimeoutError,
  CitrixUnavailableError,
} from '../../../lib/citrix/errors.ts';
import {
  type CitrixCallRecord,
  CitrixHttpClient,
  type CitrixHttpOptions,
  type TokenSource,
} from '../../../lib/citrix/http.ts';
import type { RetryPolicy } from '../../../lib/citrix/retry.ts';
import {
  type LoopbackServer,
  type RecordedRequest,
  useLoopbackServers,
} from '../../support/loopback-server.ts';
import { rejection } from '../../support/rejection.ts';

type Reply = (response: ServerResponse, request: RecordedRequest) => void;

const startLoopback = useLoopbackServers();

/** Loopback server answering with `replies` in order (the last one repeats). */
async function startServer(...replies: Reply[]): Promise<LoopbackServer> {
  let received = 0;
  return startLoopback((request, response) => {
    received += 1;
    replies[Math.min(received, replies.length) - 1]?.(response, request);
  });
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return (response) => {
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    response.end(JSON.stringify(body));
  };
}

function text(status: number, body: string, headers: Record<string, string> = {}): Reply {
  return (response) => {
    response.writeHead(status, headers);
    response.end(body);
  };
}

const neverReply: Reply = () => {};

class FakeTokens implements TokenSource {
  issued = 0;
  readonly invalidated: string[] = [];
  #current: string | undefined;

  async getToken(): Promise<string> {
    if (this.#current === undefined) {
      this.issued += 1;
      this.#current = `tok-${this.issued}`;
    }
    return this.#current;
  }

  invalidate(token: string): void {
    this.invalidated.push(token);
    if (this.#current === token) this.#current = undefined;
  }
}

const RETRY: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 100,
  maxDelayMs: 1000,
  maxRetryAfterMs: 30_000,
};

function makeClient(server: LoopbackServer, overrides: Partial<CitrixHttpOptions> = {}) {
  const sleeps: number[] = [];
  const calls: CitrixCallRecord[] = [];
  const tokens = new FakeTokens();
  const client = new CitrixHttpClient({
    baseUrl: server.baseUrl,
    tokens,
    headers: async () => ({ 'Citrix-CustomerId': 'acme', 'Citrix-InstanceId': 'site-1' }),
    timeoutMs: 2000,
    retry: RETRY,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    onCall: (call) => calls.push(call),
    ...overrides,
  });
  return { client, sleeps, calls, tokens };
}

const LOGOFF_PATH = '/cvad/manage/Sessions/41ba32e9-d12b-485c-afd2-c4d0d047cd8b/$logoff';

describe('CitrixHttpClient request', () => {
  it('sends the Citrix headers, query and JSON body, and parses the JSON response', async () => {
    const server = await startServer(json(200, { Items: [], TotalItems: 0 }));
    const { client } = makeClient(server);

    const response = await client.request({
      method: 'POST',
      path: '/cvad/manage/Sessions/$search',
      query: { limit: '1000', continuationToken: undefined },
      body: {
        SearchFilters: [{ Property: 'CurrentUser', Value: 'CORP\\bob', Operator: 'Equals' }],
      },
      transactionId: 'b9c2f3c4-0000-4000-8000-000000000001',
    });

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ Items: [], TotalItems: 0 });
    const [seen] = server.requests;
    expect(seen?.method).toBe('POST');
    expect(seen?.url).toBe('/cvad/manage/Sessions/$search?limit=1000');
    expect(seen?.headers.authorization).toBe('CWSAuth bearer=tok-1');
    expect(seen?.headers.accept).toBe('application/json');
    expect(seen?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(seen?.headers['citrix-customerid']).toBe('acme');
    expect(seen?.headers['citrix-instanceid']).toBe('site-1');
    expect(seen?.headers['citrix-transactionid']).toBe('b9c2f3c4-0000-4000-8000-000000000001');
    expect(JSON.parse(seen?.body ?? '')).toEqual({
      SearchFilters: [{ Property: 'CurrentUser', Value: 'CORP\\bob', Operator: 'Equals' }],
    });
  });

  it('sends no Content-Type or transaction id when there is neither body nor id', async () => {
    const server = await startServer(text(200, ''));
    const { client } = makeClient(server);

    const response = await client.request({ method: 'GET', path: '/cvad/manage/me' });

    expect(response.body).toBeUndefined();
    expect(server.requests[0]?.headers['content-type']).toBeUndefined();
    expect(server.requests[0]?.headers['citrix-transactionid']).toBeUndefined();
  });

  it('does not let per-request headers replace the Authorization header', async () => {
    const server = await startServer(json(200, {}));
    const { client } = makeClient(server);

    await client.request({
      method: 'GET',
      path: '/x',
      headers: { Authorization: 'Basic abc', 'Citrix-Locale': 'en-US' },
    });

    expect(server.requests[0]?.headers.authorization).toBe('CWSAuth bearer=tok-1');
    expect(server.requests[0]?.headers['citrix-locale']).toBe('en-US');
  });

  it('rejects a path that could leave the configured origin, before any request', async () => {
    const server = await startServer(json(200, {}));
    const { client, tokens } = makeClient(server);

    for (const path of ['//evil.example.com/x', 'cvad/manage', '/x?y=1', '/x#y']) {
      await expect(client.request({ method: 'GET', path })).rejects.toThrow(TypeError);
    }
    expect(server.requests).toHaveLength(0);
    expect(tokens.issued).toBe(0);
  });
});

describe('CitrixHttpClient retries', () => {
  it('waits exactly Retry-After on 429 and then succeeds', async () => {
    const server = await startServer(
      text(429, '', { 'retry-after': '3' }),
      json(200, { ok: true }),
    );
    const { client, sleeps } = makeClient(server);

    const response = await client.request({ method: 'GET', path: '/cvad/manage/me' });

    expect(response.body).toEqual({ ok: true });
    expect(sleeps).toEqual([3000]);
    expect(server.requests).toHaveLength(2);
  });

  it('backs off with jitter through a burst of 503s', async () => {
    const server = await startServer(text(503, 'busy'), text(503, 'busy'), json(200, { ok: 1 }));
    const { client, sleeps } = makeClient(server);

    const response = await client.request({ method: 'GET', path: '/cvad/manage/me' });

    expect(response.status).toBe(200);
    // random() = 0.5 of the caps 100 and 200.
    expect(sleeps).toEqual([50, 100]);
    expect(server.requests).toHaveLength(3);
  });

  it.each([
    [400, CitrixApiError],
    [403, CitrixForbiddenError],
    [404, CitrixNotFoundError],
    [409, CitrixApiError],
    [422, CitrixApiError],
  ])('does not retry %i', async (status, errorClass) => {
    const server = await startServer(json(status, { Detail: 'no' }));
    const { client, sleeps } = makeClient(server);

    const error = await rejection(client.request({ method: 'POST', path: LOGOFF_PATH }));

    expect(error).toBeInstanceOf(errorClass);
    expect((error as CitrixApiError).status).toBe(status);
    expect(server.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('refreshes the token once on 401 without using a retry attempt', async () => {
    const server = await startServer(text(401, ''), json(200, { ok: true }));
    const { client, sleeps, tokens } = makeClient(server, {
      retry: { ...RETRY, maxAttempts: 1 },
    });

    const response = await client.request({ method: 'GET', path: '/cvad/manage/me' });

    expect(response.body).toEqual({ ok: true });
    expect(tokens.invalidated).toEqual(['tok-1']);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([
      'CWSAuth bearer=tok-1',
      'CWSAuth bearer=tok-2',
    ]);
    expect(sleeps).toEqual([]);
  });

  it('gives up with CitrixAuthenticationError on a second 401', async () => {
    const server = await startServer(text(401, ''));
    const { client, tokens } = makeClient(server);

    const error = await rejection(client.request({ method: 'GET', path: '/cvad/manage/me' }));

    expect(error).toBeInstanceOf(CitrixAuthenticationError);
    expect(error.name).toBe('CitrixAuthenticationError');
    expect((error as CitrixAuthenticationError).status).toBe(401);
    expect(server.requests).toHaveLength(2);
    expect(tokens.issued).toBe(2);
    expect(error.message).not.toContain('tok-');
  });

  it('times out each attempt and throws CitrixTimeoutError after maxAttempts', async () => {
    const server = await startServer(neverReply);
    const { client, sleeps, calls } = makeClient(server, { timeoutMs: 50 });

    const error = await rejection(client.request({ method: 'GET', path: '/cvad/manage/me' }));

    expect(error).toBeInstanceOf(CitrixTimeoutError);
    expect(error.name).toBe('CitrixTimeoutError');
    expect((error as CitrixTimeoutError).path).toBe('/cvad/manage/me');
    expect(server.requests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    expect(calls.map((call) => call.error)).toEqual(['timeout', 'timeout', 'timeout']);
  });

  it('retries network failures and reports them as CitrixTimeoutError', async () => {
    let attempts = 0;
    const failingFetch: typeof fetch = async () => {
      attempts += 1;
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    };
    const server = await startServer(json(200, {}));
    const { client, calls } = makeClient(server, { fetch: failingFetch });

    await expect(client.request({ method: 'GET', path: '/x' })).rejects.toBeInstanceOf(
      CitrixTimeoutError,
    );
    expect(attempts).toBe(3);
    expect(calls[0]?.error).toBe('network error: ECONNREFUSED');
  });

  it('throws CitrixThrottledError at once when Retry-After exceeds the policy', async () => {
    const server = await startServer(text(429, '', { 'retry-after': '120' }), json(200, {}));
    const { client, sleeps } = makeClient(server);

    const error = await rejection(client.request({ method: 'POST', path: LOGOFF_PATH }));

    expect(error).toBeInstanceOf(CitrixThrottledError);
    expect((error as CitrixThrottledError).retryAfterMs).toBe(120_000);
    expect(server.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('throws CitrixThrottledError when 429s outlast the attempts', async () => {
    const server = await startServer(text(429, '', { 'retry-after': '1' }));
    const { client, sleeps } = makeClient(server);

    const error = await rejection(client.request({ method: 'GET', path: '/x' }));

    expect(error).toBeInstanceOf(CitrixThrottledError);
    expect((error as CitrixThrottledError).status).toBe(429);
    expect((error as CitrixThrottledError).retryAfterMs).toBe(1000);
    expect(server.requests).toHaveLength(3);
    expect(sleeps).toEqual([1000, 1000]);
  });

  it.each([500, 503, 408])(
    'throws CitrixUnavailableError when %i outlasts the attempts',
    async (status) => {
      const server = await startServer(text(status, ''));
      const { client } = makeClient(server);

      const error = await rejection(client.request({ method: 'GET', path: '/x' }));

      expect(error).toBeInstanceOf(CitrixUnavailableError);
      expect((error as CitrixUnavailableError).status).toBe(status);
      expect(server.requests).toHaveLength(3);
    },
  );

  it.each([
    ['a 429 then 200', [text(429, '', { 'retry-after': '1' }), json(200, {})], [true, false]],
    [
      '429s that outlast the attempts',
      [text(429, '', { 'retry-after': '1' })],
      [true, true, false],
    ],
    [
      'a Retry-After longer than the policy waits',
      [text(429, '', { 'retry-after': '120' })],
      [false],
    ],
    ['a 503 burst', [text(503, ''), text(503, ''), json(200, {})], [true, true, false]],
    [
      'a 401 refreshed once (a new token, not a retry)',
      [text(401, ''), json(200, {})],
      [false, false],
    ],
    ['a 404', [json(404, {})], [false]],
  ])('records which attempts the policy sends again, after %s', async (_case, replies, retried) => {
    const server = await startServer(...replies);
    const { client, calls } = makeClient(server);

    await client.request({ method: 'GET', path: '/x' }).catch(() => undefined);

    expect(calls.map((call) => call.retried)).toEqual(retried);
  });

  it('records a timed-out attempt as retried while attempts remain', async () => {
    const server = await startServer(neverReply);
    const { client, calls } = makeClient(server, { timeoutMs: 50 });

    await rejection(client.request({ method: 'GET', path: '/x' }));

    expect(calls.map((call) => [call.error, call.retried])).toEqual([
      ['timeout', true],
      ['timeout', true],
      ['timeout', false],
    ]);
  });

  it('does not follow redirects', async () => {
    const elsewhere = await startServer(json(200, {}));
    const server = await startServer(text(307, '', { location: `${elsewhere.baseUrl.href}steal` }));
    const { client } = makeClient(server);

    const error = await rejection(client.request({ method: 'POST', path: '/x', body: {} }));

    expect(error).toBeInstanceOf(CitrixApiError);
    expect((error as CitrixApiError).status).toBe(307);
    expect(elsewhere.requests).toHaveLength(0);
  });
});

describe('CitrixHttpClient errors and records', () => {
  it('parses a Citrix error body and the transaction id', async () => {
    const server = await startServer(
      json(
        409,
        {
          Type: 'https://errors-api.cloud.com/cvad/SessionBusy',
          Detail: 'The session is busy',
          Parameters: ['a', 1],
        },
        { 'citrix-transactionid': 'd4cbb328-c3c1-476e-8505-25890bf88155' },
      ),
    );
    const { client } = makeClient(server);

    const error = await rejection(
      client.request({ method: 'POST', path: LOGOFF_PATH, query: { async: 'true' } }),
    );

    expect(error).toBeInstanceOf(CitrixApiError);
    expect(error.name).toBe('CitrixApiError');
    expect(error).toMatchObject({
      status: 409,
      method: 'POST',
      path: LOGOFF_PATH,
      errorType: 'https://errors-api.cloud.com/cvad/SessionBusy',
      detail: 'The session is busy',
      parameters: ['a', 1],
      transactionId: 'd4cbb328-c3c1-476e-8505-25890bf88155',
    });
    expect(error.message).toBe(
      `Citrix API POST ${LOGOFF_PATH} failed with 409: The session is busy`,
    );
  });

  it('keeps a short excerpt of a non-JSON error body', async () => {
    const server = await startServer(text(400, `<html>${'x'.repeat(1000)}</html>`));
    const { client } = makeClient(server);

    const error = (await rejection(
      client.request({ method: 'GET', path: '/x' }),
    )) as CitrixApiError;

    expect(error.detail?.startsWith('<html>xxx')).toBe(true);
    expect(error.detail?.length).toBeLessThanOrEqual(200);
    expect(error.errorType).toBeUndefined();
  });

  it('rejects an invalid JSON success body without quoting it', async () => {
    const server = await startServer(text(200, 'not json: s3cr3t-body'));
    const { client } = makeClient(server);

    const error = await rejection(client.request({ method: 'GET', path: '/x' }));

    expect(error).toBeInstanceOf(CitrixResponseValidationError);
    expect(error.name).toBe('CitrixResponseValidationError');
    expect(error.message).not.toContain('s3cr3t');
  });

  it('records every attempt without query values', async () => {
    const server = await startServer(
      text(503, '', { 'citrix-transactionid': 'tx-1' }),
      json(200, {}, { 'citrix-transactionid': 'tx-2' }),
    );
    const { client, calls } = makeClient(server);

    await client.request({
      method: 'POST',
      path: '/cvad/manage/Sessions/$search',
      query: { continuationToken: 'opaque-token-value' },
      transactionId: 'tx-request',
    });

    expect(calls).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/cvad/manage/Sessions/$search',
        status: 503,
        attempt: 1,
        transactionId: 'tx-1',
      }),
      expect.objectContaining({ status: 200, attempt: 2, transactionId: 'tx-2' }),
    ]);
    for (const call of calls) expect(call.durationMs).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(calls)).not.toContain('opaque-token-value');
    expect(server.requests[1]?.url).toContain('continuationToken=opaque-token-value');
  });

  it('keeps query values and tokens out of error paths and messages', async () => {
    const server = await startServer(text(404, ''));
    const { client } = makeClient(server);

    const error = await rejection(
      client.request({ method: 'GET', path: '/x', query: { continuationToken: 'opaque-value' } }),
    );

    expect((error as CitrixNotFoundError).path).toBe('/x');
    expect(JSON.stringify({ ...error, message: error.message })).not.toMatch(/opaque-value|tok-1/);
  });

  it('still completes when the audit hook throws', async () => {
    const server = await startServer(json(200, { ok: true }));
    const { client } = makeClient(server, {
      onCall: () => {
        throw new Error('audit sink down');
      },
    });

    await expect(client.request({ method: 'GET', path: '/x' })).resolves.toMatchObject({
      body: { ok: true },
    });
    expect(server.requests).toHaveLength(1);
  });
});
