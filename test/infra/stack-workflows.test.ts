import { readFileSync } from 'node:fs';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { guardrailsFromEnv } from '../../lib/guardrails/config.ts';
import {
  readDefinition,
  WORKFLOWS,
  type WorkflowDefinition,
  type WorkflowFunction,
} from '../../lib/workflow/definition.ts';
import {
  allow,
  type Json,
  type State,
  SYNTH_TIMEOUT,
  type SynthesizedStack,
  statesOfType,
  synthesized,
  TASKS,
  valuesOfKey,
  WAIT_FOR_TASK_TOKEN,
} from './support/stack.ts';

/**
 * The workflows as deployed: one state machine per declared workflow, from its definition file,
 * invoking exactly its own task functions; approval and timeout wiring. The `configured` stack
 * sets MaxConcurrency 7, a 900 s approval window and 30 days of logs.
 */

const MAX_CONCURRENCY = 7;
const APPROVAL_WINDOW = 900;

/** Step Functions log delivery and X-Ray support no resource-level permission. */
const SERVICE_GRANTS = [
  ...allow(
    [
      'logs:CreateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:DescribeLogGroups',
      'logs:DescribeResourcePolicies',
      'logs:GetLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:UpdateLogDelivery',
      'xray:GetSamplingRules',
      'xray:GetSamplingTargets',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ],
    '*',
  ),
];

let stack: SynthesizedStack;
beforeAll(() => {
  stack = synthesized('configured');
}, SYNTH_TIMEOUT);

const placeholder = (substitution: string) => `\${${substitution}}`;

/**
 * The task function a Task state invokes: the placeholder in its Resource, or for a
 * waitForTaskToken task the one in Parameters.FunctionName. Fails on any other Resource.
 */
function invokedTask(workflow: WorkflowDefinition, state: State): WorkflowFunction {
  const target =
    state.Resource === WAIT_FOR_TASK_TOKEN
      ? (state.Parameters as { FunctionName?: unknown } | undefined)?.FunctionName
      : state.Resource;
  const substitution = /^\$\{(\w+)\}$/.exec(String(target))?.[1];
  const task = workflow.functions.find((fn) => fn.substitution === substitution);
  if (task === undefined) {
    throw new Error(`${workflow.name}: a Task state invokes ${JSON.stringify(target)}`);
  }
  return task;
}

/** The names of the states run from `start` on, following Next until the end. */
function pathFrom(states: Record<string, State>, start: string): string[] {
  const path = [start];
  for (let next = states[start]?.Next; typeof next === 'string'; next = states[next]?.Next) {
    expect(path, `loop at ${next}`).not.toContain(next);
    path.push(next);
  }
  return path;
}

/** Every state name a state may go to: Next, Default, and each Choice and Catch target. */
function transitionsOf(state: State): string[] {
  return [
    state.Next,
    state.Default,
    ...valuesOfKey(state.Choices ?? [], 'Next'),
    ...valuesOfKey(state.Catch ?? [], 'Next'),
  ].filter((name): name is string => typeof name === 'string');
}

/**
 * A definition without what the deployment sets: every MaxConcurrency, the approval window (the
 * waitForTaskToken task's TimeoutSeconds) and the execution timeout that includes it.
 */
function withoutDeploymentOptions(node: unknown, root = true): unknown {
  if (Array.isArray(node)) return node.map((child) => withoutDeploymentOptions(child, false));
  if (node === null || typeof node !== 'object') return node;
  const record = node as Record<string, unknown>;
  const waits = record.Type === 'Task' && record.Resource === WAIT_FOR_TASK_TOKEN;
  return Object.fromEntries(
    Object.entries(record)
      .filter(([key]) => key !== 'MaxConcurrency' && !((waits || root) && key === 'TimeoutSeconds'))
      .map(([key, child]) => [key, withoutDeploymentOptions(child, false)]),
  );
}

it('builds one state machine per declared workflow, under the construct ids it always had', () => {
  const ids = WORKFLOWS.map((workflow) => stack.stateMachine(workflow.name));

  expect(stack.idsOf('AWS::StepFunctions::StateMachine').sort()).toEqual([...ids].sort());
  expect(new Set(ids).size).toBe(WORKFLOWS.length);
  // `session-action` → SessionAction: logical ids, outputs and so deployed stacks stay as they were.
  expect(WORKFLOWS.map((workflow) => stack.stack.workflows[workflow.name].node.id)).toEqual([
    'SessionAction',
    'DeviceAction',
    'AdminAction',
    'Runbook',
  ]);
});

describe.each(WORKFLOWS)('the $name state machine', (workflow) => {
  it(`deploys its definition file, with MaxConcurrency ${MAX_CONCURRENCY} on every Map`, () => {
    const definition = stack.definition(workflow.name);
    const maps = statesOfType(definition, 'Map');

    expect(definition).toEqual(
      JSON.parse(
        readDefinition(workflow, {
          maxConcurrency: MAX_CONCURRENCY,
          approvalTimeoutSeconds: APPROVAL_WINDOW,
        }),
      ),
    );
    // Each action workflow acts on its targets in a Map; a runbook's steps are actions of their own.
    expect(maps.length > 0).toBe(workflow.name !== 'runbook');
    expect(valuesOfKey(definition, 'MaxConcurrency')).toEqual(maps.map(() => MAX_CONCURRENCY));
    // Checked against the file itself too, not only through readDefinition: the same states,
    // and an execution timeout moved by as much as the approval window was.
    const file = new URL(`../../state-machines/${workflow.name}.asl.json`, import.meta.url);
    const written = JSON.parse(readFileSync(file, 'utf8')) as State;
    const [writtenWait] = statesOfType(written, 'Task').filter(
      (state) => state.Resource === WAIT_FOR_TASK_TOKEN,
    );
    expect(workflow.file.href).toBe(file.href);
    expect(withoutDeploymentOptions(definition)).toEqual(withoutDeploymentOptions(written));
    expect(definition.TimeoutSeconds).toBe(
      Number(written.TimeoutSeconds) + APPROVAL_WINDOW - Number(writtenWait?.TimeoutSeconds),
    );
  });

  it('invokes from every Task state only its own task functions, by placeholder', () => {
    const tasks = statesOfType(stack.definition(workflow.name), 'Task');
    const invoked = new Set(tasks.map((state) => invokedTask(workflow, state).name));

    // Every declared function is used, and no Task names an ARN or a service of its own.
    expect([...invoked].sort()).toEqual(workflow.functions.map((task) => task.name).sort());
    for (const state of tasks) {
      expect([
        WAIT_FOR_TASK_TOKEN,
        placeholder(invokedTask(workflow, state).substitution),
      ]).toContain(state.Resource);
    }
  });

  it('fills every placeholder with the ARN of the task function of that name, and no other', () => {
    const definition = String(
      stack.resource(stack.stateMachine(workflow.name)).Properties.DefinitionString,
    );
    const placeholders = [...definition.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]);

    expect([...new Set(placeholders)].sort()).toEqual(
      workflow.functions.map((task) => task.substitution).sort(),
    );
    stack.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      DefinitionSubstitutions: Match.objectEquals(
        Object.fromEntries(
          workflow.functions.map((task) => [
            task.substitution,
            { 'Fn::GetAtt': [stack.taskFunction(task.name), 'Arn'] },
          ]),
        ),
      ),
    });
  });

  it('is a traced STANDARD workflow logging ALL events, without execution data, to its own log group', () => {
    const stateMachine = stack.resource(stack.stateMachine(workflow.name));
    const logGroup = valuesOfKey(stateMachine.Properties.LoggingConfiguration, 'Fn::GetAtt')[0];

    expect(stateMachine.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      // Inputs and outputs hold user names and reasons: they stay in the execution history.
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
    });
    const [logGroupId] = logGroup as [string];
    expect(stack.resource(logGroupId)).toMatchObject({
      Type: 'AWS::Logs::LogGroup',
      Properties: { RetentionInDays: 30 },
    });
    const others = WORKFLOWS.filter((other) => other !== workflow).map((other) =>
      JSON.stringify(
        stack.resource(stack.stateMachine(other.name)).Properties.LoggingConfiguration,
      ),
    );
    expect(others.join()).not.toContain(`"${logGroupId}"`);
  });

  it('may invoke exactly its own task functions: no other Lambda, secret, table or workflow', () => {
    const ownTasks = workflow.functions.map((task) => stack.taskFunction(task.name));

    expect(stack.grants(stack.stateMachine(workflow.name))).toEqual(
      [...allow(['lambda:InvokeFunction'], ...ownTasks), ...SERVICE_GRANTS].sort(),
    );
    // So another workflow's own tasks, the API and the report stay out of reach.
    expect(TASKS.length).toBeGreaterThan(ownTasks.length);
  });

  // A state timeout below the function's would abandon a task that may still finish its write.
  it("never times a Task state out before its function's own timeout", () => {
    const tasks = statesOfType(stack.definition(workflow.name), 'Task');

    expect(tasks.length).toBeGreaterThan(0);
    for (const state of tasks) {
      const task = invokedTask(workflow, state);
      const timeout = Number(stack.resource(stack.taskFunction(task.name)).Properties.Timeout);
      expect(state.TimeoutSeconds, task.name).toBeGreaterThan(timeout);
      if (state.Resource === WAIT_FOR_TASK_TOKEN) {
        // Here the timeout is the approval window from the context, not a Lambda's.
        expect(state.TimeoutSeconds, task.name).toBe(APPROVAL_WINDOW);
        expect(state, task.name).not.toHaveProperty('HeartbeatSeconds');
      }
    }
  });

  it('waits for an approval as long as the resolvers record, and outlasts that wait', () => {
    const definition = stack.definition(workflow.name);
    const waits = statesOfType(definition, 'Task').filter(
      (state) => state.Resource === WAIT_FOR_TASK_TOKEN,
    );

    expect(waits.map((state) => state.TimeoutSeconds)).toEqual([APPROVAL_WINDOW]);
    // The record's expiry (from the resolver's setting) and the state's timeout agree.
    for (const task of workflow.functions.filter((fn) => fn.appliesGuardrails)) {
      const environment = stack.literalEnvironment(stack.taskFunction(task.name));
      expect(guardrailsFromEnv(environment).approvalTimeoutSeconds, task.name).toBe(
        APPROVAL_WINDOW,
      );
    }
    // An unanswered approval ends in RecordExpiry, not in an execution timeout.
    expect(Number(definition.TimeoutSeconds)).toBeGreaterThan(APPROVAL_WINDOW);
  });

  it('holds an action needing approval before acting, and ends a rejected or expired one completed and notified', () => {
    const states = stack.definition(workflow.name).States;
    const needsApproval = states.NeedsApproval as { Choices: Json[]; Default: string };

    // A dry run plans and reserves nothing, so it is never held; a runbook's plans every step,
    // each a dry run of its own.
    expect(states.ResolveTargets?.Next).toBe('IsDryRun');
    expect(states.IsDryRun).toMatchObject({
      Type: 'Choice',
      Choices: [
        {
          Variable: '$.dryRun',
          BooleanEquals: true,
          Next: workflow.name === 'runbook' ? 'AdvanceRunbook' : 'CompleteAction',
        },
      ],
      Default: 'NeedsApproval',
    });
    expect(states.NeedsApproval).toMatchObject({
      Type: 'Choice',
      Choices: [
        {
          Variable: '$.resolution.guardrails.outcome',
          StringEquals: 'approval',
          Next: 'RequestApproval',
        },
      ],
    });
    expect(needsApproval.Choices).toHaveLength(1);
    // Approved, or not needed: the workflow goes on the same way.
    expect(states.RequestApproval?.Next).toBe(needsApproval.Default);
    // Only NeedsApproval leads to the wait.
    expect(
      Object.entries(states)
        .filter(([, state]) => transitionsOf(state).includes('RequestApproval'))
        .map(([name]) => name),
    ).toEqual(['NeedsApproval']);
    expect(states.RequestApproval).toMatchObject({
      Type: 'Task',
      Resource: WAIT_FOR_TASK_TOKEN,
      Parameters: {
        FunctionName: placeholder('RequestApprovalFunctionArn'),
        Payload: {
          'actionId.$': '$.actionId',
          'taskToken.$': '$$.Task.Token',
          'reasons.$': '$.resolution.guardrails.reasons',
          // The record's expiry, from the same setting as this state's TimeoutSeconds.
          'timeoutSeconds.$': '$.resolution.guardrails.approvalTimeoutSeconds',
        },
      },
      ResultPath: '$.approval',
      // In this order: States.ALL must come last.
      Catch: [
        { ErrorEquals: ['ActionRejectedError'], ResultPath: '$.error', Next: 'RecordRejection' },
        { ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'RecordExpiry' },
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'HoldFailed' },
      ],
    });
    expect(states.RequestApproval?.Catch).toHaveLength(3);
    // A hold that failed did nothing either: marked ended, so its reservation goes back.
    expect(states.HoldFailed).toEqual({
      Type: 'Pass',
      Comment: expect.any(String),
      Result: 'failed',
      ResultPath: '$.ended',
      Next: 'RecordActionFailure',
    });
    for (const [name, ended] of [
      ['RecordRejection', 'rejected'],
      ['RecordExpiry', 'expired'],
    ] as const) {
      expect(states[name], name).toMatchObject({
        Type: 'Task',
        Resource: placeholder('CompleteActionFunctionArn'),
        Parameters: { 'actionId.$': '$.actionId', 'error.$': '$.error', ended },
        ResultPath: '$.completion',
      });
      // Nothing was done, but the source is told, as for any other outcome.
      const path = pathFrom(states, name);
      expect(path, name).toContain('NotifyOutcome');
      expect(path.at(-1), name).toBe('ActionDone');
    }
  });

  it('notifies the outcome after CompleteAction and after a failure, then ends', () => {
    const states = stack.definition(workflow.name).States;
    const notify = workflow.functions.find((task) => task.name === 'notify-action-outcome');
    const notifyArn = placeholder(String(notify?.substitution));
    const success = pathFrom(states, 'CompleteAction');
    const failure = pathFrom(states, 'RecordActionFailure');

    expect(success.filter((name) => states[name]?.Resource === notifyArn)).toEqual([
      'NotifyOutcome',
    ]);
    expect(failure.filter((name) => states[name]?.Resource === notifyArn)).toEqual([
      'NotifyOutcomeAfterFailure',
    ]);
    // The execution's output is the completion record, whatever the notification did.
    expect(states[success.at(-1) as string]).toMatchObject({
      Type: 'Succeed',
      OutputPath: '$.completion',
    });
    expect(success.at(-1)).toBe('ActionDone');
    expect(states[failure.at(-1) as string]?.Type).toBe('Fail');
    for (const name of ['NotifyOutcome', 'NotifyOutcomeAfterFailure']) {
      const state = states[name] as State;
      // Only the action id goes in: the function reads the outcome from the record. Best
      // effort: a failed notification leads where a delivered one does.
      expect(state, name).toMatchObject({
        Parameters: { 'actionId.$': '$.actionId' },
        ResultPath: '$.notification',
        Catch: [
          { ErrorEquals: ['States.ALL'], ResultPath: '$.notificationError', Next: state.Next },
        ],
      });
      expect(state.Parameters, name).toEqual({ 'actionId.$': '$.actionId' });
      expect(state.Catch, name).toHaveLength(1);
    }
  });
});

it('warns the sessions (read from their batches) and waits the grace period before acting', () => {
  const states = stack.definition('session-action').States;

  // After the approval, or straight on when none is needed.
  expect(states.NeedsApproval?.Default).toBe('HasWarning');
  expect(states.RequestApproval?.Next).toBe('HasWarning');
  expect(states.HasWarning).toMatchObject({
    Type: 'Choice',
    Choices: [{ Variable: '$.warning', IsNull: true, Next: 'ActOnEachBatch' }],
    Default: 'WarnSessions',
  });
  // The sessions are read from the batch items: only the batch numbers go in.
  expect(states.WarnSessions).toMatchObject({
    Type: 'Task',
    Resource: placeholder('WarnSessionsFunctionArn'),
    Parameters: {
      'actionId.$': '$.actionId',
      'warning.$': '$.warning',
      'batches.$': '$.resolution.batches',
    },
    Next: 'WaitGracePeriod',
    // A failed warning task is recorded and never blocks the containment.
    Catch: [
      { ErrorEquals: ['States.ALL'], ResultPath: '$.warningError', Next: 'RecordWarningFailure' },
    ],
  });
  expect(states.WarnSessions?.Parameters).not.toHaveProperty('targets.$');
  // The same task, told the warning failed, records it; then the grace period is still waited.
  expect(states.RecordWarningFailure).toMatchObject({
    Type: 'Task',
    Resource: placeholder('WarnSessionsFunctionArn'),
    Parameters: {
      'actionId.$': '$.actionId',
      'warning.$': '$.warning',
      'batches.$': '$.resolution.batches',
      'failure.$': '$.warningError',
    },
    Next: 'WaitGracePeriod',
    Catch: [
      { ErrorEquals: ['States.ALL'], ResultPath: '$.warningRecordError', Next: 'WaitGracePeriod' },
    ],
  });
  // Its result lands where a sent warning's would, leaving the batches the Map reads.
  expect(states.RecordWarningFailure?.ResultPath).toBe(states.WarnSessions?.ResultPath);
  expect(states.WarnSessions?.ResultPath).toBe('$.warnings');
  expect(states.WaitGracePeriod).toMatchObject({
    Type: 'Wait',
    SecondsPath: '$.warning.graceSeconds',
    Next: 'ActOnEachBatch',
  });
});

describe('the runbook loop', () => {
  it('advances the run a round at a time, waiting as the round says, until it is done', () => {
    const states = stack.definition('runbook').States;

    // After the run's own guardrails (and approval, where a deployment asks for one).
    expect(states.NeedsApproval?.Default).toBe('AdvanceRunbook');
    expect(states.RequestApproval?.Next).toBe('AdvanceRunbook');
    expect(states.AdvanceRunbook).toMatchObject({
      Type: 'Task',
      Resource: placeholder('AdvanceRunbookFunctionArn'),
      Parameters: {
        // The run is read from its record; how long to wait on each step, from StartRunbook.
        'actionId.$': '$.actionId',
        'schedule.$': '$.resolution.schedule',
      },
      ResultPath: '$.round',
      Next: 'IsRunbookDone',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordActionFailure' }],
    });
    expect(states.IsRunbookDone).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.round.done', BooleanEquals: true, Next: 'CompleteAction' }],
      Default: 'WaitForStep',
    });
    expect(states.WaitForStep).toMatchObject({
      Type: 'Wait',
      SecondsPath: '$.round.waitSeconds',
      Next: 'AdvanceRunbook',
    });
    // The run's status is the one the last round derived from its steps.
    expect(states.CompleteAction?.Parameters).toMatchObject({ 'runbook.$': '$.round.outcome' });
  });
});

describe('the session-action batches', () => {
  const written = () =>
    JSON.parse(
      readFileSync(
        new URL('../../state-machines/session-action.asl.json', import.meta.url),
        'utf8',
      ),
    ) as { States: Record<string, State> };
  type MapState = State & { ItemProcessor: { StartAt: string; States: Record<string, State> } };

  it('maps over the batch numbers, a few at once, and keeps neither sessions nor results in the state', () => {
    const map = written().States.ActOnEachBatch as MapState;

    expect(map).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.resolution.batches',
      // Each iteration gets the action and its batch number, never the sessions.
      ItemSelector: {
        'actionId.$': '$.actionId',
        'action.$': '$.action',
        'batch.$': '$$.Map.Item.Value',
      },
      MaxConcurrency: 10,
      // The results stay in the batch items: CompleteAction reads them there.
      ResultPath: null,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordActionFailure' }],
      Next: 'CompleteAction',
    });
    // As deployed, the configured MaxConcurrency replaces the file's.
    expect(
      (stack.definition('session-action').States.ActOnEachBatch as MapState).MaxConcurrency,
    ).toBe(MAX_CONCURRENCY);
    expect(Object.keys(map.ItemProcessor.States).sort()).toEqual(
      ['AdvanceBatch', 'BatchDone', 'FailBatch', 'IsBatchDone', 'WaitForJobs'].sort(),
    );
  });

  it('advances a batch one round at a time until it is done, and records a failed round for the whole batch', () => {
    const map = stack.definition('session-action').States.ActOnEachBatch as MapState;
    const inner = map.ItemProcessor.States;

    expect(map.ItemProcessor.StartAt).toBe('AdvanceBatch');
    expect(inner.AdvanceBatch).toMatchObject({
      Type: 'Task',
      Resource: placeholder('AdvanceSessionBatchFunctionArn'),
      Parameters: { 'actionId.$': '$.actionId', 'action.$': '$.action', 'batch.$': '$.batch' },
      ResultPath: '$.round',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'FailBatch' }],
      Next: 'IsBatchDone',
    });
    // A round is safe to repeat (a claimed session is never sent again): it is retried.
    expect(valuesOfKey(inner.AdvanceBatch?.Retry, 'ErrorEquals').flat()).toContain(
      'SessionBatchStoreUnavailableError',
    );
    expect(inner.IsBatchDone).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.round.done', BooleanEquals: true, Next: 'BatchDone' }],
      Default: 'WaitForJobs',
    });
    expect(inner.WaitForJobs).toMatchObject({
      Type: 'Wait',
      SecondsPath: '$.round.waitSeconds',
      Next: 'AdvanceBatch',
    });
    // The same function, given the error, finishes what is left of the batch as failed.
    expect(inner.FailBatch).toMatchObject({
      Type: 'Task',
      Resource: placeholder('AdvanceSessionBatchFunctionArn'),
      Parameters: {
        'actionId.$': '$.actionId',
        'action.$': '$.action',
        'batch.$': '$.batch',
        'failure.$': '$.error',
      },
      ResultPath: '$.round',
      Next: 'BatchDone',
    });
    expect(inner.BatchDone).toEqual({ Type: 'Succeed' });
  });

  it('acts on no session from the workflow itself: which sessions are actionable is left to the batch round', () => {
    const map = stack.definition('session-action').States.ActOnEachBatch as MapState;

    // No per-session Choice, and no task of the removed per-session design.
    expect(statesOfType(map, 'Choice').map((state) => state.Variable ?? state.Choices)).toEqual([
      [{ Variable: '$.round.done', BooleanEquals: true, Next: 'BatchDone' }],
    ]);
    expect(JSON.stringify(stack.definition('session-action'))).not.toMatch(
      /SubmitAction|CheckJob|RecordTargetResult|ActOnEachTarget/,
    );
    expect(JSON.stringify(map)).not.toMatch(/\$\.target\b/);
  });
});

it('sends a device command only to a device the guardrails marked actionable', () => {
  const map = stack.definition('device-action').States.ActOnEachDevice as unknown as {
    ItemProcessor: { StartAt: string; States: Record<string, State> };
  };

  expect(map.ItemProcessor.StartAt).toBe('IsManaged');
  expect(map.ItemProcessor.States.IsManaged).toEqual({
    Type: 'Choice',
    Comment: expect.any(String),
    Choices: [{ Variable: '$.target.actionable', BooleanEquals: true, Next: 'SendCommand' }],
    Default: 'RecordDeviceResult',
  });
});
