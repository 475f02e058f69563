import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  LOCAL_DEMO_PEOPLE,
  LOCAL_DEMO_SOURCE_SECRETS,
  LOCAL_DEMO_WEBHOOK_SECRET,
} from '../../local/defaults.ts';
import { TEST_PEOPLE, TEST_SIGNING_SECRET } from '../support/signed-request.ts';

/** `npm start` as a newcomer runs it (without .env), on free ports. */
const START = fileURLToPath(new URL('../../local/start.ts', import.meta.url));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs start.ts with `env` (and free ports unless set) until it exits, or, once its banner is
 * out, stops it with SIGTERM. Its output is never written here: the banner holds demo secrets.
 */
function start(env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [START], {
      env: { PATH: process.env.PATH ?? '', PORT: '0', CITRIX_SIMULATOR_PORT: '0', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('Try it')) child.kill('SIGTERM');
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A refusal: exit 1, the message alone on stderr, no stack trace, nothing started. */
function expectRefusal(run: Run, message: string): void {
  expect(run.code, run.stderr).toBe(1);
  expect(run.stderr).toContain(message);
  expect(run.stderr).not.toMatch(/^ {4}at /m);
  expect(run.stdout).not.toContain('Citrix Response is running');
}

let busy: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (busy ? busy.close(resolve) : resolve(undefined)));
  busy = undefined;
});

describe('npm start refusals', () => {
  it('prints only the message of a source credential it refuses', async () => {
    const run = await start({ SPLUNK_TOKEN: 'short' });

    expectRefusal(run, 'SPLUNK_TOKEN: ');
    expect(run.stderr).not.toContain('SecretFormatError');
  });

  it('prints only the message, with the reason, of a routing rules file it cannot read', async () => {
    const missing = fileURLToPath(new URL('./no-such-routes.json', import.meta.url));
    const run = await start({ ROUTES_FILE: missing });

    expectRefusal(run, `Cannot read the routing rules file ${missing} (ENOENT`);
  });

  it('says which port is in use and what to do about it', async () => {
    const server = createServer();
    busy = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');

    const run = await start({ PORT: String(address.port) });

    expectRefusal(run, `Port ${address.port} is in use: stop the other process or set PORT`);
  });

  it('names the variable, the person and the field of LOCAL_PEOPLE it refuses, never a key', async () => {
    const people = {
      'Soc.Lead@Example.com': TEST_PEOPLE['requester@example.com'],
      // A Cyrillic е, and a zero-width space: both refused.
      'soc.l\u0435ad@example.com': TEST_PEOPLE['approver@example.com'],
      'it.oncall@exam\u200bple.com': {
        accessKeyId: 'TESTONCALL0000000003',
        secretAccessKey: 'test-oncall-secret-access-key',
      },
    };
    const run = await start({ LOCAL_PEOPLE: JSON.stringify(people) });

    expectRefusal(run, 'LOCAL_PEOPLE is invalid: ');
    expect(run.stderr).toContain('looks like "Soc.Lead@Example.com"');
    expect(run.stderr).toContain('U+200B');
    for (const person of Object.values(people)) {
      expect(run.stderr).not.toContain(person.secretAccessKey);
    }
  });

  it('refuses LOCAL_PEOPLE that is not JSON without quoting it', async () => {
    const run = await start({ LOCAL_PEOPLE: '{"x": {"secretAccessKey": "do-not-print-me"' });

    expectRefusal(run, 'LOCAL_PEOPLE must be JSON');
    expect(run.stderr).not.toContain('do-not-print-me');
  });

  it('refuses a port that is not a number', async () => {
    expectRefusal(await start({ PORT: 'http' }), 'PORT must be a port number, got http');
  });
});

describe('npm start banner', () => {
  it('prints the demo people, ready to paste, and each source with its URL and demo credential', async () => {
    const run = await start({});

    expect(run.stderr).toBe('');
    const api = /API: +(http:\/\/127\.0\.0\.1:\d+)/.exec(run.stdout)?.[1];
    expect(api, run.stdout).toBeDefined();
    const lines = run.stdout.split('\n');
    for (const [name, keys] of Object.entries(LOCAL_DEMO_PEOPLE)) {
      expect(lines.find((text) => text.trim().startsWith(name))).toContain(
        `export AWS_ACCESS_KEY_ID=${keys.accessKeyId} AWS_SECRET_ACCESS_KEY=${keys.secretAccessKey}`,
      );
    }
    const { servicenow, splunk, sentinel, pagerduty } = LOCAL_DEMO_SOURCE_SECRETS;
    const line = (name: string) => lines.find((text) => text.trim().startsWith(`${name}:`));
    expect(line('Standard')).toContain(`${api}/v1/webhooks/standard`);
    expect(line('Standard')).toContain(LOCAL_DEMO_WEBHOOK_SECRET);
    expect(line('ServiceNow')).toContain(`${api}/v1/webhooks/servicenow`);
    expect(line('ServiceNow')).toContain(`${servicenow.username} / ${servicenow.password}`);
    expect(line('Splunk')).toContain(`${api}/v1/webhooks/splunk/${splunk.token}`);
    expect(line('Sentinel')).toContain(
      `${api}/v1/webhooks/sentinel  x-api-key: ${sentinel.apiKey}`,
    );
    expect(line('PagerDuty')).toContain(`${api}/v1/webhooks/pagerduty`);
    expect(line('PagerDuty')).toContain(String(pagerduty.signingSecrets[0]));
  });

  it('names the variable, never the value, of a secret from the environment', async () => {
    const splunkToken = 'splunk-token-from-the-environment-0123456789';
    const run = await start({
      WEBHOOK_SECRET: TEST_SIGNING_SECRET,
      SPLUNK_TOKEN: splunkToken,
      LOCAL_PEOPLE: JSON.stringify(TEST_PEOPLE),
    });

    expect(run.stdout).toContain('Citrix Response is running');
    expect(run.stdout).toMatch(/Standard: +POST .*\/v1\/webhooks\/standard .* with WEBHOOK_SECRET/);
    // The people are named; their keys never printed.
    expect(run.stdout).toContain('From LOCAL_PEOPLE:');
    for (const [name, keys] of Object.entries(TEST_PEOPLE)) {
      expect(run.stdout).toContain(name);
      expect(run.stdout).not.toContain(keys.secretAccessKey);
      expect(run.stdout).not.toContain(keys.accessKeyId);
    }
    expect(run.stdout).toMatch(
      /Splunk: +POST http:\/\/127\.0\.0\.1:\d+\/v1\/webhooks\/splunk\/<SPLUNK_TOKEN>/,
    );
    expect(run.stdout).not.toContain(splunkToken);
    expect(run.stdout).not.toContain(TEST_SIGNING_SECRET);
    expect(run.stdout).not.toContain(LOCAL_DEMO_WEBHOOK_SECRET);
    // The other sources still use their demo credentials.
    expect(run.stdout).toContain(LOCAL_DEMO_SOURCE_SECRETS.sentinel.apiKey);
  });
});
