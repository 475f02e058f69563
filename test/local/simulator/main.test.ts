import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { secretsIn } from '../../support/test-secrets.ts';
import { CLIENT_A, requestClientToken, testFixture } from './helpers.ts';

const MAIN = fileURLToPath(new URL('../../../local/simulator/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'citrix-sim-main-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return { child, output: () => output };
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function waitFor(output: () => string, pattern: RegExp): Promise<RegExpMatchArray> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const match = output().match(pattern);
    if (match) return match;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${pattern}; output so far:\n${output()}`);
}

describe('npm run simulator (local/simulator/main.ts)', () => {
  it('serves the fixture from CITRIX_SIMULATOR_FIXTURE, prints what it holds, stops on SIGTERM', async () => {
    const fixturePath = join(dir, 'fixture.json');
    writeFileSync(fixturePath, JSON.stringify(testFixture()));
    const { child, output } = run({
      CITRIX_SIMULATOR_PORT: '0',
      CITRIX_SIMULATOR_FIXTURE: fixturePath,
    });
    const exited = exitCode(child);
    try {
      const [, url] = await waitFor(output, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
      await waitFor(output, /erin@example\.com/);
      expect(output()).toContain(CLIENT_A.clientId);
      expect(output()).toMatch(/bobby@example\.com \(EXAMPLE\\bobby\): 1 session/);
      const response = await requestClientToken(String(url), 'root');
      expect(response.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    // The child's output bypasses the whole-run secret scan (it patches this process's streams).
    expect(secretsIn(output()), 'secrets printed by the simulator').toEqual([]);
  });

  it('exits with an error naming the field when the fixture is invalid', async () => {
    const fixturePath = join(dir, 'broken.json');
    writeFileSync(fixturePath, JSON.stringify({ ...testFixture(), customerId: '' }));
    const { child, output } = run({
      CITRIX_SIMULATOR_PORT: '0',
      CITRIX_SIMULATOR_FIXTURE: fixturePath,
    });
    expect(await exitCode(child)).toBe(1);
    expect(output()).toMatch(/customerId/);
    // The child's output bypasses the whole-run secret scan (it patches this process's streams).
    expect(secretsIn(output()), 'secrets printed by the simulator').toEqual([]);
  });

  it('serves a named fleet and counts its sessions instead of listing them', async () => {
    const { child, output } = run({
      CITRIX_SIMULATOR_PORT: '0',
      CITRIX_SIMULATOR_FIXTURE: 'fleet:300',
    });
    const exited = exitCode(child);
    try {
      const [, url] = await waitFor(output, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
      await waitFor(output, /Cloud administrators:/);
      expect(output()).toContain('fixture: fleet:300');
      expect(output()).toMatch(/300 sessions of \d+ users/);
      expect(output()).toMatch(/^ {2}Finance: .*\d+ Disconnected/m);
      expect(output()).not.toMatch(/user0001@example\.com \(/);
      const state = (await (await fetch(`${url}/_simulator/state`)).json()) as {
        sessions: unknown[];
      };
      expect(state.sessions).toHaveLength(300);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('exits with an error naming CITRIX_SIMULATOR_FIXTURE for a bad fixture name', async () => {
    const { child, output } = run({
      CITRIX_SIMULATOR_PORT: '0',
      CITRIX_SIMULATOR_FIXTURE: 'fleet:0',
    });
    expect(await exitCode(child)).toBe(1);
    expect(output()).toMatch(/CITRIX_SIMULATOR_FIXTURE="fleet:0".*1 to 10000/);
    expect(output()).not.toMatch(/listening on/);
  });
});
