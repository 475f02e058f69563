import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningSimulator, startCitrixSimulator } from '../../../local/simulator/server.ts';
import { EndpointManagementOpenApi, type OpenApiCheck } from '../../support/openapi.ts';
import { DEVICES, TEST_EM_ADMIN, testFixture } from '../../support/simulator-fixture.ts';
import { em, emLogin } from './endpoint-management-helpers.ts';

/**
 * The simulator's "object" body shape is the OpenAPI document: every request the tests send in
 * that shape and every documented response must validate against it.
 */

let sim: RunningSimulator;
let spec: EndpointManagementOpenApi;
let token: string;

beforeAll(async () => {
  [sim, spec] = await Promise.all([
    startCitrixSimulator({ fixture: testFixture() }),
    EndpointManagementOpenApi.load(),
  ]);
});
afterAll(() => sim.close());
beforeEach(async () => {
  sim.reset();
  token = await emLogin(sim);
});

function expectValid(check: OpenApiCheck, operationId?: string): void {
  expect(check.errors).toEqual([]);
  expect(check.valid).toBe(true);
  if (operationId) expect(check.operationId).toBe(operationId);
}

/** Validates the request against the document, sends it, and returns the simulator's answer. */
async function call(operationId: string, method: string, path: string, body?: unknown) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (operationId !== 'login') headers.auth_token = token;
  expectValid(spec.validateRequest({ method, path, headers, body }), operationId);
  return em(sim, path, {
    method,
    ...(operationId === 'login' ? {} : { token }),
    ...(body === undefined ? {} : { body }),
  });
}

describe('OpenAPI conformance (object body shape)', () => {
  it('the validator rejects what the document forbids', () => {
    const wrongPlatform = spec.validateResponse('getDevice', 200, { id: 'x', platform: 'ios' });
    expect(wrongPlatform.valid).toBe(false);
    const numericId = spec.validateResponse('getDevice', 200, { id: 7 });
    expect(numericId.valid).toBe(false);
    const badTime = spec.validateResponse('getDevice', 200, { id: 'x', lastAccess: 'yesterday' });
    expect(badTime.valid).toBe(false);
    // The PDF's id array is not the document's body.
    const idArray = spec.validateRequest({
      method: 'POST',
      path: '/device/wipe',
      headers: { 'content-type': 'application/json', auth_token: token },
      body: [DEVICES.bobPhone],
    });
    expect(idArray.valid).toBe(false);
  });

  it('login', async () => {
    const ok = await call('login', 'POST', '/authentication/login', TEST_EM_ADMIN);
    expect(ok.status).toBe(200);
    expectValid(spec.validateResponse('login', ok.status, ok.body));
    const denied = await call('login', 'POST', '/authentication/login', {
      ...TEST_EM_ADMIN,
      password: 'wrong',
    });
    expect(denied.status).toBe(401);
    expectValid(spec.validateResponse('login', denied.status, denied.body));
  });

  it('filterDevices', async () => {
    for (const body of [
      {},
      { start: 0, limit: 2, sortOrder: 'ASC', search: 'erin@example.com' },
      { start: 1, limit: 100, sortOrder: 'DESC', search: 'bob' },
    ]) {
      const result = await call('filterDevices', 'POST', '/device/filter', body);
      expect(result.status).toBe(200);
      expect(result.body.filteredDevicesDataList?.length).toBeGreaterThan(0);
      expectValid(spec.validateResponse('filterDevices', result.status, result.body));
    }
    const unauthorized = await em(sim, '/device/filter', { body: {} });
    expect(unauthorized.status).toBe(401);
    expectValid(spec.validateResponse('filterDevices', unauthorized.status, unauthorized.body));
  });

  it('getDevice, for every device in the fixture', async () => {
    for (const id of Object.values(DEVICES)) {
      const result = await call('getDevice', 'GET', `/device/${id}`);
      expect(result.status).toBe(200);
      expectValid(spec.validateResponse('getDevice', result.status, result.body));
    }
    const missing = await call('getDevice', 'GET', '/device/99999999-9999-4999-8999-999999999999');
    expect(missing.status).toBe(404);
    expectValid(spec.validateResponse('getDevice', missing.status, missing.body));
  });

  it('wipeDevice and selectiveWipeDevice', async () => {
    for (const [operationId, path] of [
      ['wipeDevice', '/device/wipe'],
      ['selectiveWipeDevice', '/device/selectivewipe'],
    ] as const) {
      for (const [deviceId, status] of [
        [DEVICES.erin1, 200],
        [DEVICES.daveFailPhone, 200],
        [DEVICES.carolOldPhone, 200],
        ['99999999-9999-4999-8999-999999999999', 404],
      ] as const) {
        const result = await call(operationId, 'POST', path, { deviceId });
        expect(result.status).toBe(status);
        expectValid(spec.validateResponse(operationId, result.status, result.body));
      }
    }
  });

  it('deployPolicy', async () => {
    for (const deviceIds of [[DEVICES.erin1, DEVICES.erin2], [DEVICES.daveFailPhone]]) {
      const result = await call('deployPolicy', 'POST', '/device/policy/deploy', { deviceIds });
      expect(result.status).toBe(200);
      expectValid(spec.validateResponse('deployPolicy', result.status, result.body));
    }
  });

  it('logout', async () => {
    const result = await call('logout', 'POST', '/authentication/logout');
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ status: 0, message: 'Success' });
    expectValid(spec.validateResponse('logout', result.status, result.body));
  });
});
