import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT, EXIT_CODE_HELP, STATUS_EXIT_CODES } from '../../cli/exit-codes.ts';
import { ACTION_STATUSES, TERMINAL_ACTION_STATUSES } from '../../lib/actions/schema.ts';
import { ACTION_ID, runCli, useFakeApi, viewOf } from './support/fake-api.ts';

const startFakeApi = useFakeApi();

/** The exit code each status must give, as the issue and docs/cli.md state them. */
const EXPECTED = {
  succeeded: 0,
  planned: 0,
  failed: 1,
  refused: 1,
  rejected: 1,
  expired: 1,
  awaiting_approval: 3,
  partially_succeeded: 4,
  accepted: 0,
  running: 0,
} as const;

describe('exit codes', () => {
  it.each(ACTION_STATUSES)('an action %s exits as documented', async (status) => {
    const fake = await startFakeApi(() => ({ status: 200, body: viewOf({ status }) }));

    const run = await runCli(['--api', fake.server.baseUrl.href, 'status', ACTION_ID]);

    expect(run.code).toBe(EXPECTED[status]);
    expect(STATUS_EXIT_CODES[status]).toBe(EXPECTED[status]);
  });

  it('following ends on every terminal status with its code', async () => {
    for (const status of TERMINAL_ACTION_STATUSES) {
      const views = [viewOf({ status: 'running' }), viewOf({ status })];
      const fake = await startFakeApi(() => ({
        status: 200,
        body: views.shift() ?? viewOf({ status }),
      }));

      const run = await runCli([
        '--api',
        fake.server.baseUrl.href,
        'status',
        ACTION_ID,
        '--follow',
      ]);

      expect(run.code, status).toBe(EXPECTED[status]);
      expect(fake.requests, status).toHaveLength(2);
    }
  });

  it('a runbook run with a step held for approval exits 3', async () => {
    const fake = await startFakeApi(() => ({
      status: 200,
      body: viewOf({
        status: 'running',
        action: 'runbook.run',
        steps: [{ id: 'wipe-devices', action: 'device.wipe', status: 'awaiting_approval' }],
      }),
    }));

    const run = await runCli(['--api', fake.server.baseUrl.href, 'status', ACTION_ID]);

    expect(run.code).toBe(EXIT.awaitingApproval);
  });

  it('docs/cli.md documents every exit code as --help does', () => {
    const docs = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');

    for (const [code, meaning] of Object.entries(EXIT_CODE_HELP)) {
      expect(docs).toMatch(
        new RegExp(`^\\| ${code} \\| ${meaning.replace(/[()]/g, '\\$&')} \\|$`, 'm'),
      );
    }
  });
});
