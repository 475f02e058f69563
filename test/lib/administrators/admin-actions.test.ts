import { describe, expect, it } from 'vitest';
import type { ResolvedAdministrator } from '../../../lib/actions/schema.ts';
import {
  AdministratorChangeNotAppliedError,
  type AdministratorController,
  AdministratorGuardRefusedError,
  type AdministratorGuards,
  AdministratorNotFoundError,
  AmbiguousAdministratorError,
  applyAdministratorChange,
  buildAdministratorResult,
  guardRefusal,
  readAdministratorBack,
  resolveAdministratorTargets,
  strippedAccess,
} from '../../../lib/administrators/admin-actions.ts';
import type {
  AdministratorAccess,
  AdministratorPolicy,
  CloudAdministrator,
} from '../../../lib/citrix/administrators-client.ts';
import { rejection } from '../../support/rejection.ts';

const NOW = new Date('2026-11-23T03:00:00Z');
const GUARDS: AdministratorGuards = {
  apiClientOwner: 'owner@example.com',
  protected: ['OID:/citrix/900'],
};

const user = (n: number, accessType: string, extra: Partial<CloudAdministrator> = {}) =>
  ({
    ucOid: `OID:/citrix/${n}`,
    userId: String(n),
    type: 'AdministratorUser',
    accessType,
    email: `admin${n}@example.com`,
    pending: false,
    ...extra,
  }) as CloudAdministrator;

const policy = (name: string, value: boolean, canChangeValue = true): AdministratorPolicy => ({
  name,
  serviceName: 'Platform',
  checkable: { value, canChangeValue },
});

const CUSTOM_ACCESS: AdministratorAccess = {
  accessType: 'Custom',
  policies: [
    {
      name: 'R-cloud-admin',
      serviceName: 'XenDesktop',
      checkable: { value: true, canChangeValue: true },
      scopeChoices: {
        allScopesSelected: true,
        choices: [
          { name: 'XenDesktop-FullAdmin', checkable: { value: true, canChangeValue: true } },
        ],
      },
    },
    policy('notifications', true),
    policy('customerDashboard', true, false),
    policy('licensing', false),
  ],
};

/** An in-memory administrators API with the same answers as Citrix Cloud. */
class FakeAdministrators implements AdministratorController {
  admins: CloudAdministrator[];
  access = new Map<string, AdministratorAccess>();
  calls: string[] = [];
  applyAccess = true;

  constructor(admins: CloudAdministrator[]) {
    this.admins = admins;
  }
  async listAdministrators() {
    this.calls.push('list');
    return structuredClone(this.admins);
  }
  async getAccess(id: string) {
    this.calls.push(`get ${id}`);
    return structuredClone(this.access.get(id) ?? CUSTOM_ACCESS);
  }
  async updateAccess(id: string, access: AdministratorAccess) {
    this.calls.push(`put ${id}`);
    if (this.applyAccess) this.access.set(id, structuredClone(access));
  }
  async deleteAdministrator(id: string) {
    this.calls.push(`delete ${id}`);
    this.admins = this.admins.filter((admin) => admin.userId !== id && admin.ucOid !== id);
  }
  async deleteInvitation(email: string) {
    this.calls.push(`delete invitation ${email}`);
    const before = this.admins.length;
    this.admins = this.admins.filter((admin) => !(admin.pending && admin.email === email));
    return this.admins.length < before;
  }
}

const fleet = () => [
  user(1, 'Full', { email: 'full@example.com' }),
  user(2, 'Custom', { email: 'owner@example.com' }),
  user(3, 'Custom', { email: 'mallory@example.com' }),
  user(900, 'Custom', { email: 'breakglass@example.com' }),
  user(5, 'Custom', { email: 'invitee@example.com', pending: true }),
  user(6, 'Full', { type: 'AdministratorGroup', userId: null, email: null }),
];

describe('guardRefusal', () => {
  const all = fleet();
  const find = (email: string) => all.find((admin) => admin.email === email) as CloudAdministrator;

  it('never lets a request touch the API client’s owner', () => {
    expect(guardRefusal('admin.revoke', find('owner@example.com'), all, GUARDS)).toMatch(
      /owns the API client/,
    );
  });

  it('never lets a request touch a protected administrator, by any of its ids', () => {
    expect(guardRefusal('admin.revoke', find('breakglass@example.com'), all, GUARDS)).toMatch(
      /protected administrators list/,
    );
  });

  it('never removes the last active user administrator with Full access', () => {
    // The Full group does not count: it may have no members.
    expect(guardRefusal('admin.revoke', find('full@example.com'), all, GUARDS)).toMatch(
      /last administrator with Full access/,
    );
    const withSecondFull = [...all, user(7, 'Full')];
    expect(
      guardRefusal('admin.revoke', find('full@example.com'), withSecondFull, GUARDS),
    ).toBeUndefined();
    // A pending Full invitation is not an administrator who can still sign in.
    const withPendingFull = [...all, user(8, 'Full', { pending: true })];
    expect(guardRefusal('admin.revoke', find('full@example.com'), withPendingFull, GUARDS)).toMatch(
      /last/,
    );
  });

  it('lets an ordinary administrator go, and touches only pending invitations', () => {
    expect(guardRefusal('admin.revoke', find('mallory@example.com'), all, GUARDS)).toBeUndefined();
    expect(
      guardRefusal('admin.deleteInvitation', find('invitee@example.com'), all, GUARDS),
    ).toBeUndefined();
    expect(
      guardRefusal('admin.deleteInvitation', find('mallory@example.com'), all, GUARDS),
    ).toMatch(/not a pending invitation/);
  });
});

describe('strippedAccess', () => {
  it('turns Full or Custom into Custom with every changeable permission and scope unchecked', () => {
    const stripped = strippedAccess({ ...CUSTOM_ACCESS, accessType: 'Full' });
    expect(stripped.accessType).toBe('Custom');
    expect(stripped.policies?.map((p) => [p.name, p.checkable.value])).toEqual([
      ['R-cloud-admin', false],
      ['notifications', false],
      ['customerDashboard', true], // canChangeValue: false, kept as Citrix demands
      ['licensing', false],
    ]);
    expect(stripped.policies?.[0]?.scopeChoices).toEqual({
      allScopesSelected: false,
      choices: [
        { name: 'XenDesktop-FullAdmin', checkable: { value: false, canChangeValue: true } },
      ],
    });
  });

  it('sends an empty policy list when Citrix gave none', () => {
    expect(strippedAccess({ accessType: 'Full', policies: null })).toEqual({
      accessType: 'Custom',
      policies: [],
    });
  });
});

describe('resolveAdministratorTargets', () => {
  it('finds the administrator by email, userId or ucOid and records its access first', async () => {
    for (const key of ['MALLORY@example.com', '3', 'oid:/citrix/3']) {
      const api = new FakeAdministrators(fleet());
      const [target] = await resolveAdministratorTargets(
        api,
        'admin.revoke',
        { admin: key },
        GUARDS,
      );
      expect(target).toMatchObject({
        administratorId: '3',
        email: 'mallory@example.com',
        allowed: true,
        before: CUSTOM_ACCESS,
      });
      expect(api.calls).toEqual(['list', 'get 3']);
    }
  });

  it('reports the refusal with the target instead of failing the action', async () => {
    const [target] = await resolveAdministratorTargets(
      new FakeAdministrators(fleet()),
      'admin.revoke',
      { admin: 'owner@example.com' },
      GUARDS,
    );
    expect(target).toMatchObject({ allowed: false, refusal: expect.stringMatching(/owns/) });
  });

  it('fails on an unknown or ambiguous administrator, and finds no invitation as nothing to do', async () => {
    const api = new FakeAdministrators([
      ...fleet(),
      user(10, 'Custom', { email: 'twin@example.com' }),
      user(11, 'Custom', { email: 'twin@example.com' }),
    ]);
    expect(
      await rejection(
        resolveAdministratorTargets(api, 'admin.revoke', { admin: 'nobody@example.com' }, GUARDS),
      ),
    ).toBeInstanceOf(AdministratorNotFoundError);
    expect(
      await rejection(
        resolveAdministratorTargets(api, 'admin.revoke', { admin: 'twin@example.com' }, GUARDS),
      ),
    ).toBeInstanceOf(AmbiguousAdministratorError);
    expect(
      await resolveAdministratorTargets(
        api,
        'admin.deleteInvitation',
        { email: 'nobody@example.com' },
        GUARDS,
      ),
    ).toEqual([]);
  });
});

describe('applying and verifying a change', () => {
  const target = (api: FakeAdministrators, email: string) =>
    resolveAdministratorTargets(api, 'admin.revoke', { admin: email }, GUARDS).then(
      ([resolved]) => resolved as ResolvedAdministrator,
    );

  it('strips, then reads back Custom access with only locked permissions left', async () => {
    const api = new FakeAdministrators(fleet());
    const mallory = await target(api, 'mallory@example.com');
    const change = await applyAdministratorChange(
      api,
      'admin.revoke',
      mallory,
      { mode: 'strip' },
      GUARDS,
      () => NOW,
    );
    expect(change).toEqual({ mode: 'strip', at: NOW.toISOString() });
    expect(await readAdministratorBack(api, mallory, change)).toEqual({
      present: true,
      accessType: 'Custom',
      grantedPolicies: ['customerDashboard'],
    });
  });

  it('deletes, then reads back that the administrator is gone; a retried delete is done too', async () => {
    const api = new FakeAdministrators(fleet());
    const mallory = await target(api, 'mallory@example.com');
    const change = await applyAdministratorChange(
      api,
      'admin.revoke',
      mallory,
      { mode: 'delete' },
      GUARDS,
      () => NOW,
    );
    expect(api.calls).toContain('delete 3');
    expect(await readAdministratorBack(api, mallory, change)).toEqual({ present: false });
    const retried = await applyAdministratorChange(
      api,
      'admin.revoke',
      mallory,
      { mode: 'delete' },
      GUARDS,
      () => NOW,
    );
    expect(retried.mode).toBe('delete');
    expect(api.calls.filter((call) => call === 'delete 3')).toHaveLength(1);
  });

  it('re-checks the guards just before the change', async () => {
    const api = new FakeAdministrators([...fleet(), user(7, 'Full')]);
    const full = await target(api, 'full@example.com');
    expect(full.allowed).toBe(true);
    api.admins = api.admins.filter((admin) => admin.userId !== '7'); // the other Full admin left
    const error = await rejection(
      applyAdministratorChange(api, 'admin.revoke', full, { mode: 'strip' }, GUARDS, () => NOW),
    );
    expect(error).toBeInstanceOf(AdministratorGuardRefusedError);
    expect(api.calls.some((call) => call.startsWith('put'))).toBe(false);
  });

  it('says so when Citrix accepted a change that did not take effect', async () => {
    const api = new FakeAdministrators(fleet());
    api.applyAccess = false;
    const mallory = await target(api, 'mallory@example.com');
    const change = await applyAdministratorChange(
      api,
      'admin.revoke',
      mallory,
      { mode: 'strip' },
      GUARDS,
      () => NOW,
    );
    expect(await rejection(readAdministratorBack(api, mallory, change))).toBeInstanceOf(
      AdministratorChangeNotAppliedError,
    );
  });

  it('deletes only a pending invitation', async () => {
    const api = new FakeAdministrators(fleet());
    const [invitee] = await resolveAdministratorTargets(
      api,
      'admin.deleteInvitation',
      { email: 'invitee@example.com' },
      GUARDS,
    );
    const change = await applyAdministratorChange(
      api,
      'admin.deleteInvitation',
      invitee as ResolvedAdministrator,
      { mode: 'strip' },
      GUARDS,
      () => NOW,
    );
    expect(change.mode).toBe('deleteInvitation');
    expect(api.calls).toContain('delete invitation invitee@example.com');
  });
});

describe('buildAdministratorResult', () => {
  const base: ResolvedAdministrator = {
    administratorId: '3',
    ucOid: 'OID:/citrix/3',
    type: 'AdministratorUser',
    pending: false,
    allowed: true,
    before: CUSTOM_ACCESS,
  };
  const change = { mode: 'strip', at: NOW.toISOString() };

  it('keeps the snapshot taken before the change in the result', () => {
    const result = buildAdministratorResult(
      base,
      { change, after: { present: true, accessType: 'Custom', grantedPolicies: [] } },
      NOW,
    );
    expect(result).toMatchObject({ outcome: 'succeeded', before: CUSTOM_ACCESS, change });
  });

  it('records a refusal, from the resolution or from the re-check', () => {
    expect(
      buildAdministratorResult({ ...base, allowed: false, refusal: 'owns the client' }, {}, NOW),
    ).toMatchObject({ outcome: 'refused', note: 'owns the client' });
    expect(
      buildAdministratorResult(
        base,
        { error: { Error: 'AdministratorGuardRefusedError', Cause: 'is the last' } },
        NOW,
      ),
    ).toMatchObject({ outcome: 'refused', note: 'is the last' });
  });

  it('fails a change that did not take effect, but not one whose read-back merely failed', () => {
    expect(
      buildAdministratorResult(
        base,
        {
          change,
          readBackError: { Error: 'AdministratorChangeNotAppliedError', Cause: 'still Full' },
        },
        NOW,
      ).outcome,
    ).toBe('failed');
    expect(
      buildAdministratorResult(
        base,
        { change, readBackError: { Error: 'CitrixTimeoutError', Cause: 'timed out' } },
        NOW,
      ),
    ).toMatchObject({
      outcome: 'succeeded',
      note: expect.stringContaining('reading the administrator back failed'),
    });
  });
});
