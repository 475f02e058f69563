import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { closedPort } from '../support/loopback-server.ts';
import { TEST_SIGNING_SECRET } from '../support/signed-request.ts';
import { DEVICES, FAST_WORKFLOW, TEST_ENV, testFixture } from '../support/simulator-fixture.ts';
import { secretsIn } from '../support/test-secrets.ts';

/** `npm run send` as a newcomer runs it, against a local stack on loopback. */
const SEND = fileURLToPath(new URL('../../local/send.ts', import.meta.url));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs send and checks what it printed for secrets: a child's output bypasses the whole-run
 * secret scan (secret-scan.setup.ts patches this process's streams only).
 */
async function send(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const run = await new Promise<Run>((resolve) => {
    execFile(
      process.execPath,
      [SEND, ...args],
      { env: { PATH: process.env.PATH ?? '', WEBHOOK_SECRET: TEST_SIGNING_SECRET, ...env } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
  expect(secretsIn(`${run.stdout}\n${run.stderr}`), 'secrets printed by npm run send').toEqual([]);
  return run;
}

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    // Full wipes need approval here (the default), so the approve command can be tried.
    env: { ...TEST_ENV, APPROVAL_REQUIRED: 'device.wipe', WEBHOOK_SECRET: TEST_SIGNING_SECRET },
    simulatorFixture: testFixture(),
    ...FAST_WORKFLOW,
  });
});

afterAll(async () => stack.close());

/** The action id from send's first answer (`202 {...}`). */
function actionIdOf(run: Run): string {
  const id = /"actionId": "(act_[0-9a-f]{32})"/.exec(run.stdout)?.[1];
  expect(id, run.stdout).toBeDefined();
  return String(id);
}

describe('npm run send', () => {
  it('sends a signed action and follows it to its end, exiting 0 on success', async () => {
    const run = await send([
      'session.disconnect',
      '--user',
      'alice@example.com',
      '--reason',
      'Rehearsal',
      '--url',
      stack.apiUrl,
    ]);

    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^202 /);
    expect(run.stdout).toContain('status: succeeded');
    expect(run.code).toBe(0);
  });

  /** Sends a full wipe of `device`, held for approval (requested by alice.soc); its action id. */
  async function heldWipe(device: string): Promise<string> {
    const held = await send([
      'device.wipe',
      '--device',
      device,
      '--reason',
      'Rehearsal: lost phone',
      '--requested-by',
      'alice.soc',
      '--no-wait',
      '--url',
      stack.apiUrl,
    ]);
    expect(held.code).toBe(0);
    const actionId = actionIdOf(held);
    await expect
      .poll(async () => (await stack.actions.get(actionId))?.status, { timeout: 15_000 })
      .toBe('awaiting_approval');
    return actionId;
  }

  it('approves a held action as someone else, then follows it to its end', async () => {
    const actionId = await heldWipe(DEVICES.carolPhone);

    const self = await send(['approve', actionId, '--by', 'alice.soc', '--url', stack.apiUrl]);
    expect(self.stdout).toMatch(/^403 [\s\S]*self_approval/);
    expect(self.stdout).not.toContain('status:');
    expect(self.code).toBe(1);

    const approved = await send(['approve', actionId, '--by', 'bob.lead', '--url', stack.apiUrl]);
    expect(approved.stderr).toBe('');
    expect(approved.stdout).toMatch(/^200 /);
    expect(approved.stdout).toContain('status: succeeded');
    // The final record comes last.
    expect(approved.stdout).toMatch(/"status": "succeeded"[\s\S]*\}\s*$/);
    expect(approved.code).toBe(0);
    expect((await stack.actions.get(actionId))?.status).toBe('succeeded');
  });

  it('rejects a held action and follows it to its end, which is what was asked', async () => {
    const actionId = await heldWipe(DEVICES.carolTablet);

    const rejected = await send([
      'reject',
      actionId,
      '--by',
      'bob.lead',
      '--comment',
      'false positive',
      '--url',
      stack.apiUrl,
    ]);
    expect(rejected.stdout).toMatch(/^200 /);
    expect(rejected.stdout).toContain('status: rejected');
    expect(rejected.code).toBe(0);
  });

  it('with --no-wait, prints the decision and stops', async () => {
    const actionId = await heldWipe(DEVICES.bobPhone);

    const approved = await send([
      'approve',
      actionId,
      '--by',
      'bob.lead',
      '--no-wait',
      '--url',
      stack.apiUrl,
    ]);
    expect(approved.stdout).toMatch(/^200 [\s\S]*"status": "running"/);
    expect(approved.stdout).not.toContain('status:');
    expect(approved.code).toBe(0);
    await expect
      .poll(async () => (await stack.actions.get(actionId))?.status, { timeout: 10_000 })
      .toBe('succeeded');
  });

  it('says which address it cannot reach, and that npm start should be running', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const run = await send([
      'session.logoff',
      '--user',
      'a@example.com',
      '--reason',
      'x',
      '--url',
      url,
    ]);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Cannot reach ${url} (`);
    expect(run.stderr).toContain('Is `npm start` running?');
    expect(run.stderr).not.toContain('    at ');
  });

  it('prints the usage and exits 2 without a target', async () => {
    const run = await send(['session.logoff', '--reason', 'x']);

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^Usage: npm run send -- <action>/);
  });
});
