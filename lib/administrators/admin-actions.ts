import * as z from 'zod';
import { unhandled } from '../actions/declaration.ts';
import { TooManyTargetsError } from '../actions/errors.ts';
import { type CaughtError, summarizeCaughtError } from '../actions/outcome.ts';
import {
  type AdminActionType,
  type AdminTarget,
  type AdminTargetResult,
  AdminTargetResultSchema,
  administratorOperationOf,
  type InvitationTarget,
  REVOKE_MODES,
  type ResolvedAdministrator,
  type RevokeOptions,
  type TargetOutcome,
} from '../actions/schema.ts';
import { ActionStoreUnavailableError } from '../actions/store.ts';
import {
  type AdministratorAccess,
  AdministratorAccessSchema,
  type AdministratorCallOptions,
  AdministratorChangeUnansweredError,
  type AdministratorPolicy,
  administratorId,
  type CloudAdministrator,
} from '../citrix/administrators-client.ts';
import { CITRIX_CHANGE_NOT_SENT_ERRORS, CitrixNotFoundError } from '../citrix/errors.ts';
import { accessDifferences } from './access-comparison.ts';
import type { AdministratorOperation, InvitationFind } from './catalog.ts';
import { AdministratorChangedSinceRevokeError, applyRestore, planRestore } from './restore.ts';
import type { RevokeSnapshotStore } from './revoke-snapshots.ts';

/** The parts of the administrators client the admin workflow needs. */
export interface AdministratorDirectory {
  /** `options` caps attempts and timeout for a check that must stay short. */
  listAdministrators(options?: AdministratorCallOptions): Promise<CloudAdministrator[]>;
  getAccess(id: string): Promise<AdministratorAccess>;
}

export interface AdministratorController extends AdministratorDirectory {
  updateAccess(id: string, access: AdministratorAccess): Promise<void>;
  deleteAdministrator(id: string): Promise<void>;
  deleteInvitation(email: string): Promise<boolean>;
}

/**
 * Guards no request can override: the administrator who owns the API client in use (Citrix
 * secure clients inherit their creator's rights, so removing it cuts off this very project),
 * and a configured list of protected administrators (break-glass accounts and the like).
 */
export interface AdministratorGuards {
  /** Email, userId or ucOid of the administrator who created the API client. */
  readonly apiClientOwner: string;
  /** Emails, userIds or ucOids that are never touched. */
  readonly protected: readonly string[];
}

/** A lease on administrator changes in one Citrix Cloud tenant, held until released or expired. */
export interface AdministratorChangeLease {
  /** Gives the lease up if this owner still holds it. Never throws: an unreleased lease expires. */
  release(): Promise<void>;
}

/**
 * Serializes administrator changes in one Citrix Cloud tenant, so that the last-Full guard is
 * checked and acted on by one change at a time: two changes that each see the other's target as
 * the remaining Full administrator would otherwise leave none.
 */
export interface AdministratorChangeLock {
  /**
   * Takes the lease for `owner`, or throws AdministratorChangeInProgressError while another owner
   * holds it. The same owner (a retried task) takes it again. A lease expires on its own, so a
   * crashed holder blocks others only until then.
   */
  acquire(owner: string): Promise<AdministratorChangeLease>;
}

/** Another administrator change in this tenant holds the lease: retry after a while. */
export class AdministratorChangeInProgressError extends Error {
  override name = 'AdministratorChangeInProgressError';
}

/** More than one administrator matches a target: nothing is done rather than guess. */
export class AmbiguousAdministratorError extends Error {
  override name = 'AmbiguousAdministratorError';
}

export class AdministratorNotFoundError extends Error {
  override name = 'AdministratorNotFoundError';
}

/** A guard refused the change when it was re-checked just before acting. */
export class AdministratorGuardRefusedError extends Error {
  override name = 'AdministratorGuardRefusedError';
}

/** Citrix accepted the change but reading back shows it did not take effect. */
export class AdministratorChangeNotAppliedError extends Error {
  override name = 'AdministratorChangeNotAppliedError';
}

const same = (a: string | null | undefined, b: string) =>
  typeof a === 'string' && a.toLowerCase() === b.toLowerCase();

/** Whether `key` (an email, userId or ucOid, case-insensitive) names this administrator. */
export function matchesAdministrator(admin: CloudAdministrator, key: string): boolean {
  return same(admin.email, key) || same(admin.userId, key) || same(admin.ucOid, key);
}

/** Full access that can be used now: not a pending invitation. Users, groups and principals. */
const isActiveFull = (admin: CloudAdministrator) =>
  admin.accessType === 'Full' && admin.pending !== true;

const isActiveFullUser = (admin: CloudAdministrator) =>
  isActiveFull(admin) && admin.type === 'AdministratorUser';

/**
 * The entries that are, or have become, an invitation's target: its ucOid, or its email
 * (case-insensitive), since an accepted invitation may be listed afresh under another ucOid.
 */
function invitationEntries(
  all: readonly CloudAdministrator[],
  target: Pick<ResolvedAdministrator, 'ucOid' | 'email'>,
): CloudAdministrator[] {
  const { email } = target;
  return all.filter(
    (admin) => admin.ucOid === target.ucOid || (email !== undefined && same(admin.email, email)),
  );
}

/**
 * The invitation was accepted before it could be deleted: an active administrator now holds
 * whatever access it granted, which only a revoke takes away. Undefined when none is listed.
 */
function acceptedInvitationError(
  entries: readonly CloudAdministrator[],
  target: Pick<ResolvedAdministrator, 'ucOid' | 'email'>,
): AdministratorChangeNotAppliedError | undefined {
  const active = entries.find((admin) => admin.pending !== true);
  if (active === undefined) return undefined;
  const name = target.email ?? target.ucOid;
  const access = active.accessType ? ` with ${active.accessType} access` : '';
  return new AdministratorChangeNotAppliedError(
    `The invitation for ${name} was accepted before it could be deleted: ${active.email ?? active.ucOid} is now an active administrator${access}; revoke it with admin.revoke`,
  );
}

/** The post-change check runs inside the task's Lambda budget: one short attempt, no retries. */
export const POST_CHANGE_CHECK: AdministratorCallOptions = { maxAttempts: 1, timeoutMs: 5000 };

/**
 * Why a guard refuses this change, or undefined when it may go ahead. `all` is the current list
 * of administrators. Only active user administrators count as remaining Full administrators: a
 * group may have no members, and an invitation may never be accepted. A revoke is refused
 * outright while the configured API client owner names nobody on the list: the owner guard would
 * otherwise protect no one.
 */
/** What each Citrix Cloud operation needs, beyond the owner and protected guards every one has. */
interface OperationRules {
  /** Refuse while CITRIX_API_CLIENT_OWNER names nobody listed (the owner guard would be off). */
  readonly needsListedOwner: boolean;
  /** Refuse when the target is the last active Full administrator. */
  readonly keepsLastFull: boolean;
  /** Only a pending invitation may be the target. */
  readonly pendingOnly: boolean;
  /** A target that is not listed is an error (the request named someone), not nothing to do. */
  readonly missingIsError: boolean;
  /** Read the target's access before anything changes, for the record. */
  readonly snapshotsAccess: boolean;
}

const OPERATION_RULES: Readonly<Record<AdministratorOperation, OperationRules>> = {
  revoke: {
    needsListedOwner: true,
    keepsLastFull: true,
    pendingOnly: false,
    missingIsError: true,
    snapshotsAccess: true,
  },
  deleteInvitation: {
    needsListedOwner: false,
    keepsLastFull: false,
    pendingOnly: true,
    missingIsError: false,
    snapshotsAccess: false,
  },
  // Gives access back: it cannot remove the last Full administrator or cut off the API client.
  restore: {
    needsListedOwner: false,
    keepsLastFull: false,
    pendingOnly: false,
    missingIsError: true,
    snapshotsAccess: true,
  },
};
const rulesOf = (action: AdminActionType) => OPERATION_RULES[administratorOperationOf(action)];

export function guardRefusal(
  action: AdminActionType,
  target: CloudAdministrator,
  all: readonly CloudAdministrator[],
  guards: AdministratorGuards,
): string | undefined {
  const name = target.email ?? target.displayName ?? target.ucOid;
  const rules = rulesOf(action);
  if (
    rules.needsListedOwner &&
    !all.some((admin) => matchesAdministrator(admin, guards.apiClientOwner))
  ) {
    return `CITRIX_API_CLIENT_OWNER (${guards.apiClientOwner}) names no listed administrator: no administrator is revoked until it names the one who owns the API client`;
  }
  if (matchesAdministrator(target, guards.apiClientOwner)) {
    return `${name} owns the API client Citrix Response uses; changing it would cut off Citrix Response itself`;
  }
  if (guards.protected.some((key) => matchesAdministrator(target, key))) {
    return `${name} is on the protected administrators list`;
  }
  if (rules.pendingOnly && target.pending !== true) {
    return `${name} is an active administrator, not a pending invitation`;
  }
  // A Full group counts as a target (revoking it may remove the last Full access anyone uses) but
  // never as the remaining Full administrator.
  if (rules.keepsLastFull && isActiveFull(target)) {
    const others = all.filter((admin) => admin.ucOid !== target.ucOid && isActiveFullUser(admin));
    if (others.length === 0) {
      return `${name} is the last administrator with Full access: no other active user administrator has Full access`;
    }
  }
  return undefined;
}

function describe(
  admin: CloudAdministrator,
  refusal: string | undefined,
  before?: AdministratorAccess,
): ResolvedAdministrator {
  const described: ResolvedAdministrator = {
    administratorId: administratorId(admin),
    ucOid: admin.ucOid,
    type: admin.type,
    pending: admin.pending === true,
    allowed: refusal === undefined,
  };
  const optional = {
    userId: admin.userId ?? undefined,
    email: admin.email ?? undefined,
    displayName: admin.displayName ?? undefined,
    accessType: admin.accessType ?? undefined,
    refusal,
    before,
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) Object.assign(described, { [key]: value });
  }
  return described;
}

/**
 * The administrator (or pending invitation) a request names, with the guards' verdict and, for a
 * revoke or a restore, the access it has now: recorded before anything changes. A restore also
 * gets its plan from the revoke snapshots, or throws its refusal (lib/administrators/restore.ts).
 */
export async function resolveAdministratorTargets(
  directory: AdministratorDirectory,
  action: AdminActionType,
  target: AdminTarget | InvitationTarget | InvitationSweepTarget,
  guards: AdministratorGuards,
  revokes: Pick<RevokeSnapshotStore, 'latest'>,
  now: Date = new Date(),
): Promise<ResolvedAdministrator[]> {
  const all = await directory.listAdministrators();
  if ('sweep' in target) return staleInvitations(all, action, target, guards, now);
  const key = 'admin' in target ? target.admin : target.email;
  const matches = all.filter((admin) =>
    'admin' in target ? matchesAdministrator(admin, key) : same(admin.email, key),
  );
  if (matches.length > 1) {
    throw new AmbiguousAdministratorError(
      `${matches.length} administrators match ${key}; name one by its userId or ucOid`,
    );
  }
  const [admin] = matches;
  if (admin === undefined) {
    // Nothing to revoke is an error (the request named someone); no invitation is nothing to do.
    if (rulesOf(action).missingIsError) {
      throw new AdministratorNotFoundError(`No administrator ${key}`);
    }
    return [];
  }
  const refusal = guardRefusal(action, admin, all, guards);
  const before = rulesOf(action).snapshotsAccess
    ? await directory.getAccess(administratorId(admin))
    : undefined;
  const described = describe(admin, refusal, before);
  // A refused target is not changed, so it needs no plan (and is never refused for lack of one).
  if (administratorOperationOf(action) !== 'restore' || refusal !== undefined || !before) {
    return [described];
  }
  const restore = planRestore(described, await revokes.latest(admin.ucOid), before);
  return [{ ...described, restore }];
}

/** A sweep's target: invitations pending for longer than `pendingForDays`. */
export interface InvitationSweepTarget {
  readonly sweep: string;
  readonly maxTargets: number;
  readonly find: { readonly invitations: InvitationFind };
}

/**
 * Invitations nobody accepted for longer than the sweep's `pendingForDays` (by the invitation's
 * `createdDate`); an invitation without a readable date or an email is never matched. More than
 * the sweep's `maxTargets` and the run is refused whole.
 */
function staleInvitations(
  all: readonly CloudAdministrator[],
  action: AdminActionType,
  target: InvitationSweepTarget,
  guards: AdministratorGuards,
  now: Date,
): ResolvedAdministrator[] {
  const maxAgeMs = target.find.invitations.pendingForDays * 86_400_000;
  const stale = all.filter((admin) => {
    if (admin.pending !== true || !admin.email) return false;
    const created = Date.parse(admin.createdDate ?? '');
    return !Number.isNaN(created) && now.getTime() - created > maxAgeMs;
  });
  if (stale.length > target.maxTargets) {
    throw new TooManyTargetsError(
      `Sweep ${target.sweep} found ${stale.length} stale invitations; it may act on at most ${target.maxTargets}`,
    );
  }
  return stale.map((admin) => describe(admin, guardRefusal(action, admin, all, guards)));
}

/**
 * `Custom` access with every permission the API may change unchecked, scopes included. Policies
 * Citrix marks `canChangeValue: false` keep their value (the API would refuse the change).
 */
export function strippedAccess(before: AdministratorAccess): AdministratorAccess {
  const uncheck = <T extends { checkable: AdministratorPolicy['checkable'] }>(item: T): T =>
    item.checkable.canChangeValue === false
      ? item
      : { ...item, checkable: { ...item.checkable, value: false } };
  return {
    accessType: 'Custom',
    policies: (before.policies ?? []).map((policy) => {
      const unchecked = uncheck(policy);
      const scopes = policy.scopeChoices;
      if (scopes === null || scopes === undefined) return unchecked;
      return {
        ...unchecked,
        scopeChoices: {
          ...scopes,
          allScopesSelected: false,
          ...(scopes.choices ? { choices: scopes.choices.map(uncheck) } : {}),
        },
      };
    }),
  };
}

export function grantedPolicies(access: AdministratorAccess): string[] {
  return (access.policies ?? [])
    .filter((policy) => policy.checkable.value)
    .map((policy) => policy.name);
}

/** What a change does: `strip` or `delete` (a revoke's modes), `deleteInvitation`, or `restore`. */
export const ADMIN_CHANGE_MODES = [...REVOKE_MODES, 'deleteInvitation', 'restore'] as const;
export type AdminChangeMode = (typeof ADMIN_CHANGE_MODES)[number];

export const AdminChangeSchema = z.object({
  mode: z.enum(ADMIN_CHANGE_MODES),
  at: z.iso.datetime(),
  /** The target was already gone when it was to be deleted (deleted since it was resolved). */
  alreadyGone: z.boolean().optional(),
  /**
   * The access the strip or the restore replaced, read just before it (the snapshot may be an
   * hour older).
   */
  replaced: AdministratorAccessSchema.optional(),
  /** The access a restore put back, which its read-back expects. */
  restored: AdministratorAccessSchema.optional(),
  /** A restore found the access already put back (see RestoreOutcome) and sent nothing. */
  alreadyRestored: z.boolean().optional(),
  /**
   * The change went out at `at` and no answer came back (see AdministratorChangeUnansweredError):
   * why. It may have been applied; it is never sent again, and the read-back decides.
   */
  unanswered: z.string().max(1000).optional(),
});
export type AdminChange = z.infer<typeof AdminChangeSchema>;

/** The `mode` of a change by this action: a revoke's option, else the operation itself. */
export function changeModeOf(action: AdminActionType, options: RevokeOptions): AdminChangeMode {
  const operation = administratorOperationOf(action);
  return operation === 'revoke' ? options.mode : operation;
}

/** Why a change request got no answer, as the record keeps it. */
const unansweredWhy = (error: AdministratorChangeUnansweredError) => error.message.slice(0, 1000);

/** What an administrator change needs besides the client: its lease, and the revoke snapshots. */
export interface AdministratorChangeContext {
  readonly lock: AdministratorChangeLock;
  /** The lease owner: the same for every retry of this change (the action id and the target). */
  readonly owner: string;
  /** The action making the change: a restore is recorded on its snapshot under this id. */
  readonly actionId: string;
  /** What a restore puts back, and where it records that it did. */
  readonly revokes: RevokeSnapshotStore;
}

/**
 * Takes the tenant's administrator change lease, re-checks the guards against a fresh list (the
 * last Full administrator may have changed since the targets were resolved), then makes the
 * change. The lease is given back once nothing changed, or once a fresh list shows the change;
 * a change to a Full administrator that the list does not show yet keeps it until it expires, so
 * that the next change never counts this one's target as a remaining Full administrator.
 */
export async function applyAdministratorChange(
  controller: AdministratorController,
  action: AdminActionType,
  target: ResolvedAdministrator,
  options: RevokeOptions,
  guards: AdministratorGuards,
  now: () => Date,
  context: AdministratorChangeContext,
): Promise<AdminChange> {
  const lease = await context.lock.acquire(context.owner);
  let release = true;
  try {
    const all = await controller.listAdministrators();
    const current = all.find((admin) => admin.ucOid === target.ucOid);
    if (current === undefined) return goneBeforeChange(action, all, target, options, now);
    const refusal = guardRefusal(action, current, all, guards);
    if (refusal !== undefined) throw new AdministratorGuardRefusedError(refusal);

    if (!isActiveFull(current)) {
      return await makeChange(controller, action, target, options, now, context);
    }
    release = false;
    try {
      return await makeChange(controller, action, target, options, now, context);
    } finally {
      release = await fullAccessGone(controller, current.ucOid);
    }
  } finally {
    if (release) await lease.release();
  }
}

/** The target is no longer listed when the change is about to be made. */
function goneBeforeChange(
  action: AdminActionType,
  all: readonly CloudAdministrator[],
  target: ResolvedAdministrator,
  options: RevokeOptions,
  now: () => Date,
): AdminChange {
  const operation = administratorOperationOf(action);
  switch (operation) {
    case 'deleteInvitation': {
      // An invitation accepted since may be listed afresh under another ucOid.
      const accepted = acceptedInvitationError(invitationEntries(all, target), target);
      if (accepted !== undefined) throw accepted;
      // Deleted since the target was resolved (by someone else, or by an earlier attempt): done.
      return { mode: 'deleteInvitation', at: now().toISOString(), alreadyGone: true };
    }
    case 'revoke':
      if (options.mode === 'delete') {
        return { mode: 'delete', at: now().toISOString(), alreadyGone: true };
      }
      throw new AdministratorNotFoundError(`Administrator ${target.ucOid} is no longer listed`);
    case 'restore':
      throw new AdministratorChangedSinceRevokeError(
        `${target.email ?? target.ucOid} is no longer listed: it was deleted since the revoke, and nothing is restored`,
      );
  }
  return unhandled(operation);
}

async function makeChange(
  controller: AdministratorController,
  action: AdminActionType,
  target: ResolvedAdministrator,
  options: RevokeOptions,
  now: () => Date,
  context: AdministratorChangeContext,
): Promise<AdminChange> {
  const operation = administratorOperationOf(action);
  switch (operation) {
    case 'deleteInvitation':
      return deleteInvitation(controller, target, now);
    case 'revoke':
      return revoke(controller, target, options, now);
    case 'restore': {
      const at = now().toISOString();
      let outcome: Awaited<ReturnType<typeof applyRestore>>;
      try {
        outcome = await applyRestore(controller, context.revokes, target, context.actionId, at);
      } catch (error) {
        if (!(error instanceof AdministratorChangeUnansweredError)) throw error;
        // Not marked restored: the read-back shows whether it took, and a later restore that
        // finds the access already back marks it then (applyRestore's alreadyRestored).
        return {
          mode: 'restore',
          at,
          ...(target.restore ? { restored: target.restore.access } : {}),
          unanswered: unansweredWhy(error),
        };
      }
      return {
        mode: 'restore',
        at,
        replaced: outcome.replaced,
        restored: outcome.restored,
        ...(outcome.alreadyRestored ? { alreadyRestored: true } : {}),
      };
    }
  }
  return unhandled(operation);
}

async function deleteInvitation(
  controller: AdministratorController,
  target: ResolvedAdministrator,
  now: () => Date,
): Promise<AdminChange> {
  const at = now().toISOString();
  let deleted: boolean;
  try {
    deleted = await controller.deleteInvitation(target.email ?? '');
  } catch (error) {
    if (!(error instanceof AdministratorChangeUnansweredError)) throw error;
    return { mode: 'deleteInvitation', at, unanswered: unansweredWhy(error) };
  }
  if (deleted) return { mode: 'deleteInvitation', at: now().toISOString() };
  // `false`: someone else deleted the invitation just before (it is gone), or the invitee
  // accepted it just before (an active administrator is listed instead).
  const entries = invitationEntries(await controller.listAdministrators(), target);
  const accepted = acceptedInvitationError(entries, target);
  if (accepted !== undefined) throw accepted;
  if (entries.length === 0) {
    return { mode: 'deleteInvitation', at: now().toISOString(), alreadyGone: true };
  }
  throw new AdministratorChangeNotAppliedError(
    `Citrix Cloud deleted no invitation for ${target.email ?? target.ucOid}`,
  );
}

async function revoke(
  controller: AdministratorController,
  target: ResolvedAdministrator,
  options: RevokeOptions,
  now: () => Date,
): Promise<AdminChange> {
  const id = target.administratorId;
  if (options.mode === 'delete') {
    const at = now().toISOString();
    try {
      await controller.deleteAdministrator(id);
    } catch (error) {
      if (error instanceof AdministratorChangeUnansweredError) {
        return { mode: 'delete', at, unanswered: unansweredWhy(error) };
      }
      // 404: deleted by someone else since the list was read; done if a fresh list agrees.
      if (!(error instanceof CitrixNotFoundError)) throw error;
      const again = await controller.listAdministrators();
      if (again.some((admin) => admin.ucOid === target.ucOid)) throw error;
      return { mode: 'delete', at: now().toISOString(), alreadyGone: true };
    }
    return { mode: 'delete', at: now().toISOString() };
  }
  // Strip from the access read now, not the snapshot: a policy added since is unchecked too.
  const access = await controller.getAccess(id);
  const at = now().toISOString();
  try {
    await controller.updateAccess(id, strippedAccess(access));
  } catch (error) {
    if (!(error instanceof AdministratorChangeUnansweredError)) throw error;
    return { mode: 'strip', at, replaced: access, unanswered: unansweredWhy(error) };
  }
  return { mode: 'strip', at: now().toISOString(), replaced: access };
}

/**
 * Whether a fresh list shows the administrator gone or without Full access (false: unreadable).
 * One short attempt: the change is made, and a slow list must not use up the task's budget.
 */
async function fullAccessGone(directory: AdministratorDirectory, ucOid: string): Promise<boolean> {
  try {
    const all = await directory.listAdministrators(POST_CHANGE_CHECK);
    const current = all.find((admin) => admin.ucOid === ucOid);
    return current === undefined || !isActiveFull(current);
  } catch {
    return false;
  }
}

/**
 * The administrator as read back after the change: what the result shows, plus (after a strip or
 * a restore) its whole access, which the revoke snapshot keeps as what the strip left.
 */
export const AdminReadBackSchema = AdminTargetResultSchema.shape.after.unwrap().extend({
  access: AdministratorAccessSchema.optional(),
});
export type AdminReadBack = z.infer<typeof AdminReadBackSchema>;

/** The administrator after the change; throws when the change did not take effect. */
export async function readAdministratorBack(
  directory: AdministratorDirectory,
  target: ResolvedAdministrator,
  change: AdminChange,
): Promise<AdminReadBack> {
  const all = await directory.listAdministrators();
  const current = all.find((admin) => admin.ucOid === target.ucOid);
  if (change.mode === 'deleteInvitation') {
    // Gone only when nothing with its ucOid or email is listed: not accepted, not still pending.
    const entries = invitationEntries(all, target);
    const accepted = acceptedInvitationError(entries, target);
    if (accepted !== undefined) throw accepted;
    if (entries.length > 0) {
      throw new AdministratorChangeNotAppliedError(
        `The invitation for ${target.email ?? target.ucOid} is still listed`,
      );
    }
    return { present: false };
  }
  if (change.mode === 'delete') {
    if (current !== undefined) {
      throw new AdministratorChangeNotAppliedError(`${target.ucOid} is still listed`);
    }
    return { present: false };
  }
  if (change.mode === 'restore') return readRestoredBack(directory, target, change, current);
  if (current === undefined) return { present: false };
  const access = await directory.getAccess(target.administratorId);
  const locked = new Set(
    (access.policies ?? [])
      .filter((policy) => policy.checkable.canChangeValue === false)
      .map((policy) => policy.name),
  );
  const granted = grantedPolicies(access);
  if (access.accessType !== 'Custom' || granted.some((name) => !locked.has(name))) {
    throw new AdministratorChangeNotAppliedError(
      `${target.ucOid} still has ${access.accessType} access with ${granted.join(', ') || 'no'} permissions`,
    );
  }
  return { present: true, accessType: access.accessType, grantedPolicies: granted, access };
}

/** After a restore: the administrator has exactly the access the strip replaced. */
async function readRestoredBack(
  directory: AdministratorDirectory,
  target: ResolvedAdministrator,
  change: AdminChange,
  current: CloudAdministrator | undefined,
): Promise<AdminReadBack> {
  if (current === undefined) {
    throw new AdministratorChangeNotAppliedError(`${target.ucOid} is no longer listed`);
  }
  const expected = change.restored ?? target.restore?.access;
  if (expected === undefined) {
    throw new AdministratorChangeNotAppliedError(
      `No restored access is recorded for ${target.ucOid}`,
    );
  }
  const access = await directory.getAccess(target.administratorId);
  const differences = accessDifferences(expected, access);
  if (differences.length > 0) {
    throw new AdministratorChangeNotAppliedError(
      `${target.ucOid} does not have the access from before the revoke: ${differences.join('; ')}`,
    );
  }
  return {
    present: true,
    accessType: access.accessType,
    grantedPolicies: grantedPolicies(access),
    access,
  };
}

export interface AdministratorProgress {
  /** What the change was (see changeModeOf), for a step that failed before returning it. */
  readonly mode?: AdminChangeMode | undefined;
  readonly change?: AdminChange | undefined;
  readonly after?: AdminReadBack | undefined;
  /** The step that makes the change failed (see CHANGE_NOT_SENT_ERRORS for what that tells). */
  readonly error?: CaughtError | undefined;
  readonly readBackError?: CaughtError | undefined;
}

/**
 * What the step that makes the change throws only when its change did not reach Citrix Cloud or
 * was refused by it: nothing was applied, so the target is recorded as failed (or refused) as
 * is. The client turns a failure of the change's own request that may follow an applied change
 * into an `unanswered` change, so the Citrix errors here come from the reads before it or from
 * definite answers. Any other error of the step (a Lambda timeout or crash, a Lambda service
 * error) may follow a change that went out: the administrator is read back first, and the
 * target recorded as confirmed by it or as unconfirmed.
 */
export const CHANGE_NOT_SENT_ERRORS: readonly string[] = [
  'InvalidTaskInputError',
  'AdministratorGuardRefusedError',
  'AdministratorNotFoundError',
  'AdministratorChangeInProgressError',
  'AdministratorChangeLockError',
  'AdministratorChangeNotAppliedError',
  'AdministratorChangedSinceRevokeError',
  'NoRevokeSnapshotError',
  'RevokeAlreadyRestoredError',
  ...CITRIX_CHANGE_NOT_SENT_ERRORS,
  // Step Functions could not invoke the task at all.
  'Lambda.TooManyRequestsException',
];

/**
 * The outcome of a change that went out without an answer and whose read-back does not show it
 * took effect: sent, not confirmed. Its error says to check the administrator before sending it
 * again (it counts as not done, so the action asks for a person).
 */
export const UNCONFIRMED_CHANGE_OUTCOME: TargetOutcome = 'unconfirmed';
export const UNCONFIRMED_CHANGE_ERROR = 'AdministratorChangeUnconfirmedError';

/** Why the step that makes the change may have made it without saying so; undefined if not. */
function stepMayHaveChanged(error: CaughtError | undefined): string | undefined {
  if (error === undefined || CHANGE_NOT_SENT_ERRORS.includes(error.Error)) return undefined;
  const { name, message } = summarizeCaughtError(error);
  return `the step that makes the change ended with ${name}${message === name ? '' : `: ${message}`}`;
}

/**
 * The change to read back after its step failed with an error that may follow a change that went
 * out (see CHANGE_NOT_SENT_ERRORS); undefined when the error shows nothing was sent.
 */
export function changeAfterFailure(
  action: AdminActionType,
  options: RevokeOptions,
  target: ResolvedAdministrator,
  error: CaughtError,
  now: Date,
): AdminChange | undefined {
  const why = stepMayHaveChanged(error);
  if (why === undefined) return undefined;
  const restored = target.restore?.access;
  return {
    mode: changeModeOf(action, options),
    at: now.toISOString(),
    ...(restored === undefined ? {} : { restored }),
    unanswered: why.slice(0, 1000),
  };
}

/** What the read-back showed of a change that took effect, in words, by its mode. */
function effectOf(mode: AdminChangeMode, after: AdminReadBack): string {
  switch (mode) {
    case 'strip':
      return after.present
        ? 'it has Custom access with no permission that can be changed'
        : 'it is no longer listed';
    case 'delete':
      return 'it is no longer listed';
    case 'deleteInvitation':
      return 'the invitation is no longer listed';
    case 'restore':
      return 'it has the access from before the revoke';
  }
  return unhandled(mode);
}

/** Citrix does not let these permissions be changed; a strip leaves them as they were. */
function lockedNote(after: AdminReadBack | undefined): string | undefined {
  const locked = after?.grantedPolicies ?? [];
  return locked.length > 0
    ? `Citrix does not let these permissions be changed; they stay granted: ${locked.join(', ')}`
    : undefined;
}

/** What a succeeded change says about itself, by its mode. */
function successNote(change: AdminChange, after: AdminReadBack | undefined): string | undefined {
  if (change.alreadyGone === true) {
    return 'Already gone when the change was made: deleted since the target was resolved, by someone else or by an earlier attempt whose reply was lost';
  }
  if (change.mode === 'restore') {
    return change.alreadyRestored === true
      ? 'Already had the access from before the revoke when the restore was made: nothing was sent'
      : undefined;
  }
  return change.mode === 'strip' ? lockedNote(after) : undefined;
}

/**
 * A change that went out without an answer (`why`), judged by its read-back: confirmed when the
 * administrator shows it took effect, else sent, not confirmed, and never sent again.
 */
function unansweredResult(
  target: ResolvedAdministrator,
  why: string,
  progress: AdministratorProgress,
): Pick<AdminTargetResult, 'outcome' | 'note' | 'error'> {
  const name = target.email ?? target.ucOid;
  const mode = progress.change?.mode ?? progress.mode;
  if (progress.after !== undefined && progress.readBackError === undefined) {
    const effect = mode === undefined ? 'the change took effect' : effectOf(mode, progress.after);
    const notes = [`Confirmed by reading the administrator back: ${effect}, though ${why}`];
    if (mode === 'strip') {
      const locked = lockedNote(progress.after);
      if (locked !== undefined) notes.push(locked);
      // The access it replaced is read inside the step that failed, so it never came back.
      if (progress.change?.replaced === undefined) {
        notes.push(
          'The snapshot admin.restore needs was not recorded: to undo, grant the access in `before` by hand',
        );
      }
    }
    return { outcome: 'succeeded', note: notes.join('; ').slice(0, 2000) };
  }
  const read =
    progress.readBackError !== undefined
      ? `reading the administrator back ${
          progress.readBackError.Error === 'AdministratorChangeNotAppliedError'
            ? 'does not show it'
            : 'failed'
        } (${summarizeCaughtError(progress.readBackError).message})`
      : 'the administrator was not read back';
  return {
    outcome: UNCONFIRMED_CHANGE_OUTCOME,
    error: {
      name: UNCONFIRMED_CHANGE_ERROR,
      message:
        `Sent, not confirmed: ${why}; ${read}. It was not sent again: check ${name} in Citrix Cloud before making the change again`.slice(
          0,
          1000,
        ),
    },
  };
}

/** The final word on one administrator. */
export function buildAdministratorResult(
  target: ResolvedAdministrator,
  progress: AdministratorProgress,
  now: Date,
): AdminTargetResult {
  // The access the change replaced sits next to the one read when the target was resolved; what
  // a restore put back is its plan (`restore.access`), and the whole access read back is for the
  // revoke snapshot only.
  const {
    replaced,
    restored: _restored,
    alreadyRestored: _already,
    unanswered,
    ...change
  } = progress.change ?? {};
  const { access: _access, ...after } = progress.after ?? { present: false };
  const base = {
    ...target,
    ...(progress.change
      ? { change: change as Pick<AdminChange, 'mode' | 'at' | 'alreadyGone'> }
      : {}),
    ...(replaced ? { replaced } : {}),
    ...(progress.after ? { after } : {}),
    finishedAt: now.toISOString(),
  };
  if (!target.allowed) {
    return { ...base, outcome: 'refused', note: target.refusal ?? 'Refused by a guard' };
  }
  const why = unanswered ?? (progress.change ? undefined : stepMayHaveChanged(progress.error));
  if (why !== undefined) {
    return { ...base, ...unansweredResult(target, why, progress) };
  }
  if (progress.error !== undefined) {
    const error = summarizeCaughtError(progress.error);
    if (error.name === 'AdministratorGuardRefusedError') {
      return { ...base, outcome: 'refused', note: error.message };
    }
    return { ...base, outcome: 'failed', error };
  }
  if (progress.change === undefined) {
    return {
      ...base,
      outcome: 'failed',
      error: { name: 'IncompleteTargetError', message: 'The workflow ended before the target did' },
    };
  }
  if (progress.readBackError !== undefined) {
    const error = summarizeCaughtError(progress.readBackError);
    // A change Citrix accepted but that did not take effect is a failure, not a success.
    if (error.name === 'AdministratorChangeNotAppliedError') {
      return { ...base, outcome: 'failed', error };
    }
    return {
      ...base,
      outcome: 'succeeded',
      note: `Citrix accepted the change; reading the administrator back failed: ${error.message}`,
    };
  }
  const note = successNote(progress.change, progress.after);
  return note === undefined
    ? { ...base, outcome: 'succeeded' }
    : { ...base, outcome: 'succeeded', note };
}

/**
 * After a strip that succeeded: records the access it replaced and the access it left (as read
 * back, else as sent), so that `admin.restore` can put it back. The revoke stands whatever
 * happens here: a snapshot that cannot be written is said in the result's note, and only the
 * actions table being unavailable is thrown, for the workflow to retry.
 */
export async function recordStripSnapshot(
  revokes: Pick<RevokeSnapshotStore, 'recordStrip'>,
  actionId: string,
  result: AdminTargetResult,
  progress: AdministratorProgress,
): Promise<AdminTargetResult> {
  const change = progress.change;
  if (result.outcome !== 'succeeded' || change?.mode !== 'strip') return result;
  if (change.replaced === undefined || progress.after?.present === false) return result;
  try {
    await revokes.recordStrip({
      ucOid: result.ucOid,
      administratorId: result.administratorId,
      email: result.email,
      revokeActionId: actionId,
      revokedAt: change.at,
      replaced: change.replaced,
      left: progress.after?.access ?? strippedAccess(change.replaced),
    });
    return result;
  } catch (error) {
    if (error instanceof ActionStoreUnavailableError) throw error;
    const why = error instanceof Error ? error.message : String(error);
    const unrecorded = `The snapshot admin.restore needs could not be recorded (${why}): to undo, grant the access in \`replaced\` by hand`;
    return { ...result, note: result.note ? `${result.note}; ${unrecorded}` : unrecorded };
  }
}
