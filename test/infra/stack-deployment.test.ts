import { Template } from 'aws-cdk-lib/assertions';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/build-app.ts';
import { InvalidContextError } from '../../infra/config.ts';
import { pascalCase } from '../../infra/names.ts';
import { SECRET_SOURCES } from '../../infra/source-endpoints.ts';
import { WORKFLOWS } from '../../lib/workflow/definition.ts';
import {
  appContext,
  CONFIGURATIONS,
  type Configuration,
  SYNTH_TIMEOUT,
  type SynthesizedStack,
  synthesized,
} from './support/stack.ts';

/**
 * What CloudFormation gets from the `configured` stack: no cdk-nag finding left unacknowledged
 * and no finding of CDK's CloudFormation template rules, the outputs an operator needs, no deployment-blocking rule, and the logical ids a deployed
 * stack already has (a changed id would replace a table or a secret).
 */

let stack: SynthesizedStack;
beforeAll(() => {
  stack = synthesized('configured', { validated: true });
}, SYNTH_TIMEOUT);

describe('synthesis checks', () => {
  it.each(Object.keys(CONFIGURATIONS) as Configuration[])(
    'passes cdk-nag and the CloudFormation template rules with the %s stack',
    (configuration) => {
      // Synthesis runs both and throws on a finding (see the next test).
      expect(synthesized(configuration, { validated: true }).functionIds.length).toBeGreaterThan(0);
    },
    SYNTH_TIMEOUT,
  );

  it('fails synthesis on a finding nobody acknowledged', () => {
    const { stack: fresh } = buildApp(appContext({ citrixCustomerId: 'customer-1' }), {
      validateTemplates: false,
    });
    new Secret(fresh, 'SecretWithoutRotation');

    expect(() => Template.fromStack(fresh)).toThrow(
      /CitrixResponse\/SecretWithoutRotation\/[\s\S]*AwsSolutions-SMG4/,
    );
  });
});

it('fails synthesis, naming the context key, on an invalid setting from cdk.json or -c', () => {
  // readConfig's rules are in config.test.ts; this is the app reading the context through it.
  expect(() => buildApp(appContext({ maxConcurrency: 41 }))).toThrow(
    new InvalidContextError('Context "maxConcurrency" must be an integer from 1 to 40, got 41'),
  );
  expect(() => buildApp(appContext({ routesFile: 'config/no-such-routes.json' }))).toThrow(
    /^Context "routesFile" is invalid: Cannot read the routing rules file .*config\/no-such-routes\.json/,
  );
});

it('outputs the API URL, the state machines, the table, the topics, the queues, the dashboard and every secret ARN, never a value', () => {
  const ref = (id: string) => ({ Ref: id });
  const value = (output: string) => stack.outputs[output]?.Value;

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
    'EndpointManagementCredentialsSecretArn',
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
  // One output per workflow and per source, named after it: a new one gets its own.
  for (const workflow of WORKFLOWS) {
    const name = `${pascalCase(workflow.name)}StateMachineArn`;
    expect(value(name), name).toEqual(ref(stack.stateMachine(workflow.name)));
  }
  for (const source of SECRET_SOURCES) {
    const name = `${pascalCase(source)}SecretArn`;
    expect(value(name), name).toEqual(ref(stack.secret(`source:${source}`)));
  }
  expect(value('ActionsTableName')).toEqual(ref(stack.table('actions')));
  expect(value('AdministratorReportTopicArn')).toEqual(
    ref(stack.idOf(stack.stack.administratorReport.topic)),
  );
  expect(value('WebhookSecretArn')).toEqual(ref(stack.secret('webhook')));
  expect(value('CitrixCredentialsSecretArn')).toEqual(ref(stack.secret('citrix')));
  expect(value('CallbackSigningSecretArn')).toEqual(ref(stack.secret('callback')));
  expect(value('ServiceNowApiCredentialsSecretArn')).toEqual(ref(stack.secret('serviceNowApi')));
  expect(value('EndpointManagementCredentialsSecretArn')).toEqual(
    ref(stack.secret('endpointManagement')),
  );
  expect(value('AlarmTopicArn')).toEqual(ref(stack.idOf(stack.stack.operations.topic)));
  expect(value('ReportDeadLetterQueueUrl')).toEqual(
    ref(stack.idOf(stack.stack.administratorReport.deadLetterQueue)),
  );
  expect(value('DashboardName')).toEqual(ref(stack.idOf(stack.stack.operations.dashboard)));
  expect(JSON.stringify(value('ApiUrl'))).toContain('execute-api');
});

it('carries no deployment-blocking rule when the customer id is set', () => {
  expect(Object.keys(stack.rules)).not.toContain('CitrixCustomerIdIsSet');
});

it('keeps the logical ids of the stateful resources and the workflows, so a deployed stack is updated in place', () => {
  const ids = (type: string) => stack.idsOf(type).sort();

  expect(ids('AWS::DynamoDB::Table')).toEqual([
    'ActionsTable402DF2D7',
    'AdministratorReportSnapshotsTable28114CF0',
    'AuditTableB07F8EEB',
    'LimitsTable7D6B5FA5',
    'SourceEndpointsDeliveriesTable715C0CAB',
    'SourceEndpointsIdempotencyTableE697C576',
  ]);
  expect(ids('AWS::SecretsManager::Secret')).toEqual([
    'CallbackSigningSecret6FDD4BD9',
    'CitrixApiCredentialsBDA49569',
    'EndpointManagementCredentialsE1A040C2',
    'ServiceNowApiCredentials354A66DD',
    'SourceEndpointsPagerdutySecretB8EA289A',
    'SourceEndpointsSentinelSecret66834338',
    'SourceEndpointsServicenowSecret0190F3F6',
    'SourceEndpointsSplunkSecret12BCD876',
    'WebhookSigningSecretDD964680',
  ]);
  expect(ids('AWS::StepFunctions::StateMachine')).toEqual([
    'AdminActionStateMachine6C6D4729',
    'DeviceActionStateMachine4968CAB6',
    'RunbookStateMachine5988CB51',
    'SessionActionStateMachine6546A078',
  ]);
  expect(ids('AWS::SNS::Topic')).toEqual([
    'AdministratorReportTopic47B92B88',
    'OperationsAlarmTopic909EF7A3',
  ]);
  expect(ids('AWS::ApiGateway::RestApi')).toEqual(['ActionsApiRestApiECFEF5C1']);
});
