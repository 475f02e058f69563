import { describe, expect, it } from 'vitest';
import { ActionIdSchema, ActionRequestSchema } from '../../../lib/actions/schema.ts';

const SESSION_ID = '41ba32e9-d12b-485c-afd2-c4d0d047cd8b';

const fieldsOf = (input: unknown) => {
  const result = ActionRequestSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((issue) => issue.path.join('.'));
};

describe('ActionRequestSchema', () => {
  it('accepts a log off of every session of a user and defaults dryRun to false', () => {
    const parsed = ActionRequestSchema.parse({
      action: 'session.logoff',
      target: { user: 'alice@example.com' },
      reason: 'Impossible travel alert 4711',
    });
    expect(parsed).toEqual({
      action: 'session.logoff',
      target: { user: 'alice@example.com' },
      reason: 'Impossible travel alert 4711',
      urgency: 'normal',
      dryRun: false,
    });
  });

  it('accepts a session id and a DOMAIN\\user target', () => {
    expect(
      ActionRequestSchema.parse({
        action: 'session.disconnect',
        target: { sessionId: SESSION_ID },
        reason: 'r',
      }).target,
    ).toEqual({ sessionId: SESSION_ID });
    expect(
      ActionRequestSchema.parse({
        action: 'session.logoff',
        target: { user: 'EXAMPLE\\alice' },
        reason: 'r',
      }).target,
    ).toEqual({ user: 'EXAMPLE\\alice' });
  });

  it('names every invalid field', () => {
    expect(fieldsOf({ action: 'session.wipe', target: { user: 'alice@example.com' } })).toEqual([
      'action',
      'reason',
    ]);
    expect(
      fieldsOf({ action: 'session.logoff', target: { sessionId: '../Jobs/x' }, reason: 'r' }),
    ).toEqual(['target.sessionId']);
    expect(
      fieldsOf({ action: 'session.logoff', target: { user: 'not a user' }, reason: 'r' }),
    ).toEqual(['target.user']);
  });

  it('requires exactly one target kind and refuses unknown fields', () => {
    expect(fieldsOf({ action: 'session.logoff', target: {}, reason: 'r' })).toEqual(['target']);
    expect(
      fieldsOf({
        action: 'session.logoff',
        target: { sessionId: SESSION_ID, user: 'alice@example.com' },
        reason: 'r',
      }),
    ).toEqual(['target']);
    expect(
      fieldsOf({ action: 'session.logoff', target: { user: 'a@b.co' }, reason: 'r', force: true }),
    ).toEqual(['force']);
  });

  it('takes a device id or an enrolled user name for device actions', () => {
    for (const target of [
      { deviceId: '7d3f6c1e-2b4a-4f7e-9c0d-1a2b3c4d5e6f' },
      { deviceId: '1042' },
      { user: 'bob' },
      { user: 'EXAMPLE\\bob' },
      { user: 'bob@example.com' },
    ]) {
      const parsed = ActionRequestSchema.safeParse({ action: 'device.wipe', target, reason: 'r' });
      expect(parsed.success, JSON.stringify(target)).toBe(true);
      expect(parsed.data?.target).toEqual(target);
    }
    expect(
      ActionRequestSchema.parse({ action: 'device.wipe', target: { user: '  bob ' }, reason: 'r' })
        .target,
    ).toEqual({ user: 'bob' });
  });

  it('refuses device ids that are not GUIDs or numbers, and user names with control characters', () => {
    for (const deviceId of ['', 'abc', '12/../34', '1'.repeat(20), '7d3f6c1e-2b4a']) {
      expect(
        fieldsOf({ action: 'device.selectiveWipe', target: { deviceId }, reason: 'r' }),
      ).toEqual(['target.deviceId']);
    }
    expect(fieldsOf({ action: 'device.wipe', target: { user: 'bob\u0000' }, reason: 'r' })).toEqual(
      ['target.user'],
    );
    expect(
      fieldsOf({ action: 'device.wipe', target: { deviceId: '1', user: 'bob' }, reason: 'r' }),
    ).toEqual(['target']);
  });

  it('takes admin.revoke with an administrator id and a mode that defaults to strip', () => {
    expect(
      ActionRequestSchema.parse({
        action: 'admin.revoke',
        target: { admin: 'OID:/citrix/42' },
        reason: 'r',
      }),
    ).toMatchObject({ target: { admin: 'OID:/citrix/42' }, options: { mode: 'strip' } });
    expect(
      ActionRequestSchema.parse({
        action: 'admin.revoke',
        target: { admin: 'mallory@example.com' },
        options: { mode: 'delete' },
        reason: 'r',
      }),
    ).toMatchObject({ options: { mode: 'delete' } });
    expect(
      fieldsOf({
        action: 'admin.revoke',
        target: { admin: 'a b' },
        options: { mode: 'nuke' },
        reason: 'r',
      }),
    ).toEqual(['target.admin', 'options.mode']);
  });

  it('takes admin.deleteInvitation with an email, and no options', () => {
    expect(
      ActionRequestSchema.parse({
        action: 'admin.deleteInvitation',
        target: { email: 'invitee@example.com' },
        reason: 'r',
      }),
    ).not.toHaveProperty('options');
    expect(
      fieldsOf({
        action: 'admin.deleteInvitation',
        target: { email: 'not-an-email' },
        options: { mode: 'delete' },
        reason: 'r',
      }),
    ).toEqual(['target.email', 'options']);
  });

  it('reports every invalid field even when the action is unknown', () => {
    expect(fieldsOf({ action: 'device.brick', target: {}, reason: '' })).toEqual([
      'action',
      'reason',
    ]);
  });

  it('refuses blank reasons and control characters', () => {
    expect(
      fieldsOf({ action: 'session.logoff', target: { user: 'a@b.co' }, reason: '   ' }),
    ).toEqual(['reason']);
    expect(
      fieldsOf({ action: 'session.logoff', target: { user: 'a@b.co' }, reason: 'x\u0007y' }),
    ).toEqual(['reason']);
  });
});

describe('ActionIdSchema', () => {
  it('accepts only ids the API hands out', () => {
    expect(ActionIdSchema.safeParse('act_0123456789abcdef0123456789abcdef').success).toBe(true);
    expect(ActionIdSchema.safeParse('act_../../etc').success).toBe(false);
    expect(ActionIdSchema.safeParse('0123456789abcdef0123456789abcdef').success).toBe(false);
  });
});
