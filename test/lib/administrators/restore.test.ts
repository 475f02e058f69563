import { beforeEach, describe, expect, it } from 'vitest';
import type { ResolvedAdministrator } from '../../../lib/actions/schema.ts';
import {
  type AccessEditor,
  AdministratorChangedSinceRevokeError,
  applyRestore,
  NoRevokeSnapshotError,
  planRestore,
  RevokeAlreadyRestoredError,
} from '../../../lib/administrators/restore.ts';
import type { AdministratorAccess } from '../../../lib/citrix/administrators-schemas.ts';
import { rejection } from '../../support/rejection.ts';
import { MemoryRevokeSnapshots } from '../../support/revoke-snapshots.ts';

const actionId = (n: number) => `act_${String(n).padStart(32, '0')}`;
const REVOKE = actionId(1);
const RESTORE = actionId(2);
const AT = '2026-11-23T05:00:00.000Z';

const access = (...granted: string[]): AdministratorAccess => ({
  accessType: 'Custom',
  policies: ['notifications', 'licensing', 'domains'].map((name) => ({
    name,
    serviceName: 'Platform',
    checkable: { value: granted.includes(name), canChangeValue: true },
  })),
});
const ORIGINAL = access('notifications', 'licensing');
const STRIPPED = access();
const MALLORY = { ucOid: 'OID:/citrix/3', email: 'mallory@example.com' };

/** One administrator's access in memory; every call lands in `calls`. */
class FakeAccess implements AccessEditor {
  current: AdministratorAccess = structuredClone(STRIPPED);
  readonly calls: string[] = [];
  async getAccess(id: string) {
    this.calls.push(`get ${id}`);
    return structuredClone(this.current);
  }
  async updateAccess(id: string, update: AdministratorAccess) {
    this.calls.push(`put ${id}`);
    this.current = structuredClone(update);
  }
}

let editor: FakeAccess;
let revokes: MemoryRevokeSnapshots;

beforeEach(async () => {
  editor = new FakeAccess();
  revokes = new MemoryRevokeSnapshots(editor.calls);
  await revokes.recordStrip({
    ...MALLORY,
    administratorId: '3',
    revokeActionId: REVOKE,
    revokedAt: '2026-11-23T01:00:00.000Z',
    replaced: ORIGINAL,
    left: STRIPPED,
  });
  editor.calls.length = 0;
});

/** The restore target as the resolve step plans it from the snapshot and the access now. */
const planned = async (): Promise<ResolvedAdministrator> => ({
  administratorId: '3',
  ucOid: MALLORY.ucOid,
  email: MALLORY.email,
  type: 'AdministratorUser',
  pending: false,
  allowed: true,
  before: editor.current,
  restore: planRestore(MALLORY, await revokes.latest(MALLORY.ucOid), editor.current),
});

describe('planRestore', () => {
  it('plans to put back the access the strip replaced, naming the revoke', async () => {
    expect(planRestore(MALLORY, await revokes.latest(MALLORY.ucOid), STRIPPED)).toEqual({
      revokeActionIds: [REVOKE],
      revokedAt: '2026-11-23T01:00:00.000Z',
      access: ORIGINAL,
    });
  });

  it('refuses without a snapshot, naming the administrator', () => {
    const error = (() => {
      try {
        return planRestore(MALLORY, undefined, STRIPPED);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(NoRevokeSnapshotError);
    expect((error as Error).message).toMatch(/No strip-mode admin\.revoke of mallory@example\.com/);
  });

  it('refuses when the access changed since the revoke, saying what changed', async () => {
    const snapshot = await revokes.latest(MALLORY.ucOid);
    expect(() => planRestore(MALLORY, snapshot, access('domains'))).toThrow(
      AdministratorChangedSinceRevokeError,
    );
    expect(() => planRestore(MALLORY, snapshot, access('domains'))).toThrow(
      /domains: not granted, now granted/,
    );
    expect(() => planRestore(MALLORY, snapshot, { accessType: 'Full' })).toThrow(
      /access type Custom, now Full/,
    );
  });

  it('refuses a snapshot already restored', async () => {
    await revokes.markRestored(MALLORY.ucOid, REVOKE, actionId(7), AT);
    expect(() => planRestore(MALLORY, revokes.snapshots.get(MALLORY.ucOid), ORIGINAL)).toThrow(
      RevokeAlreadyRestoredError,
    );
  });
});

describe('applyRestore', () => {
  it('puts back exactly the access the strip replaced, then records the restore', async () => {
    const outcome = await applyRestore(editor, revokes, await planned(), RESTORE, AT);
    expect(outcome).toEqual({ replaced: STRIPPED, restored: ORIGINAL, alreadyRestored: false });
    expect(editor.current).toEqual(ORIGINAL);
    expect(editor.calls).toEqual(['get 3', 'put 3', `mark restored ${RESTORE}`]);
    expect(revokes.snapshots.get(MALLORY.ucOid)?.restored).toEqual({ actionId: RESTORE, at: AT });
  });

  it('sends nothing for a retry of the same restore: the access is already back', async () => {
    const target = await planned();
    await applyRestore(editor, revokes, target, RESTORE, AT);
    editor.calls.length = 0;
    const again = await applyRestore(editor, revokes, target, RESTORE, AT);
    expect(again.alreadyRestored).toBe(true);
    expect(editor.calls).toEqual(['get 3', `mark restored ${RESTORE}`]);
  });

  it('refuses a second restore of the same revoke, changing nothing', async () => {
    const target = await planned();
    await applyRestore(editor, revokes, target, RESTORE, AT);
    editor.current = structuredClone(STRIPPED);
    editor.calls.length = 0;
    const error = await rejection(applyRestore(editor, revokes, target, actionId(3), AT));
    expect(error).toBeInstanceOf(RevokeAlreadyRestoredError);
    expect(editor.calls).toEqual([]);
  });

  it('refuses, changing nothing, when the access changed after the restore was planned', async () => {
    const target = await planned();
    editor.current = access('domains');
    const error = await rejection(applyRestore(editor, revokes, target, RESTORE, AT));
    expect(error).toBeInstanceOf(AdministratorChangedSinceRevokeError);
    expect(error.message).toMatch(/domains: not granted, now granted/);
    expect(editor.calls).toEqual(['get 3']);
    expect(revokes.snapshots.get(MALLORY.ucOid)?.restored).toBeUndefined();
  });

  it('refuses when the administrator was revoked again after the plan', async () => {
    const target = await planned();
    await revokes.recordStrip({
      ...MALLORY,
      administratorId: '3',
      revokeActionId: actionId(4),
      revokedAt: '2026-11-23T02:00:00.000Z',
      replaced: STRIPPED,
      left: STRIPPED,
    });
    editor.calls.length = 0;
    const error = await rejection(applyRestore(editor, revokes, target, RESTORE, AT));
    expect(error).toBeInstanceOf(AdministratorChangedSinceRevokeError);
    expect(error.message).toMatch(/revoked again/);
    expect(editor.calls).toEqual([]);
  });

  it('refuses a target without a plan, or whose snapshot is gone', async () => {
    const { restore: _restore, ...unplanned } = await planned();
    expect(await rejection(applyRestore(editor, revokes, unplanned, RESTORE, AT))).toBeInstanceOf(
      NoRevokeSnapshotError,
    );
    const target = await planned();
    const empty = new MemoryRevokeSnapshots();
    expect(await rejection(applyRestore(editor, empty, target, RESTORE, AT))).toBeInstanceOf(
      NoRevokeSnapshotError,
    );
    expect(editor.calls).toEqual([]);
  });
});
