import type { ResolvedAdministrator } from '../actions/schema.ts';
import type { AdministratorAccess } from '../citrix/administrators-schemas.ts';
import { accessDifferences, grantingUpdate } from './access-comparison.ts';
import {
  latestRevokeOf,
  type RevokeSnapshot,
  type RevokeSnapshotStore,
} from './revoke-snapshots.ts';

/**
 * `admin.restore`: the undo of a strip-mode `admin.revoke`. It puts back exactly the access the
 * strip replaced, from the revoke's snapshot, and only while the administrator still has the
 * access the strip left: a change since (rights granted again, another revoke, a restore) means
 * someone else has acted, and a restore would overwrite that, so it is refused with nothing
 * changed. A snapshot is restored once.
 */

/** No strip-mode revoke of the administrator is recorded (or its record has expired). */
export class NoRevokeSnapshotError extends Error {
  override name = 'NoRevokeSnapshotError';
}

/** The administrator's access is no longer what the revoke left: nothing is restored. */
export class AdministratorChangedSinceRevokeError extends Error {
  override name = 'AdministratorChangedSinceRevokeError';
}

/** Another restore already put back the access of this revoke. */
export class RevokeAlreadyRestoredError extends Error {
  override name = 'RevokeAlreadyRestoredError';
}

export type RestorePlan = NonNullable<ResolvedAdministrator['restore']>;

/** The name an administrator is shown by in a refusal. */
const nameOf = (admin: Pick<ResolvedAdministrator, 'email' | 'displayName' | 'ucOid'>) =>
  admin.email ?? admin.displayName ?? admin.ucOid;

function alreadyRestored(snapshot: RevokeSnapshot): RevokeAlreadyRestoredError | undefined {
  const restored = snapshot.restored;
  if (restored === undefined) return undefined;
  return new RevokeAlreadyRestoredError(
    `${restored.actionId} already restored the access ${latestRevokeOf(snapshot)} revoked, at ${restored.at}; nothing is restored twice`,
  );
}

function changedSince(
  name: string,
  snapshot: RevokeSnapshot,
  differences: readonly string[],
): AdministratorChangedSinceRevokeError {
  return new AdministratorChangedSinceRevokeError(
    `The access of ${name} changed since ${latestRevokeOf(snapshot)} revoked it (${differences.join('; ')}): nothing is restored, so that the change is not overwritten`,
  );
}

/**
 * What a restore of this administrator would put back, judged from its snapshot and its access
 * now (read when the target is resolved: the plan a dry run shows and an approver reviews).
 * Throws the refusal: no snapshot, already restored, or changed since the revoke.
 */
export function planRestore(
  admin: Pick<ResolvedAdministrator, 'email' | 'displayName' | 'ucOid'>,
  snapshot: RevokeSnapshot | undefined,
  current: AdministratorAccess,
): RestorePlan {
  const name = nameOf(admin);
  if (snapshot === undefined) {
    throw new NoRevokeSnapshotError(
      `No strip-mode admin.revoke of ${name} is recorded: there is no access to restore`,
    );
  }
  const restored = alreadyRestored(snapshot);
  if (restored !== undefined) throw restored;
  const differences = accessDifferences(snapshot.left, current);
  if (differences.length > 0) throw changedSince(name, snapshot, differences);
  return {
    revokeActionIds: snapshot.revokeActionIds,
    revokedAt: snapshot.revokedAt,
    access: snapshot.replaced,
  };
}

/** The parts of the administrators client a restore uses. */
export interface AccessEditor {
  getAccess(id: string): Promise<AdministratorAccess>;
  updateAccess(id: string, access: AdministratorAccess): Promise<void>;
}

/** What a restore did: the access it replaced and the access it put back. */
export interface RestoreOutcome {
  /** The access before the restore (what the strip left). */
  readonly replaced: AdministratorAccess;
  /** The access put back: the one the strip replaced. */
  readonly restored: AdministratorAccess;
  /**
   * The administrator already had that access, so nothing was sent: an earlier attempt of this
   * restore whose reply was lost, or someone put it back by hand.
   */
  readonly alreadyRestored: boolean;
}

/**
 * Restores the planned access, checked again just before (the caller holds the tenant's
 * administrator change lease): the snapshot must still be the planned one and not restored by
 * another action, and the access still what the strip left. Records the restore on the snapshot
 * before the lease is given back, so no second restore can apply it again.
 */
export async function applyRestore(
  editor: AccessEditor,
  revokes: RevokeSnapshotStore,
  target: ResolvedAdministrator,
  actionId: string,
  at: string,
): Promise<RestoreOutcome> {
  const name = nameOf(target);
  const plan = target.restore;
  const snapshot = await revokes.latest(target.ucOid);
  if (plan === undefined || snapshot === undefined) {
    throw new NoRevokeSnapshotError(
      `No strip-mode admin.revoke of ${name} is recorded: there is no access to restore`,
    );
  }
  const planned = plan.revokeActionIds[plan.revokeActionIds.length - 1];
  if (latestRevokeOf(snapshot) !== planned) {
    throw new AdministratorChangedSinceRevokeError(
      `${name} was revoked again (${latestRevokeOf(snapshot)}) after this restore of ${planned} was planned: nothing is restored; request a new restore`,
    );
  }
  if (snapshot.restored?.actionId !== actionId) {
    const restored = alreadyRestored(snapshot);
    if (restored !== undefined) throw restored;
  }
  const current = await editor.getAccess(target.administratorId);
  const mark = () => revokes.markRestored(target.ucOid, planned, actionId, at);
  if (accessDifferences(snapshot.replaced, current).length === 0) {
    await mark();
    return { replaced: current, restored: snapshot.replaced, alreadyRestored: true };
  }
  const differences = accessDifferences(snapshot.left, current);
  if (differences.length > 0) throw changedSince(name, snapshot, differences);
  await editor.updateAccess(target.administratorId, grantingUpdate(snapshot.replaced));
  await mark();
  return { replaced: current, restored: snapshot.replaced, alreadyRestored: false };
}
