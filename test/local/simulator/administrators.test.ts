import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ADMIN_POLICY_CATALOGUE,
  type AdministratorAccessView,
  type AdministratorView,
} from '../../../local/simulator/administrators-state.ts';
import type { AdminPolicy } from '../../../local/simulator/fixture.ts';
import { type RunningSimulator, startCitrixSimulator } from '../../../local/simulator/server.ts';
import { ADMINS, testFixture } from '../../support/simulator-fixture.ts';
import { cloudBearerToken } from './endpoint-management-helpers.ts';

let sim: RunningSimulator;
let token: string;

beforeAll(async () => {
  sim = await startCitrixSimulator({ fixture: testFixture() });
});
afterAll(() => sim.close());
beforeEach(async () => {
  sim.reset();
  token = await cloudBearerToken(sim);
});

interface AdminResult {
  status: number;
  body: unknown;
  text: string;
}

/** Calls an Administrators API route with the headers a Citrix Cloud client sends. */
async function admins(
  path: string,
  call: { method?: string; body?: unknown } = {},
): Promise<AdminResult> {
  const response = await fetch(`${sim.url}/administrators${path}`, {
    method: call.method ?? 'GET',
    headers: {
      accept: 'application/json',
      authorization: `CWSAuth bearer=${token}`,
      'citrix-customerid': 'test-customer',
      ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body:
      call.body === undefined
        ? undefined
        : typeof call.body === 'string'
          ? call.body
          : JSON.stringify(call.body),
  });
  const text = await response.text();
  return { status: response.status, text, body: text === '' ? undefined : JSON.parse(text) };
}

interface ListBody {
  items: AdministratorView[];
  continuationToken: string | null;
}

async function list(query = ''): Promise<ListBody> {
  const result = await admins(query);
  if (result.status !== 200) throw new Error(`list failed: ${result.status} ${result.text}`);
  return result.body as ListBody;
}

/** Every administrator, following continuation tokens; returns the pages' ucOids. */
async function allPages(filters: Record<string, string> = {}): Promise<string[][]> {
  const pages: string[][] = [];
  let continuation: string | null = null;
  do {
    const params = new URLSearchParams(filters);
    if (continuation !== null) params.set('requestContinuation', continuation);
    const page: ListBody = await list(params.size === 0 ? '' : `?${params}`);
    pages.push(page.items.map((item) => item.ucOid));
    continuation = page.continuationToken;
  } while (continuation !== null && pages.length < 20);
  return pages;
}

async function accessOf(id: string): Promise<AdministratorAccessView> {
  const result = await admins(`/${encodeURIComponent(id)}/access`);
  if (result.status !== 200) throw new Error(`access failed: ${result.status} ${result.text}`);
  return result.body as AdministratorAccessView;
}

const putAccess = (id: string, body: unknown) =>
  admins(`/access?id=${encodeURIComponent(id)}`, { method: 'PUT', body });

const stateAdmin = (ucOid: string) =>
  sim.state().cloudAdministrators?.administrators?.find((a) => a.ucOid === ucOid);

const granted = (access: AdministratorAccessView) =>
  access.policies.filter((p) => p.checkable.value).map((p) => p.name);

const CLOUD_ADMIN_ROLE = 'R-3a45035c-a260-4b4a-88a9-64461cba5a';
const LOCKED = 'customerDashboard';
const LISTING_ORDER = [
  ADMINS.breakglass.ucOid,
  ADMINS.full.ucOid,
  ADMINS.owner.ucOid,
  ADMINS.mallory.ucOid,
  ADMINS.trent.ucOid,
  ADMINS.group.ucOid,
  ADMINS.invitee.ucOid,
];

describe('GET /administrators', () => {
  it('pages by the fixture pageSize in createdDate then ucOid order, ending with a null token', async () => {
    expect(await allPages()).toEqual([
      [ADMINS.breakglass.ucOid, ADMINS.full.ucOid],
      [ADMINS.owner.ucOid, ADMINS.mallory.ucOid],
      [ADMINS.trent.ucOid, ADMINS.group.ucOid],
      [ADMINS.invitee.ucOid],
    ]);
  });

  it('returns AdministratorResult items: customerId filled, nulls for what does not apply, no access', async () => {
    const { items } = await list('?maxItemCount=1000');
    expect(items.map((i) => i.ucOid)).toEqual(LISTING_ORDER);
    for (const item of items) {
      expect(item.customerId).toBe('test-customer');
      expect(item).not.toHaveProperty('access');
    }
    const mallory = items.find((i) => i.ucOid === ADMINS.mallory.ucOid);
    expect(mallory).toMatchObject({
      userId: ADMINS.mallory.userId,
      email: ADMINS.mallory.email,
      type: 'AdministratorUser',
      accessType: 'Custom',
      providerType: 'CitrixSts',
      pending: false,
      invitationExpired: null,
      createdDate: '2025-03-15T12:00:00Z',
      eTag: null,
    });
    expect(Object.keys(mallory ?? {}).slice(0, 3)).toEqual(['customerId', 'ucOid', 'userId']);
    const group = items.find((i) => i.ucOid === ADMINS.group.ucOid);
    expect(group).toMatchObject({
      userId: null,
      email: null,
      type: 'AdministratorGroup',
      providerType: 'AzureAd',
      displayName: ADMINS.group.displayName,
    });
    const invitee = items.find((i) => i.ucOid === ADMINS.invitee.ucOid);
    expect(invitee).toMatchObject({ pending: true, invitationExpired: true, userId: null });
  });

  it('takes maxItemCount in any case, from 1 to 1000', async () => {
    const three = await list('?maxItemCount=3');
    expect(three.items.map((i) => i.ucOid)).toEqual(LISTING_ORDER.slice(0, 3));
    expect(three.continuationToken).not.toBeNull();
    expect((await list('?MAXITEMCOUNT=7')).continuationToken).toBeNull();
    expect((await list('?maxItemCount=1')).items).toHaveLength(1);
    for (const bad of ['0', '1001', 'abc', '2.5', '-1', '']) {
      const result = await admins(`?maxItemCount=${bad}`);
      expect(result.status, bad).toBe(400);
      expect(result.body).toMatchObject({
        Type: 'https://errors-api.cloud.com/common/outOfRange',
        Parameters: [{ Name: 'name', Value: 'maxItemCount' }],
      });
    }
  });

  it('refuses continuation tokens that are garbled, from another listing, or from before reset', async () => {
    const first = await list();
    const next = String(first.continuationToken);
    for (const bad of [
      'not-a-token',
      'e30',
      `${next}x`,
      Buffer.from('{"n":1}').toString('base64url'),
    ]) {
      const result = await admins(`?requestContinuation=${encodeURIComponent(bad)}`);
      expect(result.status, bad).toBe(400);
      expect(result.body).toMatchObject({
        Type: 'https://errors-api.cloud.com/common/invalidString',
        Parameters: [{ Name: 'name', Value: 'requestContinuation' }],
      });
    }
    // Same token with a different filter: its position means nothing there.
    const filtered = await admins(
      `?type=AdministratorUser&requestContinuation=${encodeURIComponent(next)}`,
    );
    expect(filtered.status).toBe(400);

    // Another simulator with the same data does not accept it either.
    const other = await startCitrixSimulator({ fixture: testFixture() });
    try {
      const otherToken = await cloudBearerToken(other);
      const response = await fetch(
        `${other.url}/administrators?requestContinuation=${encodeURIComponent(next)}`,
        {
          headers: {
            authorization: `CWSAuth bearer=${otherToken}`,
            'citrix-customerid': 'test-customer',
          },
        },
      );
      expect(response.status).toBe(400);
    } finally {
      await other.close();
    }

    sim.reset();
    token = await cloudBearerToken(sim);
    expect((await admins(`?requestContinuation=${encodeURIComponent(next)}`)).status).toBe(400);
  });

  it('treats an empty requestContinuation as the first page', async () => {
    const page = await list('?requestContinuation=');
    expect(page.items.map((i) => i.ucOid)).toEqual(LISTING_ORDER.slice(0, 2));
  });

  it('neither skips nor repeats anyone when administrators are removed between pages', async () => {
    const first = await list();
    expect((await admins(`/${ADMINS.owner.userId}`, { method: 'DELETE' })).status).toBe(200);
    expect((await admins(`/${ADMINS.breakglass.userId}`, { method: 'DELETE' })).status).toBe(200);
    const second = await list(
      `?requestContinuation=${encodeURIComponent(String(first.continuationToken))}`,
    );
    expect(second.items.map((i) => i.ucOid)).toEqual([ADMINS.mallory.ucOid, ADMINS.trent.ucOid]);
  });

  it('filters by type and providerType (names in any case), paging within the filter', async () => {
    const groups = await list('?type=AdministratorGroup');
    expect(groups.items.map((i) => i.ucOid)).toEqual([ADMINS.group.ucOid]);
    expect(groups.continuationToken).toBeNull();

    expect((await list('?type=administratoruser&maxItemCount=100')).items).toHaveLength(6);
    expect(await allPages({ type: 'AdministratorUser' })).toEqual([
      [ADMINS.breakglass.ucOid, ADMINS.full.ucOid],
      [ADMINS.owner.ucOid, ADMINS.mallory.ucOid],
      [ADMINS.trent.ucOid, ADMINS.invitee.ucOid],
    ]);
    expect((await list('?providerType=azuread')).items.map((i) => i.ucOid)).toEqual([
      ADMINS.group.ucOid,
    ]);
    expect((await list('?type=ServicePrincipal')).items).toEqual([]);
    expect((await list('?type=AdministratorGroup&providerType=CitrixSts')).items).toEqual([]);
  });

  it('rejects unknown enum values and unknown query parameters rather than listing everyone', async () => {
    const badType = await admins('?type=Robot');
    expect(badType.status).toBe(400);
    expect(badType.body).toMatchObject({
      Type: 'https://errors-api.cloud.com/common/invalidEnum',
      Parameters: [
        { Name: 'name', Value: 'type' },
        { Name: 'value', Value: 'Robot' },
      ],
    });
    expect((await admins('?providerType=Okta')).status).toBe(400);
    const misspelt = await admins('?tpye=AdministratorGroup');
    expect(misspelt.status).toBe(400);
    expect(JSON.stringify(misspelt.body)).toContain('tpye');
  });

  it('looks one administrator up by userId or ucOid (any case) with id', async () => {
    const byUserId = await list(`?id=${ADMINS.mallory.userId}`);
    expect(byUserId).toEqual({
      items: [expect.objectContaining({ email: ADMINS.mallory.email })],
      continuationToken: null,
    });
    const byUcOid = await list(`?id=${encodeURIComponent(ADMINS.group.ucOid.toUpperCase())}`);
    expect(byUcOid.items.map((i) => i.ucOid)).toEqual([ADMINS.group.ucOid]);
    expect(await list('?id=999')).toEqual({ items: [], continuationToken: null });
  });

  it('refuses id combined with any other parameter', async () => {
    for (const other of ['type=AdministratorUser', 'providerType=CitrixSts', 'maxItemCount=5']) {
      const result = await admins(`?id=${ADMINS.mallory.userId}&${other}`);
      expect(result.status, other).toBe(400);
      expect(result.body).toMatchObject({ Parameters: [{ Name: 'name', Value: 'id' }] });
    }
    const first = await list();
    const withToken = await admins(
      `?id=${ADMINS.mallory.userId}&requestContinuation=${encodeURIComponent(String(first.continuationToken))}`,
    );
    expect(withToken.status).toBe(400);
  });
});

describe('GET /administrators/{id}/access', () => {
  it('gives a Full administrator the whole catalogue, every permission and scope granted', async () => {
    const access = await accessOf(ADMINS.full.userId);
    expect(access.accessType).toBe('Full');
    expect(access.policies.map((p) => p.name)).toEqual(ADMIN_POLICY_CATALOGUE.map((p) => p.name));
    for (const policy of access.policies) {
      expect(policy.checkable.value, policy.name).toBe(true);
      if (policy.scopeChoices) {
        expect(policy.scopeChoices.allScopesSelected).toBe(true);
        for (const choice of policy.scopeChoices.choices) expect(choice.checkable.value).toBe(true);
      }
    }
    const locked = access.policies.find((p) => p.name === LOCKED);
    expect(locked?.checkable).toEqual({ value: true, canChangeValue: false });
  });

  it('shows a Custom administrator the catalogue with only the granted permissions set', async () => {
    const access = await accessOf(ADMINS.mallory.userId);
    expect(access.accessType).toBe('Custom');
    expect(access.policies.map((p) => p.name)).toEqual(ADMIN_POLICY_CATALOGUE.map((p) => p.name));
    // The locked dashboard permission is granted to everybody.
    expect(granted(access)).toEqual([CLOUD_ADMIN_ROLE, 'secureClients', LOCKED]);
    const role = access.policies.find((p) => p.name === CLOUD_ADMIN_ROLE);
    expect(role).toEqual({
      name: CLOUD_ADMIN_ROLE,
      serviceName: 'XenDesktop',
      displayName: 'Cloud Administrator',
      checkable: { value: true, canChangeValue: true },
      scopeChoices: {
        allScopesSelected: true,
        choices: [
          {
            name: 'XenDesktop-FullAdmin',
            displayName: 'All',
            checkable: { value: true, canChangeValue: true },
          },
        ],
      },
    });
    expect(access.policies.find((p) => p.name === 'licensing')).toEqual({
      name: 'licensing',
      serviceName: 'Platform',
      checkable: { value: false, canChangeValue: true },
    });
    expect(granted(await accessOf(ADMINS.breakglass.userId))).toEqual([LOCKED]);
  });

  it('finds administrators by percent-encoded ucOid, slashes included, in any case', async () => {
    const encoded = encodeURIComponent(ADMINS.mallory.ucOid);
    expect(encoded).toContain('%2F');
    const byUcOid = await admins(`/${encoded}/access`);
    expect(byUcOid.status).toBe(200);
    expect(byUcOid.body).toEqual(await accessOf(ADMINS.mallory.userId));
    expect((await admins(`/${encoded.toLowerCase()}/ACCESS`)).status).toBe(200);

    const group = await accessOf(ADMINS.group.ucOid);
    expect(granted(group)).toEqual(['R-ac0b54e3-6e8a-473f-9713-139218ed4e', LOCKED]);
    expect(group.policies[1]?.scopeChoices).toEqual({
      allScopesSelected: false,
      choices: [
        {
          name: '300adc84-286b-8cc4-29bd-36a0e7bb87b4',
          displayName: 'Finance delivery groups',
          checkable: { value: true, canChangeValue: true },
        },
      ],
    });
  });

  it('answers 404 with a Citrix error for an unknown id or an unencoded ucOid', async () => {
    const unknown = await admins('/999/access');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({
      Type: 'https://errors-api.cloud.com/common/notFound',
      Detail: 'Administrator not found',
      Parameters: expect.arrayContaining([{ Name: 'id', Value: '999' }]),
    });
    const encodedUnknown = await admins(`/${encodeURIComponent('OID:/citrix/42')}/access`);
    expect(encodedUnknown.body).toMatchObject({
      Parameters: expect.arrayContaining([{ Name: 'id', Value: 'OID:/citrix/42' }]),
    });
    expect((await admins(`/${ADMINS.mallory.ucOid}/access`)).status).toBe(404);
  });
});

describe('PUT /administrators/access', () => {
  /** What a client does to strip an administrator: every changeable permission and scope off. */
  function stripped(access: AdministratorAccessView): AdminPolicy[] {
    return access.policies.map((policy) => ({
      ...policy,
      checkable: {
        ...policy.checkable,
        value: policy.checkable.canChangeValue ? false : policy.checkable.value,
      },
      ...(policy.scopeChoices
        ? {
            scopeChoices: {
              allScopesSelected: false,
              choices: policy.scopeChoices.choices.map((choice) => ({
                ...choice,
                checkable: {
                  ...choice.checkable,
                  value: choice.checkable.canChangeValue ? false : choice.checkable.value,
                },
              })),
            },
          }
        : {}),
    }));
  }

  it('strips a Custom administrator: 200 with no body, then only the locked permission is left', async () => {
    const before = stateAdmin(ADMINS.mallory.ucOid)?.updatedDate;
    const policies = stripped(await accessOf(ADMINS.mallory.userId));
    const result = await putAccess(ADMINS.mallory.userId, { accessType: 'Custom', policies });
    expect(result.status).toBe(200);
    expect(result.text).toBe('');

    const after = await accessOf(ADMINS.mallory.ucOid);
    expect(after.accessType).toBe('Custom');
    expect(granted(after)).toEqual([LOCKED]);
    const role = after.policies.find((p) => p.name === CLOUD_ADMIN_ROLE);
    expect(role?.scopeChoices?.allScopesSelected).toBe(false);
    expect(role?.scopeChoices?.choices[0]?.checkable.value).toBe(false);

    const updated = stateAdmin(ADMINS.mallory.ucOid)?.updatedDate;
    expect(updated).not.toBe(before);
    expect(Date.now() - Date.parse(String(updated))).toBeLessThan(60_000);
    const [listed] = (await list(`?id=${ADMINS.mallory.userId}`)).items;
    expect(listed?.updatedDate).toBe(updated);
  });

  it('turns a Full administrator into a stripped Custom one, and back to Full', async () => {
    const policies = stripped(await accessOf(ADMINS.full.userId));
    expect((await putAccess(ADMINS.full.userId, { accessType: 'Custom', policies })).status).toBe(
      200,
    );
    expect(granted(await accessOf(ADMINS.full.userId))).toEqual([LOCKED]);
    const [listed] = (await list(`?id=${ADMINS.full.userId}`)).items;
    expect(listed?.accessType).toBe('Custom');

    const full = await putAccess(ADMINS.full.userId, { accessType: 'Full', policies: null });
    expect(full.status).toBe(200);
    const access = await accessOf(ADMINS.full.userId);
    expect(access.accessType).toBe('Full');
    expect(granted(access)).toEqual(ADMIN_POLICY_CATALOGUE.map((p) => p.name));
    expect(stateAdmin(ADMINS.full.ucOid)).not.toHaveProperty('access');
    // policies may be left out for Full, and accessType may come in any case.
    expect((await putAccess(ADMINS.trent.userId, { accessType: 'full' })).status).toBe(200);
    expect((await accessOf(ADMINS.trent.userId)).accessType).toBe('Full');
  });

  it('puts back exactly the access read before a strip, as admin.restore sends it', async () => {
    const original = await accessOf(ADMINS.mallory.userId);
    const policies = stripped(original);
    expect(
      (await putAccess(ADMINS.mallory.userId, { accessType: 'Custom', policies })).status,
    ).toBe(200);
    // The body is the access as GET returned it: display names, scopes and locked values included.
    expect((await putAccess(ADMINS.mallory.userId, original)).status).toBe(200);
    expect(await accessOf(ADMINS.mallory.userId)).toEqual(original);
    const puts = sim.requests().filter((r) => r.method === 'PUT');
    expect(puts.map((r) => r.body)).toEqual([{ accessType: 'Custom', policies }, original]);
  });

  it('stores the policies as sent, in catalogue order; an empty list grants nothing', async () => {
    const policy = (name: string) => ({
      name,
      serviceName: 'Platform',
      checkable: { value: true, canChangeValue: true },
      extra: 'kept',
    });
    const result = await putAccess(ADMINS.group.ucOid, {
      accessType: 'custom',
      policies: [policy('domains'), policy('notifications')],
    });
    expect(result.status).toBe(200);
    expect(stateAdmin(ADMINS.group.ucOid)?.access?.policies).toEqual([
      policy('notifications'),
      policy('domains'),
    ]);
    expect(granted(await accessOf(ADMINS.group.ucOid))).toEqual([
      'notifications',
      'domains',
      LOCKED,
    ]);

    expect(
      (await putAccess(ADMINS.owner.userId, { accessType: 'Custom', policies: [] })).status,
    ).toBe(200);
    expect(granted(await accessOf(ADMINS.owner.userId))).toEqual([LOCKED]);
  });

  it('refuses an unknown policy, naming it, and changes nothing', async () => {
    const before = sim.state().cloudAdministrators;
    const result = await putAccess(ADMINS.mallory.userId, {
      accessType: 'Custom',
      policies: [
        {
          name: 'notifications',
          serviceName: 'Platform',
          checkable: { value: false, canChangeValue: true },
        },
        {
          name: 'cloudLibrary',
          serviceName: 'Platform',
          checkable: { value: false, canChangeValue: true },
        },
      ],
    });
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({
      Type: 'https://errors-api.cloud.com/common/invalidString',
      Detail: expect.stringContaining('policies[1].name: unknown policy "cloudLibrary"'),
      Parameters: [{ Name: 'name', Value: 'policies[1].name' }],
    });
    expect(sim.state().cloudAdministrators).toEqual(before);
  });

  it('refuses to change a locked policy, naming it', async () => {
    const policies = stripped(await accessOf(ADMINS.mallory.userId)).map((p) =>
      p.name === LOCKED ? { ...p, checkable: { ...p.checkable, value: false } } : p,
    );
    const result = await putAccess(ADMINS.mallory.userId, { accessType: 'Custom', policies });
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({
      Detail: expect.stringContaining(`policy "${LOCKED}" cannot be changed`),
      Parameters: [{ Name: 'name', Value: 'policies[6].checkable.value' }],
    });
    expect(granted(await accessOf(ADMINS.mallory.userId))).toContain(CLOUD_ADMIN_ROLE);
  });

  it('refuses malformed bodies with 400', async () => {
    const id = ADMINS.trent.userId;
    const platform = (name: string, serviceName = 'Platform') => ({
      name,
      serviceName,
      checkable: { value: true, canChangeValue: true },
    });
    const cases: [string, unknown, string][] = [
      ['no accessType', { policies: [] }, 'accessType'],
      ['Reinvite', { accessType: 'Reinvite', policies: [] }, 'accessType'],
      ['Custom without policies', { accessType: 'Custom', policies: null }, 'policies'],
      ['Custom, policies left out', { accessType: 'Custom' }, 'policies'],
      ['Full with policies', { accessType: 'Full', policies: [platform('licensing')] }, 'policies'],
      ['policies not an array', { accessType: 'Custom', policies: {} }, 'policies'],
      [
        'policy without checkable',
        { accessType: 'Custom', policies: [{ name: 'licensing', serviceName: 'Platform' }] },
        'policies[0].checkable',
      ],
      [
        'wrong service',
        { accessType: 'Custom', policies: [platform('licensing', 'XenDesktop')] },
        'policies[0].serviceName',
      ],
      [
        'twice',
        { accessType: 'Custom', policies: [platform('licensing'), platform('licensing')] },
        'policies[1].name',
      ],
      [
        'unknown scope',
        {
          accessType: 'Custom',
          policies: [
            {
              ...platform(CLOUD_ADMIN_ROLE, 'XenDesktop'),
              scopeChoices: {
                allScopesSelected: false,
                choices: [{ name: 'Nope', checkable: { value: true, canChangeValue: true } }],
              },
            },
          ],
        },
        'policies[0].scopeChoices.choices[0].name',
      ],
      [
        'scopes on a Platform policy',
        {
          accessType: 'Custom',
          policies: [
            {
              ...platform('licensing'),
              scopeChoices: {
                allScopesSelected: false,
                choices: [{ name: 'x', checkable: { value: true, canChangeValue: true } }],
              },
            },
          ],
        },
        'policies[0].scopeChoices',
      ],
    ];
    for (const [label, body, name] of cases) {
      const result = await putAccess(id, body);
      expect(result.status, label).toBe(400);
      expect(result.body, label).toMatchObject({ Parameters: [{ Name: 'name', Value: name }] });
    }
    const notJson = await admins(`/access?id=${id}`, { method: 'PUT', body: '{"accessType":' });
    expect(notJson.status).toBe(400);
    expect(notJson.body).toMatchObject({ Type: 'https://errors-api.cloud.com/common/invalidJson' });
    const noId = await admins('/access', { method: 'PUT', body: { accessType: 'Full' } });
    expect(noId.status).toBe(400);
    expect(noId.body).toMatchObject({
      Type: 'https://errors-api.cloud.com/common/missing',
      Parameters: [{ Name: 'name', Value: 'id' }],
    });
    expect(stateAdmin(ADMINS.trent.ucOid)).toEqual(
      testFixture().cloudAdministrators?.administrators?.find(
        (a) => a.ucOid === ADMINS.trent.ucOid,
      ),
    );
  });

  it('answers 404 for an unknown administrator', async () => {
    const result = await putAccess('OID:/citrix/42', { accessType: 'Full', policies: null });
    expect(result.status).toBe(404);
    expect(result.body).toMatchObject({
      Type: 'https://errors-api.cloud.com/common/notFound',
      Parameters: expect.arrayContaining([{ Name: 'id', Value: 'OID:/citrix/42' }]),
    });
  });
});

describe('DELETE /administrators/{id}', () => {
  it('removes an administrator by userId: 200 with no body, then 404', async () => {
    const result = await admins(`/${ADMINS.mallory.userId}`, { method: 'DELETE' });
    expect(result.status).toBe(200);
    expect(result.text).toBe('');
    expect((await list('?maxItemCount=100')).items.map((i) => i.ucOid)).toEqual(
      LISTING_ORDER.filter((id) => id !== ADMINS.mallory.ucOid),
    );
    expect((await admins(`/${ADMINS.mallory.userId}/access`)).status).toBe(404);
    const again = await admins(`/${ADMINS.mallory.userId}`, { method: 'DELETE' });
    expect(again.status).toBe(404);
    expect(again.body).toMatchObject({ Type: 'https://errors-api.cloud.com/common/notFound' });
  });

  it('removes a group, or a pending invitation, by percent-encoded ucOid', async () => {
    for (const ucOid of [ADMINS.group.ucOid, ADMINS.invitee.ucOid]) {
      const result = await admins(`/${encodeURIComponent(ucOid)}`, { method: 'DELETE' });
      expect(result.status, ucOid).toBe(200);
      expect(stateAdmin(ucOid)).toBeUndefined();
    }
    expect((await list('?maxItemCount=100')).items).toHaveLength(5);
  });

  it('answers 404 for an unknown id and leaves everyone in place', async () => {
    expect((await admins('/1000000000000000099', { method: 'DELETE' })).status).toBe(404);
    expect((await list('?maxItemCount=100')).items).toHaveLength(7);
  });
});

describe('DELETE /administrators/invitations', () => {
  it('removes a pending invitation by email in any case and answers true', async () => {
    const result = await admins(`/invitations?email=${encodeURIComponent('INVITEE@Example.com')}`, {
      method: 'DELETE',
    });
    expect(result.status).toBe(200);
    expect(result.body).toBe(true);
    expect(stateAdmin(ADMINS.invitee.ucOid)).toBeUndefined();
    const again = await admins(`/invitations?email=${ADMINS.invitee.email}`, { method: 'DELETE' });
    expect(again.status).toBe(200);
    expect(again.body).toBe(false);
  });

  it('answers false and leaves an active administrator with that email alone', async () => {
    const result = await admins(`/invitations?email=${ADMINS.mallory.email}`, {
      method: 'DELETE',
    });
    expect(result.status).toBe(200);
    expect(result.body).toBe(false);
    expect(stateAdmin(ADMINS.mallory.ucOid)).toBeDefined();
    const nobody = await admins('/invitations?email=nobody@example.com', { method: 'DELETE' });
    expect(nobody.body).toBe(false);
  });

  it('needs an email', async () => {
    const result = await admins('/invitations', { method: 'DELETE' });
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({ Parameters: [{ Name: 'name', Value: 'email' }] });
  });
});
