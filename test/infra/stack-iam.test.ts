import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { SECRET_SOURCES } from '../../infra/source-endpoints.ts';
import { ACTIONS_TABLE_INDEX_NAMES } from '../../lib/actions/list.ts';
import { ACTION_TYPES } from '../../lib/actions/schema.ts';
import { administratorChangeLeaseKey } from '../../lib/administrators/change-lock.ts';
import { STEP_WORKFLOW_NAMES } from '../../lib/runbooks/definition.ts';
import { DAAS_THROTTLE_GATE_KEY } from '../../lib/runtime/session-batch-store.ts';
import {
  COMPLETE_ACTION,
  WORKFLOWS,
  type WorkflowFunction,
} from '../../lib/workflow/definition.ts';
import {
  allow,
  CUSTOMER_ID,
  SYNTH_TIMEOUT,
  type SynthesizedStack,
  synthesized,
  TASKS,
  XRAY,
} from './support/stack.ts';

/**
 * Least privilege, in the `configured` stack (every optional secret and table present): what
 * each function may do, exactly, and who may touch each table, secret, topic and workflow.
 * Grants read as `action on <logical id>` lines (see SynthesizedStack.grants).
 */

let stack: SynthesizedStack;
beforeAll(() => {
  stack = synthesized('configured');
}, SYNTH_TIMEOUT);

const RECORDS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
/**
 * The actions table as every function that uses it gets it (infra bindActionsTable): single
 * records, and a session action's batch items beside them (read back with BatchGetItem by every
 * reader of a record, written one PutItem each by the resolver). Nothing that can delete: no
 * DeleteItem, no BatchWriteItem (whose DeleteRequest deletes), no Query or Scan.
 */
const ACTIONS = [...RECORDS, 'dynamodb:BatchGetItem'];
const secretReads = (...secrets: string[]) =>
  allow(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], ...secrets);
const onItems = (lines: string[], keys: readonly string[]) =>
  lines.map((line) => `${line} (keys ${keys.join(', ')})`);
const workflowIds = () => WORKFLOWS.map((workflow) => stack.stateMachine(workflow.name));

/** Everything a task function may do, from its declaration. */
function expectedTaskGrants(task: WorkflowFunction): string[] {
  const limits = stack.table('limits');
  const secrets = {
    nothing: [],
    daas: [stack.secret('citrix')],
    'cloud-administrators': [stack.secret('citrix')],
    // With administrator credentials: that secret alone, not the Citrix Cloud client.
    'endpoint-management': [stack.secret('endpointManagement')],
    notifications: [stack.secret('callback'), stack.secret('serviceNowApi')],
  }[task.calls];
  return [
    ...XRAY,
    // Appends only: no Query, Scan, update or delete of the trail.
    ...allow(['dynamodb:BatchWriteItem'], stack.table('audit')),
    // Records and their batch items: no Query, Scan or DeleteItem.
    ...(task.recordsActions
      ? allow(ACTIONS, stack.table('actions'))
      : // Its audit failures noted on its action (lib/audit/audited.ts), nothing else.
        allow(['dynamodb:UpdateItem'], stack.table('actions'))),
    ...(task.appliesGuardrails ? allow(['dynamodb:GetItem', 'dynamodb:PutItem'], limits) : []),
    // Gives back a rejected or expired action's reservation: the counters' items only.
    ...(task.releasesLimitReservations
      ? onItems(allow(['dynamodb:GetItem', 'dynamodb:PutItem'], limits), ACTION_TYPES)
      : []),
    // Reads and closes DaaS's shared throttle gate: its own item only.
    ...(task.sharesThrottleGate
      ? onItems(allow(['dynamodb:GetItem', 'dynamodb:UpdateItem'], limits), [
          DAAS_THROTTLE_GATE_KEY,
        ])
      : []),
    // Takes and gives back the administrator change lease: its own item only.
    ...(task.serializesAdministratorChanges
      ? onItems(allow(['dynamodb:DeleteItem', 'dynamodb:PutItem'], limits), [
          administratorChangeLeaseKey(CUSTOMER_ID),
        ])
      : []),
    // A runbook's steps: starts the step workflows' executions, never the runbook's own.
    ...(task.startsActions
      ? allow(
          ['states:StartExecution'],
          ...STEP_WORKFLOW_NAMES.map((workflow) => stack.stateMachine(workflow)),
        )
      : []),
    // The last resort of executions no state could record keeps what it could not either.
    ...(task.name === COMPLETE_ACTION.name
      ? allow(['sqs:SendMessage'], stack.idOf(stack.stack.unrecordedExecutions.deadLetterQueue))
      : []),
    ...secretReads(...secrets),
  ].sort();
}

describe('what each function may do', () => {
  it('attaches every inline policy to a function, a workflow or the sweep schedules, whose grants are checked exactly', () => {
    const roles = new Set(
      [...stack.functionIds, ...workflowIds(), stack.schedulerRole].map((id) => stack.roleOf(id)),
    );

    for (const policy of stack.idsOf('AWS::IAM::Policy')) {
      for (const role of stack.resource(policy).Properties.Roles as { Ref: string }[]) {
        expect(roles, policy).toContain(role.Ref);
      }
    }
  });

  it('runs every function with only the basic Lambda execution managed policy', () => {
    for (const id of stack.functionIds) {
      expect(stack.managedPolicies(id), id).toEqual([
        'arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
      ]);
    }
  });

  it.each(TASKS.map((task) => ({ name: task.name, task })))(
    'lets $name do exactly what its declaration asks for',
    ({ task }) => {
      expect(stack.grants(stack.taskFunction(task.name))).toEqual(expectedTaskGrants(task));
    },
  );

  it('lets the API (POST /v1/actions) record actions, start the workflows, use the idempotency table and append to the audit trail: no secret (API Gateway authenticates people)', () => {
    expect(stack.grants(stack.apiFunction)).toEqual(
      [
        ...XRAY,
        ...allow(ACTIONS, stack.table('actions')),
        ...allow([...RECORDS, 'dynamodb:DeleteItem'], stack.table('idempotency')),
        ...allow(['dynamodb:BatchWriteItem'], stack.table('audit')),
        // Start an action: resuming one is the records function's.
        ...allow(['states:StartExecution'], ...workflowIds()),
      ].sort(),
    );
  });

  it('lets the records function read and list actions, record a decision, resume the workflows, read and append the audit trail: no PutItem, no start, no idempotency table, no secret', () => {
    expect(stack.grants(stack.recordsFunction)).toEqual(
      [
        ...XRAY,
        // A record and its batch items read back; a decision recorded on it.
        ...allow(
          ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
          stack.table('actions'),
        ),
        // GET /v1/actions: Query on the listing's indexes only (lib/actions/list.ts).
        ...allow(
          ['dynamodb:Query'],
          ...ACTIONS_TABLE_INDEX_NAMES.map((index) => `${stack.table('actions')}/index/${index}`),
        ),
        // Approve and reject: the timeline is read, each decision appended.
        ...allow(['dynamodb:BatchWriteItem', 'dynamodb:Query'], stack.table('audit')),
        // Resume the workflow waiting on an action's approval.
        ...allow(
          ['states:SendTaskFailure', 'states:SendTaskHeartbeat', 'states:SendTaskSuccess'],
          ...workflowIds(),
        ),
      ].sort(),
    );
  });

  it.each([
    // Splunk, Sentinel and PagerDuty: their own three secrets.
    ['alerting', () => stack.sourceFunction, ['splunk', 'sentinel', 'pagerduty'] as const, []],
    // ServiceNow, and the standard source, which signs with the webhook secret.
    [
      'requesting',
      () => stack.requestSourceFunction,
      ['servicenow'] as const,
      ['webhook'] as const,
    ],
  ])(
    "lets the %s sources' function record actions, use the idempotency table, put deliveries, append to the audit trail, start the workflows and read its own sources' secrets",
    (_, fn, sources, shared) => {
      expect(stack.grants(fn())).toEqual(
        [
          ...XRAY,
          ...allow(ACTIONS, stack.table('actions')),
          ...allow([...RECORDS, 'dynamodb:DeleteItem'], stack.table('idempotency')),
          // Deliveries are written once and never read back by the function.
          ...allow(['dynamodb:PutItem'], stack.table('deliveries')),
          ...allow(['dynamodb:BatchWriteItem'], stack.table('audit')),
          ...allow(['states:StartExecution'], ...workflowIds()),
          ...secretReads(
            ...sources.map((source) => stack.secret(`source:${source}`)),
            ...shared.map((role) => stack.secret(role)),
          ),
        ].sort(),
      );
    },
  );

  it('lets the run-sweep function accept an action as a source delivery does, and keep a failed run: no secret', () => {
    expect(stack.grants(stack.sweepFunction)).toEqual(
      [
        ...XRAY,
        ...allow(ACTIONS, stack.table('actions')),
        ...allow([...RECORDS, 'dynamodb:DeleteItem'], stack.table('idempotency')),
        ...allow(['dynamodb:BatchWriteItem'], stack.table('audit')),
        ...allow(['states:StartExecution'], ...workflowIds()),
        // Lambda puts a run that failed every retry in the dead-letter queue.
        ...allow(['sqs:SendMessage'], stack.idOf(stack.stack.sweeps.deadLetterQueue)),
      ].sort(),
    );
  });

  it('lets the sweep schedules invoke the run-sweep function (unqualified) and use the dead-letter queue: no more', () => {
    expect(stack.grants(stack.schedulerRole)).toEqual(
      [
        // The unqualified ARN the schedules invoke, not every version and alias (`:*`).
        ...allow(['lambda:InvokeFunction'], stack.sweepFunction),
        ...allow(['sqs:SendMessage'], stack.idOf(stack.stack.sweeps.deadLetterQueue)),
      ].sort(),
    );
    expect(stack.managedPolicies(stack.schedulerRole)).toEqual([]);
  });

  it('lets only EventBridge Scheduler assume the schedules role, for this account and schedule group', () => {
    expect(stack.resource(stack.schedulerRole).Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: {
            StringEquals: {
              'aws:SourceAccount': { Ref: 'AWS::AccountId' },
              'aws:SourceArn': {
                'Fn::GetAtt': [stack.idOf(stack.stack.sweeps.scheduleGroup), 'Arn'],
              },
            },
          },
        },
      ],
    });
  });

  it('lets the API document function write its logs and traces: no table, secret or workflow', () => {
    expect(stack.grants(stack.documentFunction)).toEqual([...XRAY].sort());
    // Logs through the basic execution role alone (checked for every function above).
    expect(stack.managedPolicies(stack.documentFunction)).toEqual([
      'arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
    ]);
  });

  it('lets the report query, put and update snapshots, publish to its topic and read the Citrix secret: no more', () => {
    expect(stack.grants(stack.reportFunction)).toEqual(
      [
        ...XRAY,
        ...allow(
          ['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
          stack.table('snapshots'),
        ),
        // Not topic.grantPublish, which would add kms:GenerateDataKey* on every key.
        ...allow(['sns:Publish'], stack.idOf(stack.stack.administratorReport.topic)),
        ...secretReads(stack.secret('citrix')),
        // A run that still failed after Lambda's retries goes to the report's dead-letter queue.
        ...allow(['sqs:SendMessage'], stack.idOf(stack.stack.administratorReport.deadLetterQueue)),
      ].sort(),
    );
  });
});

describe('who may touch what', () => {
  const tasksWhere = (flag: (task: WorkflowFunction) => boolean | undefined) =>
    TASKS.filter(flag).map((task) => stack.taskFunction(task.name));

  it('lets only the functions that record actions, the API, its records function, the source endpoints and the run-sweep function use the action records, and every other task only note its audit failures', () => {
    expect(TASKS.filter((task) => task.recordsActions).map((task) => task.name)).toEqual([
      'resolve-session-targets',
      'advance-session-batch',
      'warn-sessions',
      'request-approval',
      'complete-action',
      'notify-action-outcome',
      'resolve-device-targets',
      'record-device-result',
      'resolve-admin-targets',
      'apply-admin-change',
      'record-admin-result',
      'start-runbook',
      'advance-runbook',
    ]);
    expect(stack.grantedOn(stack.table('actions'))).toEqual(
      [
        ...tasksWhere((task) => task.recordsActions),
        // UpdateItem alone (exact per function above): their audit failures on their action.
        ...tasksWhere((task) => !task.recordsActions),
        stack.apiFunction,
        stack.recordsFunction,
        stack.sourceFunction,
        stack.requestSourceFunction,
        stack.sweepFunction,
      ].sort(),
    );
  });

  it('lets every function but the report and the API document append to the audit trail, and only the records function read it', () => {
    const audit = stack.table('audit');

    expect(stack.grantedOn(audit)).toEqual(
      stack.functionIds
        .filter((id) => id !== stack.reportFunction && id !== stack.documentFunction)
        .sort(),
    );
    // Appends everywhere else (exact per function above); GET /v1/actions/{id} reads a timeline.
    expect(
      stack.functionIds.filter((id) => stack.grants(id).includes(`dynamodb:Query on ${audit}`)),
    ).toEqual([stack.recordsFunction]);
    // And only it queries the listing's indexes.
    expect(
      stack.functionIds.filter((id) =>
        stack
          .grants(id)
          .some((line) => line.startsWith(`dynamodb:Query on ${stack.table('actions')}`)),
      ),
    ).toEqual([stack.recordsFunction]);
  });

  it('lets only the resolvers (and start-runbook, for the run itself) use the limit counters, complete-action give them back, apply-admin-change hold its lease and advance-session-batch share the throttle gate', () => {
    expect(TASKS.filter((task) => task.appliesGuardrails).map((task) => task.name)).toEqual([
      'resolve-session-targets',
      'resolve-device-targets',
      'resolve-admin-targets',
      'start-runbook',
    ]);
    expect(TASKS.filter((task) => task.releasesLimitReservations).map((t) => t.name)).toEqual([
      'complete-action',
    ]);
    expect(TASKS.filter((task) => task.serializesAdministratorChanges).map((t) => t.name)).toEqual([
      'apply-admin-change',
    ]);
    expect(TASKS.filter((task) => task.sharesThrottleGate).map((t) => t.name)).toEqual([
      'advance-session-batch',
    ]);
    expect(stack.grantedOn(stack.table('limits'))).toEqual(
      tasksWhere(
        (task) =>
          task.appliesGuardrails ||
          task.releasesLimitReservations ||
          task.serializesAdministratorChanges ||
          task.sharesThrottleGate,
      ).sort(),
    );
    // The gate's item only, and only to read and move it: no counter, no lease, no delete.
    const gate = stack.taskFunction('advance-session-batch');
    expect(
      stack.grants(gate).filter((line) => line.includes(` on ${stack.table('limits')}`)),
    ).toEqual(
      onItems(allow(['dynamodb:GetItem', 'dynamodb:UpdateItem'], stack.table('limits')), [
        DAAS_THROTTLE_GATE_KEY,
      ]),
    );
    expect(stack.environment(gate).LIMITS_TABLE_NAME).toEqual({ Ref: stack.table('limits') });
  });

  it('lets only the report touch the snapshots table or publish to the topic', () => {
    expect(stack.grantedOn(stack.table('snapshots'))).toEqual([stack.reportFunction]);
    expect(stack.grantedOn(stack.idOf(stack.stack.administratorReport.topic))).toEqual([
      stack.reportFunction,
    ]);
    for (const id of stack.functionIds.filter((fn) => fn !== stack.reportFunction)) {
      expect(
        stack.grants(id).filter((line) => /^(sns|kms):/.test(line)),
        id,
      ).toEqual([]);
    }
  });

  it('lets only the source endpoints read a source secret or write deliveries, and only they, the API and the run-sweep function share the idempotency table', () => {
    // Each source's secret, by the one function that serves the source.
    for (const source of SECRET_SOURCES) {
      expect(stack.grantedOn(stack.secret(`source:${source}`)), source).toEqual([
        source === 'servicenow' ? stack.requestSourceFunction : stack.sourceFunction,
      ]);
    }
    const sourceFunctions = [stack.sourceFunction, stack.requestSourceFunction];
    expect(stack.grantedOn(stack.table('deliveries'))).toEqual(sourceFunctions.sort());
    expect(stack.grantedOn(stack.table('idempotency'))).toEqual(
      [stack.apiFunction, ...sourceFunctions, stack.sweepFunction].sort(),
    );
  });

  it('lets each other secret be read by exactly the functions that need it', () => {
    const calling = (...calls: WorkflowFunction['calls'][]) =>
      tasksWhere((task) => calls.includes(task.calls));

    // The standard source signs with it: the requesting sources' function alone reads it.
    expect(stack.grantedOn(stack.secret('webhook'))).toEqual([stack.requestSourceFunction]);
    expect(stack.grantedOn(stack.secret('citrix'))).toEqual(
      [...calling('daas', 'cloud-administrators'), stack.reportFunction].sort(),
    );
    expect(stack.grantedOn(stack.secret('endpointManagement'))).toEqual(
      calling('endpoint-management').sort(),
    );
    // The callback signing key and the ServiceNow account: the notification task alone.
    expect(stack.grantedOn(stack.secret('callback'))).toEqual(calling('notifications'));
    expect(stack.grantedOn(stack.secret('serviceNowApi'))).toEqual(calling('notifications'));
  });

  it('lets only the API, the source endpoints, the run-sweep function and advance-runbook start an execution, and only the records function send a task token response', () => {
    const callers = (pattern: RegExp) =>
      [...stack.functionIds, ...workflowIds()].filter((id) =>
        stack.grants(id).some((line) => pattern.test(line)),
      );

    expect(callers(/^states:/).sort()).toEqual(
      [
        stack.apiFunction,
        stack.recordsFunction,
        stack.sourceFunction,
        stack.requestSourceFunction,
        stack.sweepFunction,
        stack.taskFunction('advance-runbook'),
      ].sort(),
    );
    // A run's steps start the other workflows; nothing a workflow invokes can start its own.
    expect(
      callers(new RegExp(`^states:StartExecution on ${stack.stateMachine('runbook')}$`)).sort(),
    ).toEqual(
      [
        stack.apiFunction,
        stack.sourceFunction,
        stack.requestSourceFunction,
        stack.sweepFunction,
      ].sort(),
    );
    expect(callers(/^states:StartExecution/).sort()).toEqual(
      [
        stack.apiFunction,
        stack.sourceFunction,
        stack.requestSourceFunction,
        stack.sweepFunction,
        stack.taskFunction('advance-runbook'),
      ].sort(),
    );
    expect(callers(/^states:(SendTask|\*)/)).toEqual([stack.recordsFunction]);
  });

  it('lets only the sweep schedules invoke the run-sweep function, and nothing else invoke a function through IAM', () => {
    const invokers = [
      ...stack.functionIds,
      ...workflowIds(),
      ...stack.idsOf('AWS::IAM::Role'),
    ].filter((id) => stack.grants(id).some((line) => line.includes(` on ${stack.sweepFunction}`)));

    expect(invokers.map((id) => stack.roleOf(id)).sort()).toEqual([stack.schedulerRole]);
    // No resource policy: the schedules invoke with their role.
    expect(
      stack
        .idsOf('AWS::Lambda::Permission')
        .filter((id) => JSON.stringify(stack.resource(id)).includes(stack.sweepFunction)),
    ).toEqual([]);
  });

  it('lets EventBridge invoke the report function and complete-action each from its own rule only, and nothing else', () => {
    const fromEvents = stack
      .idsOf('AWS::Lambda::Permission')
      .map((id) => stack.resource(id).Properties)
      .filter((permission) => permission.Principal === 'events.amazonaws.com');

    expect(fromEvents).toHaveLength(2);
    expect(fromEvents).toEqual(
      expect.arrayContaining([
        {
          Action: 'lambda:InvokeFunction',
          FunctionName: {
            'Fn::GetAtt': [stack.idOf(stack.stack.tasks.functionNamed(COMPLETE_ACTION)), 'Arn'],
          },
          Principal: 'events.amazonaws.com',
          SourceArn: { 'Fn::GetAtt': [stack.idOf(stack.stack.unrecordedExecutions.rule), 'Arn'] },
        },
        {
          Action: 'lambda:InvokeFunction',
          FunctionName: { 'Fn::GetAtt': [stack.reportFunction, 'Arn'] },
          Principal: 'events.amazonaws.com',
          SourceArn: { 'Fn::GetAtt': [stack.idOf(stack.stack.administratorReport.rule), 'Arn'] },
        },
      ]),
    );
  });

  it.each([
    ['report', () => stack.stack.administratorReport.topic],
    ['alarm', () => stack.stack.operations.topic],
  ] as const)(
    'refuses publishing to the %s topic without TLS, and grants nothing in the topic policy',
    (_name, topicOf) => {
      const topic = stack.idOf(topicOf());

      stack.template.resourceCountIs('AWS::SNS::TopicPolicy', 2);
      stack.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [{ Ref: topic }],
        PolicyDocument: {
          Statement: [
            {
              Sid: Match.anyValue(),
              Effect: 'Deny',
              Principal: '*',
              Action: 'sns:Publish',
              Resource: { Ref: topic },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ],
        },
      });
    },
  );
});
