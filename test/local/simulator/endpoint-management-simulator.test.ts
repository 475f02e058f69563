import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  demoFixture,
  parseFixture,
  type SimulatorFixture,
  SimulatorFixtureSchema,
} from '../../../local/simulator/fixture.ts';
import {
  type RecordedRequest,
  type RunningSimulator,
  startCitrixSimulator,
} from '../../../local/simulator/server.ts';
import { SimulatorWorld } from '../../../local/simulator/world.ts';
import {
  DEVICES,
  TEST_CLIENT,
  TEST_EM_ADMIN,
  testFixture,
} from '../../support/simulator-fixture.ts';
import { cloudBearerToken, commandsOf, em, emLogin } from './endpoint-management-helpers.ts';

let sim: RunningSimulator;
const logLines: string[] = [];

beforeAll(async () => {
  sim = await startCitrixSimulator({ fixture: testFixture(), log: (line) => logLines.push(line) });
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.reset();
  logLines.length = 0;
});

const SUCCESS = { status: 0, message: 'Success' };

describe('faults', () => {
  it('throttle the login routes like any Citrix route, then let them through', async () => {
    sim.setFaults({ throttle: { count: 1, retryAfterSeconds: 2 } });
    const throttled = await em(sim, '/authentication/login', { body: TEST_EM_ADMIN });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('2');
    expect(throttled.body).toMatchObject({
      Type: 'https://errors-api.cloud.com/common/rateLimitExceeded',
    });
    expect((await em(sim, '/authentication/login', { body: TEST_EM_ADMIN })).status).toBe(200);

    const bearerToken = await cloudBearerToken(sim);
    sim.setFaults({ throttle: { count: 1 } });
    const cloud = () => em(sim, '/authentication/login/cloud', { body: { bearerToken } });
    expect((await cloud()).status).toBe(429);
    expect((await cloud()).status).toBe(200);
  });

  it('answer a wipe with 429 and 5xx without applying it; the retry goes through once', async () => {
    const token = await emLogin(sim);
    sim.setFaults({ throttle: { count: 1 }, serverErrors: { count: 1, status: 503 } });
    const wipe = () => em(sim, '/device/wipe', { token, body: { deviceId: DEVICES.bobPhone } });
    expect((await wipe()).status).toBe(429);
    const unavailable = await wipe();
    expect(unavailable.status).toBe(503);
    expect(unavailable.body).toMatchObject({
      Type: 'https://errors-api.cloud.com/common/serviceUnavailable',
    });
    expect(commandsOf(sim, DEVICES.bobPhone)).toEqual([]);
    const done = await wipe();
    expect(done.status).toBe(200);
    expect(done.body).toEqual(SUCCESS);
    expect(commandsOf(sim, DEVICES.bobPhone)).toEqual(['wipe']);
    expect(sim.state().faults).toEqual({
      throttle: { count: 0 },
      serverErrors: { count: 0, status: 503 },
    });
  });

  it('add latency to Endpoint Management routes', async () => {
    sim.setFaults({ latencyMs: 120 });
    const started = Date.now();
    const result = await em(sim, '/authentication/login', { body: TEST_EM_ADMIN });
    expect(result.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
  });
});

describe('request recording', () => {
  async function recorded(): Promise<RecordedRequest[]> {
    return (await (await fetch(`${sim.url}/_simulator/requests`)).json()) as RecordedRequest[];
  }

  it('records Endpoint Management calls with auth_token, password and bearerToken masked', async () => {
    const token = await emLogin(sim);
    const bearerToken = await cloudBearerToken(sim);
    const cloud = await em(sim, '/authentication/login/cloud', { body: { bearerToken } });
    const cloudToken = String(cloud.body.auth_token);
    await em(sim, '/device/filter', { token, body: { search: 'bob', limit: 5 } });
    await em(sim, '/device/wipe', { token: cloudToken, body: { deviceId: DEVICES.bobPhone } });
    // A careless client that echoes its token or password in a body must not leak them either.
    await em(sim, '/authentication/logout', {
      token,
      body: { login: TEST_EM_ADMIN.login, note: `was ${token}, pw ${TEST_EM_ADMIN.password}` },
    });
    await em(sim, '/authentication/login', { body: { login: 'x', secretish: bearerToken } });

    const requests = await recorded();
    const emRequests = requests.filter((r) => r.path.startsWith('/xenmobile'));
    expect(emRequests.map((r) => [r.method, r.path, r.status])).toEqual([
      ['POST', '/xenmobile/api/v1/authentication/login', 200],
      ['POST', '/xenmobile/api/v1/authentication/login/cloud', 200],
      ['POST', '/xenmobile/api/v1/device/filter', 200],
      ['POST', '/xenmobile/api/v1/device/wipe', 200],
      ['POST', '/xenmobile/api/v1/authentication/logout', 200],
      ['POST', '/xenmobile/api/v1/authentication/login', 400],
    ]);
    const [login, cloudLogin, filter, wipe, logout, odd] = emRequests;
    expect(login?.body).toEqual({ login: TEST_EM_ADMIN.login, password: '***' });
    expect(cloudLogin?.body).toEqual({ bearerToken: '***' });
    expect(filter?.headers.auth_token).toBe('***');
    expect(filter?.body).toEqual({ search: 'bob', limit: 5 });
    expect(wipe?.headers.auth_token).toBe('***');
    expect(logout?.body).toEqual({ login: TEST_EM_ADMIN.login, note: 'was ***, pw ***' });
    expect(odd?.body).toEqual({ login: 'x', secretish: '***' });

    const everything =
      JSON.stringify(requests) + JSON.stringify(sim.requests()) + logLines.join('\n');
    for (const secret of [token, cloudToken, bearerToken, TEST_EM_ADMIN.password]) {
      expect(everything).not.toContain(secret);
    }
    expect(logLines).toContainEqual(
      expect.stringMatching(/^POST \/xenmobile\/api\/v1\/device\/wipe -> 200 \(\d+ ms\)$/),
    );
  });

  it('world.secrets() holds administrator passwords and every EM token issued', () => {
    const world = new SimulatorWorld(parseFixture(testFixture()));
    expect(world.secrets()).toContain(TEST_EM_ADMIN.password);
    expect(world.secrets()).toContain(TEST_CLIENT.clientSecret);
    const token = world.endpointManagement.issueToken({ kind: 'administrator', login: 'x' });
    world.endpointManagement.logout(token);
    // Still masked after logout: a late request could carry it.
    expect(world.secrets()).toContain(token);
    world.reset();
    expect(world.secrets()).not.toContain(token);
  });
});

describe('state and reset', () => {
  it('round-trips Endpoint Management data, commands included, through the fixture schema', async () => {
    const token = await emLogin(sim);
    await em(sim, '/device/selectivewipe', { token, body: { deviceId: DEVICES.erin1 } });
    sim.setEndpointManagementBodyShape('id-array');

    const state = sim.state();
    expect(SimulatorFixtureSchema.parse(state)).toEqual(state);
    expect(state.endpointManagement).toMatchObject({
      administrators: [TEST_EM_ADMIN],
      authTokenLifetimeSeconds: 1800,
      bodyShape: 'id-array',
    });
    const overHttp = await (await fetch(`${sim.url}/_simulator/state`)).json();
    expect(SimulatorFixtureSchema.parse(overHttp).endpointManagement).toEqual(
      state.endpointManagement,
    );

    // A saved state loads as a fixture and carries on where it left off.
    const restarted = await startCitrixSimulator({ fixture: state });
    try {
      expect(commandsOf(restarted, DEVICES.erin1)).toEqual(['selectiveWipe']);
      const again = await emLogin(restarted);
      expect(
        (await em(restarted, '/device/selwipe', { token: again, body: [DEVICES.erin1] })).body,
      ).toEqual(SUCCESS);
      expect(commandsOf(restarted, DEVICES.erin1)).toEqual(['selectiveWipe', 'selectiveWipe']);
    } finally {
      await restarted.close();
    }
  });

  it('reset restores devices and body shape and forgets EM tokens (HTTP and method)', async () => {
    const token = await emLogin(sim);
    await em(sim, '/device/wipe', { token, body: { deviceId: DEVICES.bobPhone } });
    sim.setEndpointManagementBodyShape('id-array');
    const response = await fetch(`${sim.url}/_simulator/reset`, { method: 'POST' });
    expect(response.status).toBe(204);
    expect(commandsOf(sim, DEVICES.bobPhone)).toEqual([]);
    expect(sim.state().endpointManagement).toEqual({
      ...testFixture().endpointManagement,
      bodyShape: 'object',
    });
    const after = await em(sim, '/device/filter', { token, body: {} });
    expect(after.status).toBe(401);
  });

  it('reports resolved defaults for a fixture without endpointManagement, which still works', async () => {
    const { endpointManagement: _left, ...fixture } = testFixture();
    const bare = await startCitrixSimulator({ fixture });
    try {
      expect(bare.state().endpointManagement).toEqual({
        administrators: [],
        authTokenLifetimeSeconds: 1800,
        bodyShape: 'object',
        devices: [],
      });
      expect(SimulatorFixtureSchema.parse(bare.state())).toEqual(bare.state());
      expect((await em(bare, '/authentication/login', { body: TEST_EM_ADMIN })).status).toBe(401);
      // Cloud login needs no local administrator.
      const bearerToken = await cloudBearerToken(bare);
      const cloud = await em(bare, '/authentication/login/cloud', { body: { bearerToken } });
      const listed = await em(bare, '/device/filter', {
        token: String(cloud.body.auth_token),
        body: {},
      });
      expect(listed.body).toEqual({
        ...SUCCESS,
        filteredDevicesDataList: [],
        totalCount: 0,
        matchedRecords: 0,
      });
    } finally {
      await bare.close();
    }
  });
});

describe('routing', () => {
  it('answers unknown Endpoint Management routes with 404 and status -1', async () => {
    const token = await emLogin(sim);
    for (const [method, path] of [
      ['POST', '/device/lock'],
      ['GET', '/device'],
      ['POST', `/device/${DEVICES.bobPhone}`],
      ['GET', '/application/filter'],
    ] as const) {
      const result = await em(sim, path, { method, token });
      expect(result.status, `${method} ${path}`).toBe(404);
      expect(result.body).toEqual({
        status: -1,
        message: expect.stringContaining(`No API route ${method} /xenmobile/api/v1`),
      });
    }
  });

  it('echoes Citrix-TransactionId like every Citrix route', async () => {
    const result = await em(sim, '/authentication/login', {
      body: TEST_EM_ADMIN,
      headers: { 'citrix-transactionid': 'em-123' },
    });
    expect(result.headers.get('citrix-transactionid')).toBe('em-123');
  });
});

describe('fixture', () => {
  const withDevices = (
    devices: unknown[],
    extra: Record<string, unknown> = {},
  ): Record<string, unknown> => ({
    ...testFixture(),
    endpointManagement: { administrators: [TEST_EM_ADMIN], devices, ...extra },
  });
  const device = (overrides: Record<string, unknown> = {}) => ({
    id: DEVICES.bobPhone,
    userName: 'bob',
    platform: 'iOS',
    ...overrides,
  });

  it('accepts the test fixture, GUID and digit ids, and extra device fields', () => {
    expect(() => parseFixture(testFixture())).not.toThrow();
    const parsed = parseFixture(
      withDevices([device(), device({ id: '42', imeiOrMeid: '356938035643809' })]),
    );
    expect(parsed.endpointManagement?.devices?.[1]).toMatchObject({
      imeiOrMeid: '356938035643809',
    });
  });

  it('rejects duplicate device ids (any case) and duplicate administrator logins', () => {
    const fixture = withDevices([device(), device({ id: DEVICES.bobPhone.toUpperCase() })]);
    expect(() => parseFixture(fixture)).toThrow(/endpointManagement\.devices\[1\]\.id: Duplicate/);
    const admins = withDevices([], {
      administrators: [TEST_EM_ADMIN, { ...TEST_EM_ADMIN, login: 'TEST-EM-ADMIN' }],
    });
    expect(() => parseFixture(admins)).toThrow(
      /endpointManagement\.administrators\[1\]\.login: Duplicate/,
    );
  });

  it('names invalid device fields', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ platform: 'ios' }, /devices\[0\]\.platform/],
      [{ id: 'bob-phone' }, /devices\[0\]\.id: must be a GUID or a string of digits/],
      [{ id: 42 }, /devices\[0\]\.id/],
      [{ lastAccess: '2025-06-02 10:00' }, /devices\[0\]\.lastAccess/],
      [{ managed: 'yes' }, /devices\[0\]\.managed/],
      [{ simulation: { commandFailure: '' } }, /devices\[0\]\.simulation\.commandFailure/],
      [{ simulation: { fail: true } }, /devices\[0\]\.simulation/],
      [
        { simulation: { commands: [{ command: 'lock', at: '2025-06-02T10:00:00Z' }] } },
        /devices\[0\]\.simulation\.commands\[0\]\.command/,
      ],
    ];
    for (const [overrides, pattern] of cases) {
      expect(() => parseFixture(withDevices([device(overrides)]))).toThrow(pattern);
    }
    expect(() => parseFixture(withDevices([], { bodyShape: 'array' }))).toThrow(
      /endpointManagement\.bodyShape/,
    );
    expect(() => parseFixture(withDevices([], { authTokenLifetimeSeconds: 0 }))).toThrow(
      /endpointManagement\.authTokenLifetimeSeconds/,
    );
    expect(() => parseFixture(withDevices([], { admins: [] }))).toThrow(/admins/);
  });

  it('the demo fixture has the documented administrator and devices', () => {
    const em = demoFixture().endpointManagement;
    expect(em?.administrators).toEqual([{ login: 'em-admin', password: 'em-demo-password' }]);
    const of = (user: string) => (em?.devices ?? []).filter((d) => d.userName === user);
    expect(of('alice@example.com').map((d) => [d.platform, d.managed])).toEqual([
      ['iOS', true],
      ['Android', true],
      ['Android', false],
    ]);
    expect(of('bob@example.com')).toHaveLength(1);
    expect(of('bobby@example.com')).toHaveLength(1);
    expect(of('carol@example.com')[0]?.simulation?.commandFailure).toMatch(/busy/);
    // Device users are the DaaS demo users.
    const sessionUsers = new Set(demoFixture().sessions.map((s) => s.User.PrincipalName));
    for (const d of em?.devices ?? []) expect(sessionUsers).toContain(d.userName);
  });

  it('a fixture typed by hand compiles without the Endpoint Management section', () => {
    const fixture: SimulatorFixture = {
      customerId: 'c',
      sites: [{ id: DEVICES.bobPhone, name: 's' }],
      clients: [TEST_CLIENT],
      sessions: [],
    };
    expect(parseFixture(fixture).endpointManagement).toBeUndefined();
  });
});
