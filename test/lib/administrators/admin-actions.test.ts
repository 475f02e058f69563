import { describe, expect, it } from 'vitest';
import type {
  AdminActionType,
  ResolvedAdministrator,
  RevokeOptions,
} from '../../../lib/actions/schema.ts';
import { ActionStoreUnavailableError } from '../../../lib/actions/store.ts';
import {
  type AdminChange,
  type AdministratorChangeContext,
  AdministratorChangeInProgressError,
  type AdministratorChangeLock,
  AdministratorChangeNotAppliedError,
  type AdministratorController,
  AdministratorGuardRefusedError,
  type AdministratorGuards,
  AdministratorNotFoundError,
  AmbiguousAdministratorError,
  applyAdministratorChange,
  buildAdministratorResult,
  CHANGE_NOT_SENT_ERRORS,
  changeAfterFailure,
  guardRefusal,
  POST_CHANGE_CHECK,
  readAdministratorBack,
  recordStripSnapshot,
  resolveAdministratorTargets,
  strippedAccess,
  UNCONFIRMED_CHANGE_ERROR,
  UNCONFIRMED_CHANGE_OUTCOME,
} from '../../../lib/administrators/admin-actions.ts';
import {
  AdministratorChangedSinceRevokeError,
  NoRevokeSnapshotError,
  RevokeAlreadyRestoredError,
} from '../../../lib/administrators/restore.ts';
import {
  type AdministratorAccess,
  type AdministratorCallOptions,
  AdministratorChangeUnansweredError,
  type AdministratorPolicy,
  type CloudAdministrator,
} from '../../../lib/citrix/administrators-client.ts';
import {
  CitrixNotFoundError,
  CitrixTimeoutError,
  CitrixUnavailableError,
} from '../../../lib/citrix/errors.ts';
import { rejection } from '../../support/rejection.ts';
import { MemoryRevokeSnapshots } from '../../support/revoke-snapshots.ts';

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
  /** The options of each listing, in order (undefined: the client's full retry policy). */
  listOptions: (AdministratorCallOptions | undefined)[] = [];
  async listAdministrators(options?: AdministratorCallOptions) {
    this.calls.push('list');
    this.listOptions.push(options);
    return structuredClone(this.admins);
  }
  async getAccess(id: string) {
    this.calls.push(`get ${id}`);
    return structuredClone(this.access.get(id) ?? CUSTOM_ACCESS);
  }
  updateFails: Error | undefined;
  /**
   * The next change gets no answer, as the client reports it: after Citrix applied it, or
   * without Citrix applying it (it never arrived).
   */
  answerLost: 'applied' | 'notApplied' | undefined;
  /** Throws the client's AdministratorChangeUnansweredError if `answerLost`, applying first or not. */
  async #change(method: 'PUT' | 'DELETE', path: string, apply: () => void) {
    const lost = this.answerLost;
    this.answerLost = undefined;
    if (lost !== 'notApplied') apply();
    if (lost === undefined) return;
    throw new AdministratorChangeUnansweredError(method, path, {
      cause: new CitrixTimeoutError(method, path, `Citrix API ${method} ${path} timed out`),
    });
  }
  async updateAccess(id: string, access: AdministratorAccess) {
    this.calls.push(`put ${id}`);
    if (this.updateFails) throw this.updateFails;
    await this.#change('PUT', '/administrators/access', () => {
      if (!this.applyAccess) return;
      this.access.set(id, structuredClone(access));
      // The list shows the new access type, as Citrix Cloud's does.
      this.admins = this.admins.map((admin) =>
        admin.userId === id ? { ...admin, accessType: access.accessType } : admin,
      );
    });
  }
  async deleteAdministrator(id: string) {
    this.calls.push(`delete ${id}`);
    await this.#change('DELETE', `/administrators/${id}`, () => {
      this.admins = this.admins.filter((admin) => admin.userId !== id && admin.ucOid !== id);
    });
  }
  async deleteInvitation(email: string) {
    this.calls.push(`delete invitation ${email}`);
    const before = this.admins.length;
    await this.#change('DELETE', '/administrators/invitations', () => {
      this.admins = this.admins.filter((admin) => !(admin.pending && admin.email === email));
    });
    return this.admins.length < before;
  }
}

/** The lease's contract in memory; `lock` and `unlock` land in the calls log it is given. */
class MemoryLock implements AdministratorChangeLock {
  holder: string | undefined;
  readonly #calls: string[];

  constructor(calls: string[] = []) {
    this.#calls = calls;
  }
  async acquire(owner: string) {
    if (this.holder !== undefined && this.holder !== owner) {
      throw new AdministratorChangeInProgressError(`held by ${this.holder}`);
    }
    this.holder = owner;
    this.#calls.push('lock');
    return {
      release: async () => {
        if (this.holder === owner) this.holder = undefined;
        this.#calls.push('unlock');
      },
    };
  }
}

/** The lease and its owner for one change, logging into the fake API's calls. */
const serially = (
  api: FakeAdministrators,
  lock = new MemoryLock(api.calls),
): AdministratorChangeContext => ({
  lock,
  owner: 'act_1 target',
  actionId: 'act_1',
  revokes: new MemoryRevokeSnapshots(api.calls),
});

/** No revoke snapshots: what every action but a restore resolves with. */
const NO_REVOKES = new MemoryRevokeSnapshots();

const fleet = () => [
  user(1, 'Full', { email: 'full@example.com' }),
  user(2, 'Custom', { email: 'owner@example.com' }),
  user(3, 'Custom', { email: 'mallory@example.com' }),
  user(900, 'Custom', { email: 'breakglass@example.com' }),
  user(5, 'Custom', { email: 'invitee@example.com', pending: true }),
  user(6, 'Full', { type: 'AdministratorGroup', userId: null, email: null }),
];

/** The administrator `admin` names for a revoke, resolved as the workflow's first task does. */
const revokeTarget = async (api: FakeAdministrators, admin: string, guards = GUARDS) => {
  const [target] = await resolveAdministratorTargets(
    api,
    'admin.revoke',
    { admin },
    guards,
    NO_REVOKES,
  );
  return target as ResolvedAdministrator;
};

/** The pending invitation for `email`, resolved as the workflow's first task does. */
const invitationTarget = async (api: FakeAdministrators, email: string) => {
  const [target] = await resolveAdministratorTargets(
    api,
    'admin.deleteInvitation',
    { email },
    GUARDS,
    NO_REVOKES,
  );
  return target as ResolvedAdministrator;
};

/** Applies a change as the task does: at NOW, under GUARDS and one change's lease by default. */
const apply = (
  api: FakeAdministrators,
  action: AdminActionType,
  target: ResolvedAdministrator,
  mode: RevokeOptions['mode'],
  {
    guards = GUARDS,
    serialization = serially(api),
  }: { guards?: AdministratorGuards; serialization?: AdministratorChangeContext } = {},
) => applyAdministratorChange(api, action, target, { mode }, guards, () => NOW, serialization);

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
  it('counts a Full group as a target but never as the remaining Full administrator', () => {
    const group = user(60, 'Full', {
      type: 'AdministratorGroup',
      userId: null,
      email: null,
      displayName: 'Cloud Admins',
    });
    const owner = user(2, 'Custom', { email: 'owner@example.com' });
    const fullUser = user(1, 'Full', { email: 'full@example.com' });
    // Full access through a group and one Full user: the user is the last, the group may go.
    const groupAndUser = [group, fullUser, owner];
    expect(guardRefusal('admin.revoke', fullUser, groupAndUser, GUARDS)).toMatch(
      /full@example.com is the last administrator with Full access/,
    );
    expect(guardRefusal('admin.revoke', group, groupAndUser, GUARDS)).toBeUndefined();
    // Full access only through the group: revoking it would leave nobody with Full access.
    const groupOnly = [group, owner, user(3, 'Custom')];
    expect(guardRefusal('admin.revoke', group, groupOnly, GUARDS)).toMatch(
      /Cloud Admins is the last administrator with Full access/,
    );
    // A second Full group does not count as remaining either.
    const twoGroups = [...groupOnly, { ...group, ucOid: 'OID:/azuread/61' }];
    expect(guardRefusal('admin.revoke', group, twoGroups, GUARDS)).toMatch(/last/);
  });

  it('refuses every revoke while CITRIX_API_CLIENT_OWNER names nobody on the list', () => {
    const typo = { ...GUARDS, apiClientOwner: 'onwer@example.com' };
    const withSecondFull = [...all, user(7, 'Full')];
    for (const target of [find('owner@example.com'), find('mallory@example.com')]) {
      expect(guardRefusal('admin.revoke', target, withSecondFull, typo)).toMatch(
        /CITRIX_API_CLIENT_OWNER \(onwer@example.com\) names no listed administrator/,
      );
    }
    // Matched by userId or ucOid as well as by email.
    for (const key of ['2', 'oid:/citrix/2']) {
      const guards = { ...GUARDS, apiClientOwner: key };
      expect(
        guardRefusal('admin.revoke', find('mallory@example.com'), all, guards),
      ).toBeUndefined();
    }
    // A pending invitation removes nobody's access: deleting one is still allowed.
    expect(
      guardRefusal('admin.deleteInvitation', find('invitee@example.com'), all, typo),
    ).toBeUndefined();
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
        NO_REVOKES,
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
      NO_REVOKES,
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
        resolveAdministratorTargets(
          api,
          'admin.revoke',
          { admin: 'nobody@example.com' },
          GUARDS,
          NO_REVOKES,
        ),
      ),
    ).toBeInstanceOf(AdministratorNotFoundError);
    expect(
      await rejection(
        resolveAdministratorTargets(
          api,
          'admin.revoke',
          { admin: 'twin@example.com' },
          GUARDS,
          NO_REVOKES,
        ),
      ),
    ).toBeInstanceOf(AmbiguousAdministratorError);
    expect(
      await resolveAdministratorTargets(
        api,
        'admin.deleteInvitation',
        { email: 'nobody@example.com' },
        GUARDS,
        NO_REVOKES,
      ),
    ).toEqual([]);
  });
});

describe('resolveAdministratorTargets for an invitation sweep', () => {
  const sweep = (pendingForDays: number, maxTargets = 10) => ({
    sweep: 'stale-invitations',
    maxTargets,
    find: { invitations: { pendingForDays } },
  });
  const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000).toISOString();
  const invitations = () => [
    user(20, 'Custom', { email: 'old@example.com', pending: true, createdDate: daysAgo(45) }),
    user(21, 'Custom', { email: 'fresh@example.com', pending: true, createdDate: daysAgo(3) }),
    user(22, 'Custom', { email: 'undated@example.com', pending: true, createdDate: 'soon' }),
    user(23, 'Custom', { email: null, pending: true, createdDate: daysAgo(90) }),
    // An accepted administrator created long ago is not an invitation.
    user(24, 'Custom', { email: 'member@example.com', pending: false, createdDate: daysAgo(400) }),
    user(25, 'Custom', { email: 'older@example.com', pending: true, createdDate: daysAgo(31) }),
  ];

  it('picks only pending invitations with an email older than pendingForDays', async () => {
    const api = new FakeAdministrators(invitations());
    const targets = await resolveAdministratorTargets(
      api,
      'admin.deleteInvitation',
      sweep(30),
      GUARDS,
      NO_REVOKES,
      NOW,
    );
    expect(targets.map((target) => target.email)).toEqual(['old@example.com', 'older@example.com']);
    expect(targets.every((target) => target.pending && target.allowed)).toBe(true);
    // A sweep reads the list only: nothing is changed while resolving.
    expect(api.calls).toEqual(['list']);
    const fewer = await resolveAdministratorTargets(
      api,
      'admin.deleteInvitation',
      sweep(40),
      GUARDS,
      NO_REVOKES,
      NOW,
    );
    expect(fewer.map((target) => target.email)).toEqual(['old@example.com']);
  });

  it('refuses the whole run when more invitations are stale than the sweep may touch', async () => {
    const api = new FakeAdministrators(invitations());
    const error = await rejection(
      resolveAdministratorTargets(
        api,
        'admin.deleteInvitation',
        sweep(30, 1),
        GUARDS,
        NO_REVOKES,
        NOW,
      ),
    );
    expect((error as Error).name).toBe('TooManyTargetsError');
    expect((error as Error).message).toBe(
      'Sweep stale-invitations found 2 stale invitations; it may act on at most 1',
    );
    expect(api.calls).toEqual(['list']);
  });
});

describe('applying and verifying a change', () => {
  it('strips, then reads back Custom access with only locked permissions left', async () => {
    const api = new FakeAdministrators(fleet());
    const mallory = await revokeTarget(api, 'mallory@example.com');
    const change = await apply(api, 'admin.revoke', mallory, 'strip');
    expect(change).toEqual({ mode: 'strip', at: NOW.toISOString(), replaced: CUSTOM_ACCESS });
    // The whole access read back is what the revoke snapshot keeps as what the strip left.
    expect(await readAdministratorBack(api, mallory, change)).toEqual({
      present: true,
      accessType: 'Custom',
      grantedPolicies: ['customerDashboard'],
      access: strippedAccess(CUSTOM_ACCESS),
    });
  });

  it('deletes, then reads back that the administrator is gone; a retried delete is done too', async () => {
    const api = new FakeAdministrators(fleet());
    const mallory = await revokeTarget(api, 'mallory@example.com');
    const change = await apply(api, 'admin.revoke', mallory, 'delete');
    expect(api.calls).toContain('delete 3');
    expect(await readAdministratorBack(api, mallory, change)).toEqual({ present: false });
    const retried = await apply(api, 'admin.revoke', mallory, 'delete');
    expect(retried).toEqual({ mode: 'delete', at: NOW.toISOString(), alreadyGone: true });
    expect(api.calls.filter((call) => call === 'delete 3')).toHaveLength(1);
  });

  it('re-checks the guards just before the change', async () => {
    const api = new FakeAdministrators([...fleet(), user(7, 'Full')]);
    const full = await revokeTarget(api, 'full@example.com');
    expect(full.allowed).toBe(true);
    api.admins = api.admins.filter((admin) => admin.userId !== '7'); // the other Full admin left
    const error = await rejection(apply(api, 'admin.revoke', full, 'strip'));
    expect(error).toBeInstanceOf(AdministratorGuardRefusedError);
    expect(api.calls.some((call) => call.startsWith('put'))).toBe(false);
  });

  it('says so when Citrix accepted a change that did not take effect', async () => {
    const api = new FakeAdministrators(fleet());
    api.applyAccess = false;
    const mallory = await revokeTarget(api, 'mallory@example.com');
    const change = await apply(api, 'admin.revoke', mallory, 'strip');
    expect(await rejection(readAdministratorBack(api, mallory, change))).toBeInstanceOf(
      AdministratorChangeNotAppliedError,
    );
  });

  it('deletes only a pending invitation', async () => {
    const api = new FakeAdministrators(fleet());
    const invitee = await invitationTarget(api, 'invitee@example.com');
    const change = await apply(api, 'admin.deleteInvitation', invitee, 'strip');
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
  const change: AdminChange = { mode: 'strip', at: NOW.toISOString() };

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

describe('the administrator change lease', () => {
  const resolved = async (api: FakeAdministrators, email: string) => {
    const target = await revokeTarget(api, email);
    api.calls.length = 0;
    return target;
  };
  const strip = (api: FakeAdministrators, target: ResolvedAdministrator, lock: MemoryLock) =>
    apply(api, 'admin.revoke', target, 'strip', { serialization: serially(api, lock) });

  it('is taken before the list is read, and given back once a fresh list shows the change', async () => {
    const api = new FakeAdministrators([...fleet(), user(7, 'Full')]);
    const full = await resolved(api, 'full@example.com');
    const lock = new MemoryLock(api.calls);

    await strip(api, full, lock);
    expect(api.calls).toEqual(['lock', 'list', 'get 1', 'put 1', 'list', 'unlock']);
    expect(lock.holder).toBeUndefined();
  });

  it('refuses the change, reading nothing, while another change holds it', async () => {
    const api = new FakeAdministrators([...fleet(), user(7, 'Full')]);
    const full = await resolved(api, 'full@example.com');
    const lock = new MemoryLock(api.calls);
    lock.holder = 'act_2 OID:/citrix/7';

    expect(await rejection(strip(api, full, lock))).toBeInstanceOf(
      AdministratorChangeInProgressError,
    );
    expect(api.calls).toEqual([]);
    expect(lock.holder).toBe('act_2 OID:/citrix/7');
  });

  it('is given back when a guard refuses, or when the target had no Full access', async () => {
    const api = new FakeAdministrators([...fleet(), user(7, 'Full')]);
    const lock = new MemoryLock(api.calls);
    const full = await resolved(api, 'full@example.com');
    api.admins = api.admins.filter((admin) => admin.userId !== '7');
    expect(await rejection(strip(api, full, lock))).toBeInstanceOf(AdministratorGuardRefusedError);
    expect(api.calls).toEqual(['lock', 'list', 'unlock']);

    const mallory = await resolved(api, 'mallory@example.com');
    api.updateFails = new CitrixUnavailableError({ status: 503, method: 'PUT', path: '/x' });
    expect(await rejection(strip(api, mallory, lock))).toBe(api.updateFails);
    // Changing a Custom administrator never lowers the Full count: no need to read back.
    expect(api.calls).toEqual(['lock', 'list', 'get 3', 'put 3', 'unlock']);
    expect(lock.holder).toBeUndefined();
  });

  it('is kept (until it expires) while the list does not show a change to a Full administrator', async () => {
    const api = new FakeAdministrators([...fleet(), user(7, 'Full')]);
    const full = await resolved(api, 'full@example.com');
    const lock = new MemoryLock(api.calls);

    // Citrix accepted the change but still lists Full access (slow to apply, or not applied).
    api.applyAccess = false;
    await strip(api, full, lock);
    expect(api.calls).toEqual(['lock', 'list', 'get 1', 'put 1', 'list']);
    expect(lock.holder).toBe('act_1 target');
    const other = new MemoryLock();
    other.holder = lock.holder;
    expect(
      await rejection(
        apply(api, 'admin.revoke', await resolved(api, 'admin7@example.com'), 'strip', {
          serialization: { ...serially(api, other), owner: 'act_2 OID:/citrix/7' },
        }),
      ),
    ).toBeInstanceOf(AdministratorChangeInProgressError);

    // A change that failed in flight may still have taken effect: kept too, but the same
    // owner (the retried task) takes it again.
    api.calls.length = 0;
    api.applyAccess = true;
    api.updateFails = new CitrixUnavailableError({ status: 503, method: 'PUT', path: '/x' });
    expect(await rejection(strip(api, full, lock))).toBe(api.updateFails);
    expect(lock.holder).toBe('act_1 target');
    api.updateFails = undefined;
    await strip(api, full, lock);
    expect(lock.holder).toBeUndefined();
    expect(api.admins.find((admin) => admin.userId === '1')?.accessType).toBe('Custom');
  });
});

describe('a change whose reply was lost', () => {
  it('is done when the DELETE answers 404 and the administrator is no longer listed', async () => {
    const api = new FakeAdministrators(fleet());
    const mallory = await revokeTarget(api, 'mallory@example.com');
    // The first DELETE deleted; its reply was lost and the retry found nothing.
    api.deleteAdministrator = async (id) => {
      api.calls.push(`delete ${id}`);
      api.admins = api.admins.filter((admin) => admin.userId !== id);
      throw new CitrixNotFoundError({
        status: 404,
        method: 'DELETE',
        path: `/administrators/${id}`,
      });
    };
    const change = await apply(api, 'admin.revoke', mallory, 'delete');
    expect(change).toEqual({ mode: 'delete', at: NOW.toISOString(), alreadyGone: true });
    expect(
      buildAdministratorResult(mallory, { change, after: { present: false } }, NOW),
    ).toMatchObject({ outcome: 'succeeded', change, note: expect.stringMatching(/Already gone/) });
  });

  it('fails when the DELETE answers 404 but the administrator is still listed', async () => {
    const api = new FakeAdministrators(fleet());
    const mallory = await revokeTarget(api, 'mallory@example.com');
    const notFound = new CitrixNotFoundError({ status: 404, method: 'DELETE', path: '/x' });
    api.deleteAdministrator = async () => {
      throw notFound;
    };
    expect(await rejection(apply(api, 'admin.revoke', mallory, 'delete'))).toBe(notFound);
  });

  it('deletes no invitation that Citrix still lists as pending after answering false', async () => {
    const api = new FakeAdministrators(fleet());
    const invitee = await invitationTarget(api, 'invitee@example.com');
    api.deleteInvitation = async () => false;
    expect(await rejection(apply(api, 'admin.deleteInvitation', invitee, 'strip'))).toBeInstanceOf(
      AdministratorChangeNotAppliedError,
    );
  });
});

describe('an invitation accepted before it could be deleted', () => {
  /** The invitee, now an active administrator with Full access, under `ucOid`. */
  const acceptedAs = (ucOid: string, email = 'invitee@example.com') =>
    user(5, 'Full', { ucOid, email, pending: false });

  it('fails the change when the invitee accepted just before the DELETE (same ucOid)', async () => {
    const api = new FakeAdministrators(fleet());
    const invitee = await invitationTarget(api, 'invitee@example.com');
    api.deleteInvitation = async (email) => {
      api.calls.push(`delete invitation ${email}`);
      api.admins = api.admins.map((admin) =>
        admin.ucOid === invitee.ucOid ? acceptedAs(invitee.ucOid) : admin,
      );
      return false;
    };
    const error = await rejection(apply(api, 'admin.deleteInvitation', invitee, 'strip'));
    expect(error).toBeInstanceOf(AdministratorChangeNotAppliedError);
    expect(error.message).toMatch(/invitee@example\.com was accepted/);
    expect(error.message).toMatch(/Full access; revoke it with admin\.revoke/);
  });

  it('fails the change when the accepted administrator is listed under another ucOid', async () => {
    const api = new FakeAdministrators(fleet());
    const invitee = await invitationTarget(api, 'invitee@example.com');
    api.deleteInvitation = async () => {
      api.admins = [
        ...api.admins.filter((admin) => admin.ucOid !== invitee.ucOid),
        acceptedAs('OID:/citrix/55', 'Invitee@Example.com'),
      ];
      return false;
    };
    const error = await rejection(apply(api, 'admin.deleteInvitation', invitee, 'strip'));
    expect(error).toBeInstanceOf(AdministratorChangeNotAppliedError);
    expect(error.message).toMatch(/admin\.revoke/);
  });

  it('fails a retried deletion that finds the invitation replaced by an active administrator', async () => {
    const api = new FakeAdministrators(fleet());
    const invitee = await invitationTarget(api, 'invitee@example.com');
    api.admins = [
      ...api.admins.filter((admin) => admin.ucOid !== invitee.ucOid),
      acceptedAs('OID:/citrix/55'),
    ];
    const error = await rejection(apply(api, 'admin.deleteInvitation', invitee, 'strip'));
    expect(error).toBeInstanceOf(AdministratorChangeNotAppliedError);
    expect(error.message).toMatch(/admin\.revoke/);
    expect(api.calls.some((call) => call.startsWith('delete'))).toBe(false);
  });

  it('is gone on read-back only when nothing with its ucOid or email is listed', async () => {
    const api = new FakeAdministrators(fleet());
    const invitee = await invitationTarget(api, 'invitee@example.com');
    const change: AdminChange = { mode: 'deleteInvitation', at: NOW.toISOString() };
    const rest = api.admins.filter((admin) => admin.ucOid !== invitee.ucOid);
    const others = () => structuredClone(rest);

    // Accepted: an active administrator under its ucOid, or under its email.
    api.admins = [...others(), acceptedAs(invitee.ucOid)];
    const accepted = await rejection(readAdministratorBack(api, invitee, change));
    expect(accepted).toBeInstanceOf(AdministratorChangeNotAppliedError);
    expect(accepted.message).toMatch(/accepted.*admin\.revoke/);
    api.admins = [...others(), acceptedAs('OID:/citrix/55', 'INVITEE@example.com')];
    expect((await rejection(readAdministratorBack(api, invitee, change))).message).toMatch(
      /admin\.revoke/,
    );

    // Still pending, under its ucOid or (invited again) under another.
    api.admins = [...others(), user(5, 'Custom', { email: 'invitee@example.com', pending: true })];
    expect(await rejection(readAdministratorBack(api, invitee, change))).toBeInstanceOf(
      AdministratorChangeNotAppliedError,
    );
    api.admins = [...others(), user(56, 'Custom', { email: 'Invitee@example.com', pending: true })];
    expect((await rejection(readAdministratorBack(api, invitee, change))).message).toMatch(
      /still listed/,
    );

    api.admins = others();
    expect(await readAdministratorBack(api, invitee, change)).toEqual({ present: false });
  });
});

describe('the check after a change to a Full administrator', () => {
  it('lists once, with a short timeout and no retries; the change stands if that fails', async () => {
    const api = new FakeAdministrators([...fleet(), user(7, 'Full')]);
    const full = await revokeTarget(api, 'full@example.com');
    api.calls.length = 0;
    api.listOptions.length = 0;
    const lock = new MemoryLock(api.calls);

    const change = await apply(api, 'admin.revoke', full, 'strip', {
      serialization: serially(api, lock),
    });
    expect(change.mode).toBe('strip');
    expect(api.calls).toEqual(['lock', 'list', 'get 1', 'put 1', 'list', 'unlock']);
    // The guard's list is retried as usual; the check after the change is not.
    expect(api.listOptions).toEqual([undefined, POST_CHANGE_CHECK]);
    expect(POST_CHANGE_CHECK.maxAttempts).toBe(1);
    expect(POST_CHANGE_CHECK.timeoutMs).toBeLessThanOrEqual(5000);

    // A failed check keeps the lease and returns the change as made.
    const other = await revokeTarget(api, 'admin7@example.com');
    api.admins = [...api.admins, user(8, 'Full')];
    api.calls.length = 0;
    const list = api.listAdministrators.bind(api);
    api.listAdministrators = async (options) => {
      if (options !== undefined) {
        api.calls.push('list failed');
        throw new CitrixUnavailableError({ status: 503, method: 'GET', path: '/administrators' });
      }
      return list(options);
    };
    const second = await apply(api, 'admin.revoke', other, 'delete', {
      serialization: serially(api, lock),
    });
    expect(second).toEqual({ mode: 'delete', at: NOW.toISOString() });
    expect(api.calls).toEqual(['lock', 'list', 'delete 7', 'list failed']);
    expect(lock.holder).toBe('act_1 target');
  });
});

describe('a misconfigured API client owner', () => {
  const TYPO: AdministratorGuards = { ...GUARDS, apiClientOwner: 'onwer@example.com' };

  it('refuses every revoke target when resolving and again when applying', async () => {
    const api = new FakeAdministrators([...fleet(), user(7, 'Full')]);
    expect(await revokeTarget(api, 'mallory@example.com', TYPO)).toMatchObject({
      allowed: false,
      refusal: expect.stringMatching(/CITRIX_API_CLIENT_OWNER/),
    });

    // Resolved while the setting was right, applied after it went wrong.
    const allowed = await revokeTarget(api, 'mallory@example.com');
    expect(allowed.allowed).toBe(true);
    const error = await rejection(apply(api, 'admin.revoke', allowed, 'delete', { guards: TYPO }));
    expect(error).toBeInstanceOf(AdministratorGuardRefusedError);
    expect(error.message).toMatch(/CITRIX_API_CLIENT_OWNER \(onwer@example.com\) names no listed/);
    expect(api.calls.some((call) => call.startsWith('delete'))).toBe(false);
  });
});

describe('the access a strip replaced', () => {
  it('is the access read just before the change, kept next to the snapshot from resolving', async () => {
    const api = new FakeAdministrators(fleet());
    const mallory = await revokeTarget(api, 'mallory@example.com');
    // While the action waited for approval, someone granted mallory licensing.
    const granted: AdministratorAccess = {
      accessType: 'Custom',
      policies: [policy('licensing', true), policy('notifications', true)],
    };
    api.access.set('3', granted);

    const change = await apply(api, 'admin.revoke', mallory, 'strip');
    expect(change.replaced).toEqual(granted);
    const after = await readAdministratorBack(api, mallory, change);
    const result = buildAdministratorResult(mallory, { change, after }, NOW);
    expect(result.before).toEqual(CUSTOM_ACCESS);
    expect(result.replaced).toEqual(granted);
    expect(result.change).toEqual({ mode: 'strip', at: NOW.toISOString() });
  });
});

describe('admin.restore through the workflow steps', () => {
  const REVOKE = `act_${'1'.repeat(32)}`;
  const RESTORE = `act_${'2'.repeat(32)}`;
  const MALLORY = 'OID:/citrix/3';

  /** A strip of mallory as the workflow makes it, its snapshot recorded by the record step. */
  async function revokeMallory(api: FakeAdministrators, revokes: MemoryRevokeSnapshots) {
    const target = await revokeTarget(api, 'mallory@example.com');
    const change = await apply(api, 'admin.revoke', target, 'strip', {
      serialization: { ...serially(api), actionId: REVOKE, revokes },
    });
    const after = await readAdministratorBack(api, target, change);
    const built = buildAdministratorResult(target, { change, after }, NOW);
    return recordStripSnapshot(revokes, REVOKE, built, { change, after });
  }

  const restoreTarget = async (api: FakeAdministrators, revokes: MemoryRevokeSnapshots) => {
    const [target] = await resolveAdministratorTargets(
      api,
      'admin.restore',
      { admin: 'mallory@example.com' },
      GUARDS,
      revokes,
    );
    return target as ResolvedAdministrator;
  };

  it('puts back exactly the access the strip replaced, under the lease, and verifies it', async () => {
    const api = new FakeAdministrators(fleet());
    const revokes = new MemoryRevokeSnapshots(api.calls);
    await revokeMallory(api, revokes);
    expect(await revokes.latest(MALLORY)).toMatchObject({
      revokeActionIds: [REVOKE],
      replaced: CUSTOM_ACCESS,
      left: strippedAccess(CUSTOM_ACCESS),
    });

    const target = await restoreTarget(api, revokes);
    expect(target).toMatchObject({
      allowed: true,
      before: strippedAccess(CUSTOM_ACCESS),
      restore: { revokeActionIds: [REVOKE], access: CUSTOM_ACCESS },
    });
    api.calls.length = 0;
    const change = await apply(api, 'admin.restore', target, 'strip', {
      serialization: { ...serially(api), actionId: RESTORE, revokes },
    });
    expect(api.calls).toEqual([
      'lock',
      'list',
      'get 3',
      'put 3',
      `mark restored ${RESTORE}`,
      'unlock',
    ]);
    expect(api.access.get('3')).toEqual(CUSTOM_ACCESS);
    expect(change).toEqual({
      mode: 'restore',
      at: NOW.toISOString(),
      replaced: strippedAccess(CUSTOM_ACCESS),
      restored: CUSTOM_ACCESS,
    });
    const after = await readAdministratorBack(api, target, change);
    expect(after).toMatchObject({ present: true, access: CUSTOM_ACCESS });
    const result = buildAdministratorResult(target, { change, after }, NOW);
    expect(result).toMatchObject({
      outcome: 'succeeded',
      change: { mode: 'restore', at: NOW.toISOString() },
      replaced: strippedAccess(CUSTOM_ACCESS),
      after: { present: true, accessType: 'Custom', grantedPolicies: expect.any(Array) },
    });
    expect(result.after).not.toHaveProperty('access');
    expect(result.change).not.toHaveProperty('restored');
    expect(result).not.toHaveProperty('note');

    // The snapshot is restored once: a second restore is refused when it is resolved.
    expect(await rejection(restoreTarget(api, revokes))).toBeInstanceOf(RevokeAlreadyRestoredError);
  });

  it('sends a restore once when it gets no answer, and leaves the snapshot unmarked until it is seen', async () => {
    const api = new FakeAdministrators(fleet());
    const revokes = new MemoryRevokeSnapshots(api.calls);
    await revokeMallory(api, revokes);
    const target = await restoreTarget(api, revokes);
    api.calls.length = 0;
    api.answerLost = 'applied';
    const change = await apply(api, 'admin.restore', target, 'strip', {
      serialization: { ...serially(api), actionId: RESTORE, revokes },
    });
    expect(api.calls).toEqual(['lock', 'list', 'get 3', 'put 3', 'unlock']);
    expect(change).toEqual({
      mode: 'restore',
      at: NOW.toISOString(),
      restored: CUSTOM_ACCESS,
      unanswered: expect.stringMatching(/did not answer PUT \/administrators\/access/),
    });
    const after = await readAdministratorBack(api, target, change);
    expect(buildAdministratorResult(target, { change, after }, NOW)).toMatchObject({
      outcome: 'succeeded',
      note: expect.stringMatching(
        /^Confirmed by reading the administrator back: it has the access from before the revoke/,
      ),
    });
    // A later restore finds the access already back: it marks the snapshot and sends nothing.
    expect((await revokes.latest(MALLORY))?.restored).toBeUndefined();
    api.calls.length = 0;
    const again = await apply(api, 'admin.restore', target, 'strip', {
      serialization: { ...serially(api), actionId: RESTORE, revokes },
    });
    expect(again.alreadyRestored).toBe(true);
    expect(api.calls.some((call) => call.startsWith('put'))).toBe(false);
  });

  it('refuses, changing nothing, when someone changed the access since the revoke', async () => {
    const api = new FakeAdministrators(fleet());
    const revokes = new MemoryRevokeSnapshots(api.calls);
    await revokeMallory(api, revokes);
    api.access.set('3', { accessType: 'Custom', policies: [policy('licensing', true)] });
    const error = await rejection(restoreTarget(api, revokes));
    expect(error).toBeInstanceOf(AdministratorChangedSinceRevokeError);
    expect(error.message).toMatch(/licensing: not granted, now granted/);
    expect(api.calls.filter((call) => call.startsWith('put'))).toEqual(['put 3']); // the strip's
  });

  it('refuses an administrator never revoked in strip mode', async () => {
    const api = new FakeAdministrators(fleet());
    expect(await rejection(restoreTarget(api, new MemoryRevokeSnapshots()))).toBeInstanceOf(
      NoRevokeSnapshotError,
    );
  });

  it('keeps the guards: a target they refuse gets no plan and is not looked up', async () => {
    const api = new FakeAdministrators(fleet());
    const revokes = new MemoryRevokeSnapshots();
    const [owner] = await resolveAdministratorTargets(
      api,
      'admin.restore',
      { admin: 'owner@example.com' },
      GUARDS,
      revokes,
    );
    expect(owner).toMatchObject({ allowed: false, refusal: expect.stringMatching(/owns the API/) });
    expect(owner).not.toHaveProperty('restore');
  });

  it('refuses an administrator deleted since the revoke, changing nothing', async () => {
    const api = new FakeAdministrators(fleet());
    const revokes = new MemoryRevokeSnapshots(api.calls);
    await revokeMallory(api, revokes);
    const target = await restoreTarget(api, revokes);
    api.admins = api.admins.filter((admin) => admin.ucOid !== MALLORY);
    api.calls.length = 0;
    const error = await rejection(
      apply(api, 'admin.restore', target, 'strip', {
        serialization: { ...serially(api), actionId: RESTORE, revokes },
      }),
    );
    expect(error).toBeInstanceOf(AdministratorChangedSinceRevokeError);
    expect(error.message).toMatch(/deleted since the revoke/);
    expect(api.calls).toEqual(['lock', 'list', 'unlock']);
  });

  it('fails a restore that Citrix accepted but that did not take effect', async () => {
    const api = new FakeAdministrators(fleet());
    const revokes = new MemoryRevokeSnapshots(api.calls);
    await revokeMallory(api, revokes);
    const target = await restoreTarget(api, revokes);
    api.applyAccess = false;
    const change = await apply(api, 'admin.restore', target, 'strip', {
      serialization: { ...serially(api), actionId: RESTORE, revokes },
    });
    const error = await rejection(readAdministratorBack(api, target, change));
    expect(error).toBeInstanceOf(AdministratorChangeNotAppliedError);
    expect(error.message).toMatch(/does not have the access from before the revoke/);
    api.admins = api.admins.filter((admin) => admin.ucOid !== MALLORY);
    expect(await rejection(readAdministratorBack(api, target, change))).toBeInstanceOf(
      AdministratorChangeNotAppliedError,
    );
  });

  it('says so when the access was already back and nothing was sent', () => {
    const result = buildAdministratorResult(
      fleetTarget(),
      {
        change: { mode: 'restore', at: NOW.toISOString(), alreadyRestored: true },
        after: { present: true, accessType: 'Custom', grantedPolicies: ['notifications'] },
      },
      NOW,
    );
    expect(result).toMatchObject({
      outcome: 'succeeded',
      note: expect.stringMatching(/nothing was sent/),
    });
  });

  function fleetTarget(): ResolvedAdministrator {
    return {
      administratorId: '3',
      ucOid: MALLORY,
      type: 'AdministratorUser',
      pending: false,
      allowed: true,
    };
  }
});

describe('a change that got no answer', () => {
  const unansweredChange = expect.stringMatching(
    /^Citrix Cloud did not answer (PUT|DELETE) \/administrators\/.*; the change may have been applied$/,
  );

  it.each([
    ['strip', 'admin.revoke', 'mallory@example.com', 'put 3'],
    ['delete', 'admin.revoke', 'mallory@example.com', 'delete 3'],
    [
      'deleteInvitation',
      'admin.deleteInvitation',
      'invitee@example.com',
      'delete invitation invitee@example.com',
    ],
  ] as const)(
    '%s: is sent once and returned as unanswered, then confirmed by the read-back',
    async (mode, action, who, call) => {
      const api = new FakeAdministrators(fleet());
      const target =
        action === 'admin.deleteInvitation'
          ? await invitationTarget(api, who)
          : await revokeTarget(api, who);
      api.answerLost = 'applied';
      const change = await apply(api, action, target, mode === 'deleteInvitation' ? 'strip' : mode);
      expect(change).toMatchObject({ mode, at: NOW.toISOString(), unanswered: unansweredChange });
      expect(api.calls.filter((entry) => entry === call)).toHaveLength(1);
      const after = await readAdministratorBack(api, target, change);
      const result = buildAdministratorResult(target, { change, after }, NOW);
      expect(result).toMatchObject({
        outcome: 'succeeded',
        change: { mode, at: NOW.toISOString() },
        note: expect.stringMatching(
          /^Confirmed by reading the administrator back: .*, though Citrix Cloud did not answer/,
        ),
      });
      expect(result.change).not.toHaveProperty('unanswered');
    },
  );

  it('is unconfirmed when the read-back does not show it, and says to check before sending again', async () => {
    const api = new FakeAdministrators(fleet());
    const mallory = await revokeTarget(api, 'mallory@example.com');
    api.answerLost = 'notApplied';
    const change = await apply(api, 'admin.revoke', mallory, 'strip');
    expect(change).toMatchObject({
      mode: 'strip',
      replaced: CUSTOM_ACCESS,
      unanswered: unansweredChange,
    });
    const readBack = await rejection(readAdministratorBack(api, mallory, change));
    expect(readBack).toBeInstanceOf(AdministratorChangeNotAppliedError);
    const result = buildAdministratorResult(
      mallory,
      { change, readBackError: { Error: readBack.name, Cause: readBack.message } },
      NOW,
    );
    expect(result).toMatchObject({
      outcome: UNCONFIRMED_CHANGE_OUTCOME,
      replaced: CUSTOM_ACCESS,
      error: { name: UNCONFIRMED_CHANGE_ERROR },
    });
    expect(result.error?.message).toBe(
      `Sent, not confirmed: ${change.unanswered}; reading the administrator back does not show it (${readBack.message}). It was not sent again: check mallory@example.com in Citrix Cloud before making the change again`,
    );
    // Nothing to restore from: no snapshot for an unconfirmed strip.
    const revokes = new MemoryRevokeSnapshots();
    await recordStripSnapshot(revokes, 'act_1', result, { change });
    expect(await revokes.latest(mallory.ucOid)).toBeUndefined();
    // A read-back that failed outright confirms nothing either.
    expect(
      buildAdministratorResult(
        mallory,
        { change, readBackError: { Error: 'CitrixTimeoutError', Cause: 'timed out' } },
        NOW,
      ).error?.message,
    ).toMatch(/; reading the administrator back failed \(timed out\)\. It was not sent again/);
  });

  it('keeps the lease on a Full administrator until a list shows the change', async () => {
    const api = new FakeAdministrators([...fleet(), user(7, 'Full')]);
    const full = await revokeTarget(api, 'full@example.com');
    const lock = new MemoryLock();
    api.answerLost = 'notApplied';
    await apply(api, 'admin.revoke', full, 'strip', { serialization: serially(api, lock) });
    expect(lock.holder).toBe('act_1 target');
    api.answerLost = 'applied';
    await apply(api, 'admin.revoke', full, 'strip', { serialization: serially(api, lock) });
    expect(lock.holder).toBeUndefined();
  });
});

describe('a step that makes the change and fails without saying what it sent', () => {
  const mallory: ResolvedAdministrator = {
    administratorId: '3',
    ucOid: 'OID:/citrix/3',
    email: 'mallory@example.com',
    type: 'AdministratorUser',
    pending: false,
    allowed: true,
    before: CUSTOM_ACCESS,
  };
  const timedOut = { Error: 'Sandbox.Timedout', Cause: 'Task timed out after 60.00 seconds' };
  const stripped = {
    present: true,
    accessType: 'Custom',
    grantedPolicies: ['customerDashboard'],
    access: strippedAccess(CUSTOM_ACCESS),
  };

  it('is read back as the change the action asked for, by its mode', () => {
    expect(changeAfterFailure('admin.revoke', { mode: 'delete' }, mallory, timedOut, NOW)).toEqual({
      mode: 'delete',
      at: NOW.toISOString(),
      unanswered:
        'the step that makes the change ended with Sandbox.Timedout: Task timed out after 60.00 seconds',
    });
    expect(
      changeAfterFailure('admin.deleteInvitation', { mode: 'strip' }, mallory, timedOut, NOW)?.mode,
    ).toBe('deleteInvitation');
    const restore = {
      revokeActionIds: ['act_1'],
      revokedAt: NOW.toISOString(),
      access: CUSTOM_ACCESS,
    };
    expect(
      changeAfterFailure(
        'admin.restore',
        { mode: 'strip' },
        { ...mallory, restore },
        timedOut,
        NOW,
      ),
    ).toMatchObject({ mode: 'restore', restored: CUSTOM_ACCESS });
    for (const name of CHANGE_NOT_SENT_ERRORS) {
      expect(
        changeAfterFailure('admin.revoke', { mode: 'strip' }, mallory, { Error: name }, NOW),
      ).toBeUndefined();
    }
  });

  it('succeeds when the read-back shows the change, saying no restore snapshot was kept', async () => {
    const progress = { mode: 'strip' as const, error: timedOut, after: stripped };
    const result = buildAdministratorResult(mallory, progress, NOW);
    expect(result).toMatchObject({ outcome: 'succeeded', after: { present: true } });
    expect(result).not.toHaveProperty('change');
    expect(result.note).toBe(
      'Confirmed by reading the administrator back: it has Custom access with no permission that can be changed, though the step that makes the change ended with Sandbox.Timedout: Task timed out after 60.00 seconds; Citrix does not let these permissions be changed; they stay granted: customerDashboard; The snapshot admin.restore needs was not recorded: to undo, grant the access in `before` by hand',
    );
    const revokes = new MemoryRevokeSnapshots();
    expect(await recordStripSnapshot(revokes, 'act_1', result, progress)).toBe(result);
    expect(await revokes.latest(mallory.ucOid)).toBeUndefined();
  });

  it('is unconfirmed when the read-back does not show it', () => {
    const result = buildAdministratorResult(
      mallory,
      {
        mode: 'delete',
        error: timedOut,
        readBackError: {
          Error: 'AdministratorChangeNotAppliedError',
          Cause: 'OID:/citrix/3 is still listed',
        },
      },
      NOW,
    );
    expect(result).toMatchObject({
      outcome: 'unconfirmed',
      error: { name: UNCONFIRMED_CHANGE_ERROR },
    });
    expect(result.error?.message).toMatch(
      /^Sent, not confirmed: the step that makes the change ended with Sandbox\.Timedout: .*; reading the administrator back does not show it \(OID:\/citrix\/3 is still listed\)\./,
    );
  });

  it('fails (or refuses) as it is when its error shows nothing was sent, whatever was read', () => {
    for (const name of CHANGE_NOT_SENT_ERRORS) {
      const result = buildAdministratorResult(
        mallory,
        { mode: 'strip', error: { Error: name, Cause: 'why' }, after: stripped },
        NOW,
      );
      expect(result).toMatchObject(
        name === 'AdministratorGuardRefusedError'
          ? { outcome: 'refused', note: 'why' }
          : { outcome: 'failed', error: { name, message: 'why' } },
      );
    }
  });
});

describe('recordStripSnapshot', () => {
  const REVOKE = `act_${'1'.repeat(32)}`;
  const change: AdminChange = { mode: 'strip', at: NOW.toISOString(), replaced: CUSTOM_ACCESS };
  const succeeded = buildAdministratorResult(
    {
      administratorId: '3',
      ucOid: 'OID:/citrix/3',
      email: 'mallory@example.com',
      type: 'AdministratorUser',
      pending: false,
      allowed: true,
    },
    { change, after: { present: true, accessType: 'Custom', grantedPolicies: [] } },
    NOW,
  );

  it('keeps what the strip sent as what it left when the read-back has no access', async () => {
    const revokes = new MemoryRevokeSnapshots();
    expect(await recordStripSnapshot(revokes, REVOKE, succeeded, { change })).toBe(succeeded);
    expect(await revokes.latest('OID:/citrix/3')).toMatchObject({
      email: 'mallory@example.com',
      replaced: CUSTOM_ACCESS,
      left: strippedAccess(CUSTOM_ACCESS),
    });
  });

  it('records nothing for a delete, an invitation, a failed strip or an administrator gone', async () => {
    const revokes = new MemoryRevokeSnapshots();
    const calls = [
      recordStripSnapshot(revokes, REVOKE, succeeded, { change: { ...change, mode: 'delete' } }),
      recordStripSnapshot(revokes, REVOKE, { ...succeeded, outcome: 'failed' }, { change }),
      recordStripSnapshot(revokes, REVOKE, succeeded, { change, after: { present: false } }),
      recordStripSnapshot(revokes, REVOKE, succeeded, {
        change: { mode: 'strip', at: NOW.toISOString() },
      }),
    ];
    await Promise.all(calls);
    expect(revokes.snapshots.size).toBe(0);
  });

  it('says in the note when the snapshot cannot be recorded; the revoke stands', async () => {
    const broken = {
      recordStrip: async () => {
        throw new Error('item too large');
      },
    };
    const result = await recordStripSnapshot(broken, REVOKE, succeeded, { change });
    expect(result.outcome).toBe('succeeded');
    expect(result.note).toMatch(/could not be recorded \(item too large\).*replaced/);
  });

  it('throws the actions table being unavailable, for the workflow to retry', async () => {
    const unavailable = {
      recordStrip: async () => {
        throw new ActionStoreUnavailableError('throttled');
      },
    };
    expect(
      await rejection(recordStripSnapshot(unavailable, REVOKE, succeeded, { change })),
    ).toBeInstanceOf(ActionStoreUnavailableError);
  });
});
