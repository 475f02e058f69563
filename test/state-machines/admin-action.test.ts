import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type {
  AdminActionType,
  AdminTarget,
  AdminTargetResult,
  InvitationTarget,
  RevokeOptions,
} from '../../lib/actions/schema.ts';
import { toActionView } from '../../lib/actions/view.ts';
import { CHANGE_NOT_SENT_ERRORS } from '../../lib/administrators/admin-actions.ts';
import { ADMIN_ACTION } from '../../lib/workflow/asl/admin-action.ts';
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

/** Longer than the client's request timeout (TEST_ENV: 2 s): the answer arrives too late. */
const LATE_ANSWER_MS = 3000;

describe('admin workflow when Citrix applies a change and its answer is lost', () => {
  const lateAnswer = () =>
    stack.simulator?.setFaults({ mutationLatency: { latencyMs: LATE_ANSWER_MS, count: 1 } });

  it('strips once, records it confirmed by the read-back, and can still restore it', async () => {
    const original = await administratorsClientFor(stack.simulator?.url ?? '').getAccess(
      ADMINS.mallory.userId,
    );
    lateAnswer();
    const { record, status } = await run({
      action: 'admin.revoke',
      target: { admin: ADMINS.mallory.email },
    });
    await stack.simulator?.settled();
    expect(status).toBe('SUCCEEDED');
    // The PUT went out once; its answer came after the client had given up, and was never resent.
    expect(changes().map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'PUT /administrators/access 200',
    ]);
    expect(record.status).toBe('succeeded');
    const result = only(record.results);
    expect(result).toMatchObject({
      outcome: 'succeeded',
      change: { mode: 'strip' },
      replaced: original,
      after: { present: true, accessType: 'Custom', grantedPolicies: ['customerDashboard'] },
    });
    expect(result.note).toMatch(
      /^Confirmed by reading the administrator back: it has Custom access with no permission that can be changed, though Citrix Cloud did not answer PUT \/administrators\/access \(CitrixTimeoutError: .*\); the change may have been applied; Citrix does not let these permissions be changed; they stay granted: customerDashboard$/,
    );

    // The strip's snapshot was recorded as for any strip: a restore puts the access back.
    const restored = await run({
      action: 'admin.restore',
      target: { admin: ADMINS.mallory.email },
    });
    expect(restored.record.status).toBe('succeeded');
    expect(
      await administratorsClientFor(stack.simulator?.url ?? '').getAccess(ADMINS.mallory.userId),
    ).toEqual(original);
  });

  it('deletes a pending invitation once and records it confirmed by the read-back', async () => {
    lateAnswer();
    const { record } = await run({
      action: 'admin.deleteInvitation',
      target: { email: ADMINS.invitee.email },
    });
    await stack.simulator?.settled();
    expect(changes().map((r) => `${r.method} ${r.path} ${r.query.email} ${r.status}`)).toEqual([
      `DELETE /administrators/invitations ${ADMINS.invitee.email} 200`,
    ]);
    expect(record.status).toBe('succeeded');
    expect(only(record.results)).toMatchObject({
      outcome: 'succeeded',
      change: { mode: 'deleteInvitation' },
      after: { present: false },
      note: expect.stringMatching(
        /^Confirmed by reading the administrator back: the invitation is no longer listed, though Citrix Cloud did not answer DELETE \/administrators\/invitations/,
      ),
    });
  });
});

describe('admin workflow when ApplyChange times out', () => {
  beforeEach(() => stack.runner.lambdaFaults.clear());

  it('after its DELETE went out: never runs it again, and records it confirmed by the read-back', async () => {
    stack.runner.lambdaFaults.timeOut('apply-admin-change', 1, 'after-work');
    const { record } = await run({
      action: 'admin.revoke',
      target: { admin: ADMINS.trent.email },
      options: { mode: 'delete' },
    });
    expect(stack.runner.lambdaFaults.fired('apply-admin-change')).toBe(1);
    expect(changes().map((r) => `${r.method} ${r.path}`)).toEqual([
      `DELETE /administrators/${ADMINS.trent.userId}`,
    ]);
    expect(record.status).toBe('succeeded');
    const result = only(record.results);
    expect(result).toMatchObject({ outcome: 'succeeded', after: { present: false } });
    expect(result).not.toHaveProperty('change');
    expect(result.note).toMatch(
      /^Confirmed by reading the administrator back: it is no longer listed, though the step that makes the change ended with Sandbox\.Timedout: /,
    );
  });

  it('before it sent anything: records the strip unconfirmed, sent nowhere and never sent', async () => {
    stack.runner.lambdaFaults.timeOut('apply-admin-change', 1, 'before-work');
    const { record, status } = await run({
      action: 'admin.revoke',
      target: { admin: ADMINS.mallory.email },
    });
    expect(status).toBe('SUCCEEDED');
    expect(changes()).toEqual([]);
    const result = only(record.results);
    expect(result).toMatchObject({
      outcome: 'unconfirmed',
      error: { name: 'AdministratorChangeUnconfirmedError' },
    });
    expect(result.error?.message).toMatch(
      /^Sent, not confirmed: the step that makes the change ended with Sandbox\.Timedout: .*; reading the administrator back does not show it \(.*\)\. It was not sent again: check mallory@example\.com in Citrix Cloud before making the change again$/,
    );
    expect(record.status).toBe('failed');
    expect(record.summary).toMatch(/1 sent, not confirmed \(check before sending again\)/);
  });
});

describe('the admin workflow never sends a change twice', () => {
  const states = (
    ADMIN_ACTION.States.ActOnEachAdministrator as unknown as {
      ItemProcessor: {
        States: Record<
          string,
          {
            Retry?: { ErrorEquals: string[] }[];
            Catch?: { ErrorEquals: string[]; Next: string }[];
            Choices?: { Variable: string; StringEquals: string; Next: string }[];
            Default?: string;
          }
        >;
      };
    }
  ).ItemProcessor.States;

  it('never retries ApplyChange on an error that may follow a change that went out', () => {
    const retried = (states.ApplyChange?.Retry ?? []).flatMap((retrier) => retrier.ErrorEquals);
    // A throttled invoke never ran the function: it is retried.
    expect(retried).toContain('Lambda.TooManyRequestsException');
    for (const name of [
      'States.ALL',
      'States.TaskFailed',
      'States.Timeout',
      'Sandbox.Timedout',
      'Lambda.Unknown',
      'Lambda.ServiceException',
      'Lambda.AWSLambdaException',
      'Lambda.SdkClientException',
      'AdministratorChangeUnansweredError',
    ]) {
      expect(retried, name).not.toContain(name);
    }
  });

  it('reads the administrator back after any failure of ApplyChange but those that show nothing was sent', () => {
    expect(states.ApplyChange?.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'WasChangeSent' },
    ]);
    const choices = states.WasChangeSent?.Choices ?? [];
    expect(choices.map((choice) => choice.StringEquals)).toEqual([...CHANGE_NOT_SENT_ERRORS]);
    for (const choice of choices) {
      expect(choice).toMatchObject({ Variable: '$.error.Error', Next: 'RecordAdminResult' });
    }
    expect(states.WasChangeSent?.Default).toBe('ReadBack');
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
