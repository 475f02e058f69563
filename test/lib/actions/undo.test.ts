import { describe, expect, it } from 'vitest';
import { ACTION_TYPES, type ActionRecord, declarationOf } from '../../../lib/actions/schema.ts';
import { undoOf } from '../../../lib/actions/undo.ts';
import { toActionView } from '../../../lib/actions/view.ts';

const revoke = (overrides: Partial<ActionRecord> = {}): ActionRecord => ({
  actionId: `act_${'a'.repeat(32)}`,
  action: 'admin.revoke',
  target: { admin: 'mallory@example.com' },
  options: { mode: 'strip' },
  reason: 'stolen admin account',
  dryRun: false,
  status: 'succeeded',
  createdAt: '2026-11-23T03:00:00.000Z',
  updatedAt: '2026-11-23T03:00:05.000Z',
  results: {},
  expiresAt: 0,
  ...overrides,
});

describe('undoOf', () => {
  it('names the restore command of a strip-mode revoke that changed something', () => {
    const undo = {
      action: 'admin.restore',
      command: 'citrix-response act admin.restore --admin mallory@example.com --reason "…"',
    };
    expect(undoOf(revoke())).toEqual(undo);
    expect(undoOf(revoke({ status: 'partially_succeeded' }))).toEqual(undo);
    // The status of the revoke (GET /v1/actions/{id}) shows it.
    expect(toActionView(revoke()).undo).toEqual(undo);
  });

  it('names nothing where nothing can be undone or nothing was done', () => {
    expect(undoOf(revoke({ options: { mode: 'delete' } }))).toBeUndefined();
    expect(undoOf(revoke({ dryRun: true, status: 'planned' }))).toBeUndefined();
    for (const status of ['failed', 'refused', 'rejected', 'expired', 'running'] as const) {
      expect(undoOf(revoke({ status }))).toBeUndefined();
    }
    expect(
      undoOf(revoke({ action: 'session.logoff', options: undefined, target: { user: 'alice' } })),
    ).toBeUndefined();
    expect(toActionView(revoke({ options: { mode: 'delete' } }))).not.toHaveProperty('undo');
  });

  it('quotes a value the shell would split', () => {
    expect(undoOf(revoke({ target: { admin: "O'Brien Admins" } }))?.command).toBe(
      `citrix-response act admin.restore --admin 'O'\\''Brien Admins' --reason "…"`,
    );
  });
});

describe('the catalog on undoing', () => {
  it('names only undo actions that exist and take the same target', () => {
    for (const action of ACTION_TYPES) {
      const undo = declarationOf(action).undoneBy;
      if (undo === undefined) continue;
      expect(ACTION_TYPES).toContain(undo.action);
      const undoing = declarationOf(undo.action as (typeof ACTION_TYPES)[number]);
      expect(undoing.targetFields).toEqual(declarationOf(action).targetFields);
      expect(declarationOf(action).reversal).toContain(undo.action);
    }
  });

  it('says plainly that a log off or a wipe cannot be undone, and what to do instead', () => {
    for (const action of ['session.logoff', 'device.wipe', 'device.selectiveWipe'] as const) {
      const { reversal, undoneBy } = declarationOf(action);
      expect(undoneBy).toBeUndefined();
      expect(reversal).toMatch(/cannot be undone/);
      expect(reversal).toMatch(/(signs in again|enrolls the device again)/);
    }
    expect(declarationOf('session.disconnect').reversal).toMatch(/cannot undo a disconnect/);
  });
});
