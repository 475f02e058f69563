import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PACKAGE = JSON.parse(readFileSync(new URL('package.json', `file://${ROOT}`), 'utf8')) as {
  bin: Record<string, string>;
  scripts: Record<string, string>;
};

/** Runs the executable as npx does: Node.js 24 from node_modules/.bin, a fresh process. */
function run(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      `${ROOT}node_modules/.bin/node`,
      [`${ROOT}${PACKAGE.bin['citrix-response']}`, ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '' } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('bin/citrix-response.js', () => {
  it("is the package's citrix-response executable, and npm run send its act command", () => {
    expect(PACKAGE.bin).toEqual({ 'citrix-response': 'bin/citrix-response.js' });
    expect(PACKAGE.scripts.send).toBe(`node ${PACKAGE.bin['citrix-response']} act`);
    expect(readFileSync(`${ROOT}bin/citrix-response.js`, 'utf8')).toMatch(
      /^#!\/usr\/bin\/env node\n/,
    );
  });

  it('runs: --help exits 0, a usage error exits 2 without a stack trace', async () => {
    const help = await run(['--help']);
    const usage = await run(['act', 'session.logof']);

    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: citrix-response \[options\] \[command\]/);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('(Did you mean session.logoff?)');
    expect(usage.stderr).not.toMatch(/^\s+at /m);
  });
});
