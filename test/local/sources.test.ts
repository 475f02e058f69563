import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signStandardWebhook } from '../../lib/webhooks/standard-webhooks.ts';
import { LOCAL_DEMO_PEOPLE, LOCAL_DEMO_SOURCE_SECRETS } from '../../local/defaults.ts';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { sigV4Fetch } from '../support/local-stack.ts';
import { type LoopbackServer, startLoopbackServer } from '../support/loopback-server.ts';
import { TEST_SIGNING_SECRET } from '../support/signed-request.ts';
import { FAST_WORKFLOW, SESSIONS, TEST_ENV, testFixture } from '../support/simulator-fixture.ts';

/**
 * Each source endpoint end to end over HTTP on loopback, with the sample payloads the docs show:
 * authenticated the source's own way, routed by config/routes.json, accepted exactly once, and
 * (for ServiceNow) reported back as a work note on a loopback Table API.
 */
const sample = (name: string) =>
  readFileSync(new URL(`../../docs/sources/samples/${name}.json`, import.meta.url), 'utf8');
const SECRETS = LOCAL_DEMO_SOURCE_SECRETS;
const SERVICENOW_API = { username: 'citrix.response', password: 'table-api-password-1' };

let stack: LocalStack;
let serviceNow: LoopbackServer;

beforeAll(async () => {
  serviceNow = await startLoopbackServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ result: { sys_id: '9d385017c611228701d22104cc95c371' } }));
  });
  stack = await startLocalStack({
    env: {
      ...TEST_ENV,
      WEBHOOK_SECRET: TEST_SIGNING_SECRET,
      SERVICENOW_INSTANCE_URL: serviceNow.baseUrl.origin,
      SERVICENOW_API_USERNAME: SERVICENOW_API.username,
      SERVICENOW_API_PASSWORD: SERVICENOW_API.password,
    },
    simulatorFixture: testFixture(),
    ...FAST_WORKFLOW,
  });
});

afterAll(async () => {
  await stack.close();
  await serviceNow.close();
});

beforeEach(() => {
  stack.simulator?.reset();
  serviceNow.requests.length = 0;
});

type Delivery = { path: string; body: string; headers?: Record<string, string> };

const basic = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
const pagerDutySignature = (body: string, secret: string) =>
  `v1=${createHmac('sha256', secret).update(body).digest('hex')}`;

const DELIVERIES: Record<string, (body: string) => Delivery> = {
  splunk: (body) => ({ path: `/v1/webhooks/splunk/${SECRETS.splunk.token}`, body }),
  sentinel: (body) => ({
    path: '/v1/webhooks/sentinel',
    body,
    headers: { 'x-api-key': SECRETS.sentinel.apiKey },
  }),
  servicenow: (body) => ({
    path: '/v1/webhooks/servicenow',
    body,
    headers: {
      authorization: basic(SECRETS.servicenow.username, SECRETS.servicenow.password),
    },
  }),
  pagerduty: (body) => ({
    path: '/v1/webhooks/pagerduty',
    body,
    headers: {
      'x-pagerduty-signature': pagerDutySignature(body, SECRETS.pagerduty.signingSecrets[0] ?? ''),
    },
  }),
  // The stack's WEBHOOK_SECRET is the standard source's key.
  standard: (body) => ({
    path: '/v1/webhooks/standard',
    body,
    headers: signStandardWebhook(TEST_SIGNING_SECRET, `msg_${body.length}`, new Date(), body),
  }),
};

async function deliver({ path, body, headers = {} }: Delivery) {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

interface AcceptedBody {
  status: string;
  actions: { actionId: string; action: string; target: Record<string, string> }[];
}

const settle = async (body: Record<string, unknown>) => {
  const actions = (body as unknown as AcceptedBody).actions ?? [];
  for (const action of actions) await stack.runner.execution(action.actionId)?.done;
  return actions;
};
const citrixMutations = () =>
  (stack.simulator?.requests() ?? []).filter(
    (r) => r.method === 'POST' && /\/\$(logoff|disconnect)$/.test(r.path),
  );

describe('source endpoints', () => {
  it.each([
    ['splunk', 'session.logoff', [{ user: 'alice@example.com' }]],
    ['sentinel', 'session.logoff', [{ user: 'alice@example.com' }, { user: 'bob@example.com' }]],
    ['servicenow', 'session.logoff', [{ user: 'alice@example.com' }]],
    ['pagerduty', 'session.disconnect', [{ user: 'alice@example.com' }]],
    ['standard', 'session.logoff', [{ user: 'alice@example.com' }]],
  ])(
    'accepts the %s sample and maps it to %s on the right targets',
    async (source, action, targets) => {
      const delivery = DELIVERIES[source];
      if (delivery === undefined) throw new Error(source);
      const response = await deliver(delivery(sample(source)));
      expect(response.status).toBe(202);
      expect(response.body.status).toBe('accepted');
      const actions = await settle(response.body);
      expect(actions.map((a) => [a.action, a.target])).toEqual(targets.map((t) => [action, t]));
      for (const { actionId } of actions) {
        const record = await stack.actions.get(actionId);
        expect(record).toMatchObject({
          status: 'succeeded',
          source: { name: source },
          requester: { kind: 'source', key: `source:${source}` },
        });
      }
    },
  );

  it.each([
    ['splunk', { path: '/v1/webhooks/splunk/not-the-token', body: sample('splunk') }],
    [
      'sentinel',
      {
        path: '/v1/webhooks/sentinel',
        body: sample('sentinel'),
        headers: { 'x-api-key': 'wrong' },
      },
    ],
    ['sentinel without a key', { path: '/v1/webhooks/sentinel', body: sample('sentinel') }],
    [
      'servicenow',
      {
        path: '/v1/webhooks/servicenow',
        body: sample('servicenow'),
        headers: { authorization: basic(SECRETS.servicenow.username, 'guess') },
      },
    ],
    [
      'pagerduty',
      {
        path: '/v1/webhooks/pagerduty',
        body: sample('pagerduty'),
        headers: {
          'x-pagerduty-signature': pagerDutySignature(sample('pagerduty'), 'wrong-secret'),
        },
      },
    ],
  ] as [string, Delivery][])(
    'answers 401 to %s with a wrong credential and starts nothing',
    async (_, delivery) => {
      const response = await deliver(delivery);
      expect(response.status).toBe(401);
      expect(response.body).toEqual({
        error: {
          code: 'unauthorized',
          message: expect.stringMatching(/could not be authenticated/),
        },
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(stack.simulator?.requests()).toEqual([]);
    },
  );

  it('acknowledges an alert no route matches as ignored, and does nothing', async () => {
    const alert = { ...JSON.parse(sample('splunk')), search_name: 'Disk almost full' };
    const response = await deliver(DELIVERIES.splunk?.(JSON.stringify(alert)) as Delivery);
    expect(response).toEqual({
      status: 202,
      body: {
        status: 'ignored',
        deliveryId: expect.stringMatching(/^dlv_/),
        reason: 'No splunk route matches "Disk almost full"',
      },
    });
    expect(stack.simulator?.requests()).toEqual([]);
  });

  it('answers 400 naming the field for a payload that is not what the source sends', async () => {
    const alert = { ...JSON.parse(sample('splunk')), sid: 42 };
    const response = await deliver(DELIVERIES.splunk?.(JSON.stringify(alert)) as Delivery);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      error: { code: 'invalid_payload', fields: [{ field: 'sid' }] },
    });
  });

  it('turns fifty concurrent identical deliveries into one action and one log off per session', async () => {
    // A new sid: the first test already delivered the sample, and that key is remembered.
    const alert = {
      ...JSON.parse(sample('splunk')),
      sid: 'scheduler__admin__search__RMD5storm_at_1',
    };
    const delivery = DELIVERIES.splunk?.(JSON.stringify(alert)) as Delivery;
    const responses = await Promise.all(Array.from({ length: 50 }, () => deliver(delivery)));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(202));
    const ids = new Set(
      responses.flatMap((r) => (r.body as unknown as AcceptedBody).actions.map((a) => a.actionId)),
    );
    expect(ids.size).toBe(1);
    const [actionId] = [...ids];
    await stack.runner.execution(actionId ?? '')?.done;
    await stack.runner.idle();
    const logoffs = citrixMutations()
      .map((r) => r.path)
      .sort();
    expect(logoffs).toEqual([
      `/cvad/manage/Sessions/${SESSIONS.alice1}/$logoff`,
      `/cvad/manage/Sessions/${SESSIONS.alice2}/$logoff`,
    ]);
    // A redelivery after the run still answers with the same action (hours later, within the
    // window, too: test/lib/sources/receive.test.ts moves the clock).
    const again = await deliver(delivery);
    expect((again.body as unknown as AcceptedBody).actions).toEqual([
      expect.objectContaining({ actionId, duplicate: true }),
    ]);
  });

  it('writes exactly one work note on the ServiceNow incident, with each target’s outcome', async () => {
    const sysId = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    const request = { ...JSON.parse(sample('servicenow')), sys_id: sysId };
    const response = await deliver(DELIVERIES.servicenow?.(JSON.stringify(request)) as Delivery);
    const [action] = await settle(response.body);
    const record = await stack.actions.get(action?.actionId ?? '');
    expect(record?.notifications).toEqual([
      expect.objectContaining({
        channel: 'servicenow',
        destination: sysId,
        status: 'delivered',
        attempts: 1,
      }),
    ]);
    expect(serviceNow.requests).toHaveLength(1);
    const [note] = serviceNow.requests;
    expect(note?.method).toBe('PATCH');
    expect(note?.path).toBe(`/api/now/table/incident/${sysId}`);
    expect(note?.headers.authorization).toBe(
      basic(SERVICENOW_API.username, SERVICENOW_API.password),
    );
    const workNotes = String(JSON.parse(note?.body ?? '{}').work_notes);
    expect(workNotes).toContain(`Citrix Response ${action?.actionId}: session.logoff succeeded`);
    expect(workNotes).toContain(`${SESSIONS.alice1}`);
    expect(workNotes).toContain('succeeded');
  });

  it('shows an action a source started on GET /v1/actions/{id}, at the statusUrl it answered', async () => {
    const incident = JSON.parse(sample('pagerduty'));
    incident.event.id = '01STATUSURLTEST0000000000';
    const response = await deliver(DELIVERIES.pagerduty?.(JSON.stringify(incident)) as Delivery);
    expect(response.status).toBe(202);
    const [action] = (
      response.body as unknown as {
        actions: { actionId: string; statusUrl: string }[];
      }
    ).actions;
    await stack.runner.execution(action?.actionId ?? '')?.done;
    expect(action?.statusUrl).toBe(`${stack.apiUrl}/v1/actions/${action?.actionId}`);

    // A person reads it, signed by a demo person (no LOCAL_PEOPLE here).
    const status = await sigV4Fetch(action?.statusUrl ?? '', {
      credentials: LOCAL_DEMO_PEOPLE['it.oncall@example.com'],
    });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({
      actionId: action?.actionId,
      action: 'session.disconnect',
      target: { user: 'alice@example.com' },
      status: 'succeeded',
      source: expect.objectContaining({ name: 'pagerduty' }),
      requester: { kind: 'source', key: 'source:pagerduty', name: expect.any(String) },
    });
  });

  it.each(['standard', 'servicenow'])(
    'refuses a runbook defined inline by %s with 400 naming target.definition, calling Citrix for nothing',
    async (source) => {
      // Its one step wipes: an action neither source may request (standard may run runbooks).
      const request = {
        ...JSON.parse(sample(source)),
        action: 'runbook.run',
        target: {
          definition: {
            name: 'inline-wipe',
            inputs: { user: { description: 'who' } },
            steps: [{ id: 'wipe', action: 'device.wipe', target: { user: '{{inputs.user}}' } }],
          },
        },
        inputs: { user: 'alice@example.com' },
      };
      const response = await deliver(DELIVERIES[source]?.(JSON.stringify(request)) as Delivery);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({
        error: { code: 'invalid_request', fields: [{ field: 'target.definition' }] },
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(stack.simulator?.requests()).toEqual([]);
    },
  );

  it('refuses a ServiceNow request for an action the rules do not allow it', async () => {
    const request = {
      ...JSON.parse(sample('servicenow')),
      action: 'device.wipe',
      target: { user: 'alice@example.com' },
    };
    const response = await deliver(DELIVERIES.servicenow?.(JSON.stringify(request)) as Delivery);
    expect(response.body).toMatchObject({
      status: 'ignored',
      reason: expect.stringContaining('ServiceNow may not request device.wipe'),
    });
  });
});
