import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_DEMO_PEOPLE } from '../../local/defaults.ts';
import { describeWorkflowEvent } from '../../local/progress.ts';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import type { WorkflowEvent } from '../../local/workflow-runner.ts';
import { sigV4Fetch } from '../support/local-stack.ts';
import { type LoopbackServer, startLoopbackServer } from '../support/loopback-server.ts';
import { TEST_SIGNING_SECRET } from '../support/signed-request.ts';
import { FAST_WORKFLOW, TEST_ENV, testFixture } from '../support/simulator-fixture.ts';

const exited = (name: string, output: unknown) =>
  ({
    type: 'StateExited',
    timestamp: 0,
    state: { name, type: 'Task', input: {}, output },
  }) as WorkflowEvent;

const entered = (name: string, input: unknown) =>
  ({ type: 'StateEntered', timestamp: 0, state: { name, type: 'Task', input } }) as WorkflowEvent;

const ACTION_ID = 'act_0123456789abcdef0123456789abcdef';

/** What each iteration of ActOnEachBatch starts from (its ItemSelector). */
const BATCH_ITERATION = { actionId: ACTION_ID, action: 'session.logoff', batch: 0 };

describe('describeWorkflowEvent', () => {
  it('tells an on-call engineer what each step did', () => {
    // The session resolver hands over batch numbers and a count, never the sessions.
    expect(
      describeWorkflowEvent(
        exited('ResolveTargets', { resolution: { batches: [0, 1], targets: 250 } }),
      ),
    ).toBe('resolved 250 session(s) in 2 batch(es)');
    expect(
      describeWorkflowEvent(exited('ResolveTargets', { resolution: { batches: [], targets: 0 } })),
    ).toBe('resolved 0 session(s) in 0 batch(es)');
    // One line per round of a batch, from the counts the round returns.
    expect(
      describeWorkflowEvent(
        exited('AdvanceBatch', {
          ...BATCH_ITERATION,
          batch: 1,
          round: {
            done: false,
            waitSeconds: 4,
            counts: { pending: 2, claimed: 0, submitted: 3, finished: 5 },
          },
        }),
      ),
    ).toBe('batch 1: 5 finished, 3 running, 2 not sent; next round in 4 s');
    expect(
      describeWorkflowEvent(
        exited('AdvanceBatch', {
          ...BATCH_ITERATION,
          round: {
            done: true,
            waitSeconds: 1,
            counts: { pending: 0, claimed: 0, submitted: 0, finished: 10 },
          },
        }),
      ),
    ).toBe('batch 0: done (10 finished, 0 running, 0 not sent)');
    expect(
      describeWorkflowEvent(
        exited('CompleteAction', { status: 'succeeded', summary: '1 of 1 sessions logged off' }),
      ),
    ).toBe('action succeeded: 1 of 1 sessions logged off');
  });

  it('tells what the device workflow did to each device', () => {
    expect(
      describeWorkflowEvent(
        exited('ResolveTargets', {
          resolution: {
            targets: [
              { deviceId: 'd-1', managed: true },
              { deviceId: 'd-2', managed: false },
            ],
          },
        }),
      ),
    ).toBe('resolved 2 device(s), 1 not managed');
    expect(
      describeWorkflowEvent(
        exited('SendCommand', { target: { deviceId: 'd-1' }, command: { name: 'wipe' } }),
      ),
    ).toBe('device d-1: wipe accepted');
    expect(
      describeWorkflowEvent(
        exited('SendCommand', {
          target: { deviceId: 'd-1' },
          command: { name: 'wipe', unanswered: 'CitrixTimeoutError' },
        }),
      ),
    ).toBe('device d-1: wipe sent, no answer (not sent again)');
    expect(
      describeWorkflowEvent(
        exited('RecordDeviceResult', { deviceId: 'd-2', outcome: 'skipped', note: 'Not managed' }),
      ),
    ).toBe('device d-2: skipped (Not managed)');
    expect(
      describeWorkflowEvent(
        exited('CompleteAction', {
          completion: { status: 'succeeded', summary: '1 of 1 device sent a full wipe' },
        }),
      ),
    ).toBe('action succeeded: 1 of 1 device sent a full wipe');
  });

  it('tells what the admin workflow decided and did', () => {
    expect(
      describeWorkflowEvent(
        exited('ResolveTargets', {
          resolution: {
            targets: [
              {
                administratorId: '3',
                ucOid: 'OID:/citrix/3',
                email: 'mallory@example.com',
                accessType: 'Custom',
                allowed: true,
              },
            ],
          },
        }),
      ),
    ).toBe('resolved administrator mallory@example.com (Custom access)');
    expect(
      describeWorkflowEvent(
        exited('ResolveTargets', {
          resolution: {
            targets: [
              {
                administratorId: '1',
                email: 'a@example.com',
                allowed: false,
                refusal: 'last Full',
              },
            ],
          },
        }),
      ),
    ).toBe('resolved administrator a@example.com: refused, last Full');
    expect(
      describeWorkflowEvent(
        exited('ApplyChange', {
          target: { email: 'mallory@example.com' },
          change: { mode: 'strip' },
        }),
      ),
    ).toBe('administrator mallory@example.com: strip accepted by Citrix Cloud');
    expect(
      describeWorkflowEvent(
        exited('RecordAdminResult', {
          email: 'a@example.com',
          outcome: 'refused',
          note: 'last Full',
        }),
      ),
    ).toBe('administrator a@example.com: refused (last Full)');
  });

  it('leaves a round that failed to FailBatch instead of repeating stale progress', () => {
    const caught = {
      ...BATCH_ITERATION,
      round: {
        done: false,
        waitSeconds: 4,
        counts: { pending: 0, claimed: 0, submitted: 1, finished: 0 },
      },
      error: { Error: 'SessionBatchStoreUnavailableError', Cause: 'table gone' },
    };
    expect(describeWorkflowEvent(exited('AdvanceBatch', caught))).toBeUndefined();
  });

  it('tells how FailBatch finished a batch whose round failed as a whole', () => {
    // FailBatch runs on the Catch's output: the error stays at $.error beside its round.
    expect(
      describeWorkflowEvent(
        exited('FailBatch', {
          ...BATCH_ITERATION,
          batch: 2,
          error: { Error: 'States.Timeout', Cause: 'round timed out' },
          round: {
            done: true,
            waitSeconds: 1,
            counts: { pending: 0, claimed: 0, submitted: 0, finished: 3 },
          },
        }),
      ),
    ).toBe('batch 2: done (3 finished, 0 running, 0 not sent)');
  });

  it('tells who must approve a held action, with the command to do it, and the decision', () => {
    const held = {
      actionId: ACTION_ID,
      resolution: {
        guardrails: {
          outcome: 'approval',
          reasons: ['device.wipe requires approval'],
          approvalTimeoutSeconds: 3600,
        },
      },
    };
    expect(describeWorkflowEvent(entered('RequestApproval', held), ACTION_ID)).toBe(
      `awaiting approval (device.wipe requires approval) for up to 60 min; approve as another person with: npx citrix-response approve ${ACTION_ID}`,
    );
    // Without the execution name, the id comes from the state's input.
    expect(describeWorkflowEvent(entered('RequestApproval', held))).toContain(
      `npx citrix-response approve ${ACTION_ID}`,
    );
    expect(
      describeWorkflowEvent(
        exited('RequestApproval', { ...held, approval: { approvedBy: 'bob.lead' } }),
      ),
    ).toBe('approved by bob.lead');
    expect(
      describeWorkflowEvent(
        exited('RequestApproval', {
          ...held,
          error: { Error: 'ActionRejectedError', Cause: 'Rejected by bob.lead: not now' },
        }),
      ),
    ).toBe('rejected by bob.lead: not now');
    expect(
      describeWorkflowEvent(
        exited('RequestApproval', { ...held, error: { Error: 'States.Timeout', Cause: '' } }),
      ),
    ).toBe('approval expired: nobody decided in time');
    expect(
      describeWorkflowEvent(
        exited('RequestApproval', {
          ...held,
          error: { Error: 'ActionStoreUnavailableError', Cause: 'table gone' },
        }),
      ),
    ).toBe('approval hold failed: table gone');
  });

  it('tells how an action that ended without acting ended', () => {
    expect(
      describeWorkflowEvent(
        exited('RecordRejection', {
          completion: {
            status: 'rejected',
            summary: 'Rejected; nothing was done: Rejected by bob.lead',
          },
        }),
      ),
    ).toBe('action rejected; nothing was done: Rejected by bob.lead');
    expect(
      describeWorkflowEvent(
        exited('RecordExpiry', {
          completion: {
            status: 'expired',
            summary: 'Nobody approved the action in time; nothing was done',
          },
        }),
      ),
    ).toBe('action expired: Nobody approved the action in time; nothing was done');
    expect(
      describeWorkflowEvent(
        exited('RecordActionFailure', {
          completion: { status: 'failed', summary: 'Action failed: Citrix unreachable' },
        }),
      ),
    ).toBe('action failed: Citrix unreachable');
    expect(
      describeWorkflowEvent(
        exited('RecordActionFailure', {
          completion: { status: 'refused', summary: 'Refused: protected administrator' },
        }),
      ),
    ).toBe('action refused: protected administrator');
  });

  it('tells which sessions were warned, the grace period, and a warning that failed', () => {
    // WarnSessions returns counts: the warnings themselves are in the session batches.
    expect(
      describeWorkflowEvent(
        exited('WarnSessions', {
          warnings: { sent: 2, failed: 1, firstError: { name: 'E', message: 'VDA gone' } },
        }),
      ),
    ).toBe('$sendMessage warning sent to 2 session(s), failed for 1 (VDA gone)');
    expect(
      describeWorkflowEvent(exited('WarnSessions', { warnings: { sent: 3, failed: 0 } })),
    ).toBe('$sendMessage warning sent to 3 session(s)');
    expect(
      describeWorkflowEvent(entered('WaitGracePeriod', { warning: { graceSeconds: 90 } })),
    ).toBe('waiting the 90 s grace period before acting');
    expect(
      describeWorkflowEvent(entered('WaitGracePeriod', { warning: { graceSeconds: 0 } })),
    ).toBeUndefined();
    // The warning task failed as a whole: RecordWarningFailure tells it, once.
    const failure = { Error: 'States.Timeout', Cause: 'took too long' };
    expect(
      describeWorkflowEvent(exited('WarnSessions', { warningError: failure })),
    ).toBeUndefined();
    expect(
      describeWorkflowEvent(
        exited('RecordWarningFailure', {
          warningError: failure,
          warnings: {
            sent: 0,
            failed: 1,
            firstError: { name: 'States.Timeout', message: 'took too long' },
          },
        }),
      ),
    ).toBe(
      '$sendMessage warning failed (took too long), recorded as failed for 1 session(s); acting after the grace period anyway',
    );
    expect(
      describeWorkflowEvent(
        exited('RecordWarningFailure', {
          warningError: failure,
          warningRecordError: { Error: 'ActionStoreUnavailableError', Cause: 'table gone' },
        }),
      ),
    ).toBe(
      '$sendMessage warning failed (took too long), could not be recorded (table gone); acting after the grace period anyway',
    );
  });

  it('tells how the work note and the callback went', () => {
    expect(
      describeWorkflowEvent(
        exited('NotifyOutcome', {
          notification: {
            notifications: [
              { channel: 'servicenow', destination: 'abc123', status: 'delivered', attempts: 1 },
              {
                channel: 'callback',
                destination: 'soar',
                status: 'failed',
                attempts: 3,
                error: { name: 'CallbackDeliveryError', message: '503 Service Unavailable' },
              },
            ],
          },
        }),
      ),
    ).toBe(
      'work note on ServiceNow incident abc123: delivered; callback to soar: failed (503 Service Unavailable)',
    );
    expect(
      describeWorkflowEvent(
        exited('NotifyOutcomeAfterFailure', {
          notificationError: { Error: 'ActionStoreUnavailableError', Cause: 'table gone' },
        }),
      ),
    ).toBe('notifications failed: table gone');
    // Nothing was asked for: nothing to tell.
    expect(
      describeWorkflowEvent(exited('NotifyOutcome', { notification: { notifications: [] } })),
    ).toBeUndefined();
  });

  it('stays quiet about steps that carry no news', () => {
    expect(describeWorkflowEvent(exited('IsBatchDone', {}))).toBeUndefined();
    expect(describeWorkflowEvent(exited('WaitForJobs', BATCH_ITERATION))).toBeUndefined();
    expect(describeWorkflowEvent(exited('BatchDone', BATCH_ITERATION))).toBeUndefined();
  });
});

/**
 * The same lines from the real workflows on a local stack: the state names and outputs they read
 * are the ones the .asl.json files and task handlers produce.
 */
describe('describeWorkflowEvent on the local stack', () => {
  let stack: LocalStack;
  let receiver: LoopbackServer;
  const lines = new Map<string, string[]>();
  const linesOf = (actionId: string) => lines.get(actionId) ?? [];

  beforeAll(async () => {
    receiver = await startLoopbackServer((_request, response) => {
      response.writeHead(503);
      response.end();
    });
    stack = await startLocalStack({
      env: {
        ...TEST_ENV,
        WEBHOOK_SECRET: TEST_SIGNING_SECRET,
        APPROVAL_REQUIRED: 'session.logoff',
        APPROVAL_TIMEOUT_SECONDS: '4',
        CALLBACK_DESTINATIONS: JSON.stringify({ broken: `${receiver.baseUrl.origin}/hooks` }),
      },
      simulatorFixture: testFixture(),
      ...FAST_WORKFLOW,
      waitTimeOverrides: { ...FAST_WORKFLOW.waitTimeOverrides, WaitGracePeriod: 10 },
      onWorkflowEvent: (actionId, event) => {
        const line = describeWorkflowEvent(event, actionId);
        if (line !== undefined) lines.set(actionId, [...linesOf(actionId), line]);
      },
    });
  });

  // Each test logs bob off anew.
  beforeEach(() => stack.simulator?.reset());

  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  /** A POST signed by one of the demo people (no LOCAL_PEOPLE here): the SOC lead asks. */
  function signed(
    path: string,
    body: Record<string, unknown>,
    as: keyof typeof LOCAL_DEMO_PEOPLE = 'soc.lead@example.com',
  ): Promise<Response> {
    return sigV4Fetch(`${stack.apiUrl}${path}`, {
      body: JSON.stringify(body),
      credentials: LOCAL_DEMO_PEOPLE[as],
    });
  }
  const ON_CALL = 'it.oncall@example.com';

  /** Requests a warned, held log off of bob's session with a callback; its action id. */
  async function heldLogoff(): Promise<string> {
    const response = await signed('/v1/actions', {
      action: 'session.logoff',
      target: { user: 'bob@example.com' },
      reason: `progress test ${randomUUID()}`,
      notify: { title: 'Security', text: 'Your session ends soon.', graceSeconds: 30 },
      callback: 'broken',
    });
    expect(response.status).toBe(202);
    const { actionId } = (await response.json()) as { actionId: string };
    await expect
      .poll(async () => (await stack.actions.get(actionId))?.status, { timeout: 15_000 })
      .toBe('awaiting_approval');
    return actionId;
  }

  it('prints the approval wait, the decision, the warnings and the callback, in order', async () => {
    const actionId = await heldLogoff();
    const approved = await signed(`/v1/actions/${actionId}/approve`, {}, ON_CALL);
    expect(approved.status).toBe(200);
    await stack.runner.execution(actionId)?.done;

    const printed = linesOf(actionId);
    const expected = [
      'workflow started',
      'resolved 1 session(s) in 1 batch(es)',
      `awaiting approval (session.logoff needs approval) for up to 4 s; approve as another person with: npx citrix-response approve ${actionId}`,
      'approved by it.oncall@example.com',
      '$sendMessage warning sent to 1 session(s)',
      'waiting the 30 s grace period before acting',
    ];
    expect(printed.slice(0, expected.length)).toEqual(expected);
    // The batch's rounds: the log off sent and its job polled until the batch was done.
    const rounds = printed.filter((line) => line.startsWith('batch 0: '));
    expect(rounds.length).toBeGreaterThanOrEqual(1);
    expect(rounds.at(-1)).toBe('batch 0: done (1 finished, 0 running, 0 not sent)');
    expect(printed).toContain('action succeeded: 1 of 1 session logged off');
    expect(printed.at(-1)).toMatch(/^callback to broken: failed \(.+\)$/);
  });

  it('prints a rejection', async () => {
    const actionId = await heldLogoff();
    const rejected = await signed(
      `/v1/actions/${actionId}/reject`,
      { comment: 'false positive' },
      ON_CALL,
    );
    expect(rejected.status).toBe(200);
    await stack.runner.execution(actionId)?.done;

    const printed = linesOf(actionId);
    expect(printed).toContain('rejected by it.oncall@example.com: false positive');
    expect(printed).toContain(
      'action rejected; nothing was done: Rejected by it.oncall@example.com: false positive',
    );
    expect(printed.join('\n')).not.toContain('$sendMessage');
  });

  it('prints an approval that nobody gave in time', async () => {
    const actionId = await heldLogoff();
    await stack.runner.execution(actionId)?.done;

    const printed = linesOf(actionId);
    expect(printed).toContain('approval expired: nobody decided in time');
    expect(printed).toContain(
      'action expired: Nobody approved the action in time; nothing was done',
    );
  });
});
