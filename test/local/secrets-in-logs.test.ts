import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signStandardWebhook } from '../../lib/webhooks/standard-webhooks.ts';
import type { LocalStack } from '../../local/stack.ts';
import { sigV4Fetch } from '../support/local-stack.ts';
import { type LoopbackServer, startLoopbackServer } from '../support/loopback-server.ts';
import {
  type SigV4Credentials,
  TEST_PEOPLE,
  TEST_SIGNING_SECRET,
} from '../support/signed-request.ts';
import {
  ADMINS,
  DEVICES,
  FAST_WORKFLOW,
  TEST_CLIENT,
  TEST_EM_ADMIN,
  TEST_ENV,
  testFixture,
} from '../support/simulator-fixture.ts';
import { secretsIn, TEST_SECRET_PATTERNS } from '../support/test-secrets.ts';

/**
 * Runs actions with every log line enabled (DEBUG) and checks that nothing written to stdout or
 * stderr carries a secret: not the Citrix client secret, not the signing secret, not a bearer
 * token, not the Endpoint Management password or auth_token, not a task token, not a signature,
 * a person's secret access key or a ServiceNow credential — through logoffs, wipes, approvals and rejections, warnings,
 * administrator revokes, source deliveries, signed callbacks and ServiceNow work notes.
 */
const written: string[] = [];
const originalStdout = process.stdout.write.bind(process.stdout);
const originalStderr = process.stderr.write.bind(process.stderr);
/** The level vitest.config.ts gives every test file, before this file sets its own. */
const configuredLogLevel = process.env.POWERTOOLS_LOG_LEVEL;
const CALLBACK_SECRET = `whsec_${Buffer.from('callback signing secret for tests').toString('base64')}`;
const SERVICENOW_API = { username: 'citrix.response', password: 'table-api-password-1' };
let stack: LocalStack;
let callbacks: LoopbackServer;
let serviceNow: LoopbackServer;

beforeAll(async () => {
  callbacks = await startLoopbackServer((_request, response) => {
    response.writeHead(204);
    response.end();
  });
  serviceNow = await startLoopbackServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ result: { sys_id: '9d385017c611228701d22104cc95c371' } }));
  });
  const capture =
    (original: typeof process.stdout.write) =>
    (chunk: unknown, ...rest: unknown[]): boolean => {
      written.push(String(chunk));
      return (original as (chunk: unknown, ...rest: unknown[]) => boolean)(chunk, ...rest);
    };
  process.stdout.write = capture(originalStdout) as typeof process.stdout.write;
  process.stderr.write = capture(originalStderr) as typeof process.stderr.write;
  // The logger reads its level when its module loads: set it, then load the stack.
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  const { startLocalStack } = await import('../../local/stack.ts');
  stack = await startLocalStack({
    env: {
      ...TEST_ENV,
      WEBHOOK_SECRET: TEST_SIGNING_SECRET,
      LOCAL_PEOPLE: JSON.stringify(TEST_PEOPLE),
      // Administrator login, so the Endpoint Management password is in play too.
      CITRIX_EM_AUTH: 'credentials',
      // Task tokens: a selective wipe waits for approval (a full wipe does not, here).
      APPROVAL_REQUIRED: 'device.selectiveWipe',
      CALLBACK_DESTINATIONS: JSON.stringify({ soar: `${callbacks.baseUrl.origin}/hooks` }),
      CALLBACK_SIGNING_SECRET: CALLBACK_SECRET,
      SERVICENOW_INSTANCE_URL: serviceNow.baseUrl.origin,
      SERVICENOW_API_USERNAME: SERVICENOW_API.username,
      SERVICENOW_API_PASSWORD: SERVICENOW_API.password,
    },
    simulatorFixture: testFixture(),
    ...FAST_WORKFLOW,
    waitTimeOverrides: { ...FAST_WORKFLOW.waitTimeOverrides, WaitGracePeriod: 50 },
  });
});

afterAll(async () => {
  await stack.close();
  await callbacks.close();
  await serviceNow.close();
  process.stdout.write = originalStdout;
  process.stderr.write = originalStderr;
});

/** A person's POST (SigV4, requester@example.com unless `credentials` say otherwise). */
function send(
  body: string,
  credentials: SigV4Credentials = TEST_PEOPLE['requester@example.com'],
  path = '/v1/actions',
): Promise<Response> {
  return sigV4Fetch(`${stack.apiUrl}${path}`, { body, credentials });
}

/** Requests an action as a person; its id. */
async function act(request: Record<string, unknown>): Promise<string> {
  const response = await send(JSON.stringify({ reason: 'log scan', ...request }));
  expect(response.status).toBe(202);
  return ((await response.json()) as { actionId: string }).actionId;
}

const ended = async (actionId: string) => {
  await stack.runner.execution(actionId)?.done;
  return stack.actions.get(actionId);
};

async function awaitingApproval(actionId: string) {
  for (let i = 0; i < 200; i += 1) {
    const record = await stack.actions.get(actionId);
    if (record?.status === 'awaiting_approval') return record;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${actionId} never awaited approval`);
}

/** What was written from `before` on: asserted free of every secret, known or minted. */
function writtenSince(before: number): string {
  const output = written.slice(before).join('');
  expect(secretsIn(output)).toEqual([]);
  return output;
}

describe('logs', () => {
  it('never carry a secret, through successes, rejections, throttling and token expiry', async () => {
    stack.simulator?.setFaults({ throttle: { count: 2, retryAfterSeconds: 0 } });
    const logoff = JSON.stringify({
      action: 'session.logoff',
      target: { user: 'erin@example.com' },
      reason: 'log scan',
    });
    const accepted = (await (await send(logoff)).json()) as { actionId: string };
    stack.simulator?.expireTokens();
    const wrongKey = {
      accessKeyId: TEST_PEOPLE['requester@example.com'].accessKeyId,
      secretAccessKey: 'wrong secret access key here',
    };
    expect((await send(logoff, wrongKey)).status).toBe(403);
    const done = await stack.runner.execution(accepted.actionId)?.done;
    expect(done?.status).toBe('SUCCEEDED');

    const output = written.join('');
    // Something was logged, so the scan means something.
    expect(output).toContain(accepted.actionId);
    for (const secret of [
      TEST_CLIENT.clientSecret,
      TEST_SIGNING_SECRET,
      TEST_SIGNING_SECRET.slice('whsec_'.length),
      TEST_PEOPLE['requester@example.com'].secretAccessKey,
      wrongKey.secretAccessKey,
    ]) {
      expect(output).not.toContain(secret);
    }
    expect(output).not.toMatch(/bearer=(?!\*\*\*)[A-Za-z0-9]/i);
  });

  it('never carry the Endpoint Management password or auth_token, through wipes, failures and re-logins', async () => {
    const before = written.length;
    const wipe = (user: string) =>
      JSON.stringify({ action: 'device.wipe', target: { user }, reason: 'log scan' });
    const first = (await (await send(wipe('carol@example.com'))).json()) as { actionId: string };
    expect((await stack.runner.execution(first.actionId)?.done)?.status).toBe('SUCCEEDED');
    stack.simulator?.expireTokens();
    const second = (await (await send(wipe('dave@example.com'))).json()) as { actionId: string };
    expect((await stack.runner.execution(second.actionId)?.done)?.status).toBe('SUCCEEDED');

    const output = written.slice(before).join('');
    expect(output).toContain(first.actionId);
    expect(output).toContain(second.actionId);
    expect(output).not.toContain(TEST_EM_ADMIN.password);
    // The simulator's auth_token format: 32 hex digits, a colon, 32 hex digits.
    expect(output).not.toMatch(/[0-9a-f]{32}:[0-9a-f]{32}/i);
  });

  it('never carry a source credential: not the Splunk token in the URL path, not an API key', async () => {
    const before = written.length;
    const { LOCAL_DEMO_SOURCE_SECRETS } = await import('../../local/defaults.ts');
    const { readFileSync } = await import('node:fs');
    const splunk = readFileSync(
      new URL('../../docs/sources/samples/splunk.json', import.meta.url),
      'utf8',
    );
    const token = LOCAL_DEMO_SOURCE_SECRETS.splunk.token;
    const accepted = await fetch(`${stack.apiUrl}/v1/webhooks/splunk/${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: splunk,
    });
    expect(accepted.status).toBe(202);
    const rejected = await fetch(`${stack.apiUrl}/v1/webhooks/sentinel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'guessed-api-key-0123456789' },
      body: '{}',
    });
    expect(rejected.status).toBe(401);
    await stack.runner.idle();
    const output = written.slice(before).join('');
    expect(output).toContain('delivery received');
    expect(output).not.toContain(token);
    expect(output).not.toContain('guessed-api-key-0123456789');
    expect(output).not.toContain(LOCAL_DEMO_SOURCE_SECRETS.sentinel.apiKey);
  });

  it('never carry a task token, through an approval and a rejection', async () => {
    const before = written.length;
    const approved = await act({
      action: 'device.selectiveWipe',
      target: { deviceId: DEVICES.erin1 },
    });
    const rejected = await act({
      action: 'device.selectiveWipe',
      target: { deviceId: DEVICES.erin2 },
    });
    const tokens: string[] = [];
    for (const actionId of [approved, rejected]) {
      const held = await awaitingApproval(actionId);
      const token = (held as { approvalTaskToken?: string }).approvalTaskToken;
      expect(secretsIn(token ?? ''), 'the task token is recognised').toEqual([
        'a local Step Functions task token',
      ]);
      tokens.push(token ?? '');
    }
    for (const [actionId, decision] of [
      [approved, 'approve'],
      [rejected, 'reject'],
    ] as const) {
      const body = JSON.stringify({ comment: 'log scan' });
      const approver = TEST_PEOPLE['approver@example.com'];
      expect((await send(body, approver, `/v1/actions/${actionId}/${decision}`)).status).toBe(200);
    }
    expect((await ended(approved))?.status).toBe('succeeded');
    expect((await ended(rejected))?.status).toBe('rejected');

    const output = writtenSince(before);
    expect(output).toContain('approval decided');
    expect(output).toContain(approved);
    expect(output).toContain(rejected);
    for (const token of tokens) expect(output).not.toContain(token);
  });

  it('never carry a secret through a warning before acting', async () => {
    const before = written.length;
    const actionId = await act({
      action: 'session.disconnect',
      target: { user: 'carol@example.com' },
      notify: { title: 'Security', text: 'Your session ends soon.', graceSeconds: 60 },
    });
    const record = await ended(actionId);
    expect(record?.status).toBe('succeeded');
    expect(record?.warnings?.map((warning) => warning.status)).toEqual(['sent']);
    expect(writtenSince(before)).toContain(actionId);
  });

  it('never carry a secret through an administrator revoke', async () => {
    const before = written.length;
    const actionId = await act({ action: 'admin.revoke', target: { admin: ADMINS.mallory.email } });
    expect((await ended(actionId))?.status).toBe('succeeded');
    expect(writtenSince(before)).toContain(actionId);
  });

  it('never carry a callback signature or a ServiceNow credential, through callbacks and work notes', async () => {
    const before = written.length;
    const actionId = await act({
      action: 'session.disconnect',
      target: { user: 'dave@example.com' },
      callback: 'soar',
    });
    expect((await ended(actionId))?.status).toBe('succeeded');
    expect(callbacks.requests).toHaveLength(1);
    const signature = String(callbacks.requests[0]?.headers['webhook-signature']);
    expect(secretsIn(signature)).toEqual(['a Standard Webhooks signature']);

    const { readFileSync } = await import('node:fs');
    const { LOCAL_DEMO_SOURCE_SECRETS } = await import('../../local/defaults.ts');
    const sample = JSON.parse(
      readFileSync(new URL('../../docs/sources/samples/servicenow.json', import.meta.url), 'utf8'),
    ) as Record<string, unknown>;
    const { username, password } = LOCAL_DEMO_SOURCE_SECRETS.servicenow;
    const delivered = await fetch(`${stack.apiUrl}/v1/webhooks/servicenow`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
      },
      body: JSON.stringify({ ...sample, target: { user: 'bob@example.com' } }),
    });
    expect(delivered.status).toBe(202);
    const { actions } = (await delivered.json()) as { actions: { actionId: string }[] };
    expect(actions).toHaveLength(1);
    expect((await ended(actions[0]?.actionId ?? ''))?.status).toBe('succeeded');
    expect(serviceNow.requests.length).toBeGreaterThan(0);
    const authorization = String(serviceNow.requests[0]?.headers.authorization);
    expect(secretsIn(authorization)).toEqual(['ServiceNow Table API Basic credentials']);

    const output = writtenSince(before);
    expect(output).toContain(actionId);
    expect(output).toContain('delivery received');
  });

  it('keep the audit trail free of secrets too, for every action of this file', async () => {
    const { TEST_SECRETS } = await import('../support/test-secrets.ts');
    await stack.runner.idle();
    const ids = [...stack.runner.executionNames()];
    expect(ids.length).toBeGreaterThan(3);
    for (const actionId of ids) {
      const view = await (await sigV4Fetch(`${stack.apiUrl}/v1/actions/${actionId}`)).text();
      expect(view).toContain('"timeline"');
      expect(view).toContain('citrix_call');
      for (const [name, secret] of TEST_SECRETS) {
        expect(view.includes(secret), `${name} in the timeline of ${actionId}`).toBe(false);
      }
      expect(secretsIn(view), `in the timeline of ${actionId}`).toEqual([]);
      expect(view).not.toMatch(/bearer=(?!\*\*\*)[A-Za-z0-9]|auth_token"?\s*[:=]\s*"?[0-9a-f]{8}/i);
    }
  });
});

describe('the scan of the whole test run', () => {
  it('sees every log line: every test file logs at DEBUG', () => {
    expect(configuredLogLevel).toBe('DEBUG');
  });

  it('recognises each secret minted during the run by its shape', async () => {
    const { cloudBearerToken, emLogin } = await import(
      './simulator/endpoint-management-helpers.ts'
    );
    const { createHmac } = await import('node:crypto');
    const simulator = stack.simulator;
    if (simulator === undefined) throw new Error('no simulator');
    const minted: [string, string][] = [
      ['simulator Citrix Cloud bearer token', await cloudBearerToken(simulator)],
      ['simulator Endpoint Management auth_token', await emLogin(simulator)],
      [
        'Standard Webhooks signature',
        signStandardWebhook(TEST_SIGNING_SECRET, 'msg_1', new Date(), '{}')['webhook-signature'],
      ],
      ['PagerDuty signature', `v1=${createHmac('sha256', 'k').update('{}').digest('hex')}`],
    ];
    for (const [name, value] of minted) {
      expect(secretsIn(`logged: ${value}.`), name).toEqual([`a ${name}`]);
    }
    // The task token is checked against a real one in the approval test above.
    expect(TEST_SECRET_PATTERNS.map(([name]) => name)).toEqual([
      ...minted.slice(0, 2).map(([name]) => name),
      'local Step Functions task token',
      ...minted.slice(2).map(([name]) => name),
    ]);
  });
});
