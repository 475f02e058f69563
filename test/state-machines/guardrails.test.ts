import { describe, expect, it } from 'vitest';
import { useLocalStack } from '../support/local-stack.ts';
import { DEVICES, SESSIONS } from '../support/simulator-fixture.ts';

/**
 * Guardrails end to end over HTTP: limits (per request and per rolling hour, counted atomically),
 * protected users, approval (approve, reject, expiry, no self-approval), warnings before a log
 * off, and the audit timeline. Approval uses the defaults: device.wipe needs it.
 */
const local = useLocalStack({
  reason: 'guardrail test',
  env: {
    APPROVAL_REQUIRED: 'device.wipe',
    APPROVAL_TIMEOUT_SECONDS: '1',
    GUARDRAIL_LIMITS: JSON.stringify({
      'session.logoff': { perRequest: 2, perHour: 3, overLimit: 'refuse' },
      // Over-limit requests held for approval (see 'limits held for approval').
      'device.selectiveWipe': { perRequest: 1, perHour: 2, overLimit: 'approval' },
      'device.deployPolicy': { perRequest: 1, perHour: 1, overLimit: 'approval' },
    }),
    PROTECTED_USERS: 'bob@example.com',
  },
  waitTimeOverrides: { WaitGracePeriod: 50 },
});
const { signed, request, finished, awaitingApproval, calls } = local;
const wipes = () => calls((r) => r.path.endsWith('/device/wipe'));

describe('limits', () => {
  it('refuses a request over the per-request limit, saying which limit, and does nothing', async () => {
    const record = await finished(
      await request({ action: 'session.logoff', target: { user: 'erin@example.com' } }),
    );
    expect(record.status).toBe('refused');
    expect(record.summary).toBe(
      'Refused: 3 targets exceed the limit of 2 per request for session.logoff',
    );
    expect(record.plan).toHaveLength(3);
    expect(calls((r) => r.path.endsWith('$logoff'))).toEqual([]);
  });

  it('lets only one of two concurrent requests through when together they exceed the hourly limit', async () => {
    const ids = await Promise.all([
      request({ action: 'session.logoff', target: { user: 'alice@example.com' } }),
      request({ action: 'session.logoff', target: { user: 'alice@example.com' } }),
    ]);
    const records = await Promise.all(ids.map(finished));
    expect(records.map((r) => r.status).sort()).toEqual(['refused', 'succeeded']);
    const refused = records.find((r) => r.status === 'refused');
    expect(refused?.summary).toMatch(/would exceed the limit of 3 per hour for session\.logoff/);
  });
});

describe('limits held for approval', () => {
  const held = async (actionId: string) => {
    await awaitingApproval(actionId);
    return (await local.stack.actions.get(actionId))?.approval?.reasons;
  };
  const { decide } = local;

  it('counts an approved over-limit request in the hour, so the next one is held', async () => {
    const selectiveWipe = (target: Record<string, string>) =>
      request({ action: 'device.selectiveWipe', target });
    expect((await finished(await selectiveWipe({ deviceId: DEVICES.bobPhone }))).status).toBe(
      'succeeded',
    );
    // Carol's two managed devices: over the per-request limit and the hour; held.
    const carol = await selectiveWipe({ user: 'carol@example.com' });
    expect(await held(carol)).toEqual([
      '2 targets exceed the limit of 1 per request for device.selectiveWipe',
      '2 more targets would exceed the limit of 2 per hour for device.selectiveWipe (1 used in the last hour)',
    ]);
    expect((await decide(carol, 'approve')).status).toBe(200);
    const approved = await finished(carol);
    expect(approved.status).toBe('succeeded');
    expect(calls((r) => r.path.endsWith('/device/selectivewipe'))).toHaveLength(3);
    // Three wiped within the hour: the approved two count, so one more is held for the hour.
    const next = await selectiveWipe({ deviceId: DEVICES.bobPhone });
    expect(await held(next)).toEqual([
      '1 more target would exceed the limit of 2 per hour for device.selectiveWipe (3 used in the last hour)',
    ]);
    expect((await decide(next, 'reject')).status).toBe(200);
    expect((await finished(next)).status).toBe('rejected');
  });

  it('gives back the hour a held request reserved once it is rejected or expires', async () => {
    const deploy = (target: Record<string, string>) =>
      request({ action: 'device.deployPolicy', target });
    const rejected = await deploy({ user: 'carol@example.com' });
    await held(rejected);
    expect((await decide(rejected, 'reject')).status).toBe(200);
    expect((await finished(rejected)).status).toBe('rejected');
    // Nobody decides this one within the (one second) window.
    const expired = await deploy({ user: 'carol@example.com' });
    await held(expired);
    expect((await finished(expired)).status).toBe('expired');
    // Both reserved two devices against a limit of one; released, the hour is free again.
    const record = await finished(await deploy({ deviceId: DEVICES.bobPhone }));
    expect(record.status).toBe('succeeded');
    expect(record.approval).toBeUndefined();
  });
});

describe('protected targets', () => {
  it('skips a protected user’s session with the reason, and acts on nothing else', async () => {
    const record = await finished(
      await request({ action: 'session.disconnect', target: { user: 'bob@example.com' } }),
    );
    expect(record.status).toBe('succeeded');
    expect(record.results[SESSIONS.bob]).toMatchObject({
      outcome: 'skipped',
      note: 'bob@example.com is a protected user',
    });
    expect(record.plan).toEqual([
      { target: SESSIONS.bob, act: false, reason: 'bob@example.com is a protected user' },
    ]);
    expect(calls((r) => r.path.endsWith('$disconnect'))).toEqual([]);
  });
});

describe('approval', () => {
  const wipeBob = () => request({ action: 'device.wipe', target: { deviceId: DEVICES.bobPhone } });

  it('holds a full wipe until approved, then wipes, and records who approved', async () => {
    const actionId = await wipeBob();
    await awaitingApproval(actionId);
    expect(wipes()).toEqual([]);
    const view = await signed(`/v1/actions/${actionId}`);
    expect(view.body).toMatchObject({ status: 'awaiting_approval' });
    expect(JSON.stringify(view.body)).not.toContain('local-task-token');

    const approved = await local.decide(actionId, 'approve', {
      comment: 'confirmed with the user',
    });
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
    expect(wipes().map((r) => r.status)).toEqual([200]);

    // The timeline holds every step, in order.
    const timeline = (await signed(`/v1/actions/${actionId}`)).body.timeline as {
      type: string;
      summary: string;
    }[];
    const steps = timeline.map((entry) => `${entry.type}: ${entry.summary}`);
    const index = (pattern: RegExp) => steps.findIndex((step) => pattern.test(step));
    const order = [
      /^request: Request from api/,
      /^decision: Accepted$/,
      /^citrix_call: GET \/xenmobile\/api\/v1\/device\/.* → 200/,
      /^decision: Held for approval: device\.wipe needs approval$/,
      /^decision: Approved by approver@example\.com: confirmed with the user$/,
      /^citrix_call: POST \/xenmobile\/api\/v1\/device\/wipe → 200/,
      /^target_outcome: .* succeeded$/,
    ].map(index);
    expect(order.every((position) => position >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(JSON.stringify(timeline)).not.toMatch(/local-task-token|auth_token|password/i);
  });

  it('does nothing when rejected', async () => {
    const actionId = await wipeBob();
    await awaitingApproval(actionId);
    const rejected = await local.decide(actionId, 'reject', { comment: 'not this phone' });
    expect(rejected.status).toBe(200);
    const record = await finished(actionId);
    expect(record.status).toBe('rejected');
    expect(record.summary).toMatch(/Rejected by approver@example\.com: not this phone/);
    expect(wipes()).toEqual([]);
    expect((await local.decide(actionId, 'approve')).status).toBe(409);
  });

  it('refuses self-approval', async () => {
    const actionId = await wipeBob();
    await awaitingApproval(actionId);
    const self = await local.decide(actionId, 'approve', {}, 'requester@example.com');
    expect(self.status).toBe(403);
    expect(self.body).toMatchObject({ error: { code: 'self_approval' } });
    const record = await finished(actionId);
    // Nobody else approved within the (one second) window.
    expect(record.status).toBe('expired');
    expect(wipes()).toEqual([]);
  });

  it('expires when nobody decides in time, and does nothing', async () => {
    const actionId = await wipeBob();
    const record = await finished(actionId);
    expect(record.status).toBe('expired');
    expect(record.summary).toBe('Nobody approved the action in time; nothing was done');
    expect(wipes()).toEqual([]);
  });
});

describe('warning before acting', () => {
  const messages = () => calls((r) => r.path.endsWith('$sendMessage'));

  it('sends the message to each session, then acts after the grace period', async () => {
    const record = await finished(
      await request({
        action: 'session.disconnect',
        target: { user: 'alice@example.com' },
        notify: {
          title: 'Security',
          text: 'Your session ends in one minute; save your work.',
          graceSeconds: 60,
        },
      }),
    );
    expect(record.status).toBe('succeeded');
    expect(record.warnings).toEqual([
      { sessionId: SESSIONS.alice1, status: 'sent' },
      { sessionId: SESSIONS.alice2, status: 'sent' },
    ]);
    const sequence = (local.stack.simulator?.requests() ?? [])
      .filter((r) => /\$(sendMessage|disconnect)$/.test(r.path))
      .map((r) => r.path.split('$')[1]);
    expect(sequence).toEqual(['sendMessage', 'sendMessage', 'disconnect', 'disconnect']);
    expect(messages()[0]?.body).toMatchObject({ Title: 'Security', Style: 'Exclamation' });
  });

  it('skips the warning when the urgency is immediate', async () => {
    const record = await finished(
      await request({
        action: 'session.disconnect',
        target: { user: 'alice@example.com' },
        notify: { title: 'Security', text: 'Ending now' },
        urgency: 'immediate',
      }),
    );
    expect(record.status).toBe('succeeded');
    expect(record.warnings).toBeUndefined();
    expect(messages()).toEqual([]);
  });
});
