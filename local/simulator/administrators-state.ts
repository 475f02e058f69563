import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import {
  ADMIN_POLICY_CATALOGUE,
  type AdminPolicy,
  DEFAULT_ADMIN_PAGE_SIZE,
} from './administrator-policies.ts';
import type {
  AdministratorAccessType,
  AdministratorProviderType,
  AdministratorType,
  CloudAdministratorsFixture,
  FixtureAdministrator,
} from './fixture.ts';

// The catalogue, the policy checks and the page sizes live in administrator-policies.ts, which the
// fixture format needs as well: re-exported here for the routes and tests that read them.
export {
  ADMIN_POLICY_CATALOGUE,
  DEFAULT_ADMIN_PAGE_SIZE,
  MAX_ADMIN_PAGE_SIZE,
  type PolicyProblem,
  policyProblems,
} from './administrator-policies.ts';

/** The catalogue with every permission and scope granted: what a Full administrator has. */
function fullAccessPolicies(): AdminPolicy[] {
  return ADMIN_POLICY_CATALOGUE.map((entry) => {
    const policy = structuredClone(entry);
    policy.checkable.value = true;
    if (policy.scopeChoices) {
      policy.scopeChoices.allScopesSelected = true;
      for (const choice of policy.scopeChoices.choices) choice.checkable.value = true;
    }
    return policy;
  });
}

/**
 * The whole catalogue with the values of `granted` laid over it. A permission that is not in
 * `granted` reads as not granted; locked ones always keep the catalogue's value, and names,
 * display names and `canChangeValue` always come from the catalogue.
 */
function customAccessPolicies(granted: readonly AdminPolicy[]): AdminPolicy[] {
  const byName = new Map(granted.map((policy) => [policy.name, policy]));
  return ADMIN_POLICY_CATALOGUE.map((entry) => {
    const policy = structuredClone(entry);
    const stored = byName.get(entry.name);
    if (entry.checkable.canChangeValue) policy.checkable.value = stored?.checkable.value ?? false;
    if (policy.scopeChoices) {
      policy.scopeChoices.allScopesSelected = stored?.scopeChoices?.allScopesSelected ?? false;
      for (const choice of policy.scopeChoices.choices) {
        const storedChoice = stored?.scopeChoices?.choices.find((c) => c.name === choice.name);
        if (choice.checkable.canChangeValue) {
          choice.checkable.value = storedChoice?.checkable.value ?? false;
        }
      }
    }
    return policy;
  });
}

/** `AdministratorAccessModel` as `GET /administrators/{id}/access` returns it. */
export interface AdministratorAccessView {
  accessType: AdministratorAccessType;
  policies: AdminPolicy[];
}

/** The request body of `PUT /administrators/access`, after validation. */
export type AdministratorAccessUpdate =
  | { accessType: 'Full' }
  | { accessType: 'Custom'; policies: AdminPolicy[] };

/**
 * `AdministratorResult` as `GET /administrators` returns it: the fixture administrator without
 * `access`, with `customerId` and the documented nullable fields filled in. Spelt out because
 * `Omit` of a loose object keeps only its index signature.
 */
export interface AdministratorView {
  customerId: string;
  ucOid: string;
  userId: string | null;
  type: AdministratorType;
  accessType: AdministratorAccessType;
  firstName: string | null;
  lastName: string | null;
  displayName: string | null;
  email: string | null;
  providerType: AdministratorProviderType;
  pending: boolean;
  invitationExpired: boolean | null;
  createdDate: string;
  updatedDate: string | null;
  /** Extra fields from the fixture, returned unchanged. */
  [field: string]: unknown;
}

// Citrix's field order, and null for what does not apply. Fixture values replace these; the
// required ones (ucOid, type, accessType, providerType, createdDate) always do.
const VIEW_TEMPLATE = {
  ucOid: null,
  userId: null,
  type: null,
  accessType: null,
  serviceProfile: null,
  firstName: null,
  lastName: null,
  displayName: null,
  email: null,
  providerType: null,
  providerId: null,
  providerProperties: null,
  externalOid: null,
  emailPreferences: null,
  authDomain: null,
  pending: false,
  invitationExpired: null,
  legacyProviders: null,
  createdDate: null,
  updatedDate: null,
  eTag: null,
} as const;

export interface AdministratorListQuery {
  type?: AdministratorType;
  providerType?: AdministratorProviderType;
  limit: number;
  /** The `requestContinuation` of the previous page, if any. */
  continuation?: string;
}

export type AdministratorPage =
  | { ok: true; items: AdministratorView[]; continuationToken: string | null }
  | { ok: false; reason: 'invalidContinuation' };

/** Position of an administrator in listing order: createdDate, then ucOid in any case. */
type SortKey = [createdMs: number, ucOid: string];

const sortKey = (admin: FixtureAdministrator): SortKey => [
  Date.parse(admin.createdDate),
  admin.ucOid.toLowerCase(),
];

function compareKeys(a: SortKey, b: SortKey): number {
  if (a[0] !== b[0]) return a[0] - b[0];
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

const ContinuationSchema = z.strictObject({
  n: z.string(),
  f: z.string(),
  a: z.tuple([z.number(), z.string()]),
});

/**
 * Citrix Cloud administrators of the one simulated customer, and their access. Listing is
 * keyset-paged: a continuation token names the last administrator of its page, so removing
 * administrators between pages neither skips nor repeats anyone.
 */
export class AdministratorsState {
  readonly #customerId: string;
  readonly #now: () => number;
  /** Tokens from another simulator, or from before `reset()`, are refused. */
  readonly #nonce = randomBytes(9).toString('base64url');
  /** The fixture's `pageSize`, if it set one. */
  readonly #configuredPageSize: number | undefined;
  #administrators: FixtureAdministrator[];

  constructor(
    fixture: CloudAdministratorsFixture | undefined,
    customerId: string,
    now: () => number,
  ) {
    this.#customerId = customerId;
    this.#now = now;
    this.#configuredPageSize = fixture?.pageSize;
    this.#administrators = fixture?.administrators ?? [];
  }

  get pageSize(): number {
    return this.#configuredPageSize ?? DEFAULT_ADMIN_PAGE_SIZE;
  }

  /** The administrator whose userId or ucOid is `id`, compared in any case. */
  find(id: string): FixtureAdministrator | undefined {
    const wanted = id.toLowerCase();
    return this.#administrators.find(
      (admin) => admin.ucOid.toLowerCase() === wanted || admin.userId?.toLowerCase() === wanted,
    );
  }

  view(admin: FixtureAdministrator): AdministratorView {
    const { access: _access, ...publicFields } = structuredClone(admin);
    return { customerId: this.#customerId, ...VIEW_TEMPLATE, ...publicFields };
  }

  list(query: AdministratorListQuery): AdministratorPage {
    const filter = `${query.type ?? ''}|${query.providerType ?? ''}`;
    const after =
      query.continuation === undefined
        ? undefined
        : this.#decodeContinuation(query.continuation, filter);
    if (query.continuation !== undefined && !after) {
      return { ok: false, reason: 'invalidContinuation' };
    }
    const matches = this.#administrators
      .filter(
        (admin) =>
          (query.type === undefined || admin.type === query.type) &&
          (query.providerType === undefined || admin.providerType === query.providerType),
      )
      .map((admin) => ({ admin, key: sortKey(admin) }))
      .sort((x, y) => compareKeys(x.key, y.key));
    const start = after ? matches.filter(({ key }) => compareKeys(key, after) <= 0).length : 0;
    const page = matches.slice(start, start + query.limit);
    const last = page.at(-1);
    const more = start + query.limit < matches.length;
    return {
      ok: true,
      items: page.map(({ admin }) => this.view(admin)),
      continuationToken: more && last ? this.#encodeContinuation(last.key, filter) : null,
    };
  }

  #encodeContinuation(after: SortKey, filter: string): string {
    const token = { n: this.#nonce, f: filter, a: after };
    return Buffer.from(JSON.stringify(token)).toString('base64url');
  }

  #decodeContinuation(token: string, filter: string): SortKey | undefined {
    try {
      const decoded: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
      const parsed = ContinuationSchema.safeParse(decoded);
      if (!parsed.success || parsed.data.n !== this.#nonce || parsed.data.f !== filter) {
        return undefined;
      }
      return parsed.data.a;
    } catch {
      return undefined;
    }
  }

  access(admin: FixtureAdministrator): AdministratorAccessView {
    return {
      accessType: admin.accessType,
      policies:
        admin.accessType === 'Full'
          ? fullAccessPolicies()
          : customAccessPolicies(admin.access?.policies ?? []),
    };
  }

  /** Applies a validated update: policies are kept as sent, in catalogue order. */
  setAccess(admin: FixtureAdministrator, update: AdministratorAccessUpdate): void {
    admin.accessType = update.accessType;
    admin.updatedDate = new Date(this.#now()).toISOString();
    if (update.accessType === 'Full') {
      delete admin.access;
      return;
    }
    const order = (name: string) => ADMIN_POLICY_CATALOGUE.findIndex((p) => p.name === name);
    admin.access = {
      policies: structuredClone(update.policies).sort((a, b) => order(a.name) - order(b.name)),
    };
  }

  remove(admin: FixtureAdministrator): void {
    this.#administrators = this.#administrators.filter((a) => a !== admin);
  }

  /**
   * Removes the pending invitation(s) for `email` (any case). Returns false, and changes nothing,
   * when no pending administrator has that email: active administrators are never touched.
   */
  removeInvitation(email: string): boolean {
    const wanted = email.toLowerCase();
    const isInvitation = (admin: FixtureAdministrator) =>
      admin.pending === true && admin.email?.toLowerCase() === wanted;
    const before = this.#administrators.length;
    this.#administrators = this.#administrators.filter((admin) => !isInvitation(admin));
    return this.#administrators.length < before;
  }

  snapshot(): Required<CloudAdministratorsFixture> {
    return {
      pageSize: this.pageSize,
      administrators: structuredClone(this.#administrators),
    };
  }
}
