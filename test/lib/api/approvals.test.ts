import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionRecord } from '../../../lib/actions/schema.ts';
import { DynamoActionStore } from '../../../lib/actions/store.ts';
import { decideOnAction } from '../../../lib/api/approvals.ts';
import {
  AUDIT_SUMMARY_MAX,
  type AuditEntry,
  AuditEntrySchema,
} from '../../../lib/audit/audit-log.ts';
import { type Person, personFromIdentity } from '../../../lib/identity/principal.ts';
import { TaskTokenInvalidError, type TaskTokenSender } from '../../../lib/workflow/starter.ts';
import { createActionsTable, type LocalDynamo, startLocalDynamo } from '../../../local/dynamodb.ts';
import { LocalTaskTokens } from '../../../local/workflow-runner.ts';
import { rejection } from '../../support/rejection.ts';
import { iamUser, roleSession, TEST_ACCOUNT } from '../../support/signed-request.ts';

/**
 * The approve/reject API against a real (local) action store and the local runner's task tokens:
 * who may approve, what the audit entry records, and that a decision whose delivery to the
 * workflow failed can be retried rather than ending the action expired.
 */
const TABLE = 'approvals-test';
let dynamo: LocalDynamo;
let store: DynamoActionStore;
let counter = 0;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  await createActionsTable(dynamo.client, TABLE);
  store = new DynamoActionStore(dynamo.client, TABLE);
});
afterAll(async () => dynamo.close());

/** An IAM user, as API Gateway authenticated them. */
const person = (name: string): Person => personFromIdentity(iamUser(name));
const REQUESTER = person('requester@example.com');

/** An action held for approval, as RequestApproval leaves it; `resumed` settles with the task. */
async function heldAction(
  tokens: LocalTaskTokens,
  fields: Partial<ActionRecord> = { requestedBy: REQUESTER.name, requester: REQUESTER },
  windowMs = 60_000,
): Promise<{ actionId: string; resumed: Promise<unknown> }> {
  counter += 1;
  const actionId = `act_${counter.toString(16).padStart(32, 'a')}`;
  const now = new Date().toISOString();
  await store.create({
    actionId,
    action: 'device.wipe',
    target: { deviceId: '1042' },
    reason: 'approval test',
    dryRun: false,
    status: 'accepted',
    createdAt: now,
    updatedAt: now,
    results: {},
    expiresAt: 1_900_000_000,
    ...fields,
  });
  await store.markRunning(actionId, []);
  const token = `local-task-token-${actionId}`;
  const resumed = tokens.wait(token);
  resumed.catch(() => undefined);
  await store.awaitApproval(actionId, {
    reasons: ['device.wipe needs approval'],
    taskToken: token,
    expiresAt: new Date(Date.now() + windowMs).toISOString(),
  });
  return { actionId, resumed };
}

function dependencies(tokens: TaskTokenSender) {
  const entries: AuditEntry[] = [];
  return {
    entries,
    deps: {
      actions: store,
      tokens,
      audit: { append: async (batch: readonly AuditEntry[]) => void entries.push(...batch) },
    },
  };
}

/** A task-token sender whose first `failures` calls fail as a Step Functions outage would. */
function failingFirst(inner: TaskTokenSender, failures = 1): TaskTokenSender & { calls: number } {
  const sender = {
    calls: 0,
    async succeed(token: string, output: unknown) {
      sender.calls += 1;
      if (sender.calls <= failures) throw new Error('ServiceUnavailable');
      await inner.succeed(token, output);
    },
    async fail(token: string, error: string, cause: string) {
      sender.calls += 1;
      if (sender.calls <= failures) throw new Error('ServiceUnavailable');
      await inner.fail(token, error, cause);
    },
  };
  return sender;
}

const errorCode = (error: Error) =>
  (JSON.parse(error.message) as { error: { code: string } }).error.code;

describe('who may approve', () => {
  /** The error code of a refused approval by `approver`, the action left waiting and unrecorded. */
  async function refusedApproval(fields: Partial<ActionRecord>, approver: Person): Promise<string> {
    const tokens = new LocalTaskTokens();
    const { actionId } = await heldAction(tokens, fields);
    const { deps, entries } = dependencies(tokens);
    const refused = await rejection(decideOnAction(deps, actionId, 'approved', {}, approver));
    expect(refused).toMatchObject({ statusCode: 403 });
    expect(await store.get(actionId)).toMatchObject({ status: 'awaiting_approval' });
    expect(entries).toEqual([]);
    return errorCode(refused);
  }

  it('refuses to approve an action that names no requester, but lets it be rejected', async () => {
    const tokens = new LocalTaskTokens();
    const { actionId, resumed } = await heldAction(tokens, {});
    const { deps, entries } = dependencies(tokens);
    const refused = await rejection(
      decideOnAction(deps, actionId, 'approved', {}, person('anyone@example.com')),
    );
    expect(refused).toMatchObject({ statusCode: 403 });
    expect(errorCode(refused)).toBe('requester_unknown');
    expect(await store.get(actionId)).toMatchObject({ status: 'awaiting_approval' });
    expect(entries).toEqual([]);

    const rejected = await decideOnAction(
      deps,
      actionId,
      'rejected',
      {},
      person('jane@example.com'),
    );
    expect(rejected).toEqual({ actionId, status: 'rejected', decidedBy: 'jane@example.com' });
    await expect(resumed).rejects.toThrow('Rejected by jane@example.com');
  });

  it('refuses the requester, by principal', async () => {
    const requester = person('Soc.Lead@Example.com');
    expect(await refusedApproval({ requester, requestedBy: requester.name }, requester)).toBe(
      'self_approval',
    );
  });

  it('refuses a lookalike principal: a Cyrillic е in place of the Latin e', async () => {
    const requester = person('Soc.Lead@Example.com');
    const lookalike = person('soc.l\u0435ad@example.com');
    expect(lookalike.key).not.toBe(requester.key);
    expect(await refusedApproval({ requester }, lookalike)).toBe('lookalike_approver');
  });

  it('refuses one person under another principal: another SSO permission set, the same name', async () => {
    const responder = personFromIdentity(roleSession('AWSReservedSSO_Responder_0a1b2c3d', 'Jane'));
    const approver = personFromIdentity(roleSession('AWSReservedSSO_Approver_4e5f6a7b', 'jane'));
    expect(approver.key).not.toBe(responder.key);
    expect(await refusedApproval({ requester: responder }, approver)).toBe('self_approval');
  });

  it('refuses another session of the same assumed role, whatever its session name', async () => {
    const requester = personFromIdentity(roleSession('IncidentResponder', 'alice'));
    const approver = personFromIdentity(roleSession('IncidentResponder', 'bob'));
    expect(approver.key).toBe(`arn:aws:iam::${TEST_ACCOUNT}:role/IncidentResponder`);
    expect(await refusedApproval({ requester }, approver)).toBe('self_approval');
  });

  it("refuses an older record's requester by the name it typed, whatever the case and spacing", async () => {
    expect(await refusedApproval({ requestedBy: ' Requester@Example.com ' }, REQUESTER)).toBe(
      'self_approval',
    );
  });

  it('lets a second person approve what a source asked for, even when it names them', async () => {
    const tokens = new LocalTaskTokens();
    const { actionId, resumed } = await heldAction(tokens, {
      requestedBy: 'standard: jane@example.com',
      requester: { kind: 'source', key: 'source:standard', name: 'standard: jane@example.com' },
    });
    const { deps } = dependencies(tokens);
    await decideOnAction(deps, actionId, 'approved', {}, person('jane@example.com'));
    expect(await resumed).toEqual({ approvedBy: 'jane@example.com' });
  });

  it('refuses a body naming who decides, naming the field', async () => {
    const tokens = new LocalTaskTokens();
    const { actionId } = await heldAction(tokens);
    const { deps } = dependencies(tokens);
    const refused = await rejection(
      decideOnAction(deps, actionId, 'approved', { by: 'jane@example.com' }, REQUESTER),
    );
    expect(refused).toMatchObject({ statusCode: 400 });
    expect(JSON.parse(refused.message).error.fields).toEqual([
      { field: 'by', message: 'is not accepted: the person who signs the request decides' },
    ]);
    expect(await store.get(actionId)).toMatchObject({ status: 'awaiting_approval' });
  });

  it('records the approval with the principal and the request that decided', async () => {
    const tokens = new LocalTaskTokens();
    const { actionId, resumed } = await heldAction(tokens);
    const { deps, entries } = dependencies(tokens);
    const jane = person('jane@example.com');
    await decideOnAction(deps, actionId, 'approved', {}, jane, 'req-approve-1');
    expect(await resumed).toEqual({ approvedBy: 'jane@example.com' });
    expect(entries).toEqual([
      expect.objectContaining({
        actionId,
        type: 'decision',
        summary: 'Approved by jane@example.com',
        details: {
          decision: 'approved',
          by: 'jane@example.com',
          principal: jane.key,
          requestId: 'req-approve-1',
        },
      }),
    ]);
  });

  it('records a decision with the longest comment, its summary cut to what the audit log takes', async () => {
    const tokens = new LocalTaskTokens();
    const { actionId, resumed } = await heldAction(tokens);
    const { deps, entries } = dependencies(tokens);
    const comment = 'x'.repeat(1000);
    await decideOnAction(deps, actionId, 'rejected', { comment }, person('jane@example.com'));
    await expect(resumed).rejects.toThrow();
    const [entry] = entries;
    expect(AuditEntrySchema.safeParse(entry).success).toBe(true);
    expect(entry?.summary).toHaveLength(AUDIT_SUMMARY_MAX);
    expect(entry?.summary.endsWith('…')).toBe(true);
    // The whole comment stays on the action's decision.
    expect((await store.get(actionId))?.approval).toMatchObject({ comment });
  });
});

describe('a decision whose delivery to the workflow fails', () => {
  it('is resent when the same approver repeats it, and the workflow resumes', async () => {
    const local = new LocalTaskTokens();
    const tokens = failingFirst(local);
    const { actionId, resumed } = await heldAction(local);
    const { deps, entries } = dependencies(tokens);
    const first = await rejection(
      decideOnAction(deps, actionId, 'approved', {}, person('jane@example.com'), 'msg_1'),
    );
    expect(first.message).toBe('ServiceUnavailable');
    // Recorded, but the workflow still waits: another approver, or the opposite decision, is
    // refused; the same approver's retry goes through.
    expect(await store.get(actionId)).toMatchObject({
      status: 'running',
      approval: { decision: 'approved', decidedBy: 'jane@example.com' },
    });
    for (const [decision, by] of [
      ['approved', 'other@example.com'],
      ['rejected', 'jane@example.com'],
    ] as const) {
      const conflict = await rejection(decideOnAction(deps, actionId, decision, {}, person(by)));
      expect(conflict).toMatchObject({ statusCode: 409 });
      expect(errorCode(conflict)).toBe('not_awaiting_approval');
    }

    const retried = await decideOnAction(
      deps,
      actionId,
      'approved',
      {},
      person('JANE@example.com'),
      'msg_2',
    );
    expect(retried).toEqual({ actionId, status: 'running', decidedBy: 'jane@example.com' });
    expect(await resumed).toEqual({ approvedBy: 'jane@example.com' });
    expect(tokens.calls).toBe(2);
    const principal = person('jane@example.com').key;
    expect(entries.map((entry) => entry.details)).toEqual([
      { decision: 'approved', by: 'jane@example.com', principal, requestId: 'msg_1' },
      {
        decision: 'approved',
        by: 'jane@example.com',
        principal: person('JANE@example.com').key,
        requestId: 'msg_2',
        repeated: true,
      },
    ]);

    // Once more after the workflow resumed (the answer was lost): the token is used, the
    // window still open, so the earlier delivery counted; nothing is sent twice.
    expect(
      await decideOnAction(deps, actionId, 'approved', {}, person('jane@example.com'), 'msg_3'),
    ).toEqual({ actionId, status: 'running', decidedBy: 'jane@example.com' });

    // A finished action waits on nothing: a repeat is a conflict again, and nothing is sent.
    await store.complete(actionId, { status: 'succeeded', summary: 'done' });
    const late = await rejection(
      decideOnAction(deps, actionId, 'approved', {}, person('jane@example.com')),
    );
    expect(errorCode(late)).toBe('not_awaiting_approval');
    expect(tokens.calls).toBe(3);
  });

  it('retries a rejection the same way', async () => {
    const local = new LocalTaskTokens();
    const tokens = failingFirst(local);
    const { actionId, resumed } = await heldAction(local, {});
    const { deps } = dependencies(tokens);
    await rejection(decideOnAction(deps, actionId, 'rejected', {}, person('jane@example.com')));
    expect(
      await decideOnAction(deps, actionId, 'rejected', {}, person('jane@example.com')),
    ).toEqual({
      actionId,
      status: 'rejected',
      decidedBy: 'jane@example.com',
    });
    await expect(resumed).rejects.toThrow('Rejected by jane@example.com');
  });

  it('answers expired when the window closed before the resent decision got through', async () => {
    const local = new LocalTaskTokens();
    // Still inside the recorded window: the answer comes from the record, not the clock.
    const { actionId } = await heldAction(local);
    let calls = 0;
    const { deps } = dependencies({
      succeed: async () => {
        calls += 1;
        if (calls === 1) throw new Error('ServiceUnavailable');
        // Meanwhile the wait timed out: Step Functions no longer knows the token, and the
        // workflow recorded how the action ended.
        await store.complete(actionId, { status: 'expired', summary: 'Nobody approved in time' });
        throw new TaskTokenInvalidError('The workflow no longer waits on this approval');
      },
      fail: local.fail,
    });
    await rejection(decideOnAction(deps, actionId, 'approved', {}, person('jane@example.com')));
    const expired = await rejection(
      decideOnAction(deps, actionId, 'approved', {}, person('jane@example.com')),
    );
    expect(expired).toMatchObject({ statusCode: 409 });
    expect(errorCode(expired)).toBe('expired');
    expect(calls).toBe(2);
  });

  it('answers expired when the first decision found the wait already ended', async () => {
    const local = new LocalTaskTokens();
    const { actionId } = await heldAction(local);
    const { deps } = dependencies({
      succeed: async () => {
        throw new TaskTokenInvalidError('The workflow no longer waits on this approval');
      },
      fail: local.fail,
    });
    const expired = await rejection(
      decideOnAction(deps, actionId, 'approved', {}, person('jane@example.com')),
    );
    expect(errorCode(expired)).toBe('expired');
  });
});

describe('a repeated decision is answered from the record', () => {
  it('answers 200 to an approval repeated after its window while the action runs', async () => {
    const local = new LocalTaskTokens();
    // The recorded window has passed; the approval reached the workflow in time.
    const { actionId, resumed } = await heldAction(local, undefined, 50);
    const { deps } = dependencies(local);
    await decideOnAction(deps, actionId, 'approved', {}, person('jane@example.com'));
    expect(await resumed).toEqual({ approvedBy: 'jane@example.com' });
    await new Promise((resolve) => setTimeout(resolve, 60));

    expect(
      await decideOnAction(deps, actionId, 'approved', {}, person('jane@example.com')),
    ).toEqual({
      actionId,
      status: 'running',
      decidedBy: 'jane@example.com',
    });
  });

  it('answers expired to a repeat once the action ended expired, sending nothing', async () => {
    const local = new LocalTaskTokens();
    const tokens = failingFirst(local);
    const { actionId } = await heldAction(local);
    const { deps, entries } = dependencies(tokens);
    await rejection(decideOnAction(deps, actionId, 'approved', {}, person('jane@example.com')));
    // The wait timed out before the approval reached it; the workflow ended the action.
    await store.complete(actionId, { status: 'expired', summary: 'Nobody approved in time' });

    const expired = await rejection(
      decideOnAction(deps, actionId, 'approved', {}, person('jane@example.com')),
    );
    expect(expired).toMatchObject({ statusCode: 409 });
    expect(errorCode(expired)).toBe('expired');
    expect(tokens.calls).toBe(1);
    expect(entries).toHaveLength(1);
  });

  it('answers decided to a repeated approval once the action ended, and 200 to a repeated rejection', async () => {
    const local = new LocalTaskTokens();
    const approved = await heldAction(local);
    const { deps } = dependencies(local);
    await decideOnAction(deps, approved.actionId, 'approved', {}, person('jane@example.com'));
    await store.complete(approved.actionId, { status: 'succeeded', summary: 'done' });
    const late = await rejection(
      decideOnAction(deps, approved.actionId, 'approved', {}, person('jane@example.com')),
    );
    expect(late).toMatchObject({ statusCode: 409 });
    expect(errorCode(late)).toBe('not_awaiting_approval');
    expect(late.message).toMatch(/already decided \(approved\) and is succeeded/);

    const rejected = await heldAction(local);
    await decideOnAction(deps, rejected.actionId, 'rejected', {}, person('jane@example.com'));
    await store.complete(rejected.actionId, { status: 'rejected', summary: 'Rejected' });
    expect(
      await decideOnAction(deps, rejected.actionId, 'rejected', {}, person('jane@example.com')),
    ).toEqual({ actionId: rejected.actionId, status: 'rejected', decidedBy: 'jane@example.com' });
  });
});
