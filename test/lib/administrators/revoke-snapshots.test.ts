import { describe, expect, it } from 'vitest';
import {
  MAX_SNAPSHOT_REVOKES,
  markSnapshotRestored,
  mergeStrip,
  RevokeSnapshotMovedError,
  type StripRecord,
} from '../../../lib/administrators/revoke-snapshots.ts';
import type { AdministratorAccess } from '../../../lib/citrix/administrators-schemas.ts';

const actionId = (n: number) => `act_${String(n).padStart(32, '0')}`;
const access = (...granted: string[]): AdministratorAccess => ({
  accessType: 'Custom',
  policies: ['notifications', 'licensing', 'domains'].map((name) => ({
    name,
    checkable: { value: granted.includes(name), canChangeValue: true },
  })),
});
const ORIGINAL = access('notifications', 'licensing');
const STRIPPED = access();

const strip = (n: number, replaced: AdministratorAccess, at = n): StripRecord => ({
  ucOid: 'OID:/citrix/3',
  administratorId: '3',
  email: 'mallory@example.com',
  revokeActionId: actionId(n),
  revokedAt: new Date(Date.UTC(2026, 10, 23, at)).toISOString(),
  replaced,
  left: STRIPPED,
});

describe('mergeStrip', () => {
  it('starts a snapshot with the access the strip replaced and the access it left', () => {
    expect(mergeStrip(undefined, strip(1, ORIGINAL))).toEqual({
      ucOid: 'OID:/citrix/3',
      administratorId: '3',
      email: 'mallory@example.com',
      revokeActionIds: [actionId(1)],
      revokedAt: '2026-11-23T01:00:00.000Z',
      replaced: ORIGINAL,
      left: STRIPPED,
    });
  });

  it('keeps the access from before the first strip when a second strip finds it unchanged', () => {
    const first = mergeStrip(undefined, strip(1, ORIGINAL));
    const second = mergeStrip(first, strip(2, STRIPPED));
    expect(second).toMatchObject({
      revokeActionIds: [actionId(1), actionId(2)],
      revokedAt: '2026-11-23T02:00:00.000Z',
      replaced: ORIGINAL,
    });
  });

  it('starts afresh after a restore, or when the access changed between the strips', () => {
    const first = mergeStrip(undefined, strip(1, ORIGINAL));
    const restored = markSnapshotRestored(first, actionId(1), actionId(9), first.revokedAt);
    expect(mergeStrip(restored, strip(2, ORIGINAL))).toMatchObject({
      revokeActionIds: [actionId(2)],
      replaced: ORIGINAL,
    });
    expect(mergeStrip(restored, strip(2, ORIGINAL))).not.toHaveProperty('restored');
    const regranted = access('domains');
    expect(mergeStrip(first, strip(2, regranted))).toMatchObject({
      revokeActionIds: [actionId(2)],
      replaced: regranted,
    });
  });

  it('changes nothing for the same revoke recorded again, or an older one recorded late', () => {
    const second = mergeStrip(mergeStrip(undefined, strip(1, ORIGINAL)), strip(5, STRIPPED));
    expect(mergeStrip(second, strip(5, STRIPPED))).toBe(second);
    expect(mergeStrip(second, strip(3, access('domains')))).toBe(second);
  });

  it('keeps the first revoke and the latest ones when strips keep coming', () => {
    let snapshot = mergeStrip(undefined, strip(1, ORIGINAL));
    for (let n = 2; n <= MAX_SNAPSHOT_REVOKES + 5; n += 1) {
      snapshot = mergeStrip(snapshot, strip(n, STRIPPED));
    }
    expect(snapshot.revokeActionIds).toHaveLength(MAX_SNAPSHOT_REVOKES);
    expect(snapshot.revokeActionIds[0]).toBe(actionId(1));
    expect(snapshot.revokeActionIds.at(-1)).toBe(actionId(MAX_SNAPSHOT_REVOKES + 5));
    expect(snapshot.replaced).toEqual(ORIGINAL);
  });
});

describe('markSnapshotRestored', () => {
  const snapshot = mergeStrip(undefined, strip(1, ORIGINAL));
  const at = '2026-11-23T05:00:00.000Z';

  it('records the restore once; the same restore again changes nothing', () => {
    const restored = markSnapshotRestored(snapshot, actionId(1), actionId(9), at);
    expect(restored.restored).toEqual({ actionId: actionId(9), at });
    expect(markSnapshotRestored(restored, actionId(1), actionId(9), at)).toBe(restored);
  });

  it('refuses a second restore, a snapshot revoked again since, and no snapshot', () => {
    const restored = markSnapshotRestored(snapshot, actionId(1), actionId(9), at);
    expect(() => markSnapshotRestored(restored, actionId(1), actionId(10), at)).toThrow(
      RevokeSnapshotMovedError,
    );
    const again = mergeStrip(snapshot, strip(2, STRIPPED));
    expect(() => markSnapshotRestored(again, actionId(1), actionId(9), at)).toThrow(
      /revoked again/,
    );
    expect(() => markSnapshotRestored(undefined, actionId(1), actionId(9), at)).toThrow(
      RevokeSnapshotMovedError,
    );
  });
});
