import { randomUUID } from 'node:crypto';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdvanceSessionBatchHandler } from '../../functions/advance-session-batch.ts';
import { createCompleteActionHandler } from '../../functions/complete-action.ts';
import {
  createWarnSessionsHandler,
  type WarnSessionsDependencies,
} from '../../functions/warn-sessions.ts';
import { acceptAction } from '../../lib/actions/accept.ts';
import { ActionRequestSchema, type ResolvedSession } from '../../lib/actions/schema.ts';
import { DynamoActionStore } from '../../lib/actions/store.ts';
import { DynamoAuditLog } from '../../lib/audit/audit-log.ts';
import { audited } from '../../lib/audit/audited.ts';
import { createAuditTable } from '../../lib/audit/local-table.ts';
import { citrixConnectionFromEnv } from '../../lib/citrix/config.ts';
import { DaasClient } from '../../lib/citrix/daas-client.ts';
import {
  DynamoSessionBatchStore,
  SessionBatchStoreUnavailableError,
} from '../../lib/runtime/session-batch-store.ts';
import { SessionBatchContents } from '../../lib/sessions/batch-items.ts';
import { writeSessionBatches } from '../../lib/sessions/batches.ts';
import { DEFAULT_SESSION_WORKFLOW_SETTINGS } from '../../lib/sessions/session-actions.ts';
import { SESSION_ACTION_WORKFLOW } from '../../lib/workflow/definition.ts';
import { createActionsTable, type LocalDynamo, startLocalDynamo } from '../../local/dynamodb.ts';
import { type RunningSimulator, startCitrixSimulator } from '../../local/simulator/server.ts';
import {
  type LocalTaskHandler,
  LocalWorkflowRunner,
  LocalWorkflows,
  type WorkflowEvent,
} from '../../local/workflow-runner.ts';
import { TEST_CLIENT, TEST_ENV, testFixture } from '../support/simulator-fixture.ts';

/**
 * The session workflow's `.asl.json` in the local engine, with the real warn-sessions,
 * advance-session-batch and complete-action tasks on a DynamoDB-compatible engine (the sessions,
 * their warnings and results in real batch items beside the action record), and stand-ins for
 * the Citrix-facing parts: a warning task that fails as a whole, a controller that only records
 * what it was asked to disconnect, and targets not all marked actionable (which the real resolver
 * never returns).
 */
const GRACE_MS = 150;
/** Two sessions a batch: the three sessions span two batch items. */
const BATCH_SIZE = 2;
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
let batches: DynamoSessionBatchStore;
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
  batches = new DynamoSessionBatchStore(dynamo.client, 'actions', 1);
  const batched = new SessionBatchContents(batches);
  actions = new DynamoActionStore(dynamo.client, 'actions', { batched });
  auditLog = new DynamoAuditLog(dynamo.client, 'audit', 1);

  const warnSessions = createWarnSessionsHandler(() => ({
    messenger: {
      sendMessage: async (sessionId) => {
        messages.push(sessionId);
      },
    },
    batches,
  }));
  const handlers: Record<string, LocalTaskHandler> = {
    // Writes the sessions in batch items, as the real resolver does, and hands over their numbers.
    'resolve-session-targets': async (event) => {
      const { actionId } = event as { actionId: string };
      const written = await writeSessionBatches(
        {
          store: batches,
          actions,
          settings: { ...DEFAULT_SESSION_WORKFLOW_SETTINGS, batchSize: BATCH_SIZE },
        },
        actionId,
        TARGETS,
        undefined,
      );
      return {
        guardrails: { outcome: 'proceed', reasons: [], approvalTimeoutSeconds: 60 },
        batches: written,
        targets: TARGETS.length,
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
    'advance-session-batch': createAdvanceSessionBatchHandler(() => ({
      controller: {
        disconnectSession: async (sessionId) => {
          submitted.push(sessionId);
          return undefined;
        },
        logoffSession: async () => {
          throw new Error('no log off here: the action is a disconnect');
        },
      },
      jobs: {
        getJob: async () => {
          throw new Error('no log off job to check');
        },
      },
      // Citrix never throttles here.
      gate: { closedUntil: async () => undefined, close: async () => {} },
      store: batches,
      settings: { ...DEFAULT_SESSION_WORKFLOW_SETTINGS, batchSize: BATCH_SIZE },
    })),
    'complete-action': createCompleteActionHandler(() => ({
      actions,
      counter: { release: async () => false },
      batched,
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
          waitTimeOverrides: { WaitGracePeriod: GRACE_MS, WaitForJobs: 1 },
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

/** The action's item as stored, without the batches read back into it. */
async function storedItem(actionId: string): Promise<Record<string, unknown>> {
  const output = await DynamoDBDocumentClient.from(dynamo.client).send(
    new GetCommand({ TableName: 'actions', Key: { actionId }, ConsistentRead: true }),
  );
  return output.Item ?? {};
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
    const order = ['WarnSessions', 'RecordWarningFailure', 'WaitGracePeriod', 'ActOnEachBatch'];
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

  it('keeps the sessions, their warnings and results in the batch items, not in the record', async () => {
    warnSessionsFails = false;
    const { actionId, record } = await disconnectWithWarning();

    // Read back through the batches: every session, in the order resolved.
    expect(record.targets?.map((target) => 'sessionId' in target && target.sessionId)).toEqual(
      TARGETS.map((target) => target.sessionId),
    );
    expect(Object.keys(record.results).sort()).toEqual(
      TARGETS.map((target) => target.sessionId).sort(),
    );
    // The record itself counts the batches and holds the outcome only.
    const item = await storedItem(actionId);
    expect(item).toMatchObject({ status: 'succeeded', batches: 2 });
    expect(item).not.toHaveProperty('targets');
    expect(item).not.toHaveProperty('warnings');
    expect(item.results ?? {}).toEqual({});
    // Each batch holds its own sessions, each with its warning and result.
    const stored = await batches.readAll(actionId, 2);
    expect(stored.map((batch) => batch.entries.map((entry) => entry.target.sessionId))).toEqual([
      ['session-marked', 'session-protected'],
      ['session-unmarked'],
    ]);
    expect(stored.flatMap((batch) => batch.entries.map((entry) => entry.step))).toEqual([
      'finished',
      'finished',
      'finished',
    ]);
    expect(stored[0]?.entries[0]?.warning).toEqual({ status: 'sent' });
  });
});

/**
 * The real warn-sessions task with the real DaaS client against the Citrix simulator, in the
 * local engine with the ASL's own Retry: DynamoDB throttles a save in the middle of the warnings,
 * the task fails and is retried, while the simulator answers one message with a 503 and throttles
 * another. Every `$sendMessage` the simulator recorded is counted per session.
 */
describe('session-action workflow, a warning task retried mid-batch', () => {
  const SESSION_COUNT = 60;
  /** Two batches (40 and 20 sessions): the first is warned in two windows. */
  const RETRY_BATCH_SIZE = 40;
  let simulator: RunningSimulator;
  let retryWorkflows: LocalWorkflows;
  let warnInvocations = 0;
  const sessionIds = Array.from({ length: SESSION_COUNT }, () => randomUUID());

  beforeAll(async () => {
    const fixture = testFixture();
    fixture.sessions = sessionIds.map((id, n) => ({
      Id: id,
      State: 'Active',
      SessionType: 'Desktop',
      StartTime: '2026-11-23T01:00:00Z',
      User: { PrincipalName: `warned${n}@example.com`, Name: `EXAMPLE\\warned${n}` },
      UntrustedUserName: `EXAMPLE\\warned${n}`,
      Machine: { Name: `EXAMPLE\\VDA-${n}`, DnsName: `vda-${n}.example.com` },
    }));
    simulator = await startCitrixSimulator({ fixture });

    // Faults as the simulator's own counters fire them: after 10 answered messages one 503,
    // after 45 one 429 (Citrix did not act on that one).
    let answered = 0;
    const faultingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (String(input).endsWith('/$sendMessage')) {
        answered += 1;
        if (answered === 10) simulator.setFaults({ serverErrors: { count: 1, status: 503 } });
        if (answered === 45) simulator.setFaults({ throttle: { count: 1, retryAfterSeconds: 0 } });
      }
      return response;
    };
    const daas = new DaasClient({
      connection: citrixConnectionFromEnv({
        ...TEST_ENV,
        CITRIX_API_URL: simulator.url,
        CITRIX_CUSTOMER_ID: 'test-customer',
      }),
      credentials: async () => TEST_CLIENT,
      fetch: faultingFetch,
      sleep: async () => {},
    });
    // DynamoDB throttles the first save made once 30 messages have gone out, then recovers.
    let throttledOnce = false;
    const flakyBatches: WarnSessionsDependencies['batches'] = {
      readAll: (actionId, count) => batches.readAll(actionId, count),
      save: async (batch) => {
        if (!throttledOnce && answered >= 30) {
          throttledOnce = true;
          throw new SessionBatchStoreUnavailableError('Batch store unavailable (throttled)');
        }
        return batches.save(batch);
      },
    };
    const warn = createWarnSessionsHandler(() => ({
      messenger: daas,
      batches: flakyBatches,
      sleep: async () => {},
    }));
    const handlers: Record<string, LocalTaskHandler> = {
      'resolve-session-targets': async (event) => {
        const { actionId } = event as { actionId: string };
        const written = await writeSessionBatches(
          {
            store: batches,
            actions,
            settings: { ...DEFAULT_SESSION_WORKFLOW_SETTINGS, batchSize: RETRY_BATCH_SIZE },
          },
          actionId,
          sessionIds.map((sessionId, n) => ({
            sessionId,
            userName: `warned${n}@example.com`,
            actionable: true,
          })),
          undefined,
        );
        return {
          guardrails: { outcome: 'proceed', reasons: [], approvalTimeoutSeconds: 60 },
          batches: written,
          targets: SESSION_COUNT,
        };
      },
      'warn-sessions': async (event, context) => {
        warnInvocations += 1;
        return warn(event, context);
      },
      'advance-session-batch': createAdvanceSessionBatchHandler(() => ({
        controller: {
          disconnectSession: async () => undefined,
          logoffSession: async () => {
            throw new Error('no log off here: the action is a disconnect');
          },
        },
        jobs: {
          getJob: async () => {
            throw new Error('no log off job to check');
          },
        },
        gate: { closedUntil: async () => undefined, close: async () => {} },
        store: batches,
        settings: { ...DEFAULT_SESSION_WORKFLOW_SETTINGS, batchSize: RETRY_BATCH_SIZE },
      })),
      'complete-action': createCompleteActionHandler(() => ({
        actions,
        counter: { release: async () => false },
        batched: new SessionBatchContents(batches),
      })),
      'request-approval': async () => {
        throw new Error('nothing needs approval here');
      },
      'notify-action-outcome': async () => ({ notifications: [] }),
    };
    retryWorkflows = new LocalWorkflows(
      new Map([
        [
          'session-action',
          new LocalWorkflowRunner(SESSION_ACTION_WORKFLOW, {
            handlers,
            waitTimeOverrides: { WaitGracePeriod: 1, WaitForJobs: 1 },
            retryIntervalOverrides: { WarnSessions: 1, RecordWarningFailure: 1 },
          }),
        ],
      ]),
    );
  });
  afterAll(async () => simulator.close());

  it('sends each session its message at most once: none twice, and all but the unconfirmed once', async () => {
    const { actionId } = await acceptAction(
      { actions, workflows: retryWorkflows, retentionDays: 1 },
      ActionRequestSchema.parse({
        action: 'session.disconnect',
        target: { user: 'warned0@example.com' },
        reason: 'warning retry test',
        notify: { title: 'Security', text: 'Your session ends soon', graceSeconds: 60 },
      }),
      new Date(),
    );
    const done = await retryWorkflows.execution(actionId)?.done;
    const record = await actions.get(actionId);
    expect(done?.status).toBe('SUCCEEDED');
    // The task failed once (the throttled save) and the workflow's Retry ran it again.
    expect(warnInvocations).toBe(2);

    const sends = simulator
      .requests()
      .filter((request) => request.method === 'POST' && request.path.endsWith('/$sendMessage'));
    const perSession = (statuses: (status: number) => boolean) => {
      const counts = new Map<string, number>();
      for (const request of sends) {
        if (!statuses(request.status)) continue;
        const id = request.path.split('/').at(-2)?.toLowerCase() ?? '';
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      return counts;
    };
    // A request Citrix may have acted on (anything but a 429) goes out once per session at most.
    const mayHaveActed = perSession((status) => status !== 429);
    expect(mayHaveActed.size).toBe(SESSION_COUNT);
    expect([...mayHaveActed.values()].every((count) => count === 1)).toBe(true);
    // Both faults fired: one 503 (not sent again) and one 429 (sent again, delivered once).
    expect(sends.filter((request) => request.status === 503)).toHaveLength(1);
    expect(sends.filter((request) => request.status === 429)).toHaveLength(1);
    const delivered = perSession((status) => status >= 200 && status < 300);
    expect(delivered.size).toBe(SESSION_COUNT - 1);
    for (const fixtureSession of simulator.state().sessions) {
      expect(fixtureSession.simulation?.messages?.length ?? 0).toBeLessThanOrEqual(1);
    }

    // On record: the 503'd session and the window whose outcomes the throttled save lost are
    // unconfirmed (maybe sent, never sent again); every other one is sent.
    const warnings = record?.warnings ?? [];
    expect(warnings).toHaveLength(SESSION_COUNT);
    const unconfirmed = warnings.filter((w) => w.error?.name === 'WarningUnconfirmedError');
    const sent = warnings.filter((w) => w.status === 'sent');
    expect(sent.length + unconfirmed.length).toBe(SESSION_COUNT);
    const gotServerError = sends
      .find((request) => request.status === 503)
      ?.path.split('/')
      .at(-2);
    expect(unconfirmed.map((w) => w.sessionId)).toContain(gotServerError);
    for (const warning of sent) expect(delivered.get(warning.sessionId)).toBe(1);
  });
});
