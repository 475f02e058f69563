import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyStandardWebhook } from '../../lib/webhooks/standard-webhooks.ts';
import { LOCAL_DEMO_PEOPLE, LOCAL_DEMO_SOURCE_SECRETS } from '../../local/defaults.ts';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { sigV4Fetch } from '../support/local-stack.ts';
import { type LoopbackServer, startLoopbackServer } from '../support/loopback-server.ts';
import { TEST_SIGNING_SECRET } from '../support/signed-request.ts';
import { FAST_WORKFLOW, TEST_ENV, testFixture } from '../support/simulator-fixture.ts';

/** A signed callback to an operator-configured destination when an action ends, end to end. */
const CALLBACK_SECRET = `whsec_${Buffer.from('callback signing secret for tests').toString('base64')}`;
let stack: LocalStack;
let receiver: LoopbackServer;
let failing: LoopbackServer;

beforeAll(async () => {
  receiver = await startLoopbackServer((_request, response) => {
    response.writeHead(204);
    response.end();
  });
  failing = await startLoopbackServer((_request, response) => {
    response.writeHead(503);
    response.end();
  });
  stack = await startLocalStack({
    env: {
      ...TEST_ENV,
      WEBHOOK_SECRET: TEST_SIGNING_SECRET,
      CALLBACK_SIGNING_SECRET: CALLBACK_SECRET,
      CALLBACK_DESTINATIONS: JSON.stringify({
        soar: `${receiver.baseUrl.origin}/hooks/citrix`,
        broken: `${failing.baseUrl.origin}/hooks/citrix`,
      }),
    },
    simulatorFixture: testFixture(),
    ...FAST_WORKFLOW,
  });
});

afterAll(async () => {
  await stack.close();
  await receiver.close();
  await failing.close();
});

async function act(callback: string): Promise<string> {
  const body = JSON.stringify({
    action: 'session.disconnect',
    target: { user: 'alice@example.com' },
    reason: 'callback test',
    callback,
  });
  // Signed by a demo person: the stack runs on the simulator without LOCAL_PEOPLE.
  const response = await sigV4Fetch(`${stack.apiUrl}/v1/actions`, {
    body,
    credentials: LOCAL_DEMO_PEOPLE['soc.lead@example.com'],
  });
  expect(response.status).toBe(202);
  const { actionId } = (await response.json()) as { actionId: string };
  await stack.runner.execution(actionId)?.done;
  return actionId;
}

describe('signed callbacks', () => {
  it('posts the finished action, signed, once, to the destination the request named', async () => {
    const actionId = await act('soar');
    expect(receiver.requests).toHaveLength(1);
    const [delivery] = receiver.requests;
    expect(delivery?.path).toBe('/hooks/citrix');
    const headers = Object.fromEntries(
      Object.entries(delivery?.headers ?? {}).map(([name, value]) => [name, String(value)]),
    );
    expect(headers['webhook-id']).toBe(`${actionId}:succeeded`);
    verifyStandardWebhook(CALLBACK_SECRET, delivery?.body ?? '', headers);
    expect(JSON.parse(delivery?.body ?? '')).toMatchObject({ actionId, status: 'succeeded' });
    const record = await stack.actions.get(actionId);
    expect(record?.notifications).toEqual([
      expect.objectContaining({ channel: 'callback', destination: 'soar', status: 'delivered' }),
    ]);
  });

  it('records a failed callback after its retries, and keeps the action’s own outcome', async () => {
    const actionId = await act('broken');
    const record = await stack.actions.get(actionId);
    expect(record?.status).toBe('succeeded');
    expect(record?.notifications).toEqual([
      expect.objectContaining({
        channel: 'callback',
        destination: 'broken',
        status: 'failed',
        attempts: 4,
        error: expect.objectContaining({ name: 'CallbackDeliveryError' }),
      }),
    ]);
    expect(failing.requests).toHaveLength(4);
  });

  it('calls back the destination a ServiceNow request names, and refuses an unknown one', async () => {
    const { username, password } = LOCAL_DEMO_SOURCE_SECRETS.servicenow;
    const post = (body: unknown) =>
      fetch(`${stack.apiUrl}/v1/webhooks/servicenow`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
        },
        body: JSON.stringify(body),
      });
    const request = {
      sys_id: 'c0ffee00c0ffee00c0ffee00c0ffee00',
      number: 'INC0020001',
      action: 'session.disconnect',
      target: { user: 'alice@example.com' },
      callback: 'soar',
    };
    const before = receiver.requests.length;
    const response = await post(request);
    expect(response.status).toBe(202);
    const { actions } = (await response.json()) as { actions: { actionId: string }[] };
    const actionId = actions[0]?.actionId ?? '';
    await stack.runner.execution(actionId)?.done;

    const delivered = receiver.requests.slice(before);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]?.headers['webhook-id']).toBe(`${actionId}:succeeded`);
    expect((await stack.actions.get(actionId))?.callback).toBe('soar');

    const unknown = await post({
      ...request,
      sys_id: 'c0ffee00c0ffee00c0ffee00c0ffee01',
      callback: 'evil',
    });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { fields: unknown } }).error.fields).toEqual([
      { field: 'callback', message: 'no callback destination named "evil"' },
    ]);
  });
});
