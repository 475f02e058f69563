import { describe, expect, it } from 'vitest';
import { toActionView } from '../../../lib/actions/view.ts';
import { type NotifiableActionRecord, notifyActionOutcome } from '../../../lib/callbacks/notify.ts';
import { ServiceNowClient, workNoteFor } from '../../../lib/callbacks/servicenow.ts';
import { SignedCallbackSender } from '../../../lib/callbacks/signed-callback.ts';
import { DEFAULT_RETRY_POLICY } from '../../../lib/citrix/retry.ts';
import { verifyStandardWebhook } from '../../../lib/webhooks/standard-webhooks.ts';
import { type RecordedRequest, useLoopbackServers } from '../../support/loopback-server.ts';

const startLoopback = useLoopbackServers();

const SYS_ID = '9d385017c611228701d22104cc95c371';
const SECRET = `whsec_${Buffer.from('notify test signing secret 32 b').toString('base64')}`;
const AT = '2025-06-01T10:00:00.000Z';
const SESSION = '11111111-1111-1111-1111-111111111111';

const RECORD: NotifiableActionRecord = {
  actionId: 'act_0123456789abcdef0123456789abcdef',
  action: 'session.logoff',
  target: { sessionId: SESSION },
  reason: 'Suspicious session',
  requestedBy: 'soc@example.com',
  dryRun: false,
  status: 'succeeded',
  createdAt: AT,
  updatedAt: AT,
  summary: '1 of 1 session logged off',
  targets: [{ sessionId: SESSION }],
  results: { [SESSION]: { sessionId: SESSION, outcome: 'succeeded', finishedAt: AT } },
  expiresAt: 1_800_000_000,
  source: { name: 'servicenow', serviceNowIncident: { sysId: SYS_ID, number: 'INC0010002' } },
  callback: 'soar',
};

// Fixed clock for the `at` of each outcome.
const clock = () => new Date('2025-06-01T10:05:00.000Z');

function replying(status: number) {
  return startLoopback((_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json' }).end('{}');
  });
}

const transport = {
  timeoutMs: 2000,
  retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: 2 },
  sleep: async () => undefined,
};

function serviceNowAt(url: URL) {
  return new ServiceNowClient({
    connection: async () => ({
      instanceUrl: url,
      username: 'citrix.response',
      password: 'pw-notify-1',
    }),
    ...transport,
  });
}

function callbacksTo(url: URL) {
  return new SignedCallbackSender({
    destinations: new Map([['soar', url]]),
    signingSecret: async () => SECRET,
    ...transport,
  });
}

describe('notifyActionOutcome', () => {
  it('writes the work note and sends the signed callback, recording both', async () => {
    const serviceNow = await replying(200);
    const receiver = await replying(204);

    const outcomes = await notifyActionOutcome(
      { serviceNow: serviceNowAt(serviceNow.baseUrl), callbacks: callbacksTo(receiver.baseUrl) },
      RECORD,
      clock,
    );

    expect(outcomes).toEqual([
      {
        channel: 'servicenow',
        destination: SYS_ID,
        status: 'delivered',
        attempts: 1,
        at: '2025-06-01T10:05:00.000Z',
      },
      {
        channel: 'callback',
        destination: 'soar',
        status: 'delivered',
        attempts: 1,
        at: '2025-06-01T10:05:00.000Z',
      },
    ]);
    const note = serviceNow.requests[0] as RecordedRequest;
    expect(note.path).toBe(`/api/now/table/incident/${SYS_ID}`);
    expect(JSON.parse(note.body)).toEqual({ work_notes: workNoteFor(RECORD) });

    const callback = receiver.requests[0] as RecordedRequest;
    expect(callback.headers['webhook-id']).toBe(`${RECORD.actionId}:succeeded`);
    // The public view only: who asked and the destination's name, none of the bookkeeping.
    expect(JSON.parse(callback.body)).toEqual(JSON.parse(JSON.stringify(toActionView(RECORD))));
    expect(JSON.parse(callback.body)).toMatchObject({
      source: { name: 'servicenow', serviceNowIncident: { number: 'INC0010002' } },
      callback: 'soar',
    });
    expect(JSON.parse(callback.body)).not.toHaveProperty('expiresAt');
    expect(() =>
      verifyStandardWebhook(SECRET, callback.body, callback.headers as Record<string, string>),
    ).not.toThrow();
  });

  it('records a failed work note and still sends the callback, without throwing', async () => {
    const serviceNow = await replying(503);
    const receiver = await replying(200);

    const outcomes = await notifyActionOutcome(
      { serviceNow: serviceNowAt(serviceNow.baseUrl), callbacks: callbacksTo(receiver.baseUrl) },
      RECORD,
      clock,
    );

    expect(outcomes).toHaveLength(2);
    expect(outcomes[0]).toMatchObject({
      channel: 'servicenow',
      destination: SYS_ID,
      status: 'failed',
      attempts: 2,
      error: { name: 'ServiceNowError' },
    });
    expect(outcomes[0]?.error?.message).toMatch(/failed with 503 after 2 attempts/);
    expect(outcomes[0]?.error?.message).not.toContain('pw-notify-1');
    expect(outcomes[1]).toMatchObject({ channel: 'callback', status: 'delivered', attempts: 1 });
    expect(serviceNow.requests).toHaveLength(2);
    expect(receiver.requests).toHaveLength(1);
  });

  it('records a failed callback after a delivered work note', async () => {
    const serviceNow = await replying(200);
    const receiver = await replying(400);

    const outcomes = await notifyActionOutcome(
      { serviceNow: serviceNowAt(serviceNow.baseUrl), callbacks: callbacksTo(receiver.baseUrl) },
      { ...RECORD, status: 'failed' },
      clock,
    );

    expect(outcomes.map((outcome) => [outcome.channel, outcome.status])).toEqual([
      ['servicenow', 'delivered'],
      ['callback', 'failed'],
    ]);
    expect(outcomes[1]).toMatchObject({
      attempts: 1,
      error: { name: 'CallbackDeliveryError' },
    });
    expect(receiver.requests[0]?.headers['webhook-id']).toBe(`${RECORD.actionId}:failed`);
  });

  it('records a destination the operator did not configure as failed', async () => {
    const receiver = await replying(200);
    const outcomes = await notifyActionOutcome(
      { callbacks: callbacksTo(receiver.baseUrl) },
      { ...RECORD, source: { name: 'api' }, callback: 'gone' },
      clock,
    );
    expect(outcomes).toEqual([
      expect.objectContaining({
        channel: 'callback',
        destination: 'gone',
        status: 'failed',
        attempts: 0,
        error: expect.objectContaining({ name: 'UnknownCallbackError' }),
      }),
    ]);
    expect(receiver.requests).toHaveLength(0);
  });

  it('records a requested channel with no client as failed, with a clear error', async () => {
    const outcomes = await notifyActionOutcome({}, RECORD, clock);
    expect(outcomes).toEqual([
      {
        channel: 'servicenow',
        destination: SYS_ID,
        status: 'failed',
        attempts: 0,
        at: '2025-06-01T10:05:00.000Z',
        error: {
          name: 'NotificationNotConfiguredError',
          message: expect.stringMatching(/ServiceNow work notes are not configured/),
        },
      },
      {
        channel: 'callback',
        destination: 'soar',
        status: 'failed',
        attempts: 0,
        at: '2025-06-01T10:05:00.000Z',
        error: {
          name: 'NotificationNotConfiguredError',
          message: expect.stringMatching(/signed callbacks are not configured/),
        },
      },
    ]);
  });

  it('catches a dependency that throws something other than an Error', async () => {
    const outcomes = await notifyActionOutcome(
      {
        serviceNow: {
          addWorkNote: () => Promise.reject('secrets manager unavailable'),
        },
      },
      { ...RECORD, callback: undefined },
      clock,
    );
    expect(outcomes).toEqual([
      expect.objectContaining({
        status: 'failed',
        error: { name: 'Error', message: 'secrets manager unavailable' },
      }),
    ]);
  });

  it('sends nothing when nothing was asked, or while the action is still running', async () => {
    let calls = 0;
    const deps = {
      serviceNow: {
        addWorkNote: async () => {
          calls += 1;
          return { attempts: 1 };
        },
      },
      callbacks: {
        send: async () => {
          calls += 1;
          return { status: 200, attempts: 1 };
        },
      },
    };
    const { source: _source, callback: _callback, ...plain } = RECORD;
    expect(await notifyActionOutcome(deps, plain, clock)).toEqual([]);
    expect(await notifyActionOutcome(deps, { ...RECORD, status: 'running' }, clock)).toEqual([]);
    expect(calls).toBe(0);
  });
});
