import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningSimulator, startCitrixSimulator } from '../../../local/simulator/server.ts';
import { api, getToken, requestClientToken, testFixture } from './helpers.ts';

let sim: RunningSimulator;
let token: string;

beforeAll(async () => {
  sim = await startCitrixSimulator({ fixture: testFixture() });
});
afterAll(() => sim.close());
beforeEach(async () => {
  sim.reset();
  token = await getToken(sim);
});

const statusOf = async (path = '/Sessions') => (await api(sim, token, path)).status;

const tokenRequest = () => requestClientToken(sim.url, 'root');

describe('throttle', () => {
  it('answers the next N requests with 429 and Retry-After, then recovers', async () => {
    sim.setFaults({ throttle: { count: 2, retryAfterSeconds: 7 } });
    const first = await api(sim, token, '/Sessions');
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('7');
    expect(await first.json()).toMatchObject({
      Type: 'https://errors-api.cloud.com/common/rateLimitExceeded',
      Parameters: [{ Name: 'retryDelay', Value: '7' }],
    });
    expect(await statusOf()).toBe(429);
    expect(await statusOf()).toBe(200);
    expect(sim.state().faults?.throttle?.count).toBe(0);
  });

  it('sends no Retry-After when retryAfterSeconds is not set', async () => {
    sim.setFaults({ throttle: { count: 1 } });
    const response = await api(sim, token, '/Sessions');
    expect(response.status).toBe(429);
    expect(response.headers.has('retry-after')).toBe(false);
  });
});

describe('server errors', () => {
  it('counts down a burst of 5xx after the throttles are used up', async () => {
    sim.setFaults({ throttle: { count: 1 }, serverErrors: { count: 2, status: 502 } });
    expect(await statusOf()).toBe(429);
    const error = await api(sim, token, '/Sessions');
    expect(error.status).toBe(502);
    expect(await error.json()).toMatchObject({
      Type: 'https://errors-api.cloud.com/common/badGateway',
      Detail: expect.any(String),
      Parameters: [],
    });
    expect(sim.state().faults?.serverErrors?.count).toBe(1);
    expect(await statusOf()).toBe(502);
    expect(await statusOf()).toBe(200);
  });

  it('defaults to 503', async () => {
    sim.setFaults({ serverErrors: { count: 1 } });
    expect(await statusOf()).toBe(503);
  });
});

describe('token endpoint and faults', () => {
  it('spares the token endpoint unless includeTokenEndpoint is set', async () => {
    sim.setFaults({ serverErrors: { count: 1, status: 500 } });
    expect((await tokenRequest()).status).toBe(200);
    expect(await statusOf()).toBe(500);

    sim.setFaults({ serverErrors: { count: 1, status: 504 }, includeTokenEndpoint: true });
    expect((await tokenRequest()).status).toBe(504);
    expect((await tokenRequest()).status).toBe(200);
  });
});

describe('latency', () => {
  it('delays Citrix API responses but not the control API', async () => {
    sim.setFaults({ latencyMs: 300 });
    const started = performance.now();
    expect(await statusOf()).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);

    const controlStarted = performance.now();
    expect((await fetch(`${sim.url}/_simulator/state`)).status).toBe(200);
    expect(performance.now() - controlStarted).toBeLessThan(290);
  });
});

describe('PUT /_simulator/faults', () => {
  it('replaces the faults', async () => {
    sim.setFaults({ latencyMs: 5 });
    const response = await fetch(`${sim.url}/_simulator/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ throttle: { count: 1, retryAfterSeconds: 2 } }),
    });
    expect(response.status).toBe(200);
    expect(sim.state().faults).toEqual({ throttle: { count: 1, retryAfterSeconds: 2 } });
    expect(await statusOf()).toBe(429);
  });

  it('rejects invalid settings with 400 naming the field', async () => {
    const response = await fetch(`${sim.url}/_simulator/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ serverErrors: { count: 1, status: 418 } }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/serverErrors\.status/);
    expect(sim.state().faults).toEqual({});
  });

  it('setFaults() validates too', () => {
    expect(() => sim.setFaults({ throttle: { count: -1 } })).toThrow(/count/);
  });

  it('reset() restores the fixture faults', async () => {
    const faulty = await startCitrixSimulator({
      fixture: { ...testFixture(), faults: { serverErrors: { count: 1 } } },
    });
    try {
      const faultyToken = await getToken(faulty);
      expect((await api(faulty, faultyToken, '/Sessions')).status).toBe(503);
      expect((await api(faulty, faultyToken, '/Sessions')).status).toBe(200);
      faulty.reset();
      const again = await getToken(faulty);
      expect((await api(faulty, again, '/Sessions')).status).toBe(503);
    } finally {
      await faulty.close();
    }
  });
});
