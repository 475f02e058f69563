import { describe, expect, it } from 'vitest';
import { useLocalStack } from '../support/local-stack.ts';
import { ADMINS, DEVICES, SESSIONS } from '../support/simulator-fixture.ts';

/**
 * Guardrails end to end over HTTP, beyond device wipes (test/state-machines/guardrails.test.ts):
 * a protected user listed as `DOMAIN\user` protects their sessions however the request names
 * them; approval of a session action held over a limit and of an administrator deletion (held by
 * default); the requester can reject their own action but not approve it.
 */
const local = useLocalStack({
  reason: 'approval test',
  env: {
    // Empty: the defaults (device.wipe and admin.revoke:delete need approval).
    APPROVAL_REQUIRED: '',
    APPROVAL_TIMEOUT_SECONDS: '30',
    GUARDRAIL_LIMITS: JSON.stringify({
      'session.logoff': { perRequest: 1, perHour: 50, overLimit: 'approval' },
    }),
    PROTECTED_USERS: 'EXAMPLE\\bob',
  },
});
const { signed, request, decide, finished, awaitingApproval, calls } = local;
const logoffs = () => calls((r) => r.path.endsWith('$logoff'));

describe('a protected user listed as DOMAIN\\user', () => {
  it('keeps their session untouched when the request names the session by id', async () => {
    const record = await finished(
      await request({ action: 'session.logoff', target: { sessionId: SESSIONS.bob } }),
    );
    expect(record.status).toBe('succeeded');
    expect(record.results[SESSIONS.bob]).toMatchObject({
      outcome: 'skipped',
      userName: 'bob@example.com',
      userNames: ['bob@example.com', 'EXAMPLE\\bob'],
      note: 'EXAMPLE\\bob is a protected user',
    });
    expect(record.plan).toEqual([
      { target: SESSIONS.bob, act: false, reason: 'EXAMPLE\\bob is a protected user' },
    ]);
    expect(logoffs()).toEqual([]);
  });

  it('keeps them untouched when the request names them by UPN', async () => {
    const record = await finished(
      await request({ action: 'session.logoff', target: { user: 'BOB@example.com' } }),
    );
    expect(record.results[SESSIONS.bob]).toMatchObject({ outcome: 'skipped' });
    expect(logoffs()).toEqual([]);
  });
});

describe('approval', () => {
  it('holds a session log off over the per-request limit until approved, then logs off', async () => {
    const actionId = await request({
      action: 'session.logoff',
      target: { user: 'alice@example.com' },
    });
    const held = await awaitingApproval(actionId);
    expect(held.approval?.reasons.join('; ')).toMatch(/limit of 1 per request/);
    expect(logoffs()).toEqual([]);

    const approved = await decide(actionId, 'approve');
    expect(approved).toEqual({
      status: 200,
      body: { actionId, status: 'running', decidedBy: 'approver@example.com' },
    });
    const record = await finished(actionId);
    expect(record.status).toBe('succeeded');
    expect(record.approval).toMatchObject({
      decision: 'approved',
      decidedBy: 'approver@example.com',
    });
    expect(record.approvalTaskToken).toBeUndefined();
    const loggedOff = (sessionId: string) => logoffs().filter((r) => r.path.includes(sessionId));
    expect([SESSIONS.alice1, SESSIONS.alice2].map((id) => loggedOff(id).length)).toEqual([1, 1]);

    // The decision in the timeline names the authenticated principal and the request.
    const timeline = (await signed(`/v1/actions/${actionId}`)).body.timeline as {
      type: string;
      details?: Record<string, unknown>;
    }[];
    expect(timeline).toContainEqual(
      expect.objectContaining({
        type: 'decision',
        details: {
          decision: 'approved',
          by: 'approver@example.com',
          principal: 'arn:aws:iam::000000000000:user/approver@example.com',
          requestId: expect.any(String),
        },
      }),
    );
  });

  it('holds admin.revoke with mode delete by default until approved, then deletes', async () => {
    const actionId = await request({
      action: 'admin.revoke',
      target: { admin: ADMINS.trent.email },
      options: { mode: 'delete' },
    });
    const held = await awaitingApproval(actionId);
    expect(held.approval?.reasons.join('; ')).toMatch(/admin\.revoke/);
    const deletes = () => calls((r) => r.method === 'DELETE');
    expect(deletes()).toEqual([]);

    const approved = await decide(actionId, 'approve');
    expect(approved.status).toBe(200);
    const record = await finished(actionId);
    expect(record.status).toBe('succeeded');
    expect(record.approval).toMatchObject({ decision: 'approved' });
    expect(deletes().map((r) => r.path)).toEqual([`/administrators/${ADMINS.trent.userId}`]);
  });

  it('refuses the requester their own approval; rejecting it still works', async () => {
    const response = await signed(
      '/v1/actions',
      JSON.stringify({
        action: 'device.wipe',
        target: { deviceId: DEVICES.bobbyPhone },
        reason: 'own approval',
      }),
    );
    const actionId = String(response.body.actionId);
    await awaitingApproval(actionId);
    const approved = await decide(actionId, 'approve', {}, 'requester@example.com');
    expect(approved.status).toBe(403);
    expect(approved.body).toMatchObject({ error: { code: 'self_approval' } });
    expect((await local.stack.actions.get(actionId))?.status).toBe('awaiting_approval');

    const rejected = await decide(actionId, 'reject', {}, 'requester@example.com');
    expect(rejected.status).toBe(200);
    const record = await finished(actionId);
    expect(record.status).toBe('rejected');
    expect(record.approval).toMatchObject({ decidedBy: 'requester@example.com' });
    expect(calls((r) => r.path.endsWith('/device/wipe'))).toEqual([]);
  });
});
