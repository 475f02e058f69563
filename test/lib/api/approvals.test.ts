import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionRecord } from '../../../lib/actions/schema.ts';
import { DynamoActionStore } from '../../../lib/actions/store.ts';
import { decideOnAction } from '../../../lib/api/approvals.ts';
import type { AuditEntry } from '../../../lib/audit/audit-log.ts';
import { TaskTokenInvalidError, type TaskTokenSender } from '../../../lib/workflow/starter.ts';
import { createActionsTable, type LocalDynamo, startLocalDynamo } from '../../../local/dynamodb.ts';
import { LocalTaskTokens } from '../../../local/workflow-runner.ts';
import { rejection } from '../../support/rejection.ts';

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

/** An action held for approval, as RequestApproval leaves it; `resumed` settles with the task. */
async function heldAction(
  tokens: LocalTaskTokens,
  fields: Partial<ActionRecord> = { requestedBy: 'requester@example.com' },
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
  it('refuses to approve an action that names no requester, but lets it be rejected', async () => {
    const tokens = new LocalTaskTokens();
    const { actionId, resumed } = await heldAction(tokens, {});
    const { deps, entries } = dependencies(tokens);
    const refused = await rejection(
      decideOnAction(deps, actionId, 'approved', { by: 'anyone@example.com' }),
    );
    expect(refused).toMatchObject({ statusCode: 403 });
    expect(errorCode(refused)).toBe('requester_unknown');
    expect(await store.get(actionId)).toMatchObject({ status: 'awaiting_approval' });
    expect(entries).toEqual([]);

    const rejected = await decideOnAction(deps, actionId, 'rejected', { by: 'jane@example.com' });
    expect(rejected).toEqual({ actionId, status: 'rejected', decidedBy: 'jane@example.com' });
    await expect(resumed).rejects.toThrow('Rejected by jane@example.com');
  });

  it('refuses self-approval, whatever the case and spacing', async () => {
    const tokens = new LocalTaskTokens();
    const { actionId } = await heldAction(tokens);
    const { deps } = dependencies(tokens);
    const refused = await rejection(
      decideOnAction(deps, actionId, 'approved', { by: ' Requester@Example.com ' }),
    );
    expect(refused).toMatchObject({ statusCode: 403 });
    expect(errorCode(refused)).toBe('self_approval');
  });

  it('records the approval with the webhook-id of the request that decided', async () => {
    const tokens = new LocalTaskTokens();
    const { actionId, resumed } = await heldAction(tokens);
    const { deps, entries } = dependencies(tokens);
    await decideOnAction(deps, actionId, 'approved', { by: 'jane@example.com' }, 'msg_approve_1');
    expect(await resumed).toEqual({ approvedBy: 'jane@example.com' });
    expect(entries).toEqual([
      expect.objectContaining({
        actionId,
        type: 'decision',
        summary: 'Approved by jane@example.com',
        details: { decision: 'approved', by: 'jane@example.com', webhookId: 'msg_approve_1' },
      }),
    ]);
  });
});

describe('a decision whose delivery to the workflow fails', () => {
  it('is resent when the same approver repeats it, and the workflow resumes', async () => {
    const local = new LocalTaskTokens();
    const tokens = failingFirst(local);
    const { actionId, resumed } = await heldAction(local);
    const { deps, entries } = dependencies(tokens);
    const first = await rejection(
      decideOnAction(deps, actionId, 'approved', { by: 'jane@example.com' }, 'msg_1'),
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
      const conflict = await rejection(decideOnAction(deps, actionId, decision, { by }));
      expect(conflict).toMatchObject({ statusCode: 409 });
      expect(errorCode(conflict)).toBe('not_awaiting_approval');
    }

    const retried = await decideOnAction(
      deps,
      actionId,
      'approved',
      { by: 'JANE@example.com' },
      'msg_2',
    );
    expect(retried).toEqual({ actionId, status: 'running', decidedBy: 'JANE@example.com' });
    expect(await resumed).toEqual({ approvedBy: 'JANE@example.com' });
    expect(tokens.calls).toBe(2);
    expect(entries.map((entry) => entry.details)).toEqual([
      { decision: 'approved', by: 'jane@example.com', webhookId: 'msg_1' },
      { decision: 'approved', by: 'JANE@example.com', webhookId: 'msg_2', repeated: true },
    ]);

    // Once more after the workflow resumed (the answer was lost): the token is used, the
    // window still open, so the earlier delivery counted; nothing is sent twice.
    expect(
      await decideOnAction(deps, actionId, 'approved', { by: 'jane@example.com' }, 'msg_3'),
    ).toEqual({ actionId, status: 'running', decidedBy: 'jane@example.com' });

    // A finished action waits on nothing: a repeat is a conflict again, and nothing is sent.
    await store.complete(actionId, { status: 'succeeded', summary: 'done' });
    const late = await rejection(
      decideOnAction(deps, actionId, 'approved', { by: 'jane@example.com' }),
    );
    expect(errorCode(late)).toBe('not_awaiting_approval');
    expect(tokens.calls).toBe(3);
  });

  it('retries a rejection the same way', async () => {
    const local = new LocalTaskTokens();
    const tokens = failingFirst(local);
    const { actionId, resumed } = await heldAction(local, {});
    const { deps } = dependencies(tokens);
    await rejection(decideOnAction(deps, actionId, 'rejected', { by: 'jane@example.com' }));
    expect(await decideOnAction(deps, actionId, 'rejected', { by: 'jane@example.com' })).toEqual({
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
    await rejection(decideOnAction(deps, actionId, 'approved', { by: 'jane@example.com' }));
    const expired = await rejection(
      decideOnAction(deps, actionId, 'approved', { by: 'jane@example.com' }),
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
      decideOnAction(deps, actionId, 'approved', { by: 'jane@example.com' }),
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
    await decideOnAction(deps, actionId, 'approved', { by: 'jane@example.com' });
    expect(await resumed).toEqual({ approvedBy: 'jane@example.com' });
    await new Promise((resolve) => setTimeout(resolve, 60));

    expect(await decideOnAction(deps, actionId, 'approved', { by: 'jane@example.com' })).toEqual({
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
    await rejection(decideOnAction(deps, actionId, 'approved', { by: 'jane@example.com' }));
    // The wait timed out before the approval reached it; the workflow ended the action.
    await store.complete(actionId, { status: 'expired', summary: 'Nobody approved in time' });

    const expired = await rejection(
      decideOnAction(deps, actionId, 'approved', { by: 'jane@example.com' }),
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
    await decideOnAction(deps, approved.actionId, 'approved', { by: 'jane@example.com' });
    await store.complete(approved.actionId, { status: 'succeeded', summary: 'done' });
    const late = await rejection(
      decideOnAction(deps, approved.actionId, 'approved', { by: 'jane@example.com' }),
    );
    expect(late).toMatchObject({ statusCode: 409 });
    expect(errorCode(late)).toBe('not_awaiting_approval');
    expect(late.message).toMatch(/already decided \(approved\) and is succeeded/);

    const rejected = await heldAction(local);
    await decideOnAction(deps, rejected.actionId, 'rejected', { by: 'jane@example.com' });
    await store.complete(rejected.actionId, { status: 'rejected', summary: 'Rejected' });
    expect(
      await decideOnAction(deps, rejected.actionId, 'rejected', { by: 'jane@example.com' }),
    ).toEqual({ actionId: rejected.actionId, status: 'rejected', decidedBy: 'jane@example.com' });
  });
});
