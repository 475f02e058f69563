import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunningSimulator, startCitrixSimulator } from '../../../local/simulator/server.ts';
import {
  api,
  CLIENT_A,
  CUSTOMER_ID,
  getToken,
  requestClientToken,
  SITE_ID,
  testFixture,
} from './helpers.ts';

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startCitrixSimulator({ fixture: testFixture() });
});
afterAll(() => sim.close());
afterEach(() => {
  vi.useRealTimers();
  sim.reset();
});

function requestToken(customer: string, form: Record<string, string>, contentType?: string) {
  return fetch(`${sim.url}/cctrustoauth2/${customer}/tokens/clients`, {
    method: 'POST',
    headers: { 'content-type': contentType ?? 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
}

const goodForm = {
  grant_type: 'client_credentials',
  client_id: CLIENT_A.clientId,
  client_secret: CLIENT_A.clientSecret,
};

describe('token endpoint', () => {
  it('issues an opaque bearer token with expires_in as a string', async () => {
    const response = await requestToken(CUSTOMER_ID, goodForm);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toEqual({
      token_type: 'bearer',
      access_token: expect.stringMatching(/^[\w-]{20,}$/),
      expires_in: '3600',
    });
  });

  it('also accepts the root customer path', async () => {
    const response = await requestToken('root', goodForm);
    expect(response.status).toBe(200);
    const { access_token } = (await response.json()) as { access_token: string };
    expect((await api(sim, access_token, '/me')).status).toBe(200);
  });

  it('rejects a wrong secret, an unknown client and a wrong grant type with invalid_client', async () => {
    for (const form of [
      { ...goodForm, client_secret: 'wrong-secret' },
      { ...goodForm, client_id: 'nobody' },
      { ...goodForm, grant_type: 'password' },
      { grant_type: 'client_credentials' },
    ]) {
      const response = await requestToken(CUSTOMER_ID, form);
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({
        error: 'invalid_client',
        error_description: expect.any(String),
      });
    }
  });

  it('rejects an unknown customer id in the path', async () => {
    const response = await requestToken('someone-else', goodForm);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('requires a form-encoded body', async () => {
    const response = await fetch(`${sim.url}/cctrustoauth2/${CUSTOMER_ID}/tokens/clients`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(goodForm),
    });
    expect(response.status).toBe(400);
  });

  it('uses the fixture token lifetime', async () => {
    const short = await startCitrixSimulator({
      fixture: { ...testFixture(), settings: { tokenLifetimeSeconds: 120 } },
    });
    try {
      const response = await requestClientToken(short.url, 'root');
      expect(((await response.json()) as { expires_in: unknown }).expires_in).toBe('120');
    } finally {
      await short.close();
    }
  });
});

describe('CWSAuth bearer tokens', () => {
  it('accepts the scheme and key in any case', async () => {
    const token = await getToken(sim);
    for (const scheme of ['CWSAuth bearer=', 'CwsAuth Bearer=', 'cwsauth BEARER=']) {
      const response = await api(sim, token, '/me', {
        headers: { authorization: `${scheme}${token}` },
      });
      expect(response.status).toBe(200);
    }
  });

  it('returns 401 with a Citrix error body without, or with a bad, Authorization header', async () => {
    const token = await getToken(sim);
    const cases: Record<string, string>[] = [
      {},
      { authorization: 'CWSAuth bearer=not-a-real-token' },
      { authorization: `Bearer ${token}` },
    ];
    for (const headers of cases) {
      const response = await fetch(`${sim.url}/cvad/manage/Sessions/$search`, {
        method: 'POST',
        headers: { 'citrix-customerid': CUSTOMER_ID, 'citrix-instanceid': SITE_ID, ...headers },
        body: '{}',
      });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({
        Type: 'https://errors-api.cloud.com/common/authentication',
        Detail: expect.any(String),
        Parameters: [{ Name: 'reason', Value: expect.stringMatching(/^(missing|invalid)$/) }],
      });
    }
  });

  it('expireTokens() makes tokens already in use fail, and a new token works', async () => {
    const token = await getToken(sim);
    expect((await api(sim, token, '/Sessions')).status).toBe(200);
    sim.expireTokens();
    const expired = await api(sim, token, '/Sessions');
    expect(expired.status).toBe(401);
    expect(await expired.json()).toMatchObject({
      Parameters: [{ Name: 'reason', Value: 'expired' }],
    });
    const fresh = await getToken(sim);
    expect((await api(sim, fresh, '/Sessions')).status).toBe(200);
  });

  it('POST /_simulator/tokens/$expire expires tokens too', async () => {
    const token = await getToken(sim);
    const control = await fetch(`${sim.url}/_simulator/tokens/$expire`, { method: 'POST' });
    expect(control.status).toBe(204);
    expect((await api(sim, token, '/me')).status).toBe(401);
  });

  it('tokens stop working once their lifetime has passed', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const token = await getToken(sim);
    vi.setSystemTime(Date.now() + 3599_000);
    expect((await api(sim, token, '/me')).status).toBe(200);
    vi.setSystemTime(Date.now() + 2_000);
    expect((await api(sim, token, '/me')).status).toBe(401);
  });

  it('tokens are forgotten on reset', async () => {
    const token = await getToken(sim);
    sim.reset();
    expect((await api(sim, token, '/me')).status).toBe(401);
  });
});

describe('Citrix-CustomerId and Citrix-InstanceId', () => {
  it('/me needs only the customer id and lists the sites', async () => {
    const token = await getToken(sim);
    const response = await api(sim, token, '/me', { omit: ['instance'] });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      UserId: CLIENT_A.clientId,
      Customers: [{ Id: CUSTOMER_ID, Sites: [{ Id: SITE_ID, Name: 'Test Site' }] }],
    });
    const without = await api(sim, token, '/me', { omit: ['customer', 'instance'] });
    expect(without.status).toBe(400);
  });

  it('other routes return 400 without either header', async () => {
    const token = await getToken(sim);
    for (const omit of [['customer'], ['instance']] as const) {
      const response = await api(sim, token, '/Sessions/$search', {
        method: 'POST',
        body: {},
        omit: [...omit],
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        Type: 'https://errors-api.cloud.com/common/missing',
        Parameters: [
          {
            Name: 'header',
            Value: omit[0] === 'customer' ? 'Citrix-CustomerId' : 'Citrix-InstanceId',
          },
        ],
      });
    }
  });

  it('rejects an unknown site with 400 and another customer with 403', async () => {
    const token = await getToken(sim);
    const unknownSite = await api(sim, token, '/Sessions', {
      headers: { 'citrix-instanceid': '00000000-0000-4000-8000-000000000000' },
    });
    expect(unknownSite.status).toBe(400);
    const otherCustomer = await api(sim, token, '/Sessions', {
      headers: { 'citrix-customerid': 'other-customer' },
    });
    expect(otherCustomer.status).toBe(403);
  });

  it('matches header names and the site id case-insensitively', async () => {
    const token = await getToken(sim);
    const response = await fetch(`${sim.url}/cvad/manage/sessions`, {
      headers: {
        Authorization: `CWSAuth bearer=${token}`,
        'CITRIX-CUSTOMERID': CUSTOMER_ID,
        'Citrix-InstanceID': SITE_ID.toUpperCase(),
      },
    });
    expect(response.status).toBe(200);
  });
});
