import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_POLICY_CATALOGUE } from '../../../local/simulator/administrators-state.ts';
import {
  demoFixture,
  parseFixture,
  type SimulatorFixture,
  SimulatorFixtureError,
  SimulatorFixtureSchema,
} from '../../../local/simulator/fixture.ts';
import {
  type RecordedRequest,
  type RunningSimulator,
  startCitrixSimulator,
} from '../../../local/simulator/server.ts';
import { ADMINS, TEST_CLIENT, testFixture } from '../../support/simulator-fixture.ts';
import { cloudBearerToken } from './endpoint-management-helpers.ts';

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

interface Call {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** An Administrators API request with only the headers given: nothing added. */
async function bare(target: RunningSimulator, path: string, call: Call = {}) {
  const response = await fetch(`${target.url}${path}`, {
    method: call.method ?? 'GET',
    headers: {
      ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...call.headers,
    },
    body: call.body === undefined ? undefined : JSON.stringify(call.body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text === '' ? undefined : (JSON.parse(text) as unknown),
  };
}

const headersFor = (token: string) => ({
  authorization: `CWSAuth bearer=${token}`,
  'citrix-customerid': 'test-customer',
});

const adminIds = (target: RunningSimulator) =>
  (target.state().cloudAdministrators?.administrators ?? []).map((a) => a.ucOid);

/** One call to every route; none of them may change anything when refused. */
const EVERY_ROUTE: (Call & { path: string })[] = [
  { path: '/administrators' },
  { path: `/administrators/${ADMINS.mallory.userId}/access` },
  {
    path: `/administrators/access?id=${ADMINS.mallory.userId}`,
    method: 'PUT',
    body: { accessType: 'Full', policies: null },
  },
  { path: `/administrators/${ADMINS.mallory.userId}`, method: 'DELETE' },
  { path: `/administrators/invitations?email=${ADMINS.invitee.email}`, method: 'DELETE' },
];

describe('authentication and the Citrix-CustomerId header', () => {
  it('answer 401 without a valid CWSAuth token, on every route, changing nothing', async () => {
    const token = await cloudBearerToken(sim);
    const cases: [string, Record<string, string>, string][] = [
      ['none', { 'citrix-customerid': 'test-customer' }, 'missing'],
      ['plain Bearer', { ...headersFor(token), authorization: `Bearer ${token}` }, 'invalid'],
      ['unknown token', headersFor('made-up-token'), 'invalid'],
    ];
    for (const route of EVERY_ROUTE) {
      for (const [label, headers, reason] of cases) {
        const result = await bare(sim, route.path, { ...route, headers });
        expect(result.status, `${route.path} ${label}`).toBe(401);
        expect(result.body).toMatchObject({
          Type: 'https://errors-api.cloud.com/common/authentication',
          Parameters: [{ Name: 'reason', Value: reason }],
        });
      }
    }
    sim.expireTokens();
    const expired = await bare(sim, '/administrators', { headers: headersFor(token) });
    expect(expired.status).toBe(401);
    expect(expired.body).toMatchObject({ Parameters: [{ Name: 'reason', Value: 'expired' }] });
    expect(adminIds(sim)).toHaveLength(7);
    expect(sim.state().cloudAdministrators).toEqual(testFixture().cloudAdministrators);
  });

  it('answer 400 without Citrix-CustomerId and 403 for another customer, on every route', async () => {
    const token = await cloudBearerToken(sim);
    for (const route of EVERY_ROUTE) {
      const missing = await bare(sim, route.path, {
        ...route,
        headers: { authorization: `CWSAuth bearer=${token}` },
      });
      expect(missing.status, route.path).toBe(400);
      expect(missing.body).toMatchObject({
        Type: 'https://errors-api.cloud.com/common/missing',
        Parameters: [{ Name: 'header', Value: 'Citrix-CustomerId' }],
      });
      const other = await bare(sim, route.path, {
        ...route,
        headers: { ...headersFor(token), 'citrix-customerid': 'someone-else' },
      });
      expect(other.status, route.path).toBe(403);
      expect(other.body).toMatchObject({
        Type: 'https://errors-api.cloud.com/common/authorization',
      });
    }
    expect(sim.state().cloudAdministrators).toEqual(testFixture().cloudAdministrators);
    // The customer id compares in any case, like everywhere else in the simulator.
    const upper = await bare(sim, '/administrators', {
      headers: { ...headersFor(token), 'citrix-customerid': 'TEST-CUSTOMER' },
    });
    expect(upper.status).toBe(200);
  });

  it('match paths in any case, echo Citrix-TransactionId, and 404 unknown routes', async () => {
    const token = await cloudBearerToken(sim);
    const listed = await bare(sim, '/Administrators?MaxItemCount=1', {
      headers: { ...headersFor(token), 'citrix-transactionid': 'tx-admins-1' },
    });
    expect(listed.status).toBe(200);
    expect(listed.headers.get('citrix-transactionid')).toBe('tx-admins-1');
    const create = await bare(sim, '/administrators/$create', {
      method: 'POST',
      headers: headersFor(token),
      body: { type: 'AdministratorUser', providerType: 'CitrixSts', accessType: 'Full' },
    });
    expect(create.status).toBe(404);
    expect(create.body).toMatchObject({ Type: 'https://errors-api.cloud.com/common/notFound' });
  });
});

describe('faults and recording', () => {
  it('throttle and fail requests without applying them; the retry goes through once', async () => {
    const token = await cloudBearerToken(sim);
    sim.setFaults({ throttle: { count: 1, retryAfterSeconds: 3 }, serverErrors: { count: 1 } });
    const remove = () =>
      bare(sim, `/administrators/${ADMINS.mallory.userId}`, {
        method: 'DELETE',
        headers: headersFor(token),
      });
    const throttled = await remove();
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('3');
    expect(throttled.body).toMatchObject({
      Type: 'https://errors-api.cloud.com/common/rateLimitExceeded',
    });
    const unavailable = await remove();
    expect(unavailable.status).toBe(503);
    expect(adminIds(sim)).toContain(ADMINS.mallory.ucOid);
    expect((await remove()).status).toBe(200);
    expect(adminIds(sim)).not.toContain(ADMINS.mallory.ucOid);
    expect((await remove()).status).toBe(404);
  });

  it('records Administrators API calls with their status and the token masked', async () => {
    const token = await cloudBearerToken(sim);
    const headers = headersFor(token);
    await bare(sim, '/administrators?maxItemCount=1', { headers });
    await bare(sim, `/administrators/access?id=${ADMINS.trent.userId}`, {
      method: 'PUT',
      headers,
      body: { accessType: 'Custom', policies: [] },
    });
    await bare(sim, `/administrators/${encodeURIComponent(ADMINS.group.ucOid)}`, {
      method: 'DELETE',
      headers,
    });
    const requests = (await (
      await fetch(`${sim.url}/_simulator/requests`)
    ).json()) as RecordedRequest[];
    const adminRequests = requests.filter((r) => r.path.startsWith('/administrators'));
    expect(adminRequests.map((r) => [r.method, r.path, r.status])).toEqual([
      ['GET', '/administrators', 200],
      ['PUT', '/administrators/access', 200],
      ['DELETE', '/administrators/OID%3A%2Fazuread%2Fgroup-1', 200],
    ]);
    expect(adminRequests[0]?.query).toEqual({ maxItemCount: '1' });
    expect(adminRequests[1]?.body).toEqual({ accessType: 'Custom', policies: [] });
    expect(adminRequests[1]?.headers.authorization).toBe('CWSAuth bearer=***');
    expect(JSON.stringify(requests) + logLines.join('\n')).not.toContain(token);
    expect(logLines).toContainEqual(
      expect.stringMatching(
        /^DELETE \/administrators\/OID%3A%2Fazuread%2Fgroup-1 -> 200 \(\d+ ms\)$/,
      ),
    );
  });
});

describe('state and reset', () => {
  it('round-trips administrators and their access through the fixture schema', async () => {
    const token = await cloudBearerToken(sim);
    const headers = headersFor(token);
    await bare(sim, `/administrators/access?id=${ADMINS.full.userId}`, {
      method: 'PUT',
      headers,
      body: {
        accessType: 'Custom',
        policies: [
          {
            name: 'notifications',
            serviceName: 'Platform',
            checkable: { value: true, canChangeValue: true },
          },
        ],
      },
    });
    await bare(sim, `/administrators/${ADMINS.mallory.userId}`, { method: 'DELETE', headers });

    const state = sim.state();
    expect(SimulatorFixtureSchema.parse(state)).toEqual(state);
    expect(state.cloudAdministrators?.pageSize).toBe(2);
    expect(adminIds(sim)).not.toContain(ADMINS.mallory.ucOid);
    const full = state.cloudAdministrators?.administrators?.find(
      (a) => a.ucOid === ADMINS.full.ucOid,
    );
    expect(full?.accessType).toBe('Custom');
    expect(full?.access?.policies.map((p) => p.name)).toEqual(['notifications']);
    expect(state.clients.find((c) => c.clientId === TEST_CLIENT.clientId)).toEqual(TEST_CLIENT);

    const overHttp = await (await fetch(`${sim.url}/_simulator/state`)).json();
    expect(SimulatorFixtureSchema.parse(overHttp).cloudAdministrators).toEqual(
      state.cloudAdministrators,
    );

    // A saved state loads as a fixture and carries on where it left off.
    const restarted = await startCitrixSimulator({ fixture: state });
    try {
      const again = await cloudBearerToken(restarted);
      const access = await bare(
        restarted,
        `/administrators/${encodeURIComponent(ADMINS.full.ucOid)}/access`,
        { headers: headersFor(again) },
      );
      expect(access.body).toMatchObject({ accessType: 'Custom' });
      const gone = await bare(restarted, `/administrators/${ADMINS.mallory.userId}/access`, {
        headers: headersFor(again),
      });
      expect(gone.status).toBe(404);
    } finally {
      await restarted.close();
    }
  });

  it('reset restores removed administrators and changed access (HTTP and method)', async () => {
    const token = await cloudBearerToken(sim);
    const headers = headersFor(token);
    await bare(sim, `/administrators/${ADMINS.breakglass.userId}`, { method: 'DELETE', headers });
    await bare(sim, `/administrators/invitations?email=${ADMINS.invitee.email}`, {
      method: 'DELETE',
      headers,
    });
    await bare(sim, `/administrators/access?id=${ADMINS.trent.userId}`, {
      method: 'PUT',
      headers,
      body: { accessType: 'Full', policies: null },
    });
    expect(adminIds(sim)).toHaveLength(5);
    expect((await fetch(`${sim.url}/_simulator/reset`, { method: 'POST' })).status).toBe(204);
    expect(sim.state().cloudAdministrators).toEqual(testFixture().cloudAdministrators);
    await bare(sim, `/administrators/${ADMINS.owner.userId}`, {
      method: 'DELETE',
      headers: headersFor(await cloudBearerToken(sim)),
    });
    sim.reset();
    expect(sim.state().cloudAdministrators).toEqual(testFixture().cloudAdministrators);
  });

  it('a fixture without cloudAdministrators still works: no administrators, page size 100', async () => {
    const { cloudAdministrators: _left, ...fixture } = testFixture();
    const empty = await startCitrixSimulator({ fixture });
    try {
      expect(empty.state().cloudAdministrators).toEqual({ pageSize: 100, administrators: [] });
      expect(SimulatorFixtureSchema.parse(empty.state())).toEqual(empty.state());
      const headers = headersFor(await cloudBearerToken(empty));
      const listed = await bare(empty, '/administrators', { headers });
      expect(listed.body).toEqual({ items: [], continuationToken: null });
      const invitation = await bare(empty, '/administrators/invitations?email=a@example.com', {
        method: 'DELETE',
        headers,
      });
      expect(invitation.body).toBe(false);
    } finally {
      await empty.close();
    }
  });

  it('defaults the page size to 100 when the section has none', async () => {
    const fixture = testFixture();
    const administrators = Array.from({ length: 101 }, (_, i) => ({
      ucOid: `OID:/citrix/${2000 + i}`,
      userId: String(2000 + i),
      type: 'AdministratorUser' as const,
      accessType: 'Custom' as const,
      email: `admin${i}@example.com`,
      providerType: 'CitrixSts' as const,
      createdDate: '2025-01-01T00:00:00Z',
    }));
    const many = await startCitrixSimulator({
      fixture: { ...fixture, cloudAdministrators: { administrators } },
    });
    try {
      const headers = headersFor(await cloudBearerToken(many));
      const first = await bare(many, '/administrators', { headers });
      const page = first.body as { items: { userId: string }[]; continuationToken: string };
      expect(page.items).toHaveLength(100);
      // Same createdDate everywhere: ordered by ucOid as text.
      expect(page.items[0]?.userId).toBe('2000');
      const second = await bare(
        many,
        `/administrators?requestContinuation=${encodeURIComponent(page.continuationToken)}`,
        { headers },
      );
      expect(second.body).toEqual({
        items: [expect.objectContaining({ userId: '2100' })],
        continuationToken: null,
      });
    } finally {
      await many.close();
    }
  });
});

describe('fixture validation', () => {
  type Admins = NonNullable<NonNullable<SimulatorFixture['cloudAdministrators']>['administrators']>;

  function withAdmins(change: (admins: Admins) => void): SimulatorFixture {
    const fixture = testFixture();
    change(fixture.cloudAdministrators?.administrators ?? []);
    return fixture;
  }

  const errorOf = (fixture: SimulatorFixture) => {
    try {
      parseFixture(fixture);
    } catch (error) {
      expect(error).toBeInstanceOf(SimulatorFixtureError);
      return (error as Error).message;
    }
    throw new Error('expected the fixture to be rejected');
  };

  it('rejects duplicate ucOids and userIds, compared in any case', () => {
    expect(
      errorOf(
        withAdmins((admins) => {
          const trent = admins[3];
          if (trent) trent.ucOid = ADMINS.full.ucOid.toLowerCase();
        }),
      ),
    ).toContain(
      `cloudAdministrators.administrators[3].ucOid: Duplicate value "${ADMINS.full.ucOid.toLowerCase()}"`,
    );
    expect(
      errorOf(
        withAdmins((admins) => {
          const invitee = admins[6];
          if (invitee) invitee.userId = ADMINS.owner.userId;
        }),
      ),
    ).toContain(`cloudAdministrators.administrators[6].userId: Duplicate value`);
  });

  it('checks granted policies against the catalogue', () => {
    const unknownPolicy = withAdmins((admins) => {
      admins[2]?.access?.policies.push({
        name: 'cloudLibrary',
        serviceName: 'Platform',
        checkable: { value: true, canChangeValue: true },
      });
    });
    expect(errorOf(unknownPolicy)).toContain(
      'cloudAdministrators.administrators[2].access.policies[2].name: unknown policy "cloudLibrary"',
    );
    const locked = withAdmins((admins) => {
      admins[3]?.access?.policies.push({
        name: 'customerDashboard',
        serviceName: 'Platform',
        checkable: { value: false, canChangeValue: false },
      });
    });
    expect(errorOf(locked)).toContain(
      'cloudAdministrators.administrators[3].access.policies[1].checkable.value',
    );
  });

  it('rejects access on a Full administrator, an invitation without email, and bad enums', () => {
    const fullWithAccess = withAdmins((admins) => {
      const full = admins[0];
      if (full) full.access = { policies: [] };
    });
    expect(errorOf(fullWithAccess)).toContain('cloudAdministrators.administrators[0].access');
    const pendingGroup = withAdmins((admins) => {
      const group = admins[5];
      if (group) group.pending = true;
    });
    expect(errorOf(pendingGroup)).toContain('cloudAdministrators.administrators[5].email');
    const badType = withAdmins((admins) => {
      const trent = admins[3] as Record<string, unknown> | undefined;
      if (trent) trent.providerType = 'Okta';
    });
    expect(errorOf(badType)).toContain('cloudAdministrators.administrators[3].providerType');
    const badPageSize = testFixture();
    if (badPageSize.cloudAdministrators) badPageSize.cloudAdministrators.pageSize = 1001;
    expect(errorOf(badPageSize)).toContain('cloudAdministrators.pageSize');
  });

  it('passes extra Citrix fields through to the listing', async () => {
    const fixture = withAdmins((admins) => {
      const owner = admins[1];
      if (owner) Object.assign(owner, { authDomain: 'example', providerId: 'citrix-sts' });
    });
    const extra = await startCitrixSimulator({ fixture });
    try {
      const headers = headersFor(await cloudBearerToken(extra));
      const result = await bare(extra, `/administrators?id=${ADMINS.owner.userId}`, { headers });
      expect(result.body).toMatchObject({
        items: [{ authDomain: 'example', providerId: 'citrix-sts', email: ADMINS.owner.email }],
      });
    } finally {
      await extra.close();
    }
  });
});

describe('the policy catalogue', () => {
  it('holds DaaS roles with scopes, Platform permissions, and one locked permission', () => {
    expect(ADMIN_POLICY_CATALOGUE.map((p) => [p.serviceName, p.displayName ?? p.name])).toEqual([
      ['XenDesktop', 'Cloud Administrator'],
      ['XenDesktop', 'Delivery Group Administrator'],
      ['Platform', 'notifications'],
      ['Platform', 'licensing'],
      ['Platform', 'secureClients'],
      ['Platform', 'domains'],
      ['Platform', 'customerDashboard'],
    ]);
    expect(ADMIN_POLICY_CATALOGUE[0]?.scopeChoices?.choices).toEqual([
      {
        name: 'XenDesktop-FullAdmin',
        displayName: 'All',
        checkable: { value: false, canChangeValue: true },
      },
    ]);
    const locked = ADMIN_POLICY_CATALOGUE.filter((p) => !p.checkable.canChangeValue);
    expect(locked.map((p) => [p.name, p.checkable.value])).toEqual([['customerDashboard', true]]);
    expect(Object.isFrozen(ADMIN_POLICY_CATALOGUE[0]?.checkable)).toBe(true);
  });
});

describe('the demo and test fixtures', () => {
  it('demo: one Full administrator, the API client owner, Custom ones and a stale invitation', () => {
    const fixture = demoFixture();
    const admins = fixture.cloudAdministrators?.administrators ?? [];
    const byEmail = (email: string) => admins.find((a) => a.email === email);
    expect(admins.filter((a) => a.accessType === 'Full').map((a) => a.email)).toEqual([
      'olivia.full@example.com',
    ]);
    expect(fixture.clients[0]?.ownerAdministrator).toBe('automation@example.com');
    expect(byEmail('automation@example.com')?.accessType).toBe('Custom');
    for (const email of ['mallory@example.com', 'breakglass@example.com']) {
      expect(byEmail(email)).toMatchObject({ accessType: 'Custom', pending: false });
    }
    const customUsers = admins.filter(
      (a) => a.type === 'AdministratorUser' && a.accessType === 'Custom' && !a.pending,
    );
    expect(customUsers.length).toBeGreaterThanOrEqual(4);
    const groups = admins.filter((a) => a.type === 'AdministratorGroup');
    expect(groups).toEqual([
      expect.objectContaining({ providerType: 'AzureAd', accessType: 'Custom' }),
    ]);
    expect(groups[0]?.email).toBeUndefined();
    const pending = admins.filter((a) => a.pending);
    expect(pending.map((a) => a.email)).toEqual(['pending.contractor@example.com']);
    const ageDays =
      (Date.parse('2026-11-23T00:00:00Z') - Date.parse(pending[0]?.createdDate ?? '')) / 86_400_000;
    expect(ageDays).toBeGreaterThan(55);
    expect(ageDays).toBeLessThan(65);
  });

  it('test: full is the only Full administrator and TEST_CLIENT is owned by owner', () => {
    const fixture = testFixture();
    const admins = fixture.cloudAdministrators?.administrators ?? [];
    expect(admins.filter((a) => a.accessType === 'Full').map((a) => a.email)).toEqual([
      ADMINS.full.email,
    ]);
    expect(TEST_CLIENT.ownerAdministrator).toBe(ADMINS.owner.email);
    expect(admins.find((a) => a.email === ADMINS.owner.email)?.ucOid).toBe(
      'OID:/citrix/1000000000000000002',
    );
    expect(admins.find((a) => a.email === ADMINS.mallory.email)?.access?.policies).toHaveLength(2);
    expect(admins.find((a) => a.ucOid === ADMINS.invitee.ucOid)).toMatchObject({
      pending: true,
      createdDate: '2026-09-01T10:00:00Z',
    });
  });
});

describe('npm run simulator', () => {
  it('prints the Cloud administrators and which API client each one owns', async () => {
    const main = fileURLToPath(new URL('../../../local/simulator/main.ts', import.meta.url));
    const child: ChildProcess = spawn(process.execPath, [main], {
      env: { ...process.env, CITRIX_SIMULATOR_PORT: '0', CITRIX_SIMULATOR_FIXTURE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const deadline = Date.now() + 10_000;
      // Output arrives in chunks: wait for the whole last line, not just its start.
      const lastLine = /pending\.contractor@example\.com .*pending invitation since 2026-09-24.*\n/;
      while (!lastLine.test(output) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(output).toMatch(/Cloud administrators: http:\/\/127\.0\.0\.1:\d+\/administrators/);
      expect(output).toMatch(/olivia\.full@example\.com\s+Full/);
      expect(output).toMatch(/automation@example\.com\s+Custom .*owns API client demo-client-id/);
      expect(output).toMatch(
        /pending\.contractor@example\.com .*pending invitation since 2026-09-24/,
      );
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
