import { beforeAll, describe, expect, it } from 'vitest';
import {
  commandMayHaveApplied,
  DeviceCommandUnansweredError,
  deviceCommandRequest,
  EndpointManagementClient,
  type EndpointManagementLogin,
  EndpointManagementRejectedError,
  LOGOUT_TIMEOUT_MS,
  underBase,
} from '../../../lib/citrix/endpoint-management-client.ts';
import type {
  EmBodyShape,
  EndpointManagementConnection,
} from '../../../lib/citrix/endpoint-management-config.ts';
import {
  CitrixApiError,
  CitrixAuthenticationError,
  CitrixNotFoundError,
  CitrixResponseValidationError,
  CitrixThrottledError,
  CitrixTimeoutError,
  CitrixUnavailableError,
  InvalidCitrixIdError,
} from '../../../lib/citrix/errors.ts';
import type { TokenSource } from '../../../lib/citrix/http.ts';
import { DEFAULT_RETRY_POLICY } from '../../../lib/citrix/retry.ts';
import { type RecordedRequest, useLoopbackServers } from '../../support/loopback-server.ts';
import { EndpointManagementOpenApi } from '../../support/openapi.ts';
import { rejection } from '../../support/rejection.ts';

const BASE_PATH = '/xenmobile/api/v1';
const PASSWORD = 'em-password-9f2c';
const GUID = '7d3f6c1e-2b4a-4f7e-9c0d-1a2b3c4d5e6f';

interface Reply {
  readonly status?: number;
  /** JSON-serialised; a string is sent as it is (a body that is not JSON). */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A route's answer, or HANG: the server never answers (the client's timeout ends the request). */
const HANG = 'hang';
type Route = (request: RecordedRequest) => Reply | typeof HANG;

const startLoopback = useLoopbackServers();

interface FakeEndpointManagement {
  readonly requests: RecordedRequest[];
  readonly baseUrl: URL;
  /** Requests after the logins, as `METHOD /path` relative to the API base. */
  calls(): string[];
  /** Tokens the server accepts; tests remove one to simulate expiry. */
  readonly validTokens: Set<string>;
  /** Set a status to make logout fail with it (the body quotes the token, as a careless server might). */
  readonly logoutFailure: { status: number | undefined };
  /** Set to make logout never answer (a degraded server); set `retryAfter` to send Retry-After. */
  readonly logoutBehaviour: { hang: boolean; retryAfter?: string };
}

/**
 * A scripted Endpoint Management server on loopback: both logins, `auth_token` checks, and the
 * routes given by "METHOD /path" (relative to /xenmobile/api/v1).
 */
async function fakeEndpointManagement(
  routes: Record<string, Route> = {},
): Promise<FakeEndpointManagement> {
  const validTokens = new Set<string>();
  const logoutFailure: { status: number | undefined } = { status: undefined };
  const logoutBehaviour: { hang: boolean; retryAfter?: string } = { hang: false };
  let issued = 0;
  const server = await startLoopback((request, response) => {
    const reply = (status: number, body?: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(body === undefined ? '' : JSON.stringify(body));
    };
    const path = request.path.slice(BASE_PATH.length);
    const route = `${request.method} ${path}`;
    if (route === 'POST /authentication/login') {
      const body = JSON.parse(request.body) as { login?: string; password?: string };
      if (body.login !== 'api-admin' || body.password !== PASSWORD) {
        return reply(401, { status: -1, message: `Bad password ${body.password}` });
      }
    } else if (route === 'POST /authentication/login/cloud') {
      const body = JSON.parse(request.body) as { bearerToken?: string };
      if (!body.bearerToken?.startsWith('cloud-token-')) return reply(401, { status: -1 });
      if (body.bearerToken === 'cloud-token-revoked') return reply(401, { status: -1 });
    }
    if (route.startsWith('POST /authentication/login')) {
      issued += 1;
      const token = `em-token-${issued}`;
      validTokens.add(token);
      return reply(200, { auth_token: token });
    }
    const token = request.headers.auth_token;
    if (typeof token !== 'string' || !validTokens.has(token)) {
      return reply(401, { status: -1, message: 'Unauthorized' });
    }
    if (route === 'POST /authentication/logout') {
      if (logoutBehaviour.hang) return; // never answers; the server closes it after the test
      if (logoutFailure.status !== undefined) {
        if (logoutBehaviour.retryAfter !== undefined) {
          response.setHeader('retry-after', logoutBehaviour.retryAfter);
        }
        return reply(logoutFailure.status, { status: -1, message: `Cannot end ${token}` });
      }
      validTokens.delete(token);
      return reply(200, { status: 0, message: 'Success' });
    }
    const handler = routes[route];
    if (handler === undefined) return reply(404, { status: -1, message: `No route ${route}` });
    const answer = handler(request);
    if (answer === HANG) return;
    if (answer.headers !== undefined) {
      for (const [name, value] of Object.entries(answer.headers)) response.setHeader(name, value);
    }
    if (typeof answer.body === 'string') {
      response.writeHead(answer.status ?? 200, { 'content-type': 'application/json' });
      response.end(answer.body);
      return;
    }
    return reply(answer.status ?? 200, answer.body);
  });
  return {
    requests: server.requests,
    baseUrl: new URL(BASE_PATH, server.baseUrl),
    validTokens,
    logoutFailure,
    logoutBehaviour,
    calls: () =>
      server.requests
        .filter((r) => !r.path.includes('/authentication/login'))
        .map((r) => `${r.method} ${r.path.slice(BASE_PATH.length)}`),
  };
}

const connection = (
  baseUrl: URL,
  bodyShape: EmBodyShape = 'object',
): EndpointManagementConnection => ({
  baseUrl,
  auth: 'credentials',
  bodyShape,
  requestTimeoutMs: 2000,
  retry: { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1, maxDelayMs: 2 },
});

const credentialsLogin: EndpointManagementLogin = {
  kind: 'credentials',
  credentials: async () => ({ username: 'api-admin', password: PASSWORD }),
};

/** A Citrix Cloud token source that counts how often it was asked and told to drop a token. */
class FakeBearerTokens implements TokenSource {
  tokens: string[];
  invalidated: string[] = [];
  constructor(...tokens: string[]) {
    this.tokens = tokens;
  }
  async getToken(): Promise<string> {
    return this.tokens[0] ?? 'none';
  }
  invalidate(token: string): void {
    this.invalidated.push(token);
    if (this.tokens[0] === token) this.tokens.shift();
  }
}

function client(
  server: FakeEndpointManagement,
  options: {
    login?: EndpointManagementLogin;
    shape?: EmBodyShape;
    pageSize?: number;
    requestTimeoutMs?: number;
    sleep?: (ms: number) => Promise<void>;
    maxRetryAfterMs?: number;
  } = {},
) {
  const base = connection(server.baseUrl, options.shape);
  return new EndpointManagementClient({
    connection: {
      ...base,
      requestTimeoutMs: options.requestTimeoutMs ?? base.requestTimeoutMs,
      retry: {
        ...base.retry,
        maxRetryAfterMs: options.maxRetryAfterMs ?? base.retry.maxRetryAfterMs,
      },
    },
    login: options.login ?? credentialsLogin,
    ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
    sleep: options.sleep ?? (async () => undefined),
  });
}

const device = (id: string, userName: string, managed = true) => ({
  id,
  userName,
  platform: 'iOS',
  managed,
});

/** Serves `devices` through /device/filter with the server's substring search and paging. */
function filterRoute(devices: ReturnType<typeof device>[]): Route {
  return (request) => {
    const body = JSON.parse(request.body) as { start: number; limit: number; search: string };
    const matches = devices.filter((d) =>
      d.userName.toLowerCase().includes(body.search.toLowerCase()),
    );
    return {
      body: {
        status: 0,
        message: 'Success',
        filteredDevicesDataList: matches.slice(body.start, body.start + body.limit),
        totalCount: devices.length,
        matchedRecords: matches.length,
      },
    };
  };
}

describe('logging in', () => {
  it('logs in with administrator credentials once and sends auth_token on every call', async () => {
    const server = await fakeEndpointManagement({
      [`GET /device/${GUID}`]: () => ({ body: device(GUID, 'bob') }),
    });
    const em = client(server);
    await em.getDevice(GUID);
    await em.getDevice(GUID);
    const [login, ...calls] = server.requests;
    expect(login?.path).toBe(`${BASE_PATH}/authentication/login`);
    expect(JSON.parse(login?.body ?? '')).toEqual({ login: 'api-admin', password: PASSWORD });
    expect(calls.map((r) => r.headers.auth_token)).toEqual(['em-token-1', 'em-token-1']);
  });

  it('logs in with a Citrix Cloud bearer token through /authentication/login/cloud', async () => {
    const server = await fakeEndpointManagement({
      [`GET /device/${GUID}`]: () => ({ body: device(GUID, 'bob') }),
    });
    const em = client(server, {
      login: { kind: 'cloud', bearerTokens: new FakeBearerTokens('cloud-token-1') },
    });
    await em.getDevice(GUID);
    expect(server.requests[0]?.path).toBe(`${BASE_PATH}/authentication/login/cloud`);
    expect(JSON.parse(server.requests[0]?.body ?? '')).toEqual({ bearerToken: 'cloud-token-1' });
    expect(server.requests[1]?.headers.auth_token).toBe('em-token-1');
  });

  it('drops a Citrix Cloud token the cloud login rejects and tries once with a new one', async () => {
    const server = await fakeEndpointManagement({
      [`GET /device/${GUID}`]: () => ({ body: device(GUID, 'bob') }),
    });
    const bearerTokens = new FakeBearerTokens('cloud-token-revoked', 'cloud-token-2');
    await client(server, { login: { kind: 'cloud', bearerTokens } }).getDevice(GUID);
    expect(bearerTokens.invalidated).toEqual(['cloud-token-revoked']);
    expect(server.requests.map((r) => JSON.parse(r.body || '{}').bearerToken)).toEqual([
      'cloud-token-revoked',
      'cloud-token-2',
      undefined,
    ]);
  });

  it('fails with CitrixAuthenticationError on bad credentials, never quoting the password', async () => {
    const server = await fakeEndpointManagement();
    const em = new EndpointManagementClient({
      connection: connection(server.baseUrl),
      login: {
        kind: 'credentials',
        credentials: async () => ({ username: 'api-admin', password: 'wrong-password-1' }),
      },
    });
    const error = await rejection(em.getDevice(GUID));
    expect(error).toBeInstanceOf(CitrixAuthenticationError);
    expect(String((error as Error).message)).not.toContain('wrong-password-1');
    expect(String((error as Error).message)).toContain('[REDACTED]');
  });

  it('logs in again once when a call gets 401, then carries on', async () => {
    const server = await fakeEndpointManagement({
      [`GET /device/${GUID}`]: () => ({ body: device(GUID, 'bob') }),
    });
    const em = client(server);
    await em.getDevice(GUID);
    server.validTokens.clear(); // the server's session timed out
    await em.getDevice(GUID);
    expect(server.requests.map((r) => r.path.slice(BASE_PATH.length))).toEqual([
      '/authentication/login',
      `/device/${GUID}`,
      `/device/${GUID}`,
      '/authentication/login',
      `/device/${GUID}`,
    ]);
    expect(server.requests.at(-1)?.headers.auth_token).toBe('em-token-2');
  });

  it('gives up with CitrixAuthenticationError when the new token is rejected too', async () => {
    const server = await fakeEndpointManagement({
      [`GET /device/${GUID}`]: () => ({ status: 401, body: { status: -1 } }),
    });
    const error = await rejection(client(server).getDevice(GUID));
    expect(error).toBeInstanceOf(CitrixAuthenticationError);
    expect(server.calls()).toEqual([`GET /device/${GUID}`, `GET /device/${GUID}`]);
  });

  it('shares one login between concurrent calls', async () => {
    const server = await fakeEndpointManagement({
      [`GET /device/${GUID}`]: () => ({ body: device(GUID, 'bob') }),
    });
    const em = client(server);
    await Promise.all([em.getDevice(GUID), em.getDevice(GUID), em.getDevice(GUID)]);
    expect(server.requests.filter((r) => r.path.endsWith('/login'))).toHaveLength(1);
  });

  it('logs out the session it holds, and logs in afresh afterwards', async () => {
    const server = await fakeEndpointManagement({
      [`GET /device/${GUID}`]: () => ({ body: device(GUID, 'bob') }),
    });
    const em = client(server);
    expect(await em.logout()).toBe(false); // nothing to end yet
    await em.getDevice(GUID);
    expect(await em.logout()).toBe(true);
    expect(server.validTokens.has('em-token-1')).toBe(false);
    await em.getDevice(GUID);
    expect(server.requests.map((r) => r.path.slice(BASE_PATH.length))).toEqual([
      '/authentication/login',
      `/device/${GUID}`,
      '/authentication/logout',
      '/authentication/login',
      `/device/${GUID}`,
    ]);
    expect(server.requests[2]?.headers.auth_token).toBe('em-token-1');
  });
});

describe('withSession', () => {
  const ignore = () => undefined;

  it('logs out when the work ends, whether it succeeded or threw', async () => {
    const server = await fakeEndpointManagement({
      [`GET /device/${GUID}`]: () => ({ body: device(GUID, 'bob') }),
      'GET /device/42': () => ({ status: 404, body: { status: -1, message: 'No device' } }),
    });
    const em = client(server);
    const found = await em.withSession(() => em.getDevice(GUID), ignore);
    expect(found.id).toBe(GUID);
    expect(server.validTokens.size).toBe(0);
    const error = await rejection(em.withSession(() => em.getDevice('42'), ignore));
    expect(error).toBeInstanceOf(CitrixNotFoundError);
    expect(server.validTokens.size).toBe(0);
    expect(server.calls()).toEqual([
      `GET /device/${GUID}`,
      'POST /authentication/logout',
      'GET /device/42',
      'POST /authentication/logout',
    ]);
  });

  it('logs out once, when the last of concurrent runs sharing the client ends', async () => {
    const server = await fakeEndpointManagement({
      [`GET /device/${GUID}`]: () => ({ body: device(GUID, 'bob') }),
    });
    const em = client(server);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = em.withSession(async () => {
      await em.getDevice(GUID);
      await held;
    }, ignore);
    await em.withSession(() => em.getDevice(GUID), ignore);
    expect(server.validTokens.size).toBe(1); // the slow run still uses the session
    release();
    await slow;
    expect(server.validTokens.size).toBe(0);
    expect(server.calls().filter((c) => c.endsWith('/logout'))).toHaveLength(1);
  });

  it('never lets a failed logout replace the work’s own result or error', async () => {
    const server = await fakeEndpointManagement({
      [`GET /device/${GUID}`]: () => ({ body: device(GUID, 'bob') }),
      'GET /device/42': () => ({ status: 404, body: { status: -1, message: 'No device' } }),
    });
    const em = client(server);
    // From now on the server cannot end sessions, and quotes the token in its error.
    server.logoutFailure.status = 500;
    const logoutErrors: unknown[] = [];
    const onLogoutError = (error: unknown) => logoutErrors.push(error);
    const found = await em.withSession(() => em.getDevice(GUID), onLogoutError);
    expect(found.id).toBe(GUID);
    const error = await rejection(em.withSession(() => em.getDevice('42'), onLogoutError));
    expect(error).toBeInstanceOf(CitrixNotFoundError);
    expect(logoutErrors).toHaveLength(2);
    expect(logoutErrors[0]).toBeInstanceOf(Error);
    expect((logoutErrors[0] as Error).message).toContain('[REDACTED]');
    for (const logoutError of logoutErrors as Error[]) {
      expect(JSON.stringify({ ...logoutError, message: logoutError.message })).not.toContain(
        'em-token-',
      );
    }
  });
});

describe('logout inside the task’s budget', () => {
  it('gives a logout that never answers one short attempt, then returns the work’s result', async () => {
    const server = await fakeEndpointManagement({
      [`GET /device/${GUID}`]: () => ({ body: device(GUID, 'bob') }),
    });
    server.logoutBehaviour.hang = true;
    const sleeps: number[] = [];
    // A generous request timeout: the logout must not use it (nor 4 attempts of it).
    const em = client(server, {
      requestTimeoutMs: 30_000,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    const logoutErrors: unknown[] = [];
    const started = Date.now();
    const found = await em.withSession(
      () => em.getDevice(GUID),
      (error) => logoutErrors.push(error),
    );
    const elapsed = Date.now() - started;
    expect(found.id).toBe(GUID);
    expect(elapsed).toBeGreaterThanOrEqual(LOGOUT_TIMEOUT_MS - 100);
    expect(elapsed).toBeLessThan(LOGOUT_TIMEOUT_MS + 1500);
    expect(server.calls()).toEqual([`GET /device/${GUID}`, 'POST /authentication/logout']);
    expect(sleeps).toEqual([]);
    expect(logoutErrors).toHaveLength(1);
    expect(String((logoutErrors[0] as Error).message)).not.toContain('em-token-');
  });

  it('uses a shorter request timeout for the logout when one is configured', async () => {
    const server = await fakeEndpointManagement({
      [`GET /device/${GUID}`]: () => ({ body: device(GUID, 'bob') }),
    });
    server.logoutBehaviour.hang = true;
    const em = client(server, { requestTimeoutMs: 300 });
    const logoutErrors: unknown[] = [];
    const started = Date.now();
    const error = await rejection(
      em.withSession(
        async () => {
          await em.getDevice(GUID);
          throw new Error('the work’s own error');
        },
        (failure) => logoutErrors.push(failure),
      ),
    );
    expect((error as Error).message).toBe('the work’s own error');
    expect(Date.now() - started).toBeLessThan(LOGOUT_TIMEOUT_MS);
    expect(logoutErrors).toHaveLength(1);
  });

  it('neither retries a failed logout nor waits for its Retry-After', async () => {
    const server = await fakeEndpointManagement({
      [`GET /device/${GUID}`]: () => ({ body: device(GUID, 'bob') }),
    });
    server.logoutFailure.status = 503;
    server.logoutBehaviour.retryAfter = '2';
    const sleeps: number[] = [];
    const em = client(server, {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    const logoutErrors: unknown[] = [];
    const found = await em.withSession(
      () => em.getDevice(GUID),
      (error) => logoutErrors.push(error),
    );
    expect(found.id).toBe(GUID);
    expect(server.calls()).toEqual([`GET /device/${GUID}`, 'POST /authentication/logout']);
    expect(sleeps).toEqual([]);
    expect(logoutErrors).toHaveLength(1);
  });

  it('keeps the work’s result when reporting the failed logout throws', async () => {
    const server = await fakeEndpointManagement({
      [`GET /device/${GUID}`]: () => ({ body: device(GUID, 'bob') }),
    });
    server.logoutFailure.status = 500;
    const em = client(server);
    const found = await em.withSession(
      () => em.getDevice(GUID),
      () => {
        throw new Error('the logger broke');
      },
    );
    expect(found.id).toBe(GUID);
  });
});

describe('finding devices', () => {
  const fleet = [
    device('1', 'bob'),
    device('2', 'bobby'),
    device('3', 'BOB'),
    device('4', 'alice'),
    device('5', 'bob', false),
    device('6', 'robert.bob'),
  ];

  it('reads every page of the filter, following start and limit', async () => {
    const many = Array.from({ length: 7 }, (_, i) => device(String(100 + i), 'erin'));
    const server = await fakeEndpointManagement({ 'POST /device/filter': filterRoute(many) });
    const devices = await client(server, { pageSize: 3 }).filterDevices('erin');
    expect(devices.map((d) => d.id)).toEqual(many.map((d) => d.id));
    expect(
      server.requests
        .filter((r) => r.path.endsWith('/device/filter'))
        .map((r) => JSON.parse(r.body)),
    ).toEqual([
      { start: 0, limit: 3, sortOrder: 'ASC', search: 'erin' },
      { start: 3, limit: 3, sortOrder: 'ASC', search: 'erin' },
      { start: 6, limit: 3, sortOrder: 'ASC', search: 'erin' },
    ]);
  });

  it('keeps reading when the server caps pages below the limit and matchedRecords says more remain', async () => {
    const many = Array.from({ length: 5 }, (_, i) => device(String(200 + i), 'erin'));
    const capped = filterRoute(many);
    const server = await fakeEndpointManagement({
      // The server sends at most 2 devices whatever limit it is asked for.
      'POST /device/filter': (request) => {
        const body = JSON.parse(request.body) as Record<string, unknown>;
        return capped({ ...request, body: JSON.stringify({ ...body, limit: 2 }) });
      },
    });
    const devices = await client(server, { pageSize: 10 }).filterDevices('erin');
    expect(devices.map((d) => d.id)).toEqual(many.map((d) => d.id));
    expect(
      server.requests
        .filter((r) => r.path.endsWith('/device/filter'))
        .map((r) => (JSON.parse(r.body) as { start: number }).start),
    ).toEqual([0, 2, 4]);
  });

  it('refuses an empty page while matchedRecords says more remain', async () => {
    const server = await fakeEndpointManagement({
      'POST /device/filter': (request) => {
        const { start } = JSON.parse(request.body) as { start: number };
        const list = start === 0 ? [device('1', 'bob')] : [];
        return { body: { status: 0, filteredDevicesDataList: list, matchedRecords: 3 } };
      },
    });
    const error = await rejection(client(server, { pageSize: 10 }).filterDevices('bob'));
    expect(error).toBeInstanceOf(CitrixResponseValidationError);
    expect(server.calls()).toEqual(['POST /device/filter', 'POST /device/filter']);
  });

  it('still stops at maxPages when matchedRecords never runs out', async () => {
    let next = 0;
    const server = await fakeEndpointManagement({
      'POST /device/filter': () => {
        next += 1;
        const list = [device(String(next), 'bob')];
        return { body: { status: 0, filteredDevicesDataList: list, matchedRecords: 1000 } };
      },
    });
    const em = new EndpointManagementClient({
      connection: connection(server.baseUrl),
      login: credentialsLogin,
      pageSize: 10,
      maxPages: 3,
    });
    const error = await rejection(em.filterDevices('bob'));
    expect(error).toBeInstanceOf(CitrixResponseValidationError);
    expect(server.calls()).toHaveLength(3);
  });

  it('matches the enrolled user name exactly and case-insensitively: bob is not bobby', async () => {
    const server = await fakeEndpointManagement({ 'POST /device/filter': filterRoute(fleet) });
    const devices = await client(server, { pageSize: 2 }).devicesOfUser('bob');
    expect(devices.map((d) => d.id)).toEqual(['1', '3', '5']);
  });

  it('refuses a server that ignores start instead of looping forever', async () => {
    const server = await fakeEndpointManagement({
      'POST /device/filter': () => ({
        body: { status: 0, filteredDevicesDataList: [device('1', 'bob'), device('2', 'bob')] },
      }),
    });
    const error = await rejection(client(server, { pageSize: 2 }).filterDevices('bob'));
    expect(error).toBeInstanceOf(CitrixResponseValidationError);
  });

  it('accepts XenMobile Server integer ids and the {device} wrapper of a get', async () => {
    const server = await fakeEndpointManagement({
      'GET /device/17': () => ({
        body: { status: 0, message: 'Success', device: { ...device('x', 'bob'), id: 17 } },
      }),
    });
    expect(await client(server).getDevice('17')).toMatchObject({ id: '17', userName: 'bob' });
  });

  it('maps 404 to CitrixNotFoundError', async () => {
    const server = await fakeEndpointManagement({
      [`GET /device/${GUID}`]: () => ({ status: 404, body: { status: -1, message: 'No device' } }),
    });
    const error = await rejection(client(server).getDevice(GUID));
    expect(error).toBeInstanceOf(CitrixNotFoundError);
    expect((error as Error).message).toContain('No device');
  });

  it.each(['', 'abc', '../authentication/logout', '12 34', `${GUID}/x`])(
    'refuses device id %j before any request',
    async (deviceId) => {
      const server = await fakeEndpointManagement();
      const error = await rejection(client(server).getDevice(deviceId));
      expect(error).toBeInstanceOf(InvalidCitrixIdError);
      await expect(client(server).sendDeviceCommand('wipe', [deviceId])).rejects.toBeInstanceOf(
        InvalidCitrixIdError,
      );
      expect(server.requests).toEqual([]);
    },
  );
});

describe('device commands', () => {
  it('treats a 200 with "status": -1 as EndpointManagementRejectedError, keeping the messages', async () => {
    const server = await fakeEndpointManagement({
      'POST /device/wipe': () => ({
        body: {
          status: -1,
          message: 'Failed',
          deviceActionMessages: {
            devicesActionParameters: {
              description: 'Action failed',
              messageList: [{ id: GUID, message: 'Device busy: another command is pending' }],
            },
          },
        },
      }),
    });
    const error = await rejection(client(server).wipeDevice(GUID));
    expect(error).toBeInstanceOf(EndpointManagementRejectedError);
    expect(error).toMatchObject({
      name: 'EndpointManagementRejectedError',
      status: -1,
      messages: ['Device busy: another command is pending'],
    });
  });

  it('sends the OpenAPI bodies by default', async () => {
    const ok: Route = () => ({ body: { status: 0, message: 'Success' } });
    const server = await fakeEndpointManagement({
      'POST /device/wipe': ok,
      'POST /device/selectivewipe': ok,
      'POST /device/policy/deploy': ok,
    });
    const em = client(server);
    await em.wipeDevice(GUID);
    await em.selectiveWipeDevice('42');
    await em.deployPolicies([GUID, '42']);
    expect(server.requests.slice(1).map((r) => [r.path, JSON.parse(r.body)])).toEqual([
      [`${BASE_PATH}/device/wipe`, { deviceId: GUID }],
      [`${BASE_PATH}/device/selectivewipe`, { deviceId: '42' }],
      [`${BASE_PATH}/device/policy/deploy`, { deviceIds: [GUID, '42'] }],
    ]);
  });

  it('sends JSON arrays of ids to the public REST API paths with CITRIX_EM_BODY_SHAPE=id-array', async () => {
    const ok: Route = () => ({ body: { status: 0, message: 'Success' } });
    const server = await fakeEndpointManagement({
      'POST /device/wipe': ok,
      'POST /device/selwipe': ok,
      'POST /device/refresh': ok,
    });
    const em = client(server, { shape: 'id-array' });
    await em.wipeDevice(GUID);
    await em.selectiveWipeDevice('42');
    await em.deployPolicies([GUID, '42']);
    expect(server.requests.slice(1).map((r) => [r.path, JSON.parse(r.body)])).toEqual([
      [`${BASE_PATH}/device/wipe`, [GUID]],
      [`${BASE_PATH}/device/selwipe`, [42]],
      [`${BASE_PATH}/device/refresh`, [GUID, 42]],
    ]);
  });

  it.each([
    ['a numeric string status', { status: '-1', message: 'Device busy' }, ['Device busy']],
    ['a message that is not text', { status: -1, message: 42 }, []],
    ['deviceActionMessages that is a string', { status: -1, deviceActionMessages: 'failed' }, []],
    [
      'a messageList entry whose message is an object',
      {
        status: -1,
        message: 'Failed',
        deviceActionMessages: {
          devicesActionParameters: {
            messageList: [
              { id: 1, message: { text: 'busy' } },
              { id: 2, message: 'Device busy' },
            ],
          },
        },
      },
      ['Device busy'],
    ],
    [
      'a messageList that is not an array',
      {
        status: -1,
        message: 'Failed',
        deviceActionMessages: { devicesActionParameters: { messageList: 'busy' } },
      },
      ['Failed'],
    ],
    ['status 2', { status: 2 }, []],
  ])(
    'treats a 200 with %s as rejected, keeping the messages it can read',
    async (_, body, messages) => {
      const server = await fakeEndpointManagement({ 'POST /device/wipe': () => ({ body }) });
      const error = await rejection(client(server).wipeDevice(GUID));
      expect(error).toBeInstanceOf(EndpointManagementRejectedError);
      expect(error).toMatchObject({ status: Number(body.status), messages });
    },
  );

  it.each([
    ['status 0', { status: 0, message: 'Success' }],
    ['status "0"', { status: '0', message: 42 }],
    ['no status', { message: 'Success' }],
    ['an empty body', null],
  ])('treats a 200 with %s as success', async (_, body) => {
    const server = await fakeEndpointManagement({ 'POST /device/wipe': () => ({ body }) });
    await expect(client(server).wipeDevice(GUID)).resolves.toBeUndefined();
  });

  it('refuses more than one device per wipe in the OpenAPI shape', () => {
    expect(() => deviceCommandRequest('wipe', [GUID, '42'], 'object')).toThrow(TypeError);
  });
});

describe('a device command is sent at most once', () => {
  const WIPE = 'POST /device/wipe';
  const wipes = (server: FakeEndpointManagement) =>
    server.calls().filter((call) => call === WIPE).length;
  const success: Reply = { body: { status: 0, message: 'Success' } };

  it('never sends a wipe again after it timed out: it may have been applied', async () => {
    const server = await fakeEndpointManagement({ [WIPE]: () => HANG });
    const error = await rejection(client(server, { requestTimeoutMs: 150 }).wipeDevice(GUID));
    expect(error).toBeInstanceOf(DeviceCommandUnansweredError);
    expect(error).toMatchObject({
      name: 'DeviceCommandUnansweredError',
      command: 'wipe',
      path: `${BASE_PATH}/device/wipe`,
    });
    expect((error as Error).cause).toBeInstanceOf(CitrixTimeoutError);
    expect((error as Error).message).toMatch(
      /^Endpoint Management did not answer POST \/xenmobile\/api\/v1\/device\/wipe \(CitrixTimeoutError: .*\); the wipe may have been applied$/,
    );
    expect(wipes(server)).toBe(1);
  });

  it.each([500, 502, 503, 504, 408])(
    'never sends a command again after a %i, which may follow an applied command',
    async (status) => {
      const server = await fakeEndpointManagement({
        'POST /device/selectivewipe': () => ({ status, body: { status: -1, message: 'Oops' } }),
        'POST /device/policy/deploy': () => ({ status, body: { status: -1, message: 'Oops' } }),
      });
      const em = client(server);
      const selective = await rejection(em.selectiveWipeDevice(GUID));
      const deploy = await rejection(em.deployPolicies([GUID]));
      expect(selective).toBeInstanceOf(DeviceCommandUnansweredError);
      expect((selective as Error).cause).toBeInstanceOf(CitrixUnavailableError);
      expect(deploy).toBeInstanceOf(DeviceCommandUnansweredError);
      expect(server.calls()).toEqual(['POST /device/selectivewipe', 'POST /device/policy/deploy']);
    },
  );

  it('treats a 2xx whose body cannot be read as unanswered, not as a failure to send again', async () => {
    const server = await fakeEndpointManagement({ [WIPE]: () => ({ body: '{"status": 0,' }) });
    const error = await rejection(client(server).wipeDevice(GUID));
    expect(error).toBeInstanceOf(DeviceCommandUnansweredError);
    expect((error as Error).cause).toBeInstanceOf(CitrixResponseValidationError);
    expect(wipes(server)).toBe(1);
  });

  it('sends a throttled command again (429: Endpoint Management did not act), waiting as asked', async () => {
    let answers = 0;
    const waits: number[] = [];
    const server = await fakeEndpointManagement({
      [WIPE]: () => {
        answers += 1;
        return answers === 1
          ? { status: 429, headers: { 'retry-after': '2' }, body: { status: -1 } }
          : success;
      },
    });
    await client(server, { sleep: async (ms) => void waits.push(ms) }).wipeDevice(GUID);
    expect(wipes(server)).toBe(2);
    expect(waits).toEqual([2000]);
  });

  it('gives up on a 429 after the policy’s attempts, or at once when Retry-After is too long', async () => {
    const server = await fakeEndpointManagement({ [WIPE]: () => ({ status: 429, body: {} }) });
    const error = await rejection(client(server).wipeDevice(GUID));
    expect(error).toBeInstanceOf(CitrixThrottledError);
    expect(wipes(server)).toBe(DEFAULT_RETRY_POLICY.maxAttempts);

    const patient = await fakeEndpointManagement({
      [WIPE]: () => ({ status: 429, headers: { 'retry-after': '120' }, body: {} }),
    });
    const tooLong = await rejection(client(patient, { maxRetryAfterMs: 30_000 }).wipeDevice(GUID));
    expect(tooLong).toMatchObject({ name: 'CitrixThrottledError', retryAfterMs: 120_000 });
    expect(wipes(patient)).toBe(1);
  });

  it('sends a command again after a 401 only once logged in afresh (it was not acted on)', async () => {
    const server = await fakeEndpointManagement({ [WIPE]: () => success });
    const em = client(server);
    await em.getDevice(GUID).catch(() => undefined);
    server.validTokens.clear();
    await em.wipeDevice(GUID);
    expect(wipes(server)).toBe(2);
    const logins = server.requests.filter((r) => r.path.endsWith('/authentication/login'));
    expect(logins).toHaveLength(2);
  });

  it('fails a command Endpoint Management refused (4xx) by its error, sent once', async () => {
    const server = await fakeEndpointManagement({
      [WIPE]: () => ({ status: 400, body: { status: -1, message: 'Bad device' } }),
    });
    const error = await rejection(client(server).wipeDevice(GUID));
    expect(error).toBeInstanceOf(CitrixApiError);
    expect(error).not.toBeInstanceOf(DeviceCommandUnansweredError);
    expect(wipes(server)).toBe(1);
  });

  it('fails with the login’s own error when it cannot log in: nothing was sent', async () => {
    const server = await fakeEndpointManagement({ [WIPE]: () => success });
    const em = client(server, {
      login: {
        kind: 'credentials',
        credentials: async () => {
          throw new Error('secret unavailable');
        },
      },
    });
    const error = await rejection(em.wipeDevice(GUID));
    expect((error as Error).message).toBe('secret unavailable');
    expect(wipes(server)).toBe(0);
  });

  it('decides whether a failure may follow an applied command from the answer', () => {
    const path = `${BASE_PATH}/device/wipe`;
    const login = `${BASE_PATH}/authentication/login`;
    const api = (status: number, at = path) => ({ status, method: 'POST', path: at });
    expect(commandMayHaveApplied(new CitrixUnavailableError(api(503)), path)).toBe(true);
    expect(commandMayHaveApplied(new CitrixTimeoutError('POST', path, 'timed out'), path)).toBe(
      true,
    );
    expect(commandMayHaveApplied(new Error('unexpected'), path)).toBe(true);
    expect(commandMayHaveApplied(new CitrixThrottledError(api(429)), path)).toBe(false);
    expect(commandMayHaveApplied(new CitrixNotFoundError(api(404)), path)).toBe(false);
    const rejected = new EndpointManagementRejectedError('POST', path, -1, []);
    expect(commandMayHaveApplied(rejected, path)).toBe(false);
    // The login a 401 set off failed: the command itself was refused, never applied.
    expect(commandMayHaveApplied(new CitrixUnavailableError(api(503, login)), path)).toBe(false);
    expect(commandMayHaveApplied(new CitrixTimeoutError('POST', login, 'timed out'), path)).toBe(
      false,
    );
  });
});

describe('a run stopped by its signal (the task’s deadline)', () => {
  it('aborts the call in flight and every later one, and still logs out', async () => {
    const server = await fakeEndpointManagement({
      'POST /device/wipe': () => HANG,
      [`GET /device/${GUID}`]: () => ({ body: device(GUID, 'bob') }),
    });
    const em = client(server, { requestTimeoutMs: 5000 });
    const controller = new AbortController();
    const reason = new Error('deadline');
    const outcome = em.withSession(
      async () => {
        const sent = await rejection(em.wipeDevice(GUID));
        const read = await rejection(em.getDevice(GUID));
        return { sent, read };
      },
      () => undefined,
      controller.signal,
    );
    setTimeout(() => controller.abort(reason), 100);
    const { sent, read } = await outcome;
    expect(sent).toBeInstanceOf(DeviceCommandUnansweredError);
    // Aborted before it could go out: the signal's reason ends it, with no retry waits.
    expect(read).toBe(reason);
    expect(server.calls()).toEqual(['POST /device/wipe', 'POST /authentication/logout']);
    expect(server.validTokens.size).toBe(0);
  });

  it('stops waiting out a 429 when the signal aborts', async () => {
    const server = await fakeEndpointManagement({
      'POST /device/wipe': () => ({ status: 429, headers: { 'retry-after': '20' }, body: {} }),
    });
    const em = client(server, {
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    });
    const controller = new AbortController();
    const reason = new Error('deadline');
    const outcome = rejection(
      em.withSession(
        () => em.wipeDevice(GUID),
        () => undefined,
        controller.signal,
      ),
    );
    setTimeout(() => controller.abort(reason), 100);
    expect(await outcome).toBe(reason);
    expect(server.calls()).toEqual(['POST /device/wipe', 'POST /authentication/logout']);
  });
});

describe('requests against the OpenAPI document', () => {
  let openApi: EndpointManagementOpenApi;
  beforeAll(async () => {
    openApi = await EndpointManagementOpenApi.load();
  });

  it('validates every request the client sends (except the cloud login the document lacks)', async () => {
    const ok: Route = () => ({ body: { status: 0, message: 'Success' } });
    const server = await fakeEndpointManagement({
      'POST /device/filter': filterRoute([device(GUID, 'bob'), device('42', 'bob')]),
      [`GET /device/${GUID}`]: () => ({ body: device(GUID, 'bob') }),
      'POST /device/wipe': ok,
      'POST /device/selectivewipe': ok,
      'POST /device/policy/deploy': ok,
    });
    const em = client(server, { pageSize: 1 });
    await em.devicesOfUser('bob');
    await em.getDevice(GUID);
    await em.wipeDevice(GUID);
    await em.selectiveWipeDevice(GUID);
    await em.deployPolicies([GUID, '42']);
    await em.logout();

    const checks = server.requests.map((request) =>
      openApi.validateRequest({
        method: request.method,
        path: request.path.slice(BASE_PATH.length),
        headers: Object.fromEntries(
          Object.entries(request.headers).map(([name, value]) => [name, String(value)]),
        ),
        ...(request.body === '' ? {} : { body: JSON.parse(request.body) }),
      }),
    );
    expect(checks.map((check) => [check.operationId, check.valid, check.errors])).toEqual([
      ['login', true, []],
      ['filterDevices', true, []],
      ['filterDevices', true, []],
      ['getDevice', true, []],
      ['wipeDevice', true, []],
      ['selectiveWipeDevice', true, []],
      ['deployPolicy', true, []],
      ['logout', true, []],
    ]);
    // Every call after the login carries the document's security scheme, the auth_token header.
    expect(server.requests.slice(1).every((r) => typeof r.headers.auth_token === 'string')).toBe(
      true,
    );
  });

  it('has no operation for the cloud login, which the seed document describes instead', () => {
    const check = openApi.validateRequest({
      method: 'POST',
      path: '/authentication/login/cloud',
      headers: { 'content-type': 'application/json' },
      body: { bearerToken: 'x' },
    });
    expect(check).toEqual({
      valid: false,
      errors: ['unknown operation POST /authentication/login/cloud'],
    });
  });

  it('proves the validator rejects a body of the wrong shape', () => {
    const check = openApi.validateRequest({
      method: 'POST',
      path: '/device/wipe',
      headers: { 'content-type': 'application/json' },
      body: [GUID],
    });
    expect(check.valid).toBe(false);
  });
});

describe('an Endpoint Management server at the root URL', () => {
  it('builds every path under the root, never `//device/…`', () => {
    expect(underBase(new URL('http://127.0.0.1:4010'), '/device/wipe')).toBe('/device/wipe');
    expect(underBase(new URL('http://127.0.0.1:4010/'), '/device/wipe')).toBe('/device/wipe');
    expect(
      underBase(new URL('https://mdm.example.com:4443/xenmobile/api/v1'), '/device/wipe'),
    ).toBe('/xenmobile/api/v1/device/wipe');
    expect(underBase(new URL('https://mdm.example.com/xenmobile/api/v1/'), '/device')).toBe(
      '/xenmobile/api/v1/device',
    );
  });

  it('logs in, sends a selective wipe and logs out against a server with no base path', async () => {
    const server = await startLoopback((request, response) => {
      const reply = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (request.path === '/authentication/login') reply(200, { auth_token: 'root-token' });
      else if (request.headers.auth_token !== 'root-token') reply(401, { status: -1 });
      else reply(200, { status: 0, message: 'Success' });
    });
    const rootClient = new EndpointManagementClient({
      connection: connection(new URL(server.baseUrl)),
      login: credentialsLogin,
      sleep: async () => undefined,
    });
    const logoutErrors: unknown[] = [];
    await rootClient.withSession(
      () => rootClient.sendDeviceCommand('selectiveWipe', ['3f9c2a71-5b8e-4d0a-9c61-7e2b4f8d1a01']),
      (error) => logoutErrors.push(error),
    );
    expect(logoutErrors).toEqual([]);
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /authentication/login',
      'POST /device/selectivewipe',
      'POST /authentication/logout',
    ]);
  });
});
