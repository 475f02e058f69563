import { describe, expect, it } from 'vitest';
import { MAX_LIST_PAGES } from '../../../cli/commands/list.ts';
import { EXIT } from '../../../cli/exit-codes.ts';
import { runCli, useFakeApi } from '../support/fake-api.ts';

const startFakeApi = useFakeApi();

function item(n: number, ticket?: string) {
  return {
    actionId: `act_${String(n).padStart(32, '0')}`,
    action: 'session.logoff',
    status: 'succeeded',
    target: { user: `user${n}@example.com` },
    reason: 'Rehearsal',
    ...(ticket === undefined ? {} : { ticket }),
    requestedBy: 'soc.lead',
    dryRun: false,
    createdAt: `2026-03-01T10:00:0${n}.000Z`,
    updatedAt: `2026-03-01T10:00:0${n}.000Z`,
  };
}

describe('list', () => {
  it('passes the filters as the query string and prints a table', async () => {
    const fake = await startFakeApi(() => ({
      status: 200,
      body: { actions: [item(2, 'INC-9'), item(1, 'INC-9')] },
    }));

    const run = await runCli([
      '--api',
      fake.server.baseUrl.href,
      'list',
      '--ticket',
      'INC-9',
      '--status',
      'succeeded,failed',
      '--action',
      'session.logoff',
      '--target',
      'alice',
      '--since',
      'P7D',
      '--limit',
      '10',
    ]);

    expect(run.code).toBe(EXIT.ok);
    expect(Object.fromEntries(fake.requests[0]?.query ?? [])).toEqual({
      ticket: 'INC-9',
      status: 'succeeded,failed',
      action: 'session.logoff',
      target: 'alice',
      since: 'P7D',
      limit: '10',
    });
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^CREATED \(UTC\)\s+ACTION ID\s+ACTION\s+STATUS\s+TICKET\s+TARGET$/);
    expect(lines[1]).toMatch(
      /^2026-03-01 10:00:02\s+act_0+2\s+session\.logoff\s+succeeded\s+INC-9\s+user user2@example\.com$/,
    );
    expect(lines).toHaveLength(3);
  });

  it('--json prints the actions as one JSON document; --all follows nextToken', async () => {
    const pages = [
      { actions: [item(3)], nextToken: 'page-2' },
      { actions: [], nextToken: 'page-3' },
      { actions: [item(1)] },
    ];
    const fake = await startFakeApi(() => ({ status: 200, body: pages.shift() }));

    const run = await runCli(['--api', fake.server.baseUrl.href, '--json', 'list', '--all']);

    expect(run.code).toBe(EXIT.ok);
    expect(
      (JSON.parse(run.stdout) as { actionId: string }[]).map((action) => action.actionId),
    ).toEqual([item(3).actionId, item(1).actionId]);
    expect(fake.requests.map((request) => request.query.get('nextToken'))).toEqual([
      null,
      'page-2',
      'page-3',
    ]);
    expect(fake.requests[0]?.query.get('limit')).toBe('100');
    expect(MAX_LIST_PAGES).toBeGreaterThan(1);
  });

  it('without --all, says where the listing continues', async () => {
    const fake = await startFakeApi(() => ({
      status: 200,
      body: { actions: [item(1)], nextToken: 'tok' },
    }));

    const run = await runCli(['--api', fake.server.baseUrl.href, 'list']);

    expect(fake.requests).toHaveLength(1);
    expect(run.stderr).toContain('--next-token tok');
  });

  it('refuses a status that does not exist, naming the flag', async () => {
    const run = await runCli(['list', '--status', 'done']);

    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toMatch(/^error: --status: "done" is not a status/);
  });
});
