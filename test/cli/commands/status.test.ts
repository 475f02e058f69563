import { describe, expect, it } from 'vitest';
import { EXIT } from '../../../cli/exit-codes.ts';
import { ACTION_ID, runCli, useFakeApi, viewOf } from '../support/fake-api.ts';

const startFakeApi = useFakeApi();

const TIMELINE = [
  {
    actionId: ACTION_ID,
    at: '2026-03-01T10:00:00.000Z',
    type: 'request',
    summary: 'Requested by soc.lead',
  },
  {
    actionId: ACTION_ID,
    at: '2026-03-01T10:00:02.000Z',
    type: 'citrix',
    summary: 'DaaS POST $logoff',
  },
];

describe('status', () => {
  it('prints the summary line first, then each target', async () => {
    const view = viewOf({
      status: 'failed',
      summary: 'Action failed: 1 of 1 sessions failed',
      results: [
        {
          sessionId: 's-1',
          userName: 'carol@example.com',
          outcome: 'failed',
          error: { name: 'CitrixError', message: 'Job failed' },
        },
      ],
      timeline: TIMELINE,
    });
    const fake = await startFakeApi(() => ({ status: 200, body: view }));

    const run = await runCli(['--api', fake.server.baseUrl.href, 'status', ACTION_ID]);

    expect(run.code).toBe(EXIT.failed);
    expect(run.stdout).toBe(
      `${ACTION_ID} session.logoff failed: Action failed: 1 of 1 sessions failed\n  carol@example.com s-1: failed (Job failed)\n`,
    );
  });

  it('warns when some of the audit trail could not be written', async () => {
    const view = viewOf({
      status: 'succeeded',
      summary: '1 of 1 sessions logged off',
      auditFailures: [
        {
          at: '2026-03-01T10:00:03.000Z',
          entries: 2,
          types: ['citrix', 'outcome'],
          error: { name: 'ProvisionedThroughputExceededException', message: 'Rate exceeded' },
        },
      ],
    });
    const fake = await startFakeApi(() => ({ status: 200, body: view }));

    const run = await runCli(['--api', fake.server.baseUrl.href, 'status', ACTION_ID]);

    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toContain(
      '\n  audit: 2 entries (citrix, outcome) not written at 2026-03-01 10:00:03: ProvisionedThroughputExceededException; the timeline lacks them\n',
    );
  });

  it('points a revoke in strip mode to the command that undoes it', async () => {
    const command = 'citrix-response act admin.restore --admin mallory@example.com --reason "…"';
    const view = viewOf({
      status: 'succeeded',
      action: 'admin.revoke',
      target: { admin: 'mallory@example.com' },
      summary: '1 of 1 administrators revoked',
      undo: { action: 'admin.restore', command },
    });
    const fake = await startFakeApi(() => ({ status: 200, body: view }));

    const run = await runCli(['--api', fake.server.baseUrl.href, 'status', ACTION_ID]);

    expect(run.stdout).toContain(`\n  undo with: ${command}\n`);
  });

  it('--timeline adds the timeline; timeline prints it alone, or its entries with --json', async () => {
    const fake = await startFakeApi(() => ({
      status: 200,
      body: viewOf({ status: 'succeeded', timeline: TIMELINE }),
    }));
    const api = fake.server.baseUrl.href;

    const status = await runCli(['--api', api, 'status', ACTION_ID, '--timeline']);
    const timeline = await runCli(['--api', api, 'timeline', ACTION_ID]);
    const json = await runCli(['--api', api, '--json', 'timeline', ACTION_ID]);

    expect(status.stdout).toContain(
      'Timeline:\n  2026-03-01 10:00:00 request        Requested by soc.lead',
    );
    expect(timeline.stdout).toContain('  2026-03-01 10:00:02 citrix         DaaS POST $logoff');
    expect(timeline.code).toBe(EXIT.ok);
    expect(JSON.parse(json.stdout)).toEqual(TIMELINE);
  });

  it('--follow reports each change of status on stderr when not on a terminal', async () => {
    const views = [
      viewOf({ status: 'accepted' }),
      viewOf({ status: 'running' }),
      viewOf({ status: 'running' }),
      viewOf({ status: 'succeeded' }),
    ];
    const fake = await startFakeApi(() => ({ status: 200, body: views.shift() }));

    const run = await runCli(['--api', fake.server.baseUrl.href, 'status', ACTION_ID, '--follow']);

    expect(run.code).toBe(EXIT.ok);
    expect(run.stderr).toBe(
      `${ACTION_ID} accepted\n${ACTION_ID} running\n${ACTION_ID} succeeded\n`,
    );
  });

  it('--follow on a terminal draws a live bar: targets done out of all', async () => {
    const plan = [
      { target: 'a', act: true },
      { target: 'b', act: true },
      { target: 'c', act: true },
    ];
    const views = [
      viewOf({ status: 'running', plan, results: [{ outcome: 'succeeded' }] }),
      viewOf({
        status: 'succeeded',
        plan,
        results: [{ outcome: 'succeeded' }, { outcome: 'succeeded' }, { outcome: 'failed' }],
      }),
    ];
    const fake = await startFakeApi(() => ({ status: 200, body: views.shift() }));

    const run = await runCli(
      ['--api', fake.server.baseUrl.href, '--no-color', 'status', ACTION_ID, '--follow'],
      {
        tty: true,
      },
    );

    // Redrawn in place (the bar is drawn on a timer: the last state is always drawn).
    expect(run.stderr).toContain('\u001b[1G');
    expect(run.stderr).toMatch(/session\.logoff .* 3\/3 targets {2}succeeded/);
  });

  it('never prints colour without a terminal, nor with NO_COLOR or --no-color', async () => {
    const fake = await startFakeApi(() => ({ status: 200, body: viewOf({ status: 'succeeded' }) }));
    const api = fake.server.baseUrl.href;
    const ESCAPE = '\u001b[';

    const piped = await runCli(['--api', api, 'status', ACTION_ID]);
    const terminal = await runCli(['--api', api, 'status', ACTION_ID], { tty: true });
    const noColor = await runCli(['--api', api, 'status', ACTION_ID], {
      tty: true,
      env: { NO_COLOR: '1' },
    });
    const flag = await runCli(['--api', api, '--no-color', 'status', ACTION_ID], { tty: true });

    expect(piped.stdout).not.toContain(ESCAPE);
    expect(terminal.stdout).toContain(ESCAPE);
    expect(noColor.stdout).not.toContain(ESCAPE);
    expect(flag.stdout).not.toContain(ESCAPE);
  });
});
