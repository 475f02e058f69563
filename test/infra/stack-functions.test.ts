import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ReportRequestSchema } from '../../functions/report-administrators.ts';
import { parseCallbackDestinations } from '../../lib/callbacks/signed-callback.ts';
import {
  DEFAULT_GUARDRAIL_SETTINGS,
  GUARDRAIL_VARIABLES,
  guardrailsFromEnv,
} from '../../lib/guardrails/config.ts';
import {
  administratorGuardsFromEnv,
  administratorReportSettingsFromEnv,
} from '../../lib/runtime/settings.ts';
import { ADVANCE_BATCH_TIMEOUT_SECONDS } from '../../lib/workflow/asl/session-action.ts';
import { WORKFLOWS, type WorkflowFunction } from '../../lib/workflow/definition.ts';
import {
  allow,
  CONFIGURED_GUARDRAILS,
  CUSTOMER_ID,
  DESTINATIONS,
  type Json,
  POWERTOOLS_VARIABLES,
  SITE_ID,
  SYNTH_TIMEOUT,
  type SynthesizedStack,
  synthesized,
  TASKS,
} from './support/stack.ts';

/**
 * Every function: its runtime, timeout and log group, and exactly the environment (settings and
 * secret ARNs) its work needs, in the `configured` stack (Endpoint Management with administrator
 * credentials, callbacks, guardrails). Their IAM grants are in stack-iam.test.ts.
 */

const BASE_ENVIRONMENT = POWERTOOLS_VARIABLES;
const API_URL = 'https://api-eu.cloud.com';
const ADMIN_TASK_NAMES = ['apply-admin-change', 'read-admin-back', 'resolve-admin-targets'];

let stack: SynthesizedStack;
let citrixSecret: string;
let emSecret: string;
beforeAll(() => {
  stack = synthesized('configured');
  citrixSecret = stack.secret('citrix');
  emSecret = stack.secret('endpointManagement');
}, SYNTH_TIMEOUT);

const secretReads = (secret: string) =>
  allow(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], secret);

/** The secret grants of a function: read-only, and only on the secrets its login needs. */
const secretGrantsOf = (functionId: string) =>
  stack.grants(functionId).filter((line) => line.startsWith('secretsmanager:'));

/**
 * The CITRIX_* variables and the secrets a task function must get, and nothing beyond them:
 * DaaS functions the Citrix Cloud client and site; Endpoint Management functions their server
 * and here the administrator secret alone; Citrix Cloud administrator functions the client (no
 * site) and the guards; the notification function no Citrix access, only its own two secrets.
 */
function expectedCitrixAccess(task: WorkflowFunction): {
  environment: Record<string, Json>;
  secrets: string[];
} {
  const cloudClient = {
    CITRIX_CREDENTIALS_SECRET_ARN: { Ref: citrixSecret },
    CITRIX_API_URL: API_URL,
    CITRIX_CUSTOMER_ID: CUSTOMER_ID,
  };
  switch (task.calls) {
    case 'nothing':
      return { environment: {}, secrets: [] };
    case 'daas':
      return { environment: { ...cloudClient, CITRIX_SITE_ID: SITE_ID }, secrets: [citrixSecret] };
    case 'endpoint-management':
      return {
        environment: {
          CITRIX_EM_URL: 'https://mdm.example.com:4443/xenmobile/api/v1',
          CITRIX_EM_AUTH: 'credentials',
          CITRIX_EM_BODY_SHAPE: 'id-array',
          CITRIX_EM_CREDENTIALS_SECRET_ARN: { Ref: emSecret },
        },
        secrets: [emSecret],
      };
    case 'cloud-administrators':
      return {
        environment: {
          ...cloudClient,
          CITRIX_API_CLIENT_OWNER: 'api.owner@example.com',
          CITRIX_PROTECTED_ADMINS: 'break.glass@example.com,OID:/citrix/42',
        },
        secrets: [citrixSecret],
      };
    case 'notifications':
      return {
        environment: {},
        secrets: [stack.secret('callback'), stack.secret('serviceNowApi')],
      };
  }
}

it('has one function per task name, described by it, and the API (starting; reading and deciding), the API document, the report, the source endpoints (alerts; requests) and the run-sweep function', () => {
  const tasks = TASKS.map((task) => stack.taskFunction(task.name));

  expect(TASKS.map((task) => task.name).sort()).toEqual([...stack.stack.tasks.all.keys()].sort());
  expect(stack.functionIds.sort()).toEqual(
    [
      ...tasks,
      stack.apiFunction,
      stack.recordsFunction,
      stack.documentFunction,
      stack.reportFunction,
      stack.sourceFunction,
      stack.requestSourceFunction,
      stack.sweepFunction,
    ].sort(),
  );
  expect(stack.functionIds).toHaveLength(23);
  // The people's API is two functions, each carrying only what its routes use.
  expect(stack.resource(stack.apiFunction).Properties.Description).toBe(
    'Actions API: starts actions as the IAM-authenticated person',
  );
  expect(stack.resource(stack.recordsFunction).Properties.Description).toBe(
    'Action records API: lists, reports and decides actions as the IAM-authenticated person',
  );
  for (const task of TASKS) {
    stack.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: `workflow task: ${task.name}`,
      Handler: 'index.handler',
    });
  }
  // request-approval, complete-action and notify-action-outcome serve all four workflows.
  expect(TASKS).toHaveLength(16);
});

it('shares a task only where every workflow using it declares it identically', () => {
  const users = new Map<string, { workflow: string; task: WorkflowFunction }[]>();
  for (const workflow of WORKFLOWS) {
    for (const task of workflow.functions) {
      users.set(task.name, [...(users.get(task.name) ?? []), { workflow: workflow.name, task }]);
    }
  }
  const shared = [...users].filter(([, declarations]) => declarations.length > 1);

  expect(shared.map(([name, declarations]) => [name, declarations.map((d) => d.workflow)])).toEqual(
    [
      ['request-approval', ['session-action', 'device-action', 'admin-action', 'runbook']],
      ['complete-action', ['session-action', 'device-action', 'admin-action', 'runbook']],
      ['notify-action-outcome', ['session-action', 'device-action', 'admin-action', 'runbook']],
    ],
  );
  for (const [name, declarations] of shared) {
    for (const { task } of declarations) expect(task, name).toEqual(declarations[0]?.task);
  }
});

it('runs every function on Node.js 24, arm64, 512 MB, traced, logging to a log group of its own', () => {
  stack.template.allResourcesProperties('AWS::Lambda::Function', {
    Runtime: 'nodejs24.x',
    Architectures: ['arm64'],
    MemorySize: 512,
    TracingConfig: { Mode: 'Active' },
    LoggingConfig: { LogGroup: { Ref: Match.anyValue() } },
    Environment: { Variables: Match.objectLike(BASE_ENVIRONMENT) },
  });
  const logGroups = stack.functionIds.map((id) =>
    String(
      (stack.resource(id).Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref,
    ),
  );
  expect(new Set(logGroups).size).toBe(stack.functionIds.length);
  for (const logGroup of logGroups) {
    expect(stack.resource(logGroup), logGroup).toMatchObject({
      Type: 'AWS::Logs::LogGroup',
      Properties: { RetentionInDays: 30 },
    });
  }
  // No source maps to enable: the bundles ship none (infra/function-bundling.ts).
  for (const id of stack.functionIds) {
    expect(stack.environment(id), id).not.toHaveProperty('NODE_OPTIONS');
  }
});

it('logs the API document function to its own log group, kept as configured', () => {
  const document = stack.resource(stack.documentFunction);
  const { Ref: logGroup } = (document.Properties.LoggingConfig as { LogGroup: { Ref: string } })
    .LogGroup;

  expect(stack.idOf(stack.stack.api.documentHandler.logGroup)).toBe(logGroup);
  expect(stack.resource(logGroup)).toMatchObject({
    Type: 'AWS::Logs::LogGroup',
    Properties: { RetentionInDays: 30 },
  });
});

it('gives task functions 60 s unless declared longer, the API (both functions), the API document and source endpoints 15 s, the run-sweep function 30 s, the report 600 s', () => {
  const declared = Object.fromEntries(
    TASKS.filter((task) => task.timeoutSeconds !== undefined).map((task) => [
      task.name,
      task.timeoutSeconds,
    ]),
  );

  expect(declared).toEqual({
    'resolve-device-targets': 240,
    'notify-action-outcome': 120,
    'warn-sessions': 120,
    // One round for a whole batch of sessions (up to 200), 10 Citrix requests at once.
    'advance-session-batch': ADVANCE_BATCH_TIMEOUT_SECONDS,
  });
  for (const task of TASKS) {
    expect(stack.resource(stack.taskFunction(task.name)).Properties.Timeout, task.name).toBe(
      task.timeoutSeconds ?? 60,
    );
  }
  expect(stack.resource(stack.apiFunction).Properties.Timeout).toBe(15);
  expect(stack.resource(stack.recordsFunction).Properties.Timeout).toBe(15);
  expect(stack.resource(stack.documentFunction).Properties.Timeout).toBe(15);
  expect(stack.resource(stack.sourceFunction).Properties.Timeout).toBe(15);
  expect(stack.resource(stack.requestSourceFunction).Properties.Timeout).toBe(15);
  expect(stack.resource(stack.sweepFunction).Properties.Timeout).toBe(30);
  expect(stack.resource(stack.reportFunction).Properties.Timeout).toBe(600);
});

describe('Citrix access', () => {
  it('gives each task function the Citrix settings and secret its calls need, and no more', () => {
    for (const task of TASKS) {
      const id = stack.taskFunction(task.name);
      const expected = expectedCitrixAccess(task);

      expect(stack.citrixEnvironment(id), task.name).toEqual(expected.environment);
      expect(secretGrantsOf(id), task.name).toEqual(expected.secrets.flatMap(secretReads).sort());
    }
  });

  it('logs the Endpoint Management functions in with the administrator secret alone', () => {
    const emTasks = TASKS.filter((task) => task.calls === 'endpoint-management');

    expect(emTasks.map((task) => task.name).sort()).toEqual([
      'read-device-back',
      'resolve-device-targets',
      'send-device-command',
    ]);
    for (const task of emTasks) {
      const environment = stack.environment(stack.taskFunction(task.name));
      expect(environment, task.name).toMatchObject({
        CITRIX_EM_AUTH: 'credentials',
        CITRIX_EM_CREDENTIALS_SECRET_ARN: { Ref: emSecret },
      });
      expect(environment, task.name).not.toHaveProperty('CITRIX_CREDENTIALS_SECRET_ARN');
      expect(environment, task.name).not.toHaveProperty('CITRIX_SITE_ID');
    }
  });

  it('gives the administrator functions the Citrix Cloud client and the guards, without the site', () => {
    expect(
      TASKS.filter((task) => task.calls === 'cloud-administrators')
        .map((task) => task.name)
        .sort(),
    ).toEqual(ADMIN_TASK_NAMES);
    for (const name of ADMIN_TASK_NAMES) {
      const id = stack.taskFunction(name);
      expect(stack.environment(id), name).not.toHaveProperty('CITRIX_SITE_ID');
      // The functions read the guards back exactly as the context named them.
      expect(administratorGuardsFromEnv(stack.literalEnvironment(id)), name).toEqual({
        apiClientOwner: 'api.owner@example.com',
        protected: ['break.glass@example.com', 'OID:/citrix/42'],
      });
    }
  });

  it('gives no function outside the administrator workflow the guards', () => {
    const admins = ADMIN_TASK_NAMES.map((name) => stack.taskFunction(name));
    for (const id of stack.functionIds.filter((fn) => !admins.includes(fn))) {
      expect(stack.environment(id), id).not.toHaveProperty('CITRIX_API_CLIENT_OWNER');
      expect(stack.environment(id), id).not.toHaveProperty('CITRIX_PROTECTED_ADMINS');
    }
  });

  it('gives the functions that call nothing no Citrix variable and no secret', () => {
    const idle = TASKS.filter((task) => task.calls === 'nothing').map((task) => task.name);

    expect(idle.sort()).toEqual([
      'advance-runbook',
      'complete-action',
      'record-admin-result',
      'record-device-result',
      'request-approval',
      'start-runbook',
    ]);
    for (const name of idle) {
      const id = stack.taskFunction(name);
      expect(Object.keys(stack.citrixEnvironment(id)), name).toEqual([]);
      expect(secretGrantsOf(id), name).toEqual([]);
    }
  });
});

describe('guardrails', () => {
  const resolvers = () => TASKS.filter((task) => task.appliesGuardrails);
  const guardrailVariables = (id: string) =>
    Object.fromEntries(
      Object.entries(stack.environment(id)).filter(([name]) =>
        (GUARDRAIL_VARIABLES as readonly string[]).includes(name),
      ),
    );

  it('gives the three resolve functions and start-runbook exactly the configured guardrails, which they read back as configured', () => {
    expect(resolvers().map((task) => task.name)).toEqual([
      'resolve-session-targets',
      'resolve-device-targets',
      'resolve-admin-targets',
      'start-runbook',
    ]);
    for (const task of resolvers()) {
      const id = stack.taskFunction(task.name);
      expect(guardrailVariables(id), task.name).toEqual(CONFIGURED_GUARDRAILS);
      expect(guardrailsFromEnv(stack.literalEnvironment(id)), task.name).toEqual({
        limits: {
          ...DEFAULT_GUARDRAIL_SETTINGS.limits,
          'device.wipe': { perRequest: 2, perHour: 6, overLimit: 'refuse' },
          'admin.revoke': { ...DEFAULT_GUARDRAIL_SETTINGS.limits['admin.revoke'], perHour: 2 },
        },
        approvalRequired: ['device.wipe', 'session.logoff', 'admin.revoke:delete'],
        approvalTimeoutSeconds: 900,
        // Given as a cdk.json array, read as the list it was.
        protectedUsers: ['ceo@example.com', 'CORP\\ciso'],
        protectedDevices: ['8d5f2a71-3c4b-4e8a-9f10-2b3c4d5e6f70', '1042'],
      });
    }
  });

  it('gives no other function a guardrail variable', () => {
    const resolverIds = resolvers().map((task) => stack.taskFunction(task.name));
    const others = stack.functionIds.filter((id) => !resolverIds.includes(id));

    expect(others).toHaveLength(stack.functionIds.length - 4);
    for (const id of others) expect(guardrailVariables(id), id).toEqual({});
  });
});

it('gives notify-action-outcome the destinations and the ARNs of its two secrets, and no Citrix access', () => {
  const environment = stack.environment(stack.taskFunction('notify-action-outcome'));

  expect(environment).toEqual({
    ...BASE_ENVIRONMENT,
    ACTIONS_TABLE_NAME: { Ref: stack.table('actions') },
    AUDIT_TABLE_NAME: { Ref: stack.table('audit') },
    CALLBACK_DESTINATIONS: JSON.stringify(DESTINATIONS),
    CALLBACK_SECRET_ARN: { Ref: stack.secret('callback') },
    // The instance URL is in the secret, never a variable.
    SERVICENOW_API_SECRET_ARN: { Ref: stack.secret('serviceNowApi') },
    // A traced request records its URL, whose path may carry a receiver's token.
    POWERTOOLS_TRACER_CAPTURE_HTTPS_REQUESTS: 'false',
  });
  // The function reads the destinations back exactly as configured.
  const destinations = parseCallbackDestinations(String(environment.CALLBACK_DESTINATIONS));
  expect(Object.fromEntries([...destinations].map(([name, url]) => [name, url.href]))).toEqual(
    DESTINATIONS,
  );
});

describe('the administrator report', () => {
  it('gets the Citrix Cloud client (no site, no guards), its table, topic and threshold only', () => {
    const id = stack.reportFunction;

    expect(stack.environment(id)).toEqual({
      ...BASE_ENVIRONMENT,
      CITRIX_CREDENTIALS_SECRET_ARN: { Ref: citrixSecret },
      CITRIX_API_URL: API_URL,
      CITRIX_CUSTOMER_ID: CUSTOMER_ID,
      SNAPSHOTS_TABLE_NAME: { Ref: stack.table('snapshots') },
      ADMIN_REPORT_PENDING_DAYS: '30',
      REPORT_TOPIC_ARN: { Ref: stack.idOf(stack.stack.administratorReport.topic) },
    });
    // The function reads the threshold exactly as the stack wrote it.
    expect(
      administratorReportSettingsFromEnv(stack.literalEnvironment(id)).pendingInvitationMaxDays,
    ).toBe(30);
    // Still the Citrix Cloud client, though Endpoint Management logs in with credentials.
    expect(secretGrantsOf(id)).toEqual(secretReads(citrixSecret));
  });

  it('runs on the schedule from the context, sending the input the function accepts, retried twice for an hour, then kept in its dead-letter queue', () => {
    const ruleId = stack.idOf(stack.stack.administratorReport.rule);

    // The other rule is the backstop of unrecorded executions (stack-operations.test.ts).
    expect(stack.idsOf('AWS::Events::Rule').sort()).toEqual(
      [ruleId, stack.idOf(stack.stack.unrecordedExecutions.rule)].sort(),
    );
    stack.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 6 * * ? *)',
      State: 'ENABLED',
      EventPattern: Match.absent(),
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [stack.reportFunction, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
          DeadLetterConfig: {
            Arn: {
              'Fn::GetAtt': [stack.idOf(stack.stack.administratorReport.deadLetterQueue), 'Arn'],
            },
          },
        }),
      ],
    });
    const [target] = stack.resource(String(ruleId)).Properties.Targets as { Input: string }[];
    expect(ReportRequestSchema.parse(JSON.parse(String(target?.Input)))).toEqual({
      source: 'schedule',
    });
    expect(JSON.parse(String(target?.Input))).toEqual({ source: 'schedule' });
  });

  it('keeps a run that still failed after two retries within the hour in the same queue, which only EventBridge and the function may write to', () => {
    const queue = stack.idOf(stack.stack.administratorReport.deadLetterQueue);

    expect(stack.resource(stack.reportFunction).Properties.DeadLetterConfig).toEqual({
      TargetArn: { 'Fn::GetAtt': [queue, 'Arn'] },
    });
    stack.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: stack.reportFunction },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
    });
    expect(stack.grantedOn(queue)).toEqual([stack.reportFunction]);
  });
});
