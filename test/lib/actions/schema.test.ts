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
    ).toEqual(['']);
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
