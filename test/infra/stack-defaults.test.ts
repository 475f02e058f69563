import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, expect, it } from 'vitest';
import { CITRIX_CUSTOMER_ID_PLACEHOLDER } from '../../infra/config.ts';
import { SECRET_SOURCES } from '../../infra/source-endpoints.ts';
import {
  DEFAULT_GUARDRAIL_SETTINGS,
  GUARDRAIL_VARIABLES,
  guardrailsFromEnv,
} from '../../lib/guardrails/config.ts';
import {
  administratorGuardsFromEnv,
  administratorReportSettingsFromEnv,
  InvalidSettingsError,
} from '../../lib/runtime/settings.ts';
import { WORKFLOWS } from '../../lib/workflow/definition.ts';
import {
  allow,
  expectNoSecretValues,
  SYNTH_TIMEOUT,
  type SynthesizedStack,
  statesOfType,
  synthesized,
  TASKS,
  valuesOfKey,
  WAIT_FOR_TASK_TOKEN,
} from './support/stack.ts';

/**
 * What `cdk synth` gives without any context, as on a fresh clone: the defaults of every setting
 * (config.test.ts checks readConfig; this checks they reach the resources), and a stack that
 * synthesizes cleanly but refuses to deploy until the Citrix customer id is set.
 */

let stack: SynthesizedStack;
beforeAll(() => {
  stack = synthesized('defaults');
}, SYNTH_TIMEOUT);

const CLOUD_CLIENT = () => ({
  CITRIX_CREDENTIALS_SECRET_ARN: { Ref: stack.secret('citrix') },
  CITRIX_API_URL: 'https://api.cloud.com',
  CITRIX_CUSTOMER_ID: CITRIX_CUSTOMER_ID_PLACEHOLDER,
});

it('carries a rule that refuses to deploy with the placeholder customer id', () => {
  const rule = stack.rules.CitrixCustomerIdIsSet as {
    Assertions: { Assert: unknown; AssertDescription: string }[];
  };

  expect(rule.Assertions).toHaveLength(1);
  expect(rule.Assertions[0]?.Assert).toEqual({
    'Fn::Not': [{ 'Fn::Equals': [CITRIX_CUSTOMER_ID_PLACEHOLDER, CITRIX_CUSTOMER_ID_PLACEHOLDER] }],
  });
  expect(rule.Assertions[0]?.AssertDescription).toMatch(/-c citrixCustomerId=/);
});

it('acts on 10 targets at once, keeps logs 90 days and calls api.cloud.com without a site id', () => {
  for (const workflow of WORKFLOWS) {
    expect(valuesOfKey(stack.definition(workflow.name), 'MaxConcurrency'), workflow.name).toEqual(
      statesOfType(stack.definition(workflow.name), 'Map').map(() => 10),
    );
  }
  stack.template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  for (const id of stack.functionIds) {
    expect(stack.environment(id), id).not.toHaveProperty('CITRIX_SITE_ID');
  }
});

it('logs every Citrix function in with the Citrix Cloud client, Endpoint Management too (object bodies, no server URL)', () => {
  for (const task of TASKS) {
    const id = stack.taskFunction(task.name);
    const expected = {
      nothing: {},
      notifications: {},
      daas: CLOUD_CLIENT(),
      'cloud-administrators': CLOUD_CLIENT(),
      'endpoint-management': {
        ...CLOUD_CLIENT(),
        CITRIX_EM_AUTH: 'cloud',
        CITRIX_EM_BODY_SHAPE: 'object',
      },
    }[task.calls];
    const secrets = stack.grants(id).filter((line) => line.startsWith('secretsmanager:'));

    expect(stack.citrixEnvironment(id), task.name).toEqual(expected);
    expect(secrets, task.name).toEqual(
      task.calls === 'nothing'
        ? []
        : allow(
            ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
            task.calls === 'notifications' ? stack.secret('serviceNowApi') : stack.secret('citrix'),
          ),
    );
  }
  expect(stack.stack.endpointManagementCredentials).toBeUndefined();
});

it('deploys the administrator functions without the owner or protected list, so that they refuse to run', () => {
  for (const task of TASKS.filter((fn) => fn.calls === 'cloud-administrators')) {
    const environment = stack.literalEnvironment(stack.taskFunction(task.name));
    // By design: an administrator action without its guards fails, saying what is missing.
    expect(() => administratorGuardsFromEnv(environment), task.name).toThrow(InvalidSettingsError);
    expect(() => administratorGuardsFromEnv(environment), task.name).toThrow(
      /CITRIX_API_CLIENT_OWNER is not set/,
    );
  }
});

it('reports the administrators daily, on invitations pending longer than 14 days', () => {
  stack.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 day)' });
  const environment = stack.literalEnvironment(stack.reportFunction);
  expect(environment.ADMIN_REPORT_PENDING_DAYS).toBe('14');
  expect(administratorReportSettingsFromEnv(environment).pendingInvitationMaxDays).toBe(14);
  expect(stack.citrixEnvironment(stack.reportFunction)).toEqual(CLOUD_CLIENT());
});

it('calls back nobody: no destination anywhere, and no function reads the callback secret', () => {
  const notify = stack.taskFunction('notify-action-outcome');

  expect(Object.keys(stack.environment(notify)).sort()).toEqual([
    'ACTIONS_TABLE_NAME',
    'AUDIT_TABLE_NAME',
    'POWERTOOLS_LOG_LEVEL',
    'POWERTOOLS_METRICS_NAMESPACE',
    'POWERTOOLS_SERVICE_NAME',
    'POWERTOOLS_TRACER_CAPTURE_HTTPS_REQUESTS',
    'POWERTOOLS_TRACER_CAPTURE_RESPONSE',
    // The ServiceNow API secret, always there; its placeholder instance URL sends nothing.
    'SERVICENOW_API_SECRET_ARN',
  ]);
  for (const id of [
    stack.apiFunction,
    stack.recordsFunction,
    stack.sourceFunction,
    stack.requestSourceFunction,
  ]) {
    expect(
      Object.keys(stack.environment(id)).filter((name) => name.startsWith('CALLBACK_')),
      id,
    ).toEqual([]);
  }
  expect(stack.grantedOn(stack.secret('callback'))).toEqual([]);
  expect(JSON.stringify(stack.functionIds.map((id) => stack.environment(id)))).not.toContain(
    `"${stack.secret('callback')}"`,
  );
});

it('gives no function a guardrail variable: the resolvers enforce the defaults, an hour to approve', () => {
  for (const id of stack.functionIds) {
    for (const variable of GUARDRAIL_VARIABLES) {
      expect(stack.environment(id), id).not.toHaveProperty(variable);
    }
  }
  for (const task of TASKS.filter((fn) => fn.appliesGuardrails)) {
    expect(
      guardrailsFromEnv(stack.literalEnvironment(stack.taskFunction(task.name))),
      task.name,
    ).toEqual(DEFAULT_GUARDRAIL_SETTINGS);
  }
  expect(DEFAULT_GUARDRAIL_SETTINGS.approvalTimeoutSeconds).toBe(3600);
});

it.each(WORKFLOWS)(
  'waits an hour for an approval in the $name workflow, and outlasts that wait',
  (workflow) => {
    const definition = stack.definition(workflow.name);
    const waits = statesOfType(definition, 'Task').filter(
      (state) => state.Resource === WAIT_FOR_TASK_TOKEN,
    );

    expect(waits.map((state) => state.TimeoutSeconds)).toEqual([3600]);
    expect(Number(definition.TimeoutSeconds)).toBeGreaterThan(3600);
  },
);

it('has no API resource policy and remembers deliveries for 24 hours', () => {
  stack.template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
  stack.template.hasResourceProperties('AWS::ApiGateway::RestApi', { Policy: Match.absent() });
  for (const id of [stack.apiFunction, stack.sourceFunction, stack.requestSourceFunction]) {
    expect(stack.environment(id).IDEMPOTENCY_WINDOW_SECONDS, id).toBe('86400');
  }
});

it('has eight secrets: webhook, callback, Citrix Cloud, ServiceNow work notes and one per source, none of them in the template', () => {
  expect(stack.idsOf('AWS::SecretsManager::Secret').sort()).toEqual(
    [
      stack.secret('webhook'),
      stack.secret('callback'),
      stack.secret('citrix'),
      stack.secret('serviceNowApi'),
      ...SECRET_SOURCES.map((source) => stack.secret(`source:${source}`)),
    ].sort(),
  );
  expectNoSecretValues(stack);
});

it('outputs the API URL, the state machines, the table, the topics, the queues and the secret ARNs', () => {
  expect(Object.keys(stack.outputs).sort()).toEqual([
    'ActionsTableName',
    'AdminActionStateMachineArn',
    'AdministratorReportTopicArn',
    'AlarmTopicArn',
    'ApiUrl',
    'CallbackSigningSecretArn',
    'CitrixCredentialsSecretArn',
    'DashboardName',
    'DeviceActionStateMachineArn',
    'PagerdutySecretArn',
    'ReportDeadLetterQueueUrl',
    'RunbookStateMachineArn',
    'SentinelSecretArn',
    'ServiceNowApiCredentialsSecretArn',
    'ServicenowSecretArn',
    'SessionActionStateMachineArn',
    'SplunkSecretArn',
    'SweepScheduleGroupName',
    'SweepsDeadLetterQueueUrl',
    'WebhookSecretArn',
  ]);
});
