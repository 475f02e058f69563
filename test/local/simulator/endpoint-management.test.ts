import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type RunningSimulator, startCitrixSimulator } from '../../../local/simulator/server.ts';
import {
  DEVICE_BUSY,
  DEVICES,
  TEST_EM_ADMIN,
  testFixture,
} from '../../support/simulator-fixture.ts';
import {
  cloudBearerToken,
  commandsOf,
  em,
  emLogin,
  failureBody,
} from './endpoint-management-helpers.ts';

let sim: RunningSimulator;
let token: string;

beforeAll(async () => {
  sim = await startCitrixSimulator({ fixture: testFixture() });
});
afterAll(() => sim.close());
beforeEach(async () => {
  sim.reset();
  token = await emLogin(sim);
});
afterEach(() => {
  vi.useRealTimers();
});

const SUCCESS = { status: 0, message: 'Success' };
const filter = (body: unknown, auth = token) => em(sim, '/device/filter', { body, token: auth });
const idsOf = (devices: { id: string }[] | undefined) => (devices ?? []).map((d) => d.id);
const advance = (ms: number) => vi.setSystemTime(Date.now() + ms);

describe('POST /authentication/login', () => {
  it('returns an auth_token for an administrator in the fixture, login in any case', async () => {
    const result = await em(sim, '/authentication/login', { body: TEST_EM_ADMIN });
    expect(result.status).toBe(200);
    expect(result.body).toEqual({
      auth_token: expect.stringMatching(/^[0-9a-f]{32}:[0-9a-f]{32}$/),
    });
    expect(result.body.auth_token).not.toBe(token);

    const upper = await em(sim, '/authentication/login', {
      body: { ...TEST_EM_ADMIN, login: TEST_EM_ADMIN.login.toUpperCase() },
    });
    expect(upper.status).toBe(200);
  });

  it('answers 401 with status -1 for a wrong password or an unknown login', async () => {
    for (const body of [
      { ...TEST_EM_ADMIN, password: 'wrong-password' },
      { ...TEST_EM_ADMIN, password: TEST_EM_ADMIN.password.toUpperCase() },
      { login: 'nobody', password: TEST_EM_ADMIN.password },
      { login: '', password: '' },
    ]) {
      const result = await em(sim, '/authentication/login', { body });
      expect(result.status).toBe(401);
      expect(result.body).toEqual({ status: -1, message: 'Invalid login or password' });
    }
  });

  it('answers 400 to a body of the wrong shape', async () => {
    for (const body of [
      { login: TEST_EM_ADMIN.login },
      { login: TEST_EM_ADMIN.login, password: 42 },
      [TEST_EM_ADMIN.login, TEST_EM_ADMIN.password],
      'not json',
      '',
    ]) {
      const result = await em(sim, '/authentication/login', { body });
      expect(result.status, JSON.stringify(body)).toBe(400);
      expect(result.body).toEqual({ status: -1, message: expect.any(String) });
    }
  });
});

describe('POST /authentication/login/cloud', () => {
  it('exchanges a Citrix Cloud bearer token from the same simulator for a working auth_token', async () => {
    const bearerToken = await cloudBearerToken(sim);
    const result = await em(sim, '/authentication/login/cloud', { body: { bearerToken } });
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ auth_token: expect.any(String) });
    const listed = await filter({ limit: 1 }, String(result.body.auth_token));
    expect(listed.status).toBe(200);
  });

  it('rejects an unknown bearer token, and an EM auth_token in its place', async () => {
    for (const bearerToken of ['never-issued-token', token]) {
      const result = await em(sim, '/authentication/login/cloud', { body: { bearerToken } });
      expect(result.status).toBe(401);
      expect(result.body).toEqual({ status: -1, message: 'Invalid Citrix Cloud bearer token' });
    }
  });

  it('rejects an expired bearer token (lifetime passed, or expireTokens)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const old = await cloudBearerToken(sim);
    advance(3601_000);
    const lapsed = await em(sim, '/authentication/login/cloud', { body: { bearerToken: old } });
    expect(lapsed.status).toBe(401);
    expect(lapsed.body.message).toBe('The Citrix Cloud bearer token has expired');

    const fresh = await cloudBearerToken(sim);
    sim.expireTokens();
    const expired = await em(sim, '/authentication/login/cloud', { body: { bearerToken: fresh } });
    expect(expired.status).toBe(401);
    expect(expired.body.message).toMatch(/expired/);
  });

  it('answers 400 without a bearerToken', async () => {
    for (const body of [{}, { bearerToken: '' }, { token: 'x' }, ['x']]) {
      const result = await em(sim, '/authentication/login/cloud', { body });
      expect(result.status).toBe(400);
      expect(result.body.status).toBe(-1);
    }
  });
});

describe('auth_token', () => {
  const probe = (auth?: string, headers?: Record<string, string>) =>
    em(sim, `/device/${DEVICES.bobPhone}`, {
      method: 'GET',
      ...(auth === undefined ? {} : { token: auth }),
      ...(headers ? { headers } : {}),
    });

  it('is required on every other route: missing or invalid gives 401 with status -1', async () => {
    const missing = await probe();
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ status: -1, message: expect.stringMatching(/missing/i) });

    for (const auth of ['not-a-token', `${token}x`]) {
      const invalid = await probe(auth);
      expect(invalid.status).toBe(401);
      expect(invalid.body).toEqual({ status: -1, message: expect.stringMatching(/invalid/i) });
    }

    // A Citrix Cloud header is not an Endpoint Management token.
    const cws = await probe(undefined, { authorization: `CWSAuth bearer=${token}` });
    expect(cws.status).toBe(401);
    expect((await probe(token)).status).toBe(200);
  });

  it('covers filter, device commands and logout too', async () => {
    const calls = [
      em(sim, '/device/filter', { body: {} }),
      em(sim, '/device/wipe', { body: { deviceId: DEVICES.bobPhone } }),
      em(sim, '/device/selectivewipe', { body: { deviceId: DEVICES.bobPhone } }),
      em(sim, '/device/policy/deploy', { body: { deviceIds: [DEVICES.bobPhone] } }),
      em(sim, '/authentication/logout', { body: {} }),
    ];
    for (const result of await Promise.all(calls)) expect(result.status).toBe(401);
    expect(commandsOf(sim, DEVICES.bobPhone)).toEqual([]);
  });

  it('expires after authTokenLifetimeSeconds (1800 in the test fixture)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const fresh = await emLogin(sim);
    advance(1799_000);
    expect((await probe(fresh)).status).toBe(200);
    advance(2_000);
    const expired = await probe(fresh);
    expect(expired.status).toBe(401);
    expect(expired.body).toEqual({ status: -1, message: expect.stringMatching(/expired/i) });
  });

  it('follows a configured lifetime', async () => {
    const fixture = testFixture();
    const short = await startCitrixSimulator({
      fixture: {
        ...fixture,
        endpointManagement: { ...fixture.endpointManagement, authTokenLifetimeSeconds: 60 },
      },
    });
    try {
      vi.useFakeTimers({ toFake: ['Date'] });
      const shortToken = await emLogin(short);
      advance(59_000);
      const before = await em(short, `/device/${DEVICES.bobPhone}`, {
        method: 'GET',
        token: shortToken,
      });
      expect(before.status).toBe(200);
      advance(2_000);
      const after = await em(short, `/device/${DEVICES.bobPhone}`, {
        method: 'GET',
        token: shortToken,
      });
      expect(after.status).toBe(401);
      expect(after.body.message).toMatch(/expired/i);
    } finally {
      await short.close();
    }
  });

  it('expireTokens() and POST /_simulator/tokens/$expire expire EM tokens from both logins', async () => {
    const viaCloud = await em(sim, '/authentication/login/cloud', {
      body: { bearerToken: await cloudBearerToken(sim) },
    });
    const cloudToken = String(viaCloud.body.auth_token);
    sim.expireTokens();
    for (const auth of [token, cloudToken]) {
      const result = await probe(auth);
      expect(result.status).toBe(401);
      expect(result.body.message).toMatch(/expired/i);
    }

    const next = await emLogin(sim);
    expect((await probe(next)).status).toBe(200);
    const control = await fetch(`${sim.url}/_simulator/tokens/$expire`, { method: 'POST' });
    expect(control.status).toBe(204);
    expect((await probe(next)).body.message).toMatch(/expired/i);
  });

  it('is forgotten on reset', async () => {
    sim.reset();
    const result = await probe(token);
    expect(result.status).toBe(401);
    expect(result.body.message).toMatch(/invalid/i);
  });
});

describe('POST /authentication/logout', () => {
  it('invalidates only the token it is called with, with or without a body', async () => {
    const other = await emLogin(sim);
    const result = await em(sim, '/authentication/logout', {
      token,
      body: { login: TEST_EM_ADMIN.login },
    });
    expect(result.status).toBe(200);
    expect(result.body).toEqual(SUCCESS);
    const after = await filter({}, token);
    expect(after.status).toBe(401);
    expect(after.body.message).toMatch(/invalid/i);
    expect((await filter({}, other)).status).toBe(200);

    const bare = await em(sim, '/authentication/logout', { token: other });
    expect(bare.body).toEqual(SUCCESS);
    expect((await filter({}, other)).status).toBe(401);
    // Logging out twice is like using any dead token.
    expect((await em(sim, '/authentication/logout', { token: other })).status).toBe(401);
  });
});

describe('GET /_simulator/endpoint-management/tokens', () => {
  const live = async () =>
    (await (await fetch(`${sim.url}/_simulator/endpoint-management/tokens`)).json()) as unknown;

  it('counts the auth tokens still usable, without showing any', async () => {
    expect(await live()).toEqual({ live: 1 }); // the one beforeEach logged in with
    const other = await emLogin(sim);
    expect(await live()).toEqual({ live: 2 });
    await em(sim, '/authentication/logout', { token: other });
    expect(await live()).toEqual({ live: 1 });
    sim.expireTokens();
    expect(await live()).toEqual({ live: 0 });
    const body = JSON.stringify(await live());
    expect(body).not.toContain(token);
    expect(body).not.toContain(other);
  });
});

describe('POST /device/filter', () => {
  const ALL_IDS = Object.values(DEVICES).sort();

  it('lists every device by id, ascending, with counts and without simulation data', async () => {
    const result = await filter({});
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ ...SUCCESS, totalCount: 10, matchedRecords: 10 });
    expect(idsOf(result.body.filteredDevicesDataList)).toEqual(ALL_IDS);
    const dave = result.body.filteredDevicesDataList?.find((d) => d.id === DEVICES.daveFailPhone);
    expect(dave).toEqual({
      id: DEVICES.daveFailPhone,
      userName: 'dave@example.com',
      serialNumber: expect.any(String),
      deviceModel: 'iPhone 14',
      platform: 'iOS',
      osVersion: '17.5',
      lastAccess: '2026-11-23T00:30:00Z',
      jailbroken: false,
      managed: true,
      compliant: true,
    });
  });

  it('sorts descending on request (sortOrder in any case)', async () => {
    for (const sortOrder of ['DESC', 'desc']) {
      const result = await filter({ sortOrder });
      expect(idsOf(result.body.filteredDevicesDataList)).toEqual([...ALL_IDS].reverse());
    }
  });

  it('searches a case-insensitive substring, so "bob" finds bobby too', async () => {
    const bob = await filter({ search: 'bob' });
    expect(bob.body).toMatchObject({ totalCount: 10, matchedRecords: 2 });
    expect(bob.body.filteredDevicesDataList?.map((d) => d.userName)).toEqual(['bob', 'bobby']);

    const alice = await filter({ search: 'alice@example.com' });
    expect(idsOf(alice.body.filteredDevicesDataList)).toEqual([DEVICES.aliceLaptop]);
    expect(alice.body.filteredDevicesDataList?.[0]?.userName).toBe('Alice@Example.com');

    const carol = await filter({ search: 'CAROL@example.com' });
    expect(idsOf(carol.body.filteredDevicesDataList)).toEqual([
      DEVICES.carolPhone,
      DEVICES.carolTablet,
      DEVICES.carolOldPhone,
    ]);
  });

  it('matches serial numbers, device models and ids as well', async () => {
    const byModel = await filter({ search: 'pixel' });
    expect(idsOf(byModel.body.filteredDevicesDataList)).toEqual([
      DEVICES.bobbyPhone,
      DEVICES.erin2,
    ]);
    const serial = (await em(sim, `/device/${DEVICES.erin3}`, { method: 'GET', token })).body
      .serialNumber;
    const bySerial = await filter({ search: String(serial).toLowerCase() });
    expect(idsOf(bySerial.body.filteredDevicesDataList)).toEqual([DEVICES.erin3]);
    const byId = await filter({ search: DEVICES.daveFailPhone.toUpperCase() });
    expect(idsOf(byId.body.filteredDevicesDataList)).toEqual([DEVICES.daveFailPhone]);
    const none = await filter({ search: 'zelda' });
    expect(none.body).toMatchObject({
      filteredDevicesDataList: [],
      matchedRecords: 0,
      totalCount: 10,
    });
  });

  it('pages with start and limit over the matches', async () => {
    const page = (start: number) => filter({ search: 'erin@example.com', start, limit: 2 });
    const first = await page(0);
    expect(idsOf(first.body.filteredDevicesDataList)).toEqual([DEVICES.erin1, DEVICES.erin2]);
    expect(first.body).toMatchObject({ matchedRecords: 3, totalCount: 10 });
    expect(idsOf((await page(2)).body.filteredDevicesDataList)).toEqual([DEVICES.erin3]);
    expect(idsOf((await page(3)).body.filteredDevicesDataList)).toEqual([]);
    expect(idsOf((await filter({ limit: 100 })).body.filteredDevicesDataList)).toHaveLength(10);
  });

  it('accepts sortColumn, enableCount and filterIds from the documented request', async () => {
    const result = await filter({
      start: 0,
      limit: 10,
      sortOrder: 'ASC',
      sortColumn: 'ID',
      enableCount: true,
      filterIds: '[]',
      search: 'bob',
    });
    expect(result.status).toBe(200);
    expect(result.body.matchedRecords).toBe(2);
  });

  it('answers 400 to limits over 100, bad start values and unknown keys', async () => {
    for (const body of [
      { limit: 101 },
      { limit: 0 },
      { limit: 2.5 },
      { limit: '10' },
      { start: -1 },
      { start: 1.5 },
      { sortOrder: 'UP' },
      { serach: 'bob' },
      [],
      'not json',
    ]) {
      const result = await filter(body);
      expect(result.status, JSON.stringify(body)).toBe(400);
      expect(result.body).toEqual({ status: -1, message: expect.any(String) });
    }
    expect((await filter({ limit: 101 })).body.message).toMatch(
      /limit: must be an integer from 1 to 100/,
    );
  });
});

describe('GET /device/{deviceId}', () => {
  it('returns the bare device, whatever the case of the id', async () => {
    const result = await em(sim, `/device/${DEVICES.carolOldPhone.toUpperCase()}`, {
      method: 'GET',
      token,
    });
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({
      id: DEVICES.carolOldPhone,
      userName: 'carol@example.com',
      platform: 'Android',
      managed: false,
      compliant: false,
    });
    expect(result.body).not.toHaveProperty('simulation');
    expect(result.body).not.toHaveProperty('status');
  });

  it('answers 404 with status -1 for an unknown device', async () => {
    const result = await em(sim, '/device/99999999-9999-4999-8999-999999999999', {
      method: 'GET',
      token,
    });
    expect(result.status).toBe(404);
    expect(result.body).toEqual({ status: -1, message: 'Device not found' });
  });
});

describe('device commands, "object" body shape (default)', () => {
  it('wipe, selective wipe and deploy succeed and are recorded on the devices', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-23T10:00:00Z'));
    const wipe = await em(sim, '/device/wipe', { token, body: { deviceId: DEVICES.bobPhone } });
    expect(wipe.status).toBe(200);
    expect(wipe.body).toEqual(SUCCESS);
    // Paths are case-insensitive, as everywhere in the simulator.
    const selective = await em(sim, '/device/selectiveWipe', {
      token,
      body: { deviceId: DEVICES.carolPhone },
    });
    expect(selective.body).toEqual(SUCCESS);
    const deploy = await em(sim, '/device/policy/deploy', {
      token,
      body: { deviceIds: [DEVICES.carolPhone, DEVICES.carolTablet] },
    });
    expect(deploy.body).toEqual(SUCCESS);

    const devices = sim.state().endpointManagement?.devices ?? [];
    const bob = devices.find((d) => d.id === DEVICES.bobPhone);
    expect(bob?.simulation?.commands).toEqual([
      { command: 'wipe', at: '2026-11-23T10:00:00.000Z' },
    ]);
    // A full wipe stays pending until the device checks in: the device stays listed and managed.
    expect(bob?.managed).toBe(true);
    expect(commandsOf(sim, DEVICES.carolPhone)).toEqual(['selectiveWipe', 'deployPolicy']);
    expect(commandsOf(sim, DEVICES.carolTablet)).toEqual(['deployPolicy']);
    expect(commandsOf(sim, DEVICES.erin1)).toEqual([]);

    const state = await (await fetch(`${sim.url}/_simulator/state`)).json();
    expect(JSON.stringify(state)).toContain('"command":"selectiveWipe"');
    const listed = await em(sim, `/device/${DEVICES.bobPhone}`, { method: 'GET', token });
    expect(listed.body).toMatchObject({ id: DEVICES.bobPhone, managed: true });
    expect(listed.body).not.toHaveProperty('simulation');
  });

  it('answers 404 naming an unknown device, and applies nothing from a list that has one', async () => {
    const unknown = '99999999-9999-4999-8999-999999999999';
    const wipe = await em(sim, '/device/wipe', { token, body: { deviceId: unknown } });
    expect(wipe.status).toBe(404);
    expect(wipe.body).toEqual({ status: -1, message: `Device ${unknown} not found` });

    const deploy = await em(sim, '/device/policy/deploy', {
      token,
      body: { deviceIds: [DEVICES.erin1, unknown, DEVICES.erin2] },
    });
    expect(deploy.status).toBe(404);
    expect(deploy.body.message).toBe(`Device ${unknown} not found`);
    expect(commandsOf(sim, DEVICES.erin1)).toEqual([]);
    expect(commandsOf(sim, DEVICES.erin2)).toEqual([]);
  });

  it('refuses an unmanaged device with HTTP 200 and status -1', async () => {
    for (const [path, body] of [
      ['/device/wipe', { deviceId: DEVICES.carolOldPhone }],
      ['/device/selectivewipe', { deviceId: DEVICES.carolOldPhone }],
      ['/device/policy/deploy', { deviceIds: [DEVICES.carolOldPhone] }],
    ] as const) {
      const result = await em(sim, path, { token, body });
      expect(result.status).toBe(200);
      expect(result.body).toEqual(failureBody(DEVICES.carolOldPhone, 'Device is not managed'));
    }
    expect(commandsOf(sim, DEVICES.carolOldPhone)).toEqual([]);
  });

  it('fails a device with simulation.commandFailure with that message', async () => {
    const result = await em(sim, '/device/wipe', {
      token,
      body: { deviceId: DEVICES.daveFailPhone },
    });
    expect(result.status).toBe(200);
    expect(result.body).toEqual(failureBody(DEVICES.daveFailPhone, DEVICE_BUSY));
    expect(commandsOf(sim, DEVICES.daveFailPhone)).toEqual([]);
  });

  it('applies a list to the devices that accept it and reports the others', async () => {
    const result = await em(sim, '/device/policy/deploy', {
      token,
      body: { deviceIds: [DEVICES.erin1, DEVICES.daveFailPhone, DEVICES.erin1.toUpperCase()] },
    });
    expect(result.status).toBe(200);
    expect(result.body).toEqual(failureBody(DEVICES.daveFailPhone, DEVICE_BUSY));
    // The same device twice (in any case) gets the command once.
    expect(commandsOf(sim, DEVICES.erin1)).toEqual(['deployPolicy']);
  });

  it('answers 400 with status -1 to the id-array shape and other wrong bodies', async () => {
    for (const [path, body] of [
      ['/device/wipe', [DEVICES.bobPhone]],
      ['/device/wipe', { deviceIds: [DEVICES.bobPhone] }],
      ['/device/wipe', { deviceId: 7 }],
      ['/device/wipe', ''],
      ['/device/selectivewipe', [DEVICES.bobPhone]],
      ['/device/policy/deploy', [DEVICES.bobPhone]],
      ['/device/policy/deploy', { deviceId: DEVICES.bobPhone }],
      ['/device/policy/deploy', { deviceIds: [] }],
      ['/device/policy/deploy', 'not json'],
    ] as const) {
      const result = await em(sim, path, { token, body });
      expect(result.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(result.body).toEqual({ status: -1, message: expect.any(String) });
    }
    expect(
      (await em(sim, '/device/wipe', { token, body: [DEVICES.bobPhone] })).body.message,
    ).toMatch(/expected \{"deviceId": "<id>"\}/);
    expect(commandsOf(sim, DEVICES.bobPhone)).toEqual([]);
  });

  it('answers 404 on the id-array paths, with or without a token', async () => {
    for (const path of ['/device/selwipe', '/device/refresh']) {
      for (const auth of [token, undefined]) {
        const result = await em(sim, path, {
          body: [DEVICES.bobPhone],
          ...(auth ? { token: auth } : {}),
        });
        expect(result.status).toBe(404);
        expect(result.body).toEqual({
          status: -1,
          message: expect.stringContaining('No API route'),
        });
      }
    }
    expect(commandsOf(sim, DEVICES.bobPhone)).toEqual([]);
  });
});

describe('device commands, "id-array" body shape', () => {
  const setShape = (bodyShape: unknown) =>
    fetch(`${sim.url}/_simulator/endpoint-management/body-shape`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ bodyShape }),
    });

  it('is switched on through the control API and back by reset', async () => {
    const response = await setShape('id-array');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ bodyShape: 'id-array' });
    const read = await fetch(`${sim.url}/_simulator/endpoint-management/body-shape`);
    expect(await read.json()).toEqual({ bodyShape: 'id-array' });
    expect(sim.state().endpointManagement?.bodyShape).toBe('id-array');
    sim.reset();
    expect(sim.state().endpointManagement?.bodyShape).toBe('object');
  });

  it('rejects an unknown shape in the control API', async () => {
    for (const body of [{ bodyShape: 'array' }, {}]) {
      const response = await fetch(`${sim.url}/_simulator/endpoint-management/body-shape`, {
        method: 'PUT',
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: expect.stringContaining('bodyShape') });
    }
    expect(() => sim.setEndpointManagementBodyShape('array' as 'object')).toThrow(/bodyShape/);
    expect(sim.state().endpointManagement?.bodyShape).toBe('object');
  });

  it('wipe, selwipe and refresh take arrays of ids and record the commands', async () => {
    sim.setEndpointManagementBodyShape('id-array');
    const wipe = await em(sim, '/device/wipe', { token, body: [DEVICES.bobPhone] });
    expect(wipe.body).toEqual(SUCCESS);
    const selwipe = await em(sim, '/device/selwipe', {
      token,
      body: [DEVICES.erin1, DEVICES.erin2],
    });
    expect(selwipe.body).toEqual(SUCCESS);
    const refresh = await em(sim, '/device/refresh', {
      token,
      body: [DEVICES.erin2, DEVICES.erin3],
    });
    expect(refresh.body).toEqual(SUCCESS);
    expect(commandsOf(sim, DEVICES.bobPhone)).toEqual(['wipe']);
    expect(commandsOf(sim, DEVICES.erin1)).toEqual(['selectiveWipe']);
    expect(commandsOf(sim, DEVICES.erin2)).toEqual(['selectiveWipe', 'deployPolicy']);
    expect(commandsOf(sim, DEVICES.erin3)).toEqual(['deployPolicy']);
  });

  it('gives the same failures and 404s as the object shape', async () => {
    sim.setEndpointManagementBodyShape('id-array');
    const unmanaged = await em(sim, '/device/selwipe', { token, body: [DEVICES.carolOldPhone] });
    expect(unmanaged.body).toEqual(failureBody(DEVICES.carolOldPhone, 'Device is not managed'));
    const busy = await em(sim, '/device/wipe', { token, body: [DEVICES.daveFailPhone] });
    expect(busy.body).toEqual(failureBody(DEVICES.daveFailPhone, DEVICE_BUSY));
    const unknown = await em(sim, '/device/refresh', { token, body: [DEVICES.erin1, 'nope'] });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ status: -1, message: 'Device nope not found' });
    expect(commandsOf(sim, DEVICES.erin1)).toEqual([]);
  });

  it('answers 400 to object bodies and 404 on the object-only paths', async () => {
    sim.setEndpointManagementBodyShape('id-array');
    for (const body of [{ deviceId: DEVICES.bobPhone }, [], [true], [''], '']) {
      const result = await em(sim, '/device/wipe', { token, body });
      expect(result.status, JSON.stringify(body)).toBe(400);
      expect(result.body).toEqual({ status: -1, message: expect.any(String) });
    }
    for (const [path, body] of [
      ['/device/selectivewipe', { deviceId: DEVICES.bobPhone }],
      ['/device/policy/deploy', { deviceIds: [DEVICES.bobPhone] }],
    ] as const) {
      expect((await em(sim, path, { token, body })).status).toBe(404);
    }
    expect(commandsOf(sim, DEVICES.bobPhone)).toEqual([]);
  });
});

describe('XenMobile Server style integer ids', () => {
  it('takes ids as JSON numbers or strings and sorts them numerically', async () => {
    const fixture = testFixture();
    const xms = await startCitrixSimulator({
      fixture: {
        ...fixture,
        endpointManagement: {
          administrators: [TEST_EM_ADMIN],
          bodyShape: 'id-array',
          devices: [
            { id: '10', userName: 'frank', platform: 'Android' },
            { id: '9', userName: 'frank', platform: 'iOS' },
            { id: '100', userName: 'grace', platform: 'Windows' },
          ],
        },
      },
    });
    try {
      const xmsToken = await emLogin(xms);
      const listed = await em(xms, '/device/filter', { token: xmsToken, body: { limit: 10 } });
      expect(idsOf(listed.body.filteredDevicesDataList)).toEqual(['9', '10', '100']);
      expect(listed.body.filteredDevicesDataList?.[0]).toEqual({
        id: '9',
        userName: 'frank',
        platform: 'iOS',
        jailbroken: false,
        managed: true,
        compliant: true,
      });
      const wipe = await em(xms, '/device/wipe', { token: xmsToken, body: [9, '10'] });
      expect(wipe.body).toEqual(SUCCESS);
      expect(commandsOf(xms, '9')).toEqual(['wipe']);
      expect(commandsOf(xms, '10')).toEqual(['wipe']);
      const negative = await em(xms, '/device/wipe', { token: xmsToken, body: [-9] });
      expect(negative.status).toBe(400);
    } finally {
      await xms.close();
    }
  });
});
