import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type {
  AdminActionType,
  AdminTarget,
  AdminTargetResult,
  InvitationTarget,
  RevokeOptions,
} from '../../lib/actions/schema.ts';
import { toActionView } from '../../lib/actions/view.ts';
import type { RecordedRequest } from '../../local/simulator/server.ts';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import type { WorkflowEvent } from '../../local/workflow-runner.ts';
import {
  ADMINS,
  administratorsClientFor,
  FAST_WORKFLOW,
  TEST_ENV,
  testFixture,
} from '../support/simulator-fixture.ts';
import { runAction } from '../support/workflow.ts';

/**
 * The admin workflow's `.asl.json`, run by aws-local-stepfunctions with the real task handlers,
 * against the simulator's Citrix Cloud administrators API. The API client belongs to
 * owner@example.com; breakglass@example.com is protected; full.admin is the only Full one.
 */
let stack: LocalStack;
let onWorkflowEvent: ((execution: string, event: WorkflowEvent) => void) | undefined;

beforeAll(async () => {
  stack = await startLocalStack({
    env: {
      ...TEST_ENV,
      CITRIX_PROTECTED_ADMINS: ADMINS.breakglass.email,
      // More revokes than the default hourly limit (3), which would hold the rest for approval.
      GUARDRAIL_LIMITS: '{"admin.revoke":{"perHour":50}}',
    },
    simulatorFixture: testFixture(),
    ...FAST_WORKFLOW,
    onWorkflowEvent: (execution, event) => onWorkflowEvent?.(execution, event),
    retryIntervalOverrides: {
      ...FAST_WORKFLOW.retryIntervalOverrides,
      // Waiting for another change's lease (12 attempts) then lasts over a second.
      ApplyChange: 100,
      ReadBack: 10,
      RecordAdminResult: 10,
    },
  });
});
afterAll(async () => stack.close());
beforeEach(() => {
  stack.simulator?.reset();
  onWorkflowEvent = undefined;
});

const run = (request: {
  action: AdminActionType;
  target: AdminTarget | InvitationTarget;
  options?: RevokeOptions;
  dryRun?: boolean;
}) => runAction(stack, request as Parameters<typeof runAction>[1]);

const adminCalls = (): RecordedRequest[] =>
  (stack.simulator?.requests() ?? []).filter((r) => r.path.startsWith('/administrators'));
const changes = () => adminCalls().filter((r) => r.method === 'PUT' || r.method === 'DELETE');
const administrator = (ucOid: string) =>
  stack.simulator?.state().cloudAdministrators?.administrators?.find((a) => a.ucOid === ucOid);
const only = (results: Record<string, unknown>) => {
  const values = Object.values(results) as AdminTargetResult[];
  expect(values).toHaveLength(1);
  return values[0] as AdminTargetResult;
};

/** Someone grants an administrator Full access behind Citrix Response's back. */
async function grantFull(userId: string): Promise<void> {
  const simulator = stack.simulator;
  if (simulator === undefined) throw new Error('no simulator');
  const token = (await (
    await fetch(`${simulator.url}/cctrustoauth2/test-customer/tokens/clients`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=test-client-id&client_secret=test-client-secret-7f3c9a',
    })
  ).json()) as { access_token: string };
  const granted = await fetch(`${simulator.url}/administrators/access?id=${userId}`, {
    method: 'PUT',
    headers: {
      authorization: `CWSAuth bearer=${token.access_token}`,
      'citrix-customerid': 'test-customer',
      'content-type': 'application/json',
    },
    body: JSON.stringify({ accessType: 'Full', policies: null }),
  });
  expect(granted.status).toBe(200);
}

describe('admin workflow', () => {
  it('strips every permission of an administrator found by email, recording the access before', async () => {
    const { record } = await run({
      action: 'admin.revoke',
      target: { admin: 'MALLORY@example.com' },
    });
    expect(record).toMatchObject({
      status: 'succeeded',
      summary: '1 of 1 administrator revoked',
      options: { mode: 'strip' },
    });
    const result = only(record.results);
    expect(result).toMatchObject({
      outcome: 'succeeded',
      email: ADMINS.mallory.email,
      administratorId: ADMINS.mallory.userId,
      accessType: 'Custom',
      change: { mode: 'strip' },
      after: { present: true, accessType: 'Custom', grantedPolicies: ['customerDashboard'] },
      note: expect.stringContaining('customerDashboard'),
    });
    // The snapshot shows what mallory could do, so a person can review or restore it.
    expect(result.before?.policies?.filter((p) => p.checkable.value).length).toBeGreaterThan(1);
    // And the access the strip actually replaced, read just before it: unchanged since.
    expect(result.replaced).toEqual(result.before);
    const put = changes();
    expect(put.map((r) => `${r.method} ${r.path}?id=${r.query.id}`)).toEqual([
      `PUT /administrators/access?id=${ADMINS.mallory.userId}`,
    ]);
    const sent = put[0]?.body as {
      accessType: string;
      policies: { name: string; checkable: { value: boolean } }[];
    };
    expect(sent.accessType).toBe('Custom');
    expect(sent.policies.filter((p) => p.checkable.value).map((p) => p.name)).toEqual([
      'customerDashboard',
    ]);
    expect(administrator(ADMINS.mallory.ucOid)).toBeDefined();
  });

  it('deletes an administrator found by ucOid with mode delete', async () => {
    const { record } = await run({
      action: 'admin.revoke',
      target: { admin: ADMINS.trent.ucOid },
      options: { mode: 'delete' },
    });
    expect(record.status).toBe('succeeded');
    expect(only(record.results)).toMatchObject({
      outcome: 'succeeded',
      change: { mode: 'delete' },
      after: { present: false },
      before: { accessType: 'Custom' },
    });
    expect(changes().map((r) => `${r.method} ${r.path}`)).toEqual([
      `DELETE /administrators/${ADMINS.trent.userId}`,
    ]);
    expect(administrator(ADMINS.trent.ucOid)).toBeUndefined();
  });

  it('deletes an administrator found by email with mode delete', async () => {
    const { record } = await run({
      action: 'admin.revoke',
      target: { admin: 'Trent@Example.com' },
      options: { mode: 'delete' },
    });
    expect(record).toMatchObject({ status: 'succeeded', options: { mode: 'delete' } });
    expect(only(record.results)).toMatchObject({
      outcome: 'succeeded',
      email: ADMINS.trent.email,
      administratorId: ADMINS.trent.userId,
      change: { mode: 'delete' },
      after: { present: false },
      before: { accessType: 'Custom' },
    });
    // By its userId, the id the API takes for a user, not by the email it was named with.
    expect(changes().map((r) => `${r.method} ${r.path}`)).toEqual([
      `DELETE /administrators/${ADMINS.trent.userId}`,
    ]);
    expect(administrator(ADMINS.trent.ucOid)).toBeUndefined();
  });

  it('lets only one of two concurrent revokes of the only two Full administrators through', async () => {
    await grantFull(ADMINS.trent.userId);
    // Hold the lease as another change would, until both executions have been turned away once.
    const held = await stack.administratorChangeLock.acquire('another change');
    const waitedFor = new Map<string, number>();
    let bothWaited = () => {};
    const waited = new Promise<void>((resolve) => {
      bothWaited = resolve;
    });
    onWorkflowEvent = (execution, event) => {
      if (
        event.type === 'StateRetried' &&
        event.state.name === 'ApplyChange' &&
        event.retry.retrier.ErrorEquals.includes('AdministratorChangeInProgressError')
      ) {
        waitedFor.set(execution, (waitedFor.get(execution) ?? 0) + 1);
        if (waitedFor.size === 2) bothWaited();
      }
    };
    const runs = Promise.all(
      [ADMINS.full.email, ADMINS.trent.email].map((admin) =>
        run({ action: 'admin.revoke', target: { admin }, options: { mode: 'delete' } }),
      ),
    );
    try {
      await Promise.race([
        waited,
        new Promise((_, reject) => setTimeout(() => reject(new Error('no lease wait')), 10_000)),
      ]);
    } finally {
      await held.release();
    }
    const records = (await runs).map(({ record }) => record);

    // Each resolved while the other was still Full; the lease made them apply one at a time.
    expect(records.map((record) => record.status).sort()).toEqual(['refused', 'succeeded']);
    const refused = records.find((record) => record.status === 'refused');
    expect(only(refused?.results ?? {})).toMatchObject({
      allowed: true,
      outcome: 'refused',
      note: expect.stringMatching(/last administrator with Full access/),
    });
    expect(changes().filter((r) => r.method === 'DELETE')).toHaveLength(1);
    const remaining = [ADMINS.full.ucOid, ADMINS.trent.ucOid].map(administrator);
    expect(remaining.filter((admin) => admin?.accessType === 'Full')).toHaveLength(1);
  });

  it.each([
    ['the API client’s own administrator', ADMINS.owner.email, /owns the API client/],
    [
      'the last administrator with Full access',
      ADMINS.full.userId,
      /last administrator with Full access/,
    ],
    ['a protected administrator', ADMINS.breakglass.email, /protected administrators list/],
  ])('refuses %s, changing nothing', async (_, admin, reason) => {
    const { record, status } = await run({
      action: 'admin.revoke',
      target: { admin },
      options: { mode: 'delete' },
    });
    expect(status).toBe('SUCCEEDED');
    expect(record.status).toBe('refused');
    expect(record.summary).toMatch(reason);
    expect(only(record.results)).toMatchObject({
      outcome: 'refused',
      note: expect.stringMatching(reason),
    });
    expect(changes()).toEqual([]);
  });

  it('deletes a pending invitation, and only a pending one', async () => {
    const { record } = await run({
      action: 'admin.deleteInvitation',
      target: { email: ADMINS.invitee.email },
    });
    expect(record.status).toBe('succeeded');
    expect(record.summary).toBe('1 of 1 invitation deleted');
    expect(changes().map((r) => `${r.method} ${r.path} ${r.query.email}`)).toEqual([
      `DELETE /administrators/invitations ${ADMINS.invitee.email}`,
    ]);
    expect(administrator(ADMINS.invitee.ucOid)).toBeUndefined();

    const active = await run({
      action: 'admin.deleteInvitation',
      target: { email: ADMINS.mallory.email },
    });
    expect(active.record.status).toBe('refused');
    expect(active.record.summary).toMatch(/not a pending invitation/);
  });

  it('plans a dry run with the guards’ verdict and the current access, changing nothing', async () => {
    const { record } = await run({
      action: 'admin.revoke',
      target: { admin: ADMINS.mallory.email },
      dryRun: true,
    });
    expect(record.status).toBe('planned');
    expect(record.summary).toBe('Dry run: would revoke 1 administrator');
    expect(only(record.results)).toMatchObject({
      outcome: 'planned',
      before: { accessType: 'Custom' },
    });
    const refused = await run({
      action: 'admin.revoke',
      target: { admin: ADMINS.owner.email },
      dryRun: true,
    });
    expect(refused.record.summary).toMatch(/^Dry run: would refuse: .*owns the API client/);
    expect(changes()).toEqual([]);
  });

  it('fails the action for an administrator that does not exist', async () => {
    const { record, status } = await run({
      action: 'admin.revoke',
      target: { admin: 'nobody@example.com' },
    });
    expect(status).toBe('FAILED');
    expect(record.status).toBe('failed');
    expect(record.error?.name).toBe('AdministratorNotFoundError');
  });

  it('rides out throttling from Citrix Cloud', async () => {
    stack.simulator?.setFaults({ throttle: { count: 5, retryAfterSeconds: 0 } });
    const { record } = await run({
      action: 'admin.revoke',
      target: { admin: ADMINS.mallory.email },
    });
    expect(record.status).toBe('succeeded');
    expect(adminCalls().filter((r) => r.status === 429)).toHaveLength(5);
  });
});

describe('admin.restore', () => {
  const client = () => administratorsClientFor(stack.simulator?.url ?? '');
  const accessOf = (id: string) => client().getAccess(id);
  /** Calls that change administrators from the `since`-th recorded one on. */
  const changesSince = (since: number) => changes().slice(since);

  it('puts back exactly the access a strip-mode revoke replaced, whose status names the command', async () => {
    const original = await accessOf(ADMINS.mallory.userId);
    const revoked = await run({ action: 'admin.revoke', target: { admin: ADMINS.mallory.email } });
    expect(revoked.record.status).toBe('succeeded');
    expect(toActionView(revoked.record).undo).toEqual({
      action: 'admin.restore',
      command: `citrix-response act admin.restore --admin ${ADMINS.mallory.email} --reason "…"`,
    });
    expect(await accessOf(ADMINS.mallory.userId)).not.toEqual(original);

    const before = changes().length;
    const { record } = await run({
      action: 'admin.restore',
      target: { admin: ADMINS.mallory.email },
    });
    expect(record).toMatchObject({ status: 'succeeded', summary: '1 of 1 administrator restored' });
    expect(only(record.results)).toMatchObject({
      outcome: 'succeeded',
      change: { mode: 'restore' },
      restore: { revokeActionIds: [revoked.record.actionId], access: original },
      after: { present: true, accessType: 'Custom' },
    });
    // One PUT of the very access read before the revoke, and Citrix holds it again.
    const put = changesSince(before);
    expect(put.map((r) => `${r.method} ${r.path}?id=${r.query.id}`)).toEqual([
      `PUT /administrators/access?id=${ADMINS.mallory.userId}`,
    ]);
    expect(put[0]?.body).toEqual(original);
    expect(await accessOf(ADMINS.mallory.userId)).toEqual(original);
    // And the restore's own status names its undo: a strip again.
    expect(toActionView(record).undo?.command).toBe(
      `citrix-response act admin.revoke --admin ${ADMINS.mallory.email} --reason "…"`,
    );

    // Never twice: a second restore of the same revoke is refused before any call.
    const again = await run({ action: 'admin.restore', target: { admin: ADMINS.mallory.email } });
    expect(again.record).toMatchObject({
      status: 'failed',
      error: { name: 'RevokeAlreadyRestoredError' },
    });
    expect(again.record.error?.message).toContain(record.actionId);
    expect(changesSince(before)).toHaveLength(1);
  });

  it('refuses, changing nothing, once the access changed since the revoke', async () => {
    await run({ action: 'admin.revoke', target: { admin: ADMINS.mallory.email } });
    await grantFull(ADMINS.mallory.userId);
    const before = changes().length;
    const { record } = await run({
      action: 'admin.restore',
      target: { admin: ADMINS.mallory.email },
    });
    expect(record).toMatchObject({
      status: 'failed',
      error: { name: 'AdministratorChangedSinceRevokeError' },
    });
    expect(record.error?.message).toMatch(/access type Custom, now Full/);
    expect(changesSince(before)).toEqual([]);
    expect(administrator(ADMINS.mallory.ucOid)?.accessType).toBe('Full');
  });

  it('plans a dry run with the access it would put back, sending no change', async () => {
    const original = await accessOf(ADMINS.mallory.userId);
    const revoked = await run({ action: 'admin.revoke', target: { admin: ADMINS.mallory.email } });
    const before = changes().length;
    const { record } = await run({
      action: 'admin.restore',
      target: { admin: ADMINS.mallory.email },
      dryRun: true,
    });
    expect(record).toMatchObject({
      status: 'planned',
      summary: 'Dry run: would restore 1 administrator',
    });
    expect(only(record.results)).toMatchObject({
      outcome: 'planned',
      restore: { revokeActionIds: [revoked.record.actionId], access: original },
    });
    expect(changesSince(before)).toEqual([]);
  });

  it('fails for an administrator never revoked in strip mode', async () => {
    const { record } = await run({
      action: 'admin.restore',
      target: { admin: ADMINS.trent.email },
    });
    expect(record).toMatchObject({ status: 'failed', error: { name: 'NoRevokeSnapshotError' } });
    expect(changes()).toEqual([]);
  });
});

describe('administrator report', () => {
  it('reports a new Full administrator between two runs, and only that', async () => {
    const first = await stack.runAdministratorReport();
    // The invitation from 2026-09-01 is older than 14 days: reported on every run.
    expect(first.stalePendingInvitations.map((entry) => entry.email)).toEqual([
      ADMINS.invitee.email,
    ]);
    const before = stack.publishedReports.length;
    // Someone grants trent Full access behind our back.
    await grantFull(ADMINS.trent.userId);

    const second = await stack.runAdministratorReport();
    expect(second.previousTakenAt).toBe(first.takenAt);
    expect(second.added).toEqual([]);
    expect(second.removed).toEqual([]);
    expect(second.becameFull).toEqual([
      expect.objectContaining({ email: ADMINS.trent.email, previousAccessType: 'Custom' }),
    ]);
    expect(stack.publishedReports.slice(before)).toEqual([second]);
  });
});
