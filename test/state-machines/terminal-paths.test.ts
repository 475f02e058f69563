import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCompleteActionHandler } from '../../functions/complete-action.ts';
import type { ActionType, WorkflowName } from '../../lib/actions/schema.ts';
import { ActionStoreUnavailableError, DynamoActionStore } from '../../lib/actions/store.ts';
import { createLimitsTable, DynamoHourlyLimitCounter } from '../../lib/guardrails/limits.ts';
import {
  ADMIN_ACTION_WORKFLOW,
  DEVICE_ACTION_WORKFLOW,
  RUNBOOK_WORKFLOW,
  SESSION_ACTION_WORKFLOW,
  WORKFLOWS,
  type WorkflowDefinition,
} from '../../lib/workflow/definition.ts';
import { createActionsTable, type LocalDynamo, startLocalDynamo } from '../../local/dynamodb.ts';
import { type LocalTaskHandler, LocalWorkflowRunner } from '../../local/workflow-runner.ts';

/**
 * Every path of every workflow ends with its action recorded as ended: first over the four
 * `.asl.json` files themselves, then in the local engine, where recording the outcome fails
 * every time and the last resort still marks the action failed, and where an action that fails
 * after reserving hourly capacity gives it back.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Node = { [key: string]: Json };

const machineOf = (workflow: WorkflowDefinition) =>
  JSON.parse(readFileSync(workflow.file, 'utf8')) as Node;

/** The states that record how the action ended. */
const RECORDING_STATES = [
  'CompleteAction',
  'RecordActionFailure',
  'RecordRejection',
  'RecordExpiry',
  'RecordFailureLastResort',
];

const statesIn = (machine: Node) => machine.States as Record<string, Node>;
const catchersOf = (state: Node) => (state.Catch ?? []) as Node[];

/** Where a state can go next, by Next, Default, Choices and Catch. */
function successors(state: Node): string[] {
  const next = [state.Next, state.Default].filter((n): n is string => typeof n === 'string');
  const choices = ((state.Choices ?? []) as Node[]).map((choice) => String(choice.Next));
  return [...next, ...choices, ...catchersOf(state).map((catcher) => String(catcher.Next))];
}

/** Every Task state, and whether the Map iteration it runs in (if any) catches every error. */
function tasksOf(machine: Node, inMapCaughtByMap = false): [string, Node, boolean][] {
  return Object.entries(statesIn(machine)).flatMap(([name, state]) => {
    const own: [string, Node, boolean][] =
      state.Type === 'Task' ? [[name, state, inMapCaughtByMap]] : [];
    const processor = state.ItemProcessor as Node | undefined;
    const mapCatchesAll = catchersOf(state).some((catcher) =>
      (catcher.ErrorEquals as string[]).includes('States.ALL'),
    );
    return [...own, ...(processor ? tasksOf(processor, mapCatchesAll) : [])];
  });
}

function choicesOf(machine: Node): [string, Node][] {
  return Object.entries(statesIn(machine)).flatMap(([name, state]) => {
    const processor = state.ItemProcessor as Node | undefined;
    return [
      ...(state.Type === 'Choice' ? [[name, state] as [string, Node]] : []),
      ...(processor ? choicesOf(processor) : []),
    ];
  });
}

describe.each(WORKFLOWS.map((workflow) => [workflow.name, workflow] as const))(
  '%s.asl.json: every path ends recorded',
  (_name, workflow) => {
    const machine = machineOf(workflow);

    it('catches every error of every task, or of the Map iteration it runs in', () => {
      for (const [name, state, caughtByMap] of tasksOf(machine)) {
        const catchesAll = catchersOf(state).some((catcher) =>
          (catcher.ErrorEquals as string[]).includes('States.ALL'),
        );
        expect(catchesAll || caughtByMap, `${name} has no Catch for States.ALL`).toBe(true);
      }
    });

    it('sends a failure to record the outcome to the last resort, which ends in a Fail', () => {
      const states = statesIn(machine);
      for (const name of RECORDING_STATES.filter((state) => state !== 'RecordFailureLastResort')) {
        expect(
          catchersOf(states[name] as Node).map((catcher) => catcher.Next),
          name,
        ).toEqual(['RecordFailureLastResort']);
      }
      const lastResort = states.RecordFailureLastResort as Node;
      expect(lastResort.Parameters).toEqual({
        'actionId.$': '$.actionId',
        'lastResort.$': '$.completionError',
      });
      expect(lastResort.Next).toBe('OutcomeUnrecorded');
      expect(catchersOf(lastResort).map((catcher) => catcher.Next)).toEqual(['OutcomeUnrecorded']);
      expect((states.OutcomeUnrecorded as Node).Type).toBe('Fail');
    });

    it('gives every Choice a Default', () => {
      for (const [name, state] of choicesOf(machine)) {
        expect(typeof state.Default, `${name} has no Default`).toBe('string');
      }
    });

    it('reaches no Succeed or Fail state without passing a state that records the outcome', () => {
      // Walk the top-level graph from StartAt with the recording states removed: an end reached
      // this way would be an execution that ended with its action still unrecorded.
      const states = statesIn(machine);
      const seen = new Set<string>();
      const queue = [String(machine.StartAt)];
      const unrecordedEnds: string[] = [];
      while (queue.length > 0) {
        const name = queue.shift() as string;
        if (seen.has(name) || RECORDING_STATES.includes(name)) continue;
        seen.add(name);
        const state = states[name];
        expect(state, `${name} is not a state`).toBeDefined();
        if (state?.Type === 'Succeed' || state?.Type === 'Fail' || state?.End === true) {
          unrecordedEnds.push(name);
        }
        queue.push(...successors(state as Node));
      }
      expect(unrecordedEnds).toEqual([]);
      // The walk stopped at these: each must be a state of the workflow for that to mean much.
      expect(RECORDING_STATES.filter((name) => !(name in states))).toEqual([]);
    });
  },
);

// ---------------------------------------------------------------------------------------------
// In the local engine, with the real complete-action task on a DynamoDB-compatible engine.

const ACTIONS_TABLE = 'terminal-paths-actions';
const LIMITS_TABLE = 'terminal-paths-limits';
const NOW = new Date();
let dynamo: LocalDynamo;
let store: DynamoActionStore;
let counter: DynamoHourlyLimitCounter;
let executions = 0;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  await createActionsTable(dynamo.client, ACTIONS_TABLE);
  await createLimitsTable(dynamo.client, LIMITS_TABLE);
  store = new DynamoActionStore(dynamo.client, ACTIONS_TABLE);
  counter = new DynamoHourlyLimitCounter(dynamo.client, LIMITS_TABLE);
});

afterAll(async () => {
  await dynamo?.close();
});

interface Case {
  readonly workflow: WorkflowDefinition;
  readonly action: ActionType;
  readonly target: Record<string, unknown>;
  /** What the workflow's resolve task hands over when the action may go ahead, with no target. */
  readonly resolution: Record<string, unknown>;
}

const PROCEED = { outcome: 'proceed', reasons: [], approvalTimeoutSeconds: 60 };

const CASES: Readonly<Record<WorkflowName, Case>> = {
  'session-action': {
    workflow: SESSION_ACTION_WORKFLOW,
    action: 'session.logoff',
    target: { user: 'alice@example.com' },
    resolution: { batches: [], targets: 0, guardrails: PROCEED },
  },
  'device-action': {
    workflow: DEVICE_ACTION_WORKFLOW,
    action: 'device.wipe',
    target: { deviceId: '42' },
    resolution: { targets: [], guardrails: PROCEED },
  },
  'admin-action': {
    workflow: ADMIN_ACTION_WORKFLOW,
    action: 'admin.revoke',
    target: { admin: 'mallory@example.com' },
    resolution: { targets: [], guardrails: PROCEED },
  },
  runbook: {
    workflow: RUNBOOK_WORKFLOW,
    action: 'runbook.run',
    target: { runbook: 'compromised-user' },
    resolution: { guardrails: PROCEED, schedule: { maxWaitSeconds: 5, stepDeadlineSeconds: [] } },
  },
};

const newActionId = () => {
  executions += 1;
  return `act_${executions.toString(16).padStart(31, '0')}e`;
};

/** Every task a stand-in that must not run, but for the resolver and the runbook's round. */
function standInHandlers(
  workflow: WorkflowDefinition,
  resolve: LocalTaskHandler,
): Record<string, LocalTaskHandler> {
  const handlers: Record<string, LocalTaskHandler> = {};
  for (const fn of workflow.functions) {
    handlers[fn.name] = async () => {
      throw new Error(`${fn.name} has nothing to do here`);
    };
  }
  const resolver = workflow.functions.find(
    (fn) => fn.name.startsWith('resolve-') || fn.name === 'start-runbook',
  );
  handlers[resolver?.name ?? 'resolve'] = resolve;
  handlers['advance-runbook'] = async () => ({
    done: true,
    waitSeconds: 5,
    outcome: { status: 'succeeded', summary: 'Every step succeeded' },
  });
  handlers['notify-action-outcome'] = async () => ({ notifications: [] });
  return handlers;
}

const RETRIES_AT_ONCE = {
  ResolveTargets: 1,
  CompleteAction: 1,
  RecordActionFailure: 1,
  RecordFailureLastResort: 1,
};

async function runAction(
  name: WorkflowName,
  handlers: (actionId: string) => Record<string, LocalTaskHandler>,
) {
  const { workflow, action, target } = CASES[name];
  const actionId = newActionId();
  await store.create({
    actionId,
    action,
    target: target as never,
    reason: 'terminal paths',
    dryRun: false,
    status: 'accepted',
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    results: {},
    expiresAt: 1_900_000_000,
  });
  const runner = new LocalWorkflowRunner(workflow, {
    handlers: handlers(actionId),
    retryIntervalOverrides: RETRIES_AT_ONCE,
  });
  await runner.start(actionId, {
    actionId,
    action,
    target,
    dryRun: false,
    warning: null,
    options: { mode: 'strip' },
  });
  const done = await runner.execution(actionId)?.done;
  return { actionId, done, record: await store.get(actionId) };
}

describe.each(Object.keys(CASES) as WorkflowName[])('%s in the local engine', (name) => {
  const { workflow, action } = CASES[name];

  it('marks the action failed when its completion can never be recorded', async () => {
    const attempts: string[] = [];
    const { done, record } = await runAction(name, (actionId) => ({
      ...standInHandlers(workflow, async () => {
        await store.markRunning(actionId, []);
        return CASES[name].resolution;
      }),
      'complete-action': createCompleteActionHandler(() => ({
        actions: {
          get: (id) => store.get(id),
          failUnfinished: (id, failure) => store.failUnfinished(id, failure),
          complete: async () => {
            attempts.push('complete');
            throw new ActionStoreUnavailableError('The actions table is throttled');
          },
        },
        counter,
        batched: { read: async () => ({ results: {} }) },
      })),
    }));

    // CompleteAction's own retries (recordWrite: 1 + 6), then the last resort.
    expect(attempts).toHaveLength(7);
    expect(done).toMatchObject({ status: 'FAILED' });
    expect(record).toMatchObject({
      status: 'failed',
      summary:
        'Action failed: its outcome could not be recorded (ActionStoreUnavailableError: The actions table is throttled)',
      error: { name: 'ActionStoreUnavailableError' },
    });
  });

  it('marks the action failed when even its failure cannot be recorded', async () => {
    const { done, record } = await runAction(name, (actionId) => ({
      ...standInHandlers(workflow, async () => {
        await store.markRunning(actionId, []);
        throw Object.assign(new Error('No such target'), { name: 'TargetNotFoundError' });
      }),
      'complete-action': createCompleteActionHandler(() => ({
        actions: {
          get: (id) => store.get(id),
          failUnfinished: (id, failure) => store.failUnfinished(id, failure),
          // A completion that can never be written (say, an item over DynamoDB's limit).
          complete: async () => {
            throw Object.assign(new Error('Item size has exceeded the maximum allowed size'), {
              name: 'ActionStoreError',
            });
          },
        },
        counter,
        batched: { read: async () => ({ results: {} }) },
      })),
    }));

    expect(done).toMatchObject({ status: 'FAILED' });
    expect(record?.status).toBe('failed');
    expect(record?.error).toEqual({
      name: 'ActionStoreError',
      message: 'Item size has exceeded the maximum allowed size',
    });
  });

  it('gives the hourly reservation back when the action fails after reserving, before acting', async () => {
    const hourBefore = await counter.reserve(action, 1, 100, `act_${'f'.repeat(32)}`, NOW);
    const { done, record } = await runAction(name, (actionId) => ({
      ...standInHandlers(workflow, async () => {
        await store.markRunning(actionId, []);
        // As the resolver does once the guardrails let the targets through, then dies (its
        // Lambda timed out after reserving): no retry matches, the Catch records the failure.
        await counter.reserve(action, 3, 100, actionId, NOW);
        throw Object.assign(new Error('Task timed out after 60.00 seconds'), {
          name: 'Sandbox.Timedout',
        });
      }),
      'complete-action': createCompleteActionHandler(() => ({
        actions: store,
        counter,
        batched: { read: async () => ({ results: {} }) },
      })),
    }));

    expect(done).toMatchObject({ status: 'FAILED' });
    expect(record).toMatchObject({ status: 'failed', error: { name: 'Sandbox.Timedout' } });
    // The hour holds what it held before this action: its 3 targets were given back.
    const after = await counter.reserve(action, 1, 100, `act_${'e'.repeat(32)}`, NOW);
    expect(after.used).toBe(hourBefore.used + 1);
  });
});
