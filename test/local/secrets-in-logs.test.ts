import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signStandardWebhook } from '../../lib/webhooks/standard-webhooks.ts';
import type { LocalStack } from '../../local/stack.ts';
import { TEST_SIGNING_SECRET } from '../support/signed-request.ts';
import {
  FAST_WORKFLOW,
  TEST_CLIENT,
  TEST_EM_ADMIN,
  TEST_ENV,
  testFixture,
} from '../support/simulator-fixture.ts';

/**
 * Runs actions with every log line enabled (DEBUG) and checks that nothing written to stdout or
 * stderr carries a secret: not the Citrix client secret, not the signing secret, not a bearer
 * token, not the Endpoint Management password or auth_token.
 */
const written: string[] = [];
const originalStdout = process.stdout.write.bind(process.stdout);
const originalStderr = process.stderr.write.bind(process.stderr);
let stack: LocalStack;

beforeAll(async () => {
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
    // Administrator login, so the Endpoint Management password is in play too.
    env: { ...TEST_ENV, WEBHOOK_SECRET: TEST_SIGNING_SECRET, CITRIX_EM_AUTH: 'credentials' },
    simulatorFixture: testFixture(),
    ...FAST_WORKFLOW,
  });
});

afterAll(async () => {
  await stack.close();
  process.stdout.write = originalStdout;
  process.stderr.write = originalStderr;
});

async function send(body: string, secret = TEST_SIGNING_SECRET): Promise<Response> {
  const headers = signStandardWebhook(secret, `msg_${randomUUID()}`, new Date(), body);
  return fetch(`${stack.apiUrl}/v1/actions`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body,
  });
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
    expect(
      (await send(logoff, `whsec_${Buffer.from('wrong secret here').toString('base64')}`)).status,
    ).toBe(401);
    const done = await stack.runner.execution(accepted.actionId)?.done;
    expect(done?.status).toBe('SUCCEEDED');

    const output = written.join('');
    // Something was logged, so the scan means something.
    expect(output).toContain(accepted.actionId);
    for (const secret of [
      TEST_CLIENT.clientSecret,
      TEST_SIGNING_SECRET,
      TEST_SIGNING_SECRET.slice('whsec_'.length),
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

  it('keep the audit trail free of secrets too, for every action of this file', async () => {
    const { TEST_SECRETS } = await import('../support/test-secrets.ts');
    const { signStandardWebhook } = await import('../../lib/webhooks/standard-webhooks.ts');
    await stack.runner.idle();
    const ids = [...stack.runner.executionNames()];
    expect(ids.length).toBeGreaterThan(3);
    for (const actionId of ids) {
      const headers = signStandardWebhook(TEST_SIGNING_SECRET, `msg_${actionId}`, new Date(), '');
      const view = await (
        await fetch(`${stack.apiUrl}/v1/actions/${actionId}`, { headers })
      ).text();
      expect(view).toContain('"timeline"');
      expect(view).toContain('citrix_call');
      for (const [name, secret] of TEST_SECRETS) {
        expect(view.includes(secret), `${name} in the timeline of ${actionId}`).toBe(false);
      }
      expect(view).not.toMatch(/bearer=(?!\*\*\*)[A-Za-z0-9]|auth_token"?\s*[:=]\s*"?[0-9a-f]{8}/i);
    }
  });
});
