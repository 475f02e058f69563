import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SimulatorFixtureSchema } from '../../../local/simulator/fixture.ts';
import {
  type RecordedRequest,
  type RunningSimulator,
  startCitrixSimulator,
} from '../../../local/simulator/server.ts';
import { api, CLIENT_A, CLIENT_B, getToken, IDS, logoff, testFixture } from './helpers.ts';

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

async function recorded(): Promise<RecordedRequest[]> {
  const response = await fetch(`${sim.url}/_simulator/requests`);
  expect(response.status).toBe(200);
  return (await response.json()) as RecordedRequest[];
}

describe('request log', () => {
  it('records Citrix API requests oldest first, with status, and never the secret or token', async () => {
    const token = await getToken(sim);
    await api(sim, token, '/Sessions/$search?limit=5', {
      method: 'POST',
      body: {
        SearchFilters: [{ Property: 'UserName', Value: 'EXAMPLE\\bob', Operator: 'Equals' }],
      },
    });
    await api(sim, token, '/Sessions/99999999-9999-4999-8999-999999999999');
    // A client that puts its secret in odd places must not leak it either.
    await fetch(`${sim.url}/cvad/manage/me?client_secret=${CLIENT_A.clientSecret}`, {
      headers: { authorization: `CWSAuth bearer=${token}`, 'citrix-customerid': 'test-customer' },
    });
    await fetch(`${sim.url}/cctrustoauth2/root/tokens/clients`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: `secret is ${CLIENT_B.clientSecret}`,
    });

    const requests = await recorded();
    expect(requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ['POST', '/cctrustoauth2/test-customer/tokens/clients', 200],
      ['POST', '/cvad/manage/Sessions/$search', 200],
      ['GET', '/cvad/manage/Sessions/99999999-9999-4999-8999-999999999999', 404],
      ['GET', '/cvad/manage/me', 200],
      ['POST', '/cctrustoauth2/root/tokens/clients', 400],
    ]);
    const [tokenCall, searchCall] = requests;
    expect(tokenCall?.body).toEqual({
      grant_type: 'client_credentials',
      client_id: CLIENT_A.clientId,
      client_secret: '***',
    });
    expect(searchCall).toMatchObject({
      query: { limit: '5' },
      headers: { authorization: 'CWSAuth bearer=***', 'citrix-customerid': 'test-customer' },
      body: {
        SearchFilters: [{ Property: 'UserName', Value: 'EXAMPLE\\bob', Operator: 'Equals' }],
      },
    });
    expect(Date.parse(searchCall?.time ?? '')).not.toBeNaN();

    const everything =
      JSON.stringify(requests) + JSON.stringify(sim.requests()) + logLines.join('\n');
    expect(everything).not.toContain(CLIENT_A.clientSecret);
    expect(everything).not.toContain(CLIENT_B.clientSecret);
    expect(everything).not.toContain(token);
    expect(logLines).toContainEqual(
      expect.stringMatching(/^POST \/cvad\/manage\/Sessions\/\$search -> 200 \(\d+ ms\)$/),
    );
  });

  it('leaves out control API calls and can be cleared', async () => {
    await fetch(`${sim.url}/_simulator/state`);
    await fetch(`${sim.url}/cvad/manage/me`);
    expect((await recorded()).map((r) => r.path)).toEqual(['/cvad/manage/me']);
    expect((await fetch(`${sim.url}/_simulator/requests`, { method: 'DELETE' })).status).toBe(204);
    expect(await recorded()).toEqual([]);
  });
});

describe('state', () => {
  it('round-trips through the fixture schema and matches the HTTP view', async () => {
    const token = await getToken(sim);
    await api(sim, token, `/Sessions/${IDS.bob}/$disconnect`, { method: 'POST' });
    await api(sim, token, `/Sessions/${IDS.bob}/$sendMessage`, {
      method: 'POST',
      body: { Title: 'Heads up', Text: 'Logging you off' },
    });
    await logoff(sim, token, IDS.dave);

    const state = sim.state();
    expect(SimulatorFixtureSchema.parse(state)).toEqual(state);
    const bob = state.sessions.find((s) => s.Id === IDS.bob);
    expect(bob?.State).toBe('Disconnected');
    expect(bob?.simulation?.messages).toHaveLength(1);
    expect(state.jobs).toHaveLength(1);
    expect(state.settings).toEqual({
      tokenLifetimeSeconds: 3600,
      logoff: { notStartedMs: 50, inProgressMs: 100 },
      stateChangeTimeFormat: 'iso',
    });

    const overHttp = await (await fetch(`${sim.url}/_simulator/state`)).json();
    expect(SimulatorFixtureSchema.parse(overHttp).sessions).toEqual(state.sessions);
  });

  it('a fresh simulator reports its fixture unchanged', () => {
    const state = sim.state();
    const fixture = testFixture();
    expect(state.customerId).toBe(fixture.customerId);
    expect(state.sessions.map((s) => s.Id)).toEqual(fixture.sessions.map((s) => s.Id));
    expect(state.jobs).toEqual([]);
  });
});

describe('reset', () => {
  it('restores sessions, drops jobs, requests and tokens (HTTP and method)', async () => {
    const token = await getToken(sim);
    await api(sim, token, `/Sessions/${IDS.alice1}/$disconnect`, { method: 'POST' });
    await logoff(sim, token, IDS.carol);
    expect(sim.requests().length).toBeGreaterThan(0);
    expect(sim.requestCount()).toBe(sim.requests().length);

    const response = await fetch(`${sim.url}/_simulator/reset`, { method: 'POST' });
    expect(response.status).toBe(204);
    expect(sim.requests()).toEqual([]);
    expect(sim.requestCount()).toBe(0);
    expect(sim.state().jobs).toEqual([]);
    expect(sim.state().sessions.find((s) => s.Id === IDS.alice1)?.State).toBe('Active');
    expect((await api(sim, token, '/me')).status).toBe(401);
  });
});

describe('server', () => {
  it('listens on 127.0.0.1 on a random port by default and closes cleanly', async () => {
    const other = await startCitrixSimulator({ fixture: testFixture() });
    expect(other.url).toBe(`http://127.0.0.1:${other.port}`);
    expect(other.port).toBeGreaterThan(0);
    expect(other.port).not.toBe(sim.port);
    await other.close();
    await other.close();
    await expect(fetch(`${other.url}/_simulator/state`)).rejects.toThrow();
  });

  it('rejects when the port is already taken', async () => {
    await expect(
      startCitrixSimulator({ fixture: testFixture(), port: sim.port }),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('uses the demo fixture when none is given', async () => {
    const demo = await startCitrixSimulator();
    try {
      expect(demo.state().customerId).toBe('demo-customer');
    } finally {
      await demo.close();
    }
  });

  it('rejects an invalid fixture naming the field', async () => {
    const fixture = { ...testFixture(), sites: [{ id: 'not-a-guid', name: 'x' }] };
    await expect(startCitrixSimulator({ fixture })).rejects.toThrow(/sites\[0\]\.id/);
  });

  it('answers unknown control routes with 404', async () => {
    const response = await fetch(`${sim.url}/_simulator/nothing`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: expect.stringContaining('/_simulator/nothing'),
    });
    expect(sim.requests()).toEqual([]);
  });

  it('echoes Citrix-TransactionId or makes one up', async () => {
    const echoed = await fetch(`${sim.url}/cvad/manage/me`, {
      headers: { 'citrix-transactionid': 'abc-123' },
    });
    expect(echoed.headers.get('citrix-transactionid')).toBe('abc-123');
    const generated = await fetch(`${sim.url}/cvad/manage/me`);
    expect(generated.headers.get('citrix-transactionid')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
