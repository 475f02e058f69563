import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { citrixMutation } from '../../../local/simulator/faults.ts';
import { type RunningSimulator, startCitrixSimulator } from '../../../local/simulator/server.ts';
import { DEVICES, testFixture as emTestFixture } from '../../support/simulator-fixture.ts';
import { commandsOf, em, emLogin } from './endpoint-management-helpers.ts';
import {
  api,
  getJob,
  getToken,
  IDS,
  type JobBody,
  logoff,
  requestClientToken,
  sleep,
  testFixture,
} from './helpers.ts';

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

describe('expireTokensAfterRequests', () => {
  it('expires every token at the Nth request, which gets 401 expired; a new token works', async () => {
    sim.setFaults({ expireTokensAfterRequests: 2 });
    expect(await statusOf()).toBe(200);
    const expired = await api(sim, token, '/Sessions');
    expect(expired.status).toBe(401);
    expect(await expired.json()).toMatchObject({
      Parameters: [{ Name: 'reason', Value: 'expired' }],
    });
    expect(sim.state().faults?.expireTokensAfterRequests).toBeUndefined();
    const fresh = await getToken(sim);
    expect((await api(sim, fresh, '/Sessions')).status).toBe(200);
  });

  it('rejects a countdown of 0 naming the field', () => {
    expect(() => sim.setFaults({ expireTokensAfterRequests: 0 })).toThrow(
      /expireTokensAfterRequests/,
    );
  });
});

describe('mutationLatency', () => {
  it('applies the mutation at once and answers only after the latency; reads are not held up', async () => {
    sim.setFaults({ mutationLatency: { latencyMs: 400, count: 1 } });
    // A read neither waits nor uses up the fault.
    expect(await statusOf()).toBe(200);
    expect(sim.state().faults?.mutationLatency?.count).toBe(1);

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 100);
    const late = api(sim, token, `/Sessions/${IDS.alice1}/$disconnect`, { method: 'POST' });
    // The client gives up first, as one with a short timeout does...
    await expect(
      Promise.race([
        late,
        new Promise((_, reject) =>
          controller.signal.addEventListener('abort', () => reject(new Error('client timeout'))),
        ),
      ]),
    ).rejects.toThrow('client timeout');
    clearTimeout(timer);
    // ... but the disconnect went through; it is recorded once its answer is sent.
    expect(sim.state().sessions.find((s) => s.Id === IDS.alice1)?.State).toBe('Disconnected');
    const disconnects = () => sim.requests().filter((r) => r.path.endsWith('/$disconnect'));
    expect(disconnects()).toEqual([]);
    await sim.settled();
    expect(disconnects().map((r) => r.status)).toEqual([200]);
    expect((await late).status).toBe(200);
    expect(sim.state().faults?.mutationLatency?.count).toBe(0);
  });
});

describe('logoffJobs', () => {
  it('makes the next log off job fail, then the next one never end, whatever the session says', async () => {
    sim.setFaults({ logoffJobs: { outcome: 'fail', count: 1, errorString: 'VDA unreachable' } });
    const failed = await logoff(sim, token, IDS.alice1);
    sim.setFaults({ logoffJobs: { outcome: 'never', count: 1 } });
    const hanging = await logoff(sim, token, IDS.bob);
    const normal = await logoff(sim, token, IDS.alice2);
    await sleep(250);
    const job = async (location: string) =>
      (await (await getJob(token, location)).json()) as JobBody;
    expect(await job(failed.location)).toMatchObject({
      Status: 'Failed',
      ErrorString: 'VDA unreachable',
    });
    expect((await job(hanging.location)).Status).toBe('InProgress');
    expect((await job(normal.location)).Status).toBe('Complete');
    expect(sim.state().faults?.logoffJobs?.count).toBe(0);
  });
});

describe('citrixMutation', () => {
  it('names every mutating Citrix request and nothing else', () => {
    expect(citrixMutation('POST', '/cvad/manage/Sessions/abc/%24logoff')).toBe('logoff');
    expect(citrixMutation('POST', '/cvad/manage/sessions/abc/$sendMessage')).toBe('sendMessage');
    expect(citrixMutation('POST', '/cvad/manage/Sessions/abc/$disconnect')).toBe('disconnect');
    expect(citrixMutation('POST', '/xenmobile/api/v1/device/selwipe')).toBe('selectiveWipe');
    expect(citrixMutation('POST', '/xenmobile/api/v1/device/policy/deploy')).toBe('deployPolicy');
    expect(citrixMutation('PUT', '/administrators/access')).toBe('adminAccessChange');
    expect(citrixMutation('DELETE', '/administrators/invitations')).toBe('invitationDelete');
    expect(citrixMutation('DELETE', '/administrators/123')).toBe('adminDelete');
    expect(citrixMutation('POST', '/cvad/manage/Sessions/$search')).toBeUndefined();
    expect(citrixMutation('POST', '/xenmobile/api/v1/device/filter')).toBeUndefined();
    expect(citrixMutation('GET', '/administrators/123/access')).toBeUndefined();
  });
});

describe('deviceCommandFailures', () => {
  it('answers the next device command 200 status -1 and records no command', async () => {
    const emSim = await startCitrixSimulator({ fixture: emTestFixture() });
    try {
      const authToken = await emLogin(emSim);
      emSim.setFaults({ deviceCommandFailures: { count: 1, message: 'Device busy' } });
      const body = { deviceId: DEVICES.bobPhone };
      const failed = await em(emSim, '/device/wipe', { body, token: authToken });
      expect(failed).toMatchObject({ status: 200, body: { status: -1, message: 'Device busy' } });
      expect(commandsOf(emSim, DEVICES.bobPhone)).toEqual([]);
      const sent = await em(emSim, '/device/wipe', { body, token: authToken });
      expect(sent.body.status).toBe(0);
      expect(commandsOf(emSim, DEVICES.bobPhone)).toEqual(['wipe']);
    } finally {
      await emSim.close();
    }
  });
});
