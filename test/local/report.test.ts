import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { closedPort } from '../support/loopback-server.ts';
import { TEST_SIGNING_SECRET } from '../support/signed-request.ts';
import { FAST_WORKFLOW, TEST_ENV, testFixture } from '../support/simulator-fixture.ts';
import { secretsIn } from '../support/test-secrets.ts';

/** `npm run report` as a newcomer runs it, against a local stack on loopback. */
const REPORT = fileURLToPath(new URL('../../local/report.ts', import.meta.url));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function report(env: Record<string, string>): Promise<Run> {
  const run = await new Promise<Run>((resolve) => {
    execFile(
      process.execPath,
      [REPORT],
      { env: { PATH: process.env.PATH ?? '', ...env } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
  expect(secretsIn(`${run.stdout}\n${run.stderr}`), 'secrets printed by npm run report').toEqual(
    [],
  );
  return run;
}

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    env: { ...TEST_ENV, WEBHOOK_SECRET: TEST_SIGNING_SECRET },
    simulatorFixture: testFixture(),
    ...FAST_WORKFLOW,
    reportLine: () => undefined,
  });
});

afterAll(async () => stack.close());

describe('npm run report', () => {
  it('prints the administrator report of the running stack', async () => {
    const run = await report({ API_URL: stack.apiUrl });

    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^Citrix Cloud administrators at .+: \d+ listed/);
    expect(run.code).toBe(0);
  });

  it('says which address it cannot reach, and that npm start should be running', async () => {
    const port = await closedPort();
    const run = await report({ PORT: String(port) });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Cannot reach http://127.0.0.1:${port} (`);
    expect(run.stderr).toContain('Is `npm start` running?');
    expect(run.stderr).not.toMatch(/^ {4}at /m);
  });
});
