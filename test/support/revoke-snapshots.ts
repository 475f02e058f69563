import {
  markSnapshotRestored,
  mergeStrip,
  type RevokeSnapshot,
  type RevokeSnapshotStore,
  type StripRecord,
} from '../../lib/administrators/revoke-snapshots.ts';

/**
 * The revoke snapshots' contract in memory, with the same merge rules as the DynamoDB store
 * (lib/administrators/revoke-snapshots.ts); `calls` logs each write for order assertions.
 */
export class MemoryRevokeSnapshots implements RevokeSnapshotStore {
  readonly snapshots = new Map<string, RevokeSnapshot>();
  readonly #calls: string[];

  constructor(calls: string[] = []) {
    this.#calls = calls;
  }

  async latest(ucOid: string): Promise<RevokeSnapshot | undefined> {
    return structuredClone(this.snapshots.get(ucOid));
  }

  async recordStrip(strip: StripRecord): Promise<RevokeSnapshot> {
    this.#calls.push(`record strip ${strip.revokeActionId}`);
    const next = mergeStrip(this.snapshots.get(strip.ucOid), strip);
    this.snapshots.set(strip.ucOid, next);
    return structuredClone(next);
  }

  async markRestored(
    ucOid: string,
    revokeActionId: string,
    restoreActionId: string,
    at: string,
  ): Promise<RevokeSnapshot> {
    this.#calls.push(`mark restored ${restoreActionId}`);
    const next = markSnapshotRestored(
      this.snapshots.get(ucOid),
      revokeActionId,
      restoreActionId,
      at,
    );
    this.snapshots.set(ucOid, next);
    return structuredClone(next);
  }
}
