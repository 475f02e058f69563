import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCompleteActionHandler } from '../../functions/complete-action.ts';
import { createRecordTargetResultHandler } from '../../functions/record-target-result.ts';
import { createWarnSessionsHandler } from '../../functions/warn-sessions.ts';
import { acceptAction } from '../../lib/actions/accept.ts';
import { ActionRequestSchema, type ResolvedSession } from '../../lib/actions/schema.ts';
import { DynamoActionStore } from '../../lib/actions/store.ts';
import { DynamoAuditLog } from '../../lib/audit/audit-log.ts';
import { audited } from '../../lib/audit/audited.ts';
import { createAuditTable } from '../../lib/audit/local-table.ts';
import { SESSION_ACTION_WORKFLOW } from '../../lib/workflow/definition.ts';
import { createActionsTable, type LocalDynamo, startLocalDynamo } from '../../local/dynamodb.ts';
import {
  type LocalTaskHandler,
  LocalWorkflowRunner,
  LocalWorkflows,
  type WorkflowEvent,
} from '../../local/workflow-runner.ts';

/**
 * The session workflow's `.asl.json` in the local engine, with the real warn-sessions,
 * record-target-result and complete-action tasks on a DynamoDB-compatible engine, and stand-ins
 * for the Citrix-facing ones: a warning task that fails as a whole, and targets not all marked
 * actionable (which the real resolver never returns).
 */
const GRACE_MS = 150;
const TARGETS: ResolvedSession[] = [
  { sessionId: 'session-marked', userName: 'alice@example.com', actionable: true },
  {
    sessionId: 'session-protected',
    userName: 'alice@example.com',
    actionable: false,
    skipReason: 'alice@example.com is a protected user',
  },
  // Without the guardrails' mark: never acted on, nor warned.
  { sessionId: 'session-unmarked', userName: 'alice@example.com' },
];

let dynamo: LocalDynamo;
let actions: DynamoActionStore;
let auditLog: DynamoAuditLog;
let workflows: LocalWorkflows;
const submitted: string[] = [];
const messages: string[] = [];
let warnSessionsFails = true;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  await createActionsTable(dynamo.client, 'actions');
  await createAuditTable(dynamo.client, 'audit');
  actions = new DynamoActionStore(dynamo.client, 'actions');
  auditLog = new DynamoAuditLog(dynamo.client, 'audit', 1);

  const warnSessions = createWarnSessionsHandler(() => ({
    messenger: {
      sendMessage: async (sessionId) => {
        messages.push(sessionId);
      },
    },
    actions,
  }));
  const handlers: Record<string, LocalTaskHandler> = {
    'resolve-session-targets': async (event) => {
      const { actionId } = event as { actionId: string };
      await actions.markRunning(actionId, TARGETS);
      return {
        targets: TARGETS,
        guardrails: { outcome: 'proceed', reasons: [], approvalTimeoutSeconds: 60 },
      };
    },
    // The first invocation (WarnSessions) dies as a Lambda would on a timeout; the second
    // (RecordWarningFailure, given the failure) is the real task.
    'warn-sessions': async (event, context) => {
      if (warnSessionsFails && !('failure' in (event as object))) {
        throw Object.assign(new Error('Task timed out after 120.00 seconds'), {
          name: 'States.Timeout',
        });
      }
      return warnSessions(event, context);
    },
    'submit-session-action': async (event) => {
      const { sessionId } = event as { sessionId: string };
      submitted.push(sessionId);
      return {
        sessionId,
        done: true,
        waitSeconds: 1,
        deadline: new Date(Date.now() + 60_000).toISOString(),
        polls: 0,
      };
    },
    'check-logoff-job': async () => {
      throw new Error('no log off job to check');
    },
    'record-target-result': createRecordTargetResultHandler(() => ({ actions })),
    'complete-action': createCompleteActionHandler(() => ({
      actions,
      counter: { release: async () => false },
    })),
    'request-approval': async () => {
      throw new Error('nothing needs approval here');
    },
    'notify-action-outcome': async () => ({ notifications: [] }),
  };
  for (const [name, handler] of Object.entries(handlers)) {
    handlers[name] = audited(handler, () => auditLog);
  }
  workflows = new LocalWorkflows(
    new Map([
      [
        'session-action',
        new LocalWorkflowRunner(SESSION_ACTION_WORKFLOW, {
          handlers,
          waitTimeOverrides: { WaitGracePeriod: GRACE_MS },
          retryIntervalOverrides: { WarnSessions: 1, RecordWarningFailure: 1 },
        }),
      ],
    ]),
  );
});

afterAll(async () => {
  await dynamo.close();
});

async function disconnectWithWarning() {
  submitted.length = 0;
  messages.length = 0;
  const { actionId } = await acceptAction(
    { actions, workflows, retentionDays: 1 },
    ActionRequestSchema.parse({
      action: 'session.disconnect',
      target: { user: 'alice@example.com' },
      reason: 'warning test',
      notify: { title: 'Security', text: 'Your session ends soon', graceSeconds: 60 },
    }),
    new Date(),
  );
  const execution = workflows.execution(actionId);
  const done = await execution?.done;
  const record = await actions.get(actionId);
  if (done === undefined || execution === undefined || record === undefined) {
    throw new Error('the execution did not run');
  }
  return { actionId, done, record, events: execution.events };
}

/** When each top-level state was entered and exited, by name (the Map's inner states aside). */
function timesOf(events: readonly WorkflowEvent[], type: 'StateEntered' | 'StateExited') {
  const times = new Map<string, number>();
  for (const event of events) {
    if (event.type === type && 'state' in event && !times.has(event.state.name)) {
      times.set(event.state.name, event.timestamp);
    }
  }
  return times;
}

describe('session-action workflow, warning before acting', () => {
  it('records a warning task that failed as a whole, still waits the grace period, then acts', async () => {
    warnSessionsFails = true;
    const { actionId, done, record, events } = await disconnectWithWarning();

    expect(done.status).toBe('SUCCEEDED');
    // Nothing was sent; the one session to be acted on is on record as not warned, and why.
    expect(messages).toEqual([]);
    expect(record.warnings).toEqual([
      {
        sessionId: 'session-marked',
        status: 'failed',
        error: {
          name: 'States.Timeout',
          message: 'The warning task failed: Task timed out after 120.00 seconds',
        },
      },
    ]);
    const timeline = await auditLog.timeline(actionId);
    expect(timeline).toContainEqual(
      expect.objectContaining({
        type: 'notification',
        summary:
          'session warning session-marked: failed: States.Timeout: The warning task failed: Task timed out after 120.00 seconds',
        details: { channel: 'session_warning', destination: 'session-marked', status: 'failed' },
      }),
    );

    // The grace period the warning announced is still waited before acting.
    const entered = timesOf(events, 'StateEntered');
    const exited = timesOf(events, 'StateExited');
    const order = ['WarnSessions', 'RecordWarningFailure', 'WaitGracePeriod', 'ActOnEachTarget'];
    const positions = order.map((name) => entered.get(name) ?? Number.NaN);
    expect(positions.every(Number.isFinite)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    const waited =
      (exited.get('WaitGracePeriod') ?? 0) - (entered.get('WaitGracePeriod') ?? Number.NaN);
    expect(waited).toBeGreaterThanOrEqual(GRACE_MS - 10);

    // Then the action goes ahead, on the marked session only.
    expect(submitted).toEqual(['session-marked']);
    expect(record.status).toBe('succeeded');
    expect(record.results['session-marked']).toMatchObject({ outcome: 'succeeded' });
    expect(record.results['session-protected']).toMatchObject({
      outcome: 'skipped',
      note: 'alice@example.com is a protected user',
    });
  });

  it('acts only on a session marked actionable: one without the mark is neither warned nor acted on', async () => {
    warnSessionsFails = false;
    const { done, record, events } = await disconnectWithWarning();

    expect(done.status).toBe('SUCCEEDED');
    expect(messages).toEqual(['session-marked']);
    expect(record.warnings).toEqual([{ sessionId: 'session-marked', status: 'sent' }]);
    expect(timesOf(events, 'StateEntered').has('RecordWarningFailure')).toBe(false);
    expect(submitted).toEqual(['session-marked']);
    expect(record.results['session-unmarked']).toMatchObject({
      outcome: 'skipped',
      note: 'Not actionable',
    });
    expect(record.status).toBe('succeeded');
  });
});
