import { describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/exit-codes.ts';
import type { ActionStatus } from '../../lib/actions/schema.ts';
import { fakeActions, runCli, useFakeApi, viewOf } from './support/fake-api.ts';

const startFakeApi = useFakeApi();

const ALICE_SESSIONS = [
  {
    sessionId: '11111111-1111-1111-1111-111111111111',
    userName: 'alice@example.com',
    machineName: 'EXAMPLE\\VDA-01',
  },
  {
    sessionId: '22222222-2222-2222-2222-222222222222',
    userName: 'alice@example.com',
    machineName: 'EXAMPLE\\VDA-02',
  },
];

/** An API where a dry run plans alice's two sessions and a real request ends in `status`. */
async function apiEndingIn(status: ActionStatus, planStatus: ActionStatus = 'planned') {
  const actions = fakeActions((body) =>
    body.dryRun === true
      ? viewOf({
          status: planStatus,
          dryRun: true,
          summary: 'Would log off 2 of 2 sessions',
          results: ALICE_SESSIONS.map((session) => ({ ...session, outcome: 'planned' })),
          plan: ALICE_SESSIONS.map((session) => ({ target: session.sessionId, act: true })),
        })
      : viewOf({
          status,
          summary: `2 of 2 sessions logged off (${status})`,
          results: ALICE_SESSIONS.map((session) => ({ ...session, outcome: 'succeeded' })),
          ...(status === 'awaiting_approval'
            ? {
                approval: {
                  reasons: ['session.logoff needs approval'],
                  requestedAt: '2026-03-01T10:00:00.000Z',
                  expiresAt: '2026-03-01T11:00:00.000Z',
                },
              }
            : {}),
        }),
  );
  const fake = await startFakeApi(actions.route);
  return { ...actions, api: fake.server.baseUrl.href };
}

const LOGOFF = [
  'act',
  'session.logoff',
  '--user',
  'alice@example.com',
  '--reason',
  'INC-1: compromised',
];

describe('a destructive action', () => {
  it('without a terminal to ask on and without --yes: exit 2, nothing sent', async () => {
    const api = await apiEndingIn('succeeded');

    const run = await runCli(['--api', api.api, ...LOGOFF]);

    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toMatch(/^error: .*pass --yes/);
    expect(api.accepted).toEqual([]);
  });

  it('with --yes: sends the dry run, shows its plan, then sends the request itself', async () => {
    const api = await apiEndingIn('succeeded');

    const run = await runCli(['--api', api.api, ...LOGOFF, '--yes']);

    expect(run.code).toBe(EXIT.ok);
    expect(api.accepted.map((request) => request.body.dryRun)).toEqual([true, false]);
    const [plan, real] = api.accepted;
    expect(plan?.idempotencyKey).not.toBe(real?.idempotencyKey);
    expect(real?.body).toEqual({
      action: 'session.logoff',
      target: { user: 'alice@example.com' },
      reason: 'INC-1: compromised',
      dryRun: false,
    });
    expect(run.stderr).toContain('Plan: ');
    expect(run.stderr).toContain(
      'alice@example.com 11111111-1111-1111-1111-111111111111 on EXAMPLE\\VDA-01: planned',
    );
    // The summary line first on stdout.
    expect(run.stdout.split('\n')[0]).toBe(
      `${real?.actionId} session.logoff succeeded: 2 of 2 sessions logged off (succeeded)`,
    );
  });

  it('on a terminal, asks: "n" sends nothing more and exits 1', async () => {
    const api = await apiEndingIn('succeeded');

    const run = await runCli(['--api', api.api, ...LOGOFF], { tty: true, input: ['n'] });

    expect(run.code).toBe(EXIT.failed);
    expect(run.stderr).toContain('Proceed? [y/N]');
    expect(run.stderr).toContain('Nothing was done.');
    expect(api.accepted.map((request) => request.body.dryRun)).toEqual([true]);
  });

  it('on a terminal, asks: "y" sends the request', async () => {
    const api = await apiEndingIn('succeeded');

    const run = await runCli(['--api', api.api, '--no-color', ...LOGOFF], {
      tty: true,
      input: ['y'],
    });

    expect(run.code).toBe(EXIT.ok);
    expect(api.accepted.map((request) => request.body.dryRun)).toEqual([true, false]);
    expect(run.stdout).toContain('session.logoff succeeded');
  });

  it('does not send the request when its plan is refused', async () => {
    const api = await apiEndingIn('succeeded', 'refused');

    const run = await runCli(['--api', api.api, ...LOGOFF, '--yes']);

    expect(run.code).toBe(EXIT.failed);
    expect(api.accepted).toHaveLength(1);
    expect(run.stdout).toMatch(/session\.logoff refused/);
  });
});

describe('sending', () => {
  it('--dry-run sends the plan only, and exits 0 on planned', async () => {
    const api = await apiEndingIn('succeeded');

    const run = await runCli(['--api', api.api, ...LOGOFF, '--dry-run']);

    expect(run.code).toBe(EXIT.ok);
    expect(api.accepted.map((request) => request.body.dryRun)).toEqual([true]);
    expect(run.stdout.split('\n')[0]).toMatch(
      /^act_\d{32} session\.logoff planned: Would log off 2 of 2/,
    );
  });

  it('a non-destructive action is sent straight away', async () => {
    const api = await apiEndingIn('succeeded');

    const run = await runCli([
      '--api',
      api.api,
      'act',
      'session.disconnect',
      '--user',
      'bob@example.com',
      '--reason',
      'r',
    ]);

    expect(run.code).toBe(EXIT.ok);
    expect(api.accepted.map((request) => request.body.dryRun)).toEqual([false]);
  });

  it('--json prints exactly one JSON document on stdout: the final view', async () => {
    const api = await apiEndingIn('partially_succeeded');

    const run = await runCli(['--api', api.api, '--json', ...LOGOFF, '--yes']);

    expect(run.code).toBe(EXIT.partiallySucceeded);
    const view = JSON.parse(run.stdout) as { actionId: string; status: string };
    expect(view).toMatchObject({
      actionId: api.accepted[1]?.actionId,
      status: 'partially_succeeded',
    });
  });

  it('stops at a wait for approval, says who decides, and exits 3', async () => {
    const api = await apiEndingIn('awaiting_approval');

    const run = await runCli(['--api', api.api, ...LOGOFF, '--yes']);

    expect(run.code).toBe(EXIT.awaitingApproval);
    expect(run.stdout).toContain('session.logoff needs approval');
    expect(run.stdout).toContain(`citrix-response approve|reject ${api.accepted[1]?.actionId}`);
  });

  it('--no-follow prints where the action stands and how to follow it', async () => {
    const api = await apiEndingIn('running');

    const run = await runCli([
      '--api',
      api.api,
      'act',
      'session.disconnect',
      '--user',
      'bob@example.com',
      '--reason',
      'r',
      '--no-follow',
    ]);

    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toContain(`citrix-response status ${api.accepted[0]?.actionId} --follow`);
  });

  it('signs as the person the credentials are', async () => {
    const api = await apiEndingIn('succeeded');

    await runCli(['--api', api.api, ...LOGOFF, '--yes'], { person: 'it.manager' });

    expect(api.accepted.map((request) => request.person)).toEqual(['it.manager', 'it.manager']);
  });
});
