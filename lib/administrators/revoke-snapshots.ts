import * as z from 'zod';
import { ActionIdSchema } from '../actions/schema.ts';
import {
  type AdministratorAccess,
  AdministratorAccessSchema,
} from '../citrix/administrators-schemas.ts';
import { accessDifferences } from './access-comparison.ts';

/**
 * What a strip-mode `admin.revoke` recorded about an administrator, one per administrator: the
 * access a later `admin.restore` puts back, the access the strip left (a restore refuses unless it
 * is still so), and whether a restore already put it back.
 */

/** Revoke action ids a snapshot keeps at most: the first (whose access it holds) and the latest. */
export const MAX_SNAPSHOT_REVOKES = 20;

export const RevokeSnapshotSchema = z.object({
  ucOid: z.string().min(1),
  /** The id the administrators API takes: the userId of a user, the ucOid of a group. */
  administratorId: z.string().min(1),
  email: z.string().optional(),
  /**
   * The strip-mode revokes the snapshot covers, oldest first: a strip that finds the access an
   * earlier one left (nobody restored or changed it in between) extends the snapshot, so a
   * restore still puts back the access from before the first strip, never an empty one.
   */
  revokeActionIds: z.array(ActionIdSchema).min(1).max(MAX_SNAPSHOT_REVOKES),
  /** When the latest of them changed the access. */
  revokedAt: z.iso.datetime(),
  /** The access before the first of them: what a restore puts back. */
  replaced: AdministratorAccessSchema,
  /** The access the latest of them left, as read back after the change. */
  left: AdministratorAccessSchema,
  /** The restore that put `replaced` back; a snapshot is restored once. */
  restored: z.object({ actionId: ActionIdSchema, at: z.iso.datetime() }).optional(),
});
export type RevokeSnapshot = z.infer<typeof RevokeSnapshotSchema>;

/** One strip, as the admin workflow records it once the revoke's result is known. */
export interface StripRecord {
  readonly ucOid: string;
  readonly administratorId: string;
  readonly email?: string | undefined;
  readonly revokeActionId: string;
  readonly revokedAt: string;
  readonly replaced: AdministratorAccess;
  readonly left: AdministratorAccess;
}

/** The latest revoke a snapshot covers: the one a restore names. */
export const latestRevokeOf = (snapshot: RevokeSnapshot): string =>
  snapshot.revokeActionIds[snapshot.revokeActionIds.length - 1] ?? '';

/** The revoke snapshots, by administrator (ucOid). */
export interface RevokeSnapshotStore {
  /** The snapshot of the administrator's latest strip, restored or not; undefined when none. */
  latest(ucOid: string): Promise<RevokeSnapshot | undefined>;
  /**
   * Records a strip (see mergeStrip). Recording the same revoke again (a retried task) changes
   * nothing. Returns the snapshot as stored.
   */
  recordStrip(strip: StripRecord): Promise<RevokeSnapshot>;
  /**
   * Records that `restoreActionId` put the access back, once: throws RevokeSnapshotMovedError
   * when the latest revoke is no longer `revokeActionId` or another restore recorded it first.
   */
  markRestored(
    ucOid: string,
    revokeActionId: string,
    restoreActionId: string,
    at: string,
  ): Promise<RevokeSnapshot>;
}

/** The snapshot changed between reading it and recording a restore (a revoke or restore since). */
export class RevokeSnapshotMovedError extends Error {
  override name = 'RevokeSnapshotMovedError';
}

function freshSnapshot(strip: StripRecord): RevokeSnapshot {
  return {
    ucOid: strip.ucOid,
    administratorId: strip.administratorId,
    ...(strip.email === undefined ? {} : { email: strip.email }),
    revokeActionIds: [strip.revokeActionId],
    revokedAt: strip.revokedAt,
    replaced: strip.replaced,
    left: strip.left,
  };
}

/**
 * The snapshot after a strip. The same revoke recorded twice, or an older revoke recorded after a
 * newer one, leaves it as it is. A strip that replaced exactly what the snapshot's latest strip
 * left, not restored since, extends it: the access to put back stays the one from before the
 * first strip. Any other strip starts a new snapshot.
 */
export function mergeStrip(
  existing: RevokeSnapshot | undefined,
  strip: StripRecord,
): RevokeSnapshot {
  if (existing === undefined) return freshSnapshot(strip);
  if (existing.revokeActionIds.includes(strip.revokeActionId)) return existing;
  if (Date.parse(existing.revokedAt) > Date.parse(strip.revokedAt)) return existing;
  const unchangedSince =
    existing.restored === undefined &&
    accessDifferences(existing.left, strip.replaced).length === 0;
  if (!unchangedSince) return freshSnapshot(strip);
  const [first, ...later] = existing.revokeActionIds;
  return {
    ...existing,
    revokeActionIds: [
      ...(first === undefined ? [] : [first]),
      ...[...later, strip.revokeActionId].slice(-(MAX_SNAPSHOT_REVOKES - 1)),
    ],
    revokedAt: strip.revokedAt,
    left: strip.left,
  };
}

/** The snapshot once `restoreActionId` put its access back; throws if that no longer fits. */
export function markSnapshotRestored(
  existing: RevokeSnapshot | undefined,
  revokeActionId: string,
  restoreActionId: string,
  at: string,
): RevokeSnapshot {
  if (existing === undefined || latestRevokeOf(existing) !== revokeActionId) {
    throw new RevokeSnapshotMovedError(
      `The administrator was revoked again since ${revokeActionId}: its restore is not recorded`,
    );
  }
  if (existing.restored !== undefined) {
    if (existing.restored.actionId === restoreActionId) return existing;
    throw new RevokeSnapshotMovedError(
      `${existing.restored.actionId} already restored the access ${revokeActionId} revoked`,
    );
  }
  return { ...existing, restored: { actionId: restoreActionId, at } };
}
