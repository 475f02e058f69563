import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LOCAL_DEMO_SOURCE_SECRETS } from '../../local/defaults.ts';
import { useLocalStack } from '../support/local-stack.ts';
import { DEVICES, SESSIONS } from '../support/simulator-fixture.ts';

/**
 * The audit timeline `GET /v1/actions/{id}` returns, path by path: the request (source, verified
 * identity, payload digest), each decision (accepted, refused by a guard, planned by a dry run,
 * held, rejected by whom, expired), the Citrix calls (warnings included) and the per-target
 * outcomes, each in the order it happened.
 */
const local = useLocalStack({
  reason: 'audit timeline test',
  env: {
    APPROVAL_REQUIRED: 'device.wipe',
    APPROVAL_TIMEOUT_SECONDS: '1',
    GUARDRAIL_LIMITS: JSON.stringify({
      'session.logoff': { perRequest: 2, perHour: 100, overLimit: 'refuse' },
    }),
  },
  waitTimeOverrides: { WaitGracePeriod: 50 },
});
const { signed, submit, finished, awaitingApproval } = local;

interface TimelineEntry {
  actionId: string;
  at: string;
  type: string;
  summary: string;
  details?: Record<string, unknown>;
}

const sha256 = (text: string) =>
  `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;

/** The timeline as the API returns it, after checking it is in time order. */
async function timeline(actionId: string): Promise<TimelineEntry[]> {
  const view = await signed(`/v1/actions/${actionId}`);
  expect(view.status).toBe(200);
  const entries = view.body.timeline as TimelineEntry[];
  expect(entries.every((entry) => entry.actionId === actionId)).toBe(true);
  const times = entries.map((entry) => entry.at);
  expect([...times].sort()).toEqual(times);
  return entries;
}

const line = (entry: TimelineEntry) => `${entry.type}: ${entry.summary}`;

/**
 * Expects each pattern to match a timeline line, in this order; returns the matched positions.
 * A pattern that matches nothing fails the test, naming it and listing the whole timeline.
 */
function expectInOrder(entries: readonly TimelineEntry[], patterns: readonly RegExp[]): number[] {
  const lines = entries.map(line);
  const positions: number[] = [];
  let from = 0;
  for (const pattern of patterns) {
    const position = lines.findIndex((text, index) => index >= from && pattern.test(text));
    expect(position, `${pattern} after line ${from} in:\n${lines.join('\n')}`).toBeGreaterThan(-1);
    positions.push(position);
    from = position + 1;
  }
  return positions;
}

const decisions = (entries: readonly TimelineEntry[]) =>
  entries.filter((entry) => entry.type === 'decision').map((entry) => entry.details?.decision);

describe('the request entry', () => {
  it("records a person's API request: source, authenticated principal and the digest of the exact body", async () => {
    const { actionId, body } = await submit(
      { action: 'session.disconnect', target: { user: 'carol@example.com' } },
      { idempotencyKey: 'rehearsal-42' },
    );
    await finished(actionId);
    const entries = await timeline(actionId);
    const identity =
      'requester@example.com, authenticated as IAM principal arn:aws:iam::000000000000:user/requester@example.com (Idempotency-Key rehearsal-42)';
    expect(entries[0]).toEqual({
      actionId,
      at: expect.any(String),
      type: 'request',
      summary: `Request from api: ${identity}`,
      details: { source: 'api', identity, payloadDigest: sha256(body) },
    });
    expect(entries[1]).toMatchObject({
      type: 'decision',
      summary: 'Accepted',
      details: { decision: 'accepted' },
    });
    expect(entries.filter((entry) => entry.type === 'request')).toHaveLength(1);
    // Only the digest: the body itself (its reason, say) is never stored.
    expect(JSON.stringify(entries)).not.toContain('audit timeline test');
  });

  it('records a source delivery: the source, its delivery and credential, and the raw body digest', async () => {
    const splunk = readFileSync(
      new URL('../../docs/sources/samples/splunk.json', import.meta.url),
      'utf8',
    );
    const response = await fetch(
      `${local.stack.apiUrl}/v1/webhooks/splunk/${LOCAL_DEMO_SOURCE_SECRETS.splunk.token}`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: splunk },
    );
    expect(response.status).toBe(202);
    const accepted = (await response.json()) as {
      deliveryId: string;
      actions: { actionId: string }[];
    };
    expect(accepted.actions).toHaveLength(1);
    const actionId = accepted.actions[0]?.actionId ?? '';
    await finished(actionId);
    const entries = await timeline(actionId);
    expect(entries[0]).toMatchObject({
      type: 'request',
      summary: expect.stringMatching(
        new RegExp(`^Request from splunk: splunk delivery ${accepted.deliveryId} \\(`),
      ),
      details: {
        source: 'splunk',
        identity: expect.stringMatching(
          new RegExp(
            `^splunk delivery ${accepted.deliveryId} \\(.+\\), authenticated by its splunk credential$`,
          ),
        ),
        payloadDigest: sha256(splunk),
      },
    });
    expect(entries[1]).toMatchObject({ type: 'decision', details: { decision: 'accepted' } });
    expect(JSON.stringify(entries)).not.toContain(LOCAL_DEMO_SOURCE_SECRETS.splunk.token);
  });
});

describe('decisions', () => {
  it('records a refusal by a guard, with its reason, and no Citrix change after it', async () => {
    const { actionId } = await submit({
      action: 'session.logoff',
      target: { user: 'erin@example.com' },
    });
    expect((await finished(actionId)).status).toBe('refused');
    const entries = await timeline(actionId);
    const reason = '3 targets exceed the limit of 2 per request for session.logoff';
    const [, , , refused] = expectInOrder(entries, [
      /^request: Request from api: /,
      /^decision: Accepted$/,
      /^citrix_call: POST \/cvad\/manage\/Sessions\/\$search → 200 /,
      /^decision: Refused: /,
    ]);
    expect(entries[refused ?? -1]).toMatchObject({
      summary: `Refused: ${reason}`,
      details: { decision: 'refused', reasons: [reason] },
    });
    expect(decisions(entries)).toEqual(['accepted', 'refused']);
    expect(entries.map(line).filter((text) => /\$logoff|target_outcome/.test(text))).toEqual([]);
  });

  it('records what a dry run planned, and no Citrix change', async () => {
    const { actionId } = await submit({
      action: 'session.logoff',
      target: { user: 'alice@example.com' },
      dryRun: true,
    });
    expect((await finished(actionId)).status).toBe('planned');
    const entries = await timeline(actionId);
    const [, , , planned] = expectInOrder(entries, [
      /^request: Request from api: /,
      /^decision: Accepted$/,
      /^citrix_call: POST \/cvad\/manage\/Sessions\/\$search → 200 /,
      /^decision: Planned \(dry run\): 2 of 2 targets would be acted on$/,
    ]);
    expect(entries[planned ?? -1]?.details).toEqual({ decision: 'planned', reasons: [] });
    expect(decisions(entries)).toEqual(['accepted', 'planned']);
    expect(entries.map(line).filter((text) => /\$logoff|target_outcome/.test(text))).toEqual([]);
  });

  it('records who rejected a held action and why, and nothing acted on after it', async () => {
    const { actionId } = await submit({
      action: 'device.wipe',
      target: { deviceId: DEVICES.bobPhone },
    });
    await awaitingApproval(actionId);
    const rejected = await local.decide(actionId, 'reject', { comment: 'not this phone' });
    expect(rejected.status).toBe(200);
    expect((await finished(actionId)).status).toBe('rejected');
    const entries = await timeline(actionId);
    const [, , , held, rejection] = expectInOrder(entries, [
      /^request: Request from api: /,
      /^decision: Accepted$/,
      /^citrix_call: GET \/xenmobile\/api\/v1\/device\/.* → 200/,
      /^decision: Held for approval: device\.wipe needs approval$/,
      /^decision: Rejected by approver@example\.com: not this phone$/,
    ]);
    expect(entries[held ?? -1]?.details).toMatchObject({ decision: 'held' });
    expect(entries[rejection ?? -1]?.details).toMatchObject({
      decision: 'rejected',
      by: 'approver@example.com',
    });
    expect(decisions(entries)).toEqual(['accepted', 'held', 'rejected']);
    const after = entries.slice((rejection ?? 0) + 1).map(line);
    expect(after.filter((text) => /wipe|target_outcome/.test(text))).toEqual([]);
    expect(JSON.stringify(entries)).not.toContain('local-task-token');
  });

  it('records that nobody approved in time, after the hold', async () => {
    const { actionId } = await submit({
      action: 'device.wipe',
      target: { deviceId: DEVICES.carolPhone },
    });
    expect((await finished(actionId)).status).toBe('expired');
    const entries = await timeline(actionId);
    const [, , expired] = expectInOrder(entries, [
      /^decision: Accepted$/,
      /^decision: Held for approval: device\.wipe needs approval$/,
      /^decision: Expired: nobody approved the action in time$/,
    ]);
    expect(entries[expired ?? -1]?.details).toEqual({ decision: 'expired' });
    expect(decisions(entries)).toEqual(['accepted', 'held', 'expired']);
    expect(entries.map(line).filter((text) => /device\/wipe|target_outcome/.test(text))).toEqual(
      [],
    );
  });
});

describe('Citrix calls', () => {
  it('records each warning $sendMessage call, then the actions and outcomes after the grace period', async () => {
    const { actionId } = await submit({
      action: 'session.disconnect',
      target: { user: 'alice@example.com' },
      notify: { title: 'Security', text: 'Your session ends soon.', graceSeconds: 60 },
    });
    expect((await finished(actionId)).status).toBe('succeeded');
    const entries = await timeline(actionId);
    const sessionCall = (sessionId: string, operation: string) =>
      new RegExp(
        `^citrix_call: POST /cvad/manage/Sessions/${sessionId}/\\$${operation} → 20\\d \\(\\d+ ms\\)$`,
      );
    const sendMessages = entries.filter((entry) => /\$sendMessage/.test(entry.summary));
    expect(sendMessages).toHaveLength(2);
    for (const entry of sendMessages) {
      expect(entry.details).toMatchObject({
        method: 'POST',
        path: expect.stringMatching(/^\/cvad\/manage\/Sessions\/[0-9a-f-]+\/\$sendMessage$/),
        status: expect.any(Number),
        transactionId: expect.any(String),
        durationMs: expect.any(Number),
        attempt: 1,
      });
    }
    const messages = sendMessages.map((entry) => entries.indexOf(entry));
    const disconnects = entries
      .map((entry, index) => (/\$disconnect/.test(entry.summary) ? index : -1))
      .filter((index) => index >= 0);
    const outcomes = entries
      .map((entry, index) => (entry.type === 'target_outcome' ? index : -1))
      .filter((index) => index >= 0);
    expect(disconnects).toHaveLength(2);
    expect(outcomes).toHaveLength(2);
    // Every warning before any disconnect, every disconnect before the outcomes.
    expect(Math.max(...messages)).toBeLessThan(Math.min(...disconnects));
    expect(Math.max(...disconnects)).toBeLessThan(Math.min(...outcomes));
    for (const sessionId of [SESSIONS.alice1, SESSIONS.alice2]) {
      expectInOrder(entries, [
        /^decision: Accepted$/,
        sessionCall(sessionId, 'sendMessage'),
        sessionCall(sessionId, 'disconnect'),
        new RegExp(`^target_outcome: ${sessionId} succeeded`),
      ]);
    }
  });
});
