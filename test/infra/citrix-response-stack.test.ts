import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReportRequestSchema } from '../../functions/report-administrators.ts';
import { buildApp } from '../../infra/build-app.ts';
import {
  type CitrixResponseStack,
  SERVICENOW_INSTANCE_URL_PLACEHOLDER,
} from '../../infra/citrix-response-stack.ts';
import { InvalidContextError } from '../../infra/config.ts';
import { ACTION_TYPES, type WorkflowName } from '../../lib/actions/schema.ts';
import { administratorChangeLeaseKey } from '../../lib/administrators/change-lock.ts';
import { AUDIT_TABLE_KEYS } from '../../lib/audit/audit-log.ts';
import { ServiceNowApiSecretSchema } from '../../lib/callbacks/servicenow.ts';
import { parseCallbackDestinations } from '../../lib/callbacks/signed-callback.ts';
import {
  DEFAULT_GUARDRAIL_SETTINGS,
  GUARDRAIL_VARIABLES,
  type GuardrailSettings,
  guardrailsFromEnv,
} from '../../lib/guardrails/config.ts';
import { LIMITS_TABLE_PARTITION_KEY } from '../../lib/guardrails/limits.ts';
import {
  administratorGuardsFromEnv,
  administratorReportSettingsFromEnv,
  InvalidSettingsError,
  idempotencyWindowSecondsFromEnv,
} from '../../lib/runtime/settings.ts';
import { SOURCE_SECRET_SCHEMAS } from '../../lib/sources/secrets.ts';
import { SOURCES, type SourceName } from '../../lib/sources/types.ts';
import {
  ADMIN_ACTION_WORKFLOW,
  DEVICE_ACTION_WORKFLOW,
  readDefinition,
  SESSION_ACTION_WORKFLOW,
  WORKFLOWS,
  type WorkflowDefinition,
  type WorkflowFunction,
} from '../../lib/workflow/definition.ts';

// Synthesized templates are plain JSON; these types name only what the assertions read.
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, Json>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}
interface Statement {
  readonly Condition?: Json;
  readonly Action: string | string[];
  readonly Effect: string;
  readonly Resource: Json;
}

const FEATURE_FLAGS = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'))
  .context as Record<string, unknown>;

/**
 * Every task function once: a task used by several workflows (request-approval, complete-action,
 * notify-action-outcome) is one Lambda.
 */
const TASKS: readonly WorkflowFunction[] = [
  ...new Map(
    WORKFLOWS.flatMap((workflow) => workflow.functions).map((task) => [task.name, task]),
  ).values(),
];

/** The cdk.json context plus `context`, with bundling skipped (no esbuild run). */
function appContext(context: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...FEATURE_FLAGS, 'aws:cdk:bundling-stacks': [], ...context };
}

/** Synthesizes like `cdk synth`; throws if cdk-nag reports an unacknowledged finding. */
function synth(context: Record<string, unknown> = {}): StackTemplate {
  const { stack } = buildApp(appContext(context));
  return new StackTemplate(Template.fromStack(stack), stack);
}

/** The stack's secrets by role; several share a generated key (signingSecret, password). */
type SecretRole =
  | 'webhook'
  | 'citrix'
  | 'callback'
  | 'serviceNowApi'
  | 'endpointManagement'
  | `source:${SourceName}`;

class StackTemplate {
  readonly json: { Resources: Record<string, Resource>; [key: string]: Json | object };
  readonly #stack: CitrixResponseStack;

  constructor(template: Template, stack: CitrixResponseStack) {
    this.json = template.toJSON() as StackTemplate['json'];
    this.#stack = stack;
  }

  ofType(type: string): [string, Resource][] {
    return Object.entries(this.json.Resources).filter(([, resource]) => resource.Type === type);
  }

  resource(logicalId: string): Resource {
    const resource = this.json.Resources[logicalId];
    if (resource === undefined) throw new Error(`No resource ${logicalId}`);
    return resource;
  }

  onlyOfType(type: string): [string, Resource] {
    const found = this.ofType(type);
    expect(found).toHaveLength(1);
    return found[0] as [string, Resource];
  }

  /** Lambda functions by their description (each names its entry). */
  functionByDescription(pattern: RegExp): [string, Resource] {
    const found = this.ofType('AWS::Lambda::Function').filter(([, fn]) =>
      pattern.test(String(fn.Properties.Description)),
    );
    expect(found, String(pattern)).toHaveLength(1);
    return found[0] as [string, Resource];
  }

  taskFunction(name: string): [string, Resource] {
    return this.functionByDescription(new RegExp(`task: ${name}$`));
  }

  apiFunction(): [string, Resource] {
    return this.functionByDescription(/^Actions API/);
  }

  /** The function behind `POST /v1/webhooks/...`, found through its construct. */
  sourceFunction(): [string, Resource] {
    const [id] = this.functionByDescription(/^Source endpoints/);
    expect(id).toBe(this.logicalIdOf(this.#stack.sourceEndpoints.handler));
    return [id, this.resource(id)];
  }

  idempotencyTable(): [string, Resource] {
    return this.resourceOf(this.#stack.sourceEndpoints.idempotencyTable, 'AWS::DynamoDB::Table');
  }

  deliveriesTable(): [string, Resource] {
    return this.resourceOf(this.#stack.sourceEndpoints.deliveriesTable, 'AWS::DynamoDB::Table');
  }

  restApi(): [string, Resource] {
    return this.resourceOf(this.#stack.api.restApi, 'AWS::ApiGateway::RestApi');
  }

  /** `/v1/actions/{actionId}` for an API Gateway resource, from its chain of parents. */
  pathOf(resourceId: Json): string {
    const ref = (resourceId as { Ref?: string }).Ref;
    if (ref === undefined) return '';
    const resource = this.resource(ref);
    expect(resource.Type).toBe('AWS::ApiGateway::Resource');
    return `${this.pathOf(resource.Properties.ParentId as Json)}/${String(resource.Properties.PathPart)}`;
  }

  /** Every API method as `POST /v1/actions`, with the function its proxy integration invokes. */
  routes(): Record<string, { readonly functionId: string; readonly method: Resource }> {
    return Object.fromEntries(
      this.ofType('AWS::ApiGateway::Method').map(([, method]) => {
        const integration = method.Properties.Integration as { Type: string; Uri: Json };
        expect(integration.Type).toBe('AWS_PROXY');
        const targets = valuesOfKey(integration.Uri, 'Fn::GetAtt') as [string, string][];
        expect(targets).toHaveLength(1);
        const route = `${String(method.Properties.HttpMethod)} ${this.pathOf(method.Properties.ResourceId as Json)}`;
        return [route, { functionId: (targets[0] as [string, string])[0], method }];
      }),
    );
  }

  /** A secret's logical id by what it is for; fails if the stack has no such secret. */
  secret(role: SecretRole): string {
    const stack = this.#stack;
    const construct = role.startsWith('source:')
      ? stack.sourceEndpoints.secrets[role.slice('source:'.length) as SourceName]
      : {
          webhook: stack.webhookSecret,
          citrix: stack.citrixCredentials,
          callback: stack.callbackSigningSecret,
          serviceNowApi: stack.serviceNowApiCredentials,
          endpointManagement: stack.endpointManagementCredentials,
        }[role as Exclude<SecretRole, `source:${string}`>];
    if (construct === undefined) throw new Error(`The stack has no ${role} secret`);
    return this.resourceOf(construct, 'AWS::SecretsManager::Secret')[0];
  }

  /** The logical id CloudFormation knows a construct's main resource by. */
  logicalIdOf(construct: IConstruct): string {
    return this.#stack.getLogicalId(construct.node.defaultChild as CfnElement);
  }

  /** A construct's main resource, checked to be of `type`. */
  resourceOf(construct: IConstruct, type: string): [string, Resource] {
    const logicalId = this.logicalIdOf(construct);
    const resource = this.resource(logicalId);
    expect(resource.Type, logicalId).toBe(type);
    return [logicalId, resource];
  }

  actionsTable(): [string, Resource] {
    return this.resourceOf(this.#stack.actionsTable, 'AWS::DynamoDB::Table');
  }

  auditTable(): [string, Resource] {
    return this.resourceOf(this.#stack.auditTable, 'AWS::DynamoDB::Table');
  }

  limitsTable(): [string, Resource] {
    return this.resourceOf(this.#stack.limitsTable, 'AWS::DynamoDB::Table');
  }

  /** The task functions that resolve targets and so apply the guardrails. */
  resolverIds(): string[] {
    return TASKS.filter((task) => task.appliesGuardrails).map(
      (task) => this.taskFunction(task.name)[0],
    );
  }

  /** The scheduled administrator report's resources, found through its construct. */
  report(): {
    readonly fn: [string, Resource];
    readonly table: [string, Resource];
    readonly topic: [string, Resource];
    readonly rule: [string, Resource];
  } {
    const report = this.#stack.administratorReport;
    return {
      fn: this.resourceOf(report.handler, 'AWS::Lambda::Function'),
      table: this.resourceOf(report.snapshotsTable, 'AWS::DynamoDB::Table'),
      topic: this.resourceOf(report.topic, 'AWS::SNS::Topic'),
      rule: this.resourceOf(report.rule, 'AWS::Events::Rule'),
    };
  }

  environment(fn: Resource): Record<string, Json> {
    return ((fn.Properties.Environment as { Variables: Record<string, Json> }).Variables ??
      {}) as Record<string, Json>;
  }

  /** The literal (non-reference) variables, as the function's code reads `process.env`. */
  literalEnvironment(fn: Resource): Record<string, string> {
    return Object.fromEntries(
      Object.entries(this.environment(fn)).filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string',
      ),
    );
  }

  /** The CITRIX_* variables of a function: its whole Citrix configuration. */
  citrixEnvironment(fn: Resource): Record<string, Json> {
    return Object.fromEntries(
      Object.entries(this.environment(fn)).filter(([name]) => name.startsWith('CITRIX_')),
    );
  }

  /** The logical id of the role a function or state machine runs as. */
  roleIdOf(resource: Resource): string {
    const roleArn = (resource.Properties.Role ?? resource.Properties.RoleArn) as {
      'Fn::GetAtt': [string, string];
    };
    return roleArn['Fn::GetAtt'][0];
  }

  /** The inline policies attached to the role a function or state machine runs as. */
  policiesOf(resource: Resource): [string, Resource][] {
    const roleId = this.roleIdOf(resource);
    return this.ofType('AWS::IAM::Policy').filter(([, policy]) =>
      (policy.Properties.Roles as Json[]).some(
        (role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId }),
      ),
    );
  }

  /** Inline policy statements of the role a function or state machine runs as. */
  statementsOf(resource: Resource): Statement[] {
    return this.policiesOf(resource).flatMap(
      ([, policy]) =>
        (policy.Properties.PolicyDocument as unknown as { Statement: Statement[] }).Statement,
    );
  }

  /** The state machine of a workflow, found through the construct that defines it. */
  stateMachine(workflow: WorkflowName): [string, Resource] {
    const constructs = {
      'session-action': this.#stack.sessionWorkflow,
      'device-action': this.#stack.deviceWorkflow,
      'admin-action': this.#stack.adminWorkflow,
    } satisfies Record<WorkflowName, unknown>;
    return this.resourceOf(constructs[workflow].stateMachine, 'AWS::StepFunctions::StateMachine');
  }

  secretIds(generateStringKey: string): string[] {
    return this.ofType('AWS::SecretsManager::Secret')
      .filter(
        ([, secret]) =>
          (secret.Properties.GenerateSecretString as { GenerateStringKey: string })
            .GenerateStringKey === generateStringKey,
      )
      .map(([id]) => id);
  }

  secretId(generateStringKey: string): string {
    const found = this.secretIds(generateStringKey);
    expect(found, generateStringKey).toHaveLength(1);
    return found[0] as string;
  }
}

function actions(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

function resources(statement: Statement): Json[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

function statementsAllowing(statements: Statement[], action: string): Statement[] {
  return statements.filter(
    (statement) => statement.Effect === 'Allow' && actions(statement).includes(action),
  );
}

/** Statements naming any action of a service, e.g. `secretsmanager`. */
function statementsFor(statements: Statement[], service: string): Statement[] {
  return statements.filter((statement) =>
    actions(statement).some((action) => action.startsWith(`${service}:`)),
  );
}

/** Statements as comparable values: actions and resources sorted, statements in a stable order. */
function shapes(statements: Statement[]): Json[] {
  return statements
    .map((statement) => ({
      Effect: statement.Effect,
      Action: [...actions(statement)].sort(),
      Resource: [...resources(statement)].sort(byJson),
      ...(statement.Condition === undefined ? {} : { Condition: statement.Condition }),
    }))
    .sort(byJson);
}

/**
 * Allowed statements as `action on resource` pairs, sorted: comparable however CDK merges
 * statements (with minimizePolicies one statement may carry several grants). A grant limited to
 * some items by partition key (`dynamodb:LeadingKeys`) ends with ` (keys a, b)`. Fails on a Deny
 * or any other condition, which the pairs could not express.
 */
function grants(statements: Statement[]): string[] {
  return statements
    .flatMap((statement) => {
      expect(statement.Effect).toBe('Allow');
      const keys = leadingKeysOf(statement.Condition);
      const items = keys === undefined ? '' : ` (keys ${keys.join(', ')})`;
      return actions(statement).flatMap((action) =>
        resources(statement).map((resource) => `${action} on ${JSON.stringify(resource)}${items}`),
      );
    })
    .sort();
}

function leadingKeysOf(condition: unknown): string[] | undefined {
  if (condition === undefined) return undefined;
  const keys = (condition as Record<string, Record<string, unknown>>)[
    'ForAllValues:StringEquals'
  ]?.['dynamodb:LeadingKeys'];
  expect(condition).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': keys } });
  return Array.isArray(keys) ? keys.map(String) : [String(keys)];
}

/** The pairs `grants` gives for statements written as `{ Action, Resource, Keys? }` lists. */
function expectedGrants(
  statements: { Action: string[]; Resource: Json[]; Keys?: readonly string[] }[],
): string[] {
  return statements
    .flatMap(({ Action, Resource, Keys }) =>
      Action.flatMap((action) =>
        Resource.map(
          (resource) =>
            `${action} on ${JSON.stringify(resource)}${Keys === undefined ? '' : ` (keys ${Keys.join(', ')})`}`,
        ),
      ),
    )
    .sort();
}

/** Every function traces: the X-Ray actions support no resource-level permission. */
const XRAY_STATEMENT = {
  Effect: 'Allow',
  Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
  Resource: ['*'],
};

const arnOf = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });
const refTo = (logicalId: string) => ({ Ref: logicalId });
const byJson = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));

/** An `Fn::Join` of strings and pseudo parameters as one string: `arn:<AWS::Partition>:...`. */
function joined(value: Json | undefined): string {
  const join = (value as { 'Fn::Join'?: [string, Json[]] } | undefined)?.['Fn::Join'];
  if (join === undefined) throw new Error(`Not an Fn::Join: ${JSON.stringify(value)}`);
  return join[1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = (part as { Ref?: string }).Ref;
      if (ref === undefined || !ref.startsWith('AWS::')) {
        throw new Error(`Unexpected part ${JSON.stringify(part)}`);
      }
      return `<${ref}>`;
    })
    .join(join[0]);
}

/** Every value of `key` anywhere in `node`. */
function valuesOfKey(node: unknown, key: string): unknown[] {
  if (Array.isArray(node)) return node.flatMap((child) => valuesOfKey(child, key));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([name, child]) => [
    ...(name === key ? [child] : []),
    ...valuesOfKey(child, key),
  ]);
}

/** How a definition names a task function: `${Name}`, filled by definitionSubstitutions. */
const placeholder = (substitution: string) => `\${${substitution}}`;

/** The integration of the approval task: invoke a Lambda, then wait for its task token. */
const WAIT_FOR_TASK_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/**
 * A copy of a definition without what the deployment sets: every MaxConcurrency, and the
 * TimeoutSeconds of every waitForTaskToken task (the approval window).
 */
function withoutDeploymentOptions(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutDeploymentOptions);
  if (node === null || typeof node !== 'object') return node;
  const record = node as Record<string, unknown>;
  const waits = record.Type === 'Task' && record.Resource === WAIT_FOR_TASK_TOKEN;
  return Object.fromEntries(
    Object.entries(record)
      .filter(([key]) => key !== 'MaxConcurrency' && !(waits && key === 'TimeoutSeconds'))
      .map(([key, child]) => [key, withoutDeploymentOptions(child)]),
  );
}

/**
 * The task function a Task state invokes: the placeholder in its Resource, or for a
 * waitForTaskToken task the one in Parameters.FunctionName. Fails on any other Resource.
 */
function invokedTask(
  workflow: WorkflowDefinition,
  state: Record<string, unknown>,
): WorkflowFunction {
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

type States = Record<string, Record<string, unknown>>;

/** The names of the states run from `start` on, following Next until the end. */
function pathFrom(states: States, start: string): string[] {
  const path = [start];
  for (let next = states[start]?.Next; typeof next === 'string'; next = states[next]?.Next) {
    expect(path, `loop at ${next}`).not.toContain(next);
    path.push(next);
  }
  return path;
}

/** Every state name a state may go to: Next, Default, and each Choice and Catch target. */
function transitionsOf(state: Record<string, unknown>): string[] {
  return [
    state.Next,
    state.Default,
    ...valuesOfKey(state.Choices ?? [], 'Next'),
    ...valuesOfKey(state.Catch ?? [], 'Next'),
  ].filter((name): name is string => typeof name === 'string');
}

/** Every state of `type` anywhere in a definition, Map iterations included. */
function statesOfType(node: unknown, type: string): Record<string, unknown>[] {
  if (Array.isArray(node)) return node.flatMap((child) => statesOfType(child, type));
  if (node === null || typeof node !== 'object') return [];
  const record = node as Record<string, unknown>;
  return [
    ...(record.Type === type ? [record] : []),
    ...Object.values(record).flatMap((child) => statesOfType(child, type)),
  ];
}

/** The Citrix settings a deployment was synthesized with, as the functions should receive them. */
interface Deployment {
  readonly apiUrl: string;
  readonly customerId: string;
  readonly siteId?: string;
  readonly emUrl?: string;
  readonly emAuth: 'cloud' | 'credentials';
  readonly emBodyShape: 'object' | 'id-array';
  /** CITRIX_API_CLIENT_OWNER; without it the administrator functions refuse to run. */
  readonly apiClientOwner?: string;
  /** CITRIX_PROTECTED_ADMINS, comma-joined as the functions read it. */
  readonly protectedAdmins?: string;
  /** Whether `callbackDestinations` has entries (the callback secret is then read). */
  readonly callbacks?: boolean;
}

/**
 * The CITRIX_* variables and the secrets a task function must get, and nothing beyond them:
 * DaaS functions the Citrix Cloud client and site; Endpoint Management functions their server and
 * either the Citrix Cloud client (cloud login, no site) or the administrator secret alone;
 * Citrix Cloud administrator functions the Citrix Cloud client (no site) and the guards; the
 * notification function no Citrix access at all: the ServiceNow API secret (which holds the
 * instance URL), and the callback secret only with destinations.
 */
function expectedCitrixAccess(
  stack: StackTemplate,
  task: WorkflowFunction,
  deployment: Deployment,
): { environment: Record<string, Json>; secrets: Json[] } {
  const citrixCloud = refTo(stack.secretId('clientSecret'));
  const cloudClient = {
    CITRIX_CREDENTIALS_SECRET_ARN: citrixCloud,
    CITRIX_API_URL: deployment.apiUrl,
    CITRIX_CUSTOMER_ID: deployment.customerId,
  };
  switch (task.calls) {
    case 'nothing':
      return { environment: {}, secrets: [] };
    case 'daas':
      return {
        environment: {
          ...cloudClient,
          ...(deployment.siteId === undefined ? {} : { CITRIX_SITE_ID: deployment.siteId }),
        },
        secrets: [citrixCloud],
      };
    case 'endpoint-management': {
      const server = {
        ...(deployment.emUrl === undefined ? {} : { CITRIX_EM_URL: deployment.emUrl }),
        CITRIX_EM_AUTH: deployment.emAuth,
        CITRIX_EM_BODY_SHAPE: deployment.emBodyShape,
      };
      if (deployment.emAuth === 'cloud') {
        return { environment: { ...server, ...cloudClient }, secrets: [citrixCloud] };
      }
      const administrator = refTo(stack.secretId('CITRIX_EM_PASSWORD'));
      return {
        environment: { ...server, CITRIX_EM_CREDENTIALS_SECRET_ARN: administrator },
        secrets: [administrator],
      };
    }
    case 'cloud-administrators':
      return {
        environment: {
          ...cloudClient,
          ...(deployment.apiClientOwner === undefined
            ? {}
            : { CITRIX_API_CLIENT_OWNER: deployment.apiClientOwner }),
          ...(deployment.protectedAdmins === undefined
            ? {}
            : { CITRIX_PROTECTED_ADMINS: deployment.protectedAdmins }),
        },
        secrets: [citrixCloud],
      };
    case 'notifications':
      return {
        environment: {},
        secrets: [
          ...(deployment.callbacks ? [refTo(stack.secret('callback'))] : []),
          refTo(stack.secret('serviceNowApi')),
        ],
      };
  }
}

function expectCitrixAccessByCalls(stack: StackTemplate, deployment: Deployment): void {
  for (const task of TASKS) {
    const [, fn] = stack.taskFunction(task.name);
    const expected = expectedCitrixAccess(stack, task, deployment);
    const secretStatements = statementsFor(stack.statementsOf(fn), 'secretsmanager');

    expect(stack.citrixEnvironment(fn), task.name).toEqual(expected.environment);
    // Read-only, and only on the secrets the function's login needs.
    expect(secretStatements.flatMap(resources).sort(byJson), task.name).toEqual(
      [...expected.secrets].sort(byJson),
    );
    for (const action of secretStatements.flatMap(actions)) {
      expect(
        ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        task.name,
      ).toContain(action);
    }
    if (expected.secrets.length > 0) {
      expect(
        statementsAllowing(secretStatements, 'secretsmanager:GetSecretValue')
          .flatMap(resources)
          .sort(byJson),
        task.name,
      ).toEqual([...expected.secrets].sort(byJson));
    }
  }
}

/** No secret value anywhere: secrets are generated by CloudFormation, functions get ARNs. */
function expectNoSecretValues(stack: StackTemplate): void {
  expect(valuesOfKey(stack.json, 'SecretString')).toEqual([]);
  for (const [id, fn] of stack.ofType('AWS::Lambda::Function')) {
    for (const [name, value] of Object.entries(stack.environment(fn))) {
      expect(name, id).not.toMatch(/SECRET$|PASSWORD|USERNAME|TOKEN|CLIENT_ID/);
      if (name.endsWith('_SECRET_ARN')) {
        expect(value, `${id} ${name}`).toEqual({ Ref: expect.any(String) });
        expect(stack.resource((value as { Ref: string }).Ref).Type).toBe(
          'AWS::SecretsManager::Secret',
        );
      }
    }
  }
}

const STATE_MACHINES: readonly { readonly id: string; readonly workflow: WorkflowDefinition }[] = [
  { id: 'SessionAction', workflow: SESSION_ACTION_WORKFLOW },
  { id: 'DeviceAction', workflow: DEVICE_ACTION_WORKFLOW },
  { id: 'AdminAction', workflow: ADMIN_ACTION_WORKFLOW },
];

const ADMIN_TASK_NAMES = ['apply-admin-change', 'read-admin-back', 'resolve-admin-targets'];

/**
 * What the scheduled report needs and nothing more: the Citrix Cloud client (no site, no guards:
 * it only reads), its snapshots table and topic, and the pending-invitation threshold.
 */
function expectReportEnvironment(
  stack: StackTemplate,
  deployment: Deployment,
  pendingDays: string,
): void {
  const { fn, table, topic } = stack.report();
  const environment = stack.environment(fn[1]);

  expect(stack.citrixEnvironment(fn[1])).toEqual({
    CITRIX_CREDENTIALS_SECRET_ARN: refTo(stack.secretId('clientSecret')),
    CITRIX_API_URL: deployment.apiUrl,
    CITRIX_CUSTOMER_ID: deployment.customerId,
  });
  expect(environment).toEqual({
    NODE_OPTIONS: '--enable-source-maps',
    POWERTOOLS_SERVICE_NAME: 'citrix-response',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    ...stack.citrixEnvironment(fn[1]),
    SNAPSHOTS_TABLE_NAME: refTo(table[0]),
    ADMIN_REPORT_PENDING_DAYS: pendingDays,
    REPORT_TOPIC_ARN: refTo(topic[0]),
  });
  // The function reads the threshold exactly as the stack wrote it.
  expect(
    administratorReportSettingsFromEnv(stack.literalEnvironment(fn[1])).pendingInvitationMaxDays,
  ).toBe(Number(pendingDays));
}

describe('CitrixResponse stack with a deployable configuration', () => {
  const CUSTOMER_ID = 'customer-marker-4711';
  const SITE_ID = 'site-marker-0815';
  const MAX_CONCURRENCY = 7;
  const DEPLOYMENT: Deployment = {
    apiUrl: 'https://api-eu.cloud.com',
    customerId: CUSTOMER_ID,
    siteId: SITE_ID,
    emUrl: 'https://mdm.example.com:4443/xenmobile/api/v1',
    emAuth: 'cloud',
    emBodyShape: 'id-array',
    apiClientOwner: 'api.owner@example.com',
    protectedAdmins: 'break.glass@example.com,OID:/citrix/42',
  };
  const REPORT_SCHEDULE = 'cron(0 6 * * ? *)';
  let stack: StackTemplate;

  beforeAll(() => {
    stack = synth({
      citrixCustomerId: CUSTOMER_ID,
      citrixSiteId: SITE_ID,
      citrixApiUrl: 'https://api-eu.cloud.com/',
      citrixEmUrl: 'https://mdm.example.com:4443/xenmobile/api/v1/',
      citrixEmBodyShape: 'id-array',
      citrixApiClientOwner: ' api.owner@example.com ',
      // As an operator may type it: spaces around entries, a trailing comma.
      protectedAdministrators: ' break.glass@example.com , OID:/citrix/42,',
      adminReportSchedule: REPORT_SCHEDULE,
      adminReportPendingDays: '30',
      maxConcurrency: MAX_CONCURRENCY,
      logRetentionDays: '30',
      idempotencyWindowSeconds: '3600',
    });
  });

  it('has exactly the three workflow state machines', () => {
    const ids = stack.ofType('AWS::StepFunctions::StateMachine').map(([id]) => id);
    const workflows = WORKFLOWS.map((workflow) => stack.stateMachine(workflow.name)[0]);

    expect(WORKFLOWS.map((workflow) => workflow.name)).toEqual([
      'session-action',
      'device-action',
      'admin-action',
    ]);
    expect(new Set(workflows).size).toBe(3);
    expect(ids.sort()).toEqual(workflows.sort());
  });

  describe.each(STATE_MACHINES)('$id state machine', ({ workflow }) => {
    const definitionOf = (stateMachine: Resource) =>
      JSON.parse(String(stateMachine.Properties.DefinitionString));

    it('uses its definition file, with MaxConcurrency from the context on every Map', () => {
      const [, stateMachine] = stack.stateMachine(workflow.name);
      const expected = JSON.parse(
        readDefinition(workflow, { maxConcurrency: MAX_CONCURRENCY, approvalTimeoutSeconds: 3600 }),
      );
      const actual = definitionOf(stateMachine);
      const maps = statesOfType(actual, 'Map');

      expect(actual).toEqual(expected);
      expect(maps.length).toBeGreaterThan(0);
      expect(maps.map((map) => map.MaxConcurrency)).toEqual(maps.map(() => MAX_CONCURRENCY));
      expect(valuesOfKey(actual, 'MaxConcurrency')).toEqual(maps.map(() => MAX_CONCURRENCY));
      // Checked against the file itself too, not only through readDefinition.
      const file = new URL(`../../state-machines/${workflow.name}.asl.json`, import.meta.url);
      expect(workflow.file.href).toBe(file.href);
      expect(withoutDeploymentOptions(actual)).toEqual(
        withoutDeploymentOptions(JSON.parse(readFileSync(file, 'utf8'))),
      );
    });

    it('invokes from every Task state only its own task functions, by placeholder', () => {
      const [, stateMachine] = stack.stateMachine(workflow.name);
      const tasks = statesOfType(definitionOf(stateMachine), 'Task');
      const invoked = new Set(tasks.map((state) => invokedTask(workflow, state).name));

      // Every declared function is used, and no Task names an ARN or a service of its own.
      expect([...invoked].sort()).toEqual(workflow.functions.map((task) => task.name).sort());
      for (const state of tasks) {
        expect([
          WAIT_FOR_TASK_TOKEN,
          placeholder(invokedTask(workflow, state).substitution),
        ]).toContain(state.Resource);
      }
      // The one waitForTaskToken task invokes request-approval and hands it the token.
      const waits = tasks.filter((state) => state.Resource === WAIT_FOR_TASK_TOKEN);
      expect(waits.map((state) => invokedTask(workflow, state).name)).toEqual(['request-approval']);
      expect(waits[0]?.Parameters).toMatchObject({
        Payload: { 'actionId.$': '$.actionId', 'taskToken.$': '$$.Task.Token' },
      });
    });

    it('substitutes every placeholder with the ARN of the task function of that name', () => {
      const [, stateMachine] = stack.stateMachine(workflow.name);
      const definition = String(stateMachine.Properties.DefinitionString);
      const placeholders = new Set(
        [...definition.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((match) => match[1]),
      );
      const substitutions = stateMachine.Properties.DefinitionSubstitutions as Record<string, Json>;

      expect(Object.keys(substitutions).sort()).toEqual([...placeholders].sort());
      expect(Object.keys(substitutions).sort()).toEqual(
        workflow.functions.map((task) => task.substitution).sort(),
      );
      for (const task of workflow.functions) {
        const [functionId] = stack.taskFunction(task.name);
        expect(substitutions[task.substitution], task.substitution).toEqual(arnOf(functionId));
      }
    });

    it('is a traced STANDARD workflow logging ALL events without execution data', () => {
      const [, stateMachine] = stack.stateMachine(workflow.name);
      const logging = stateMachine.Properties.LoggingConfiguration as {
        Level: string;
        IncludeExecutionData: boolean;
        Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [string] } } }[];
      };
      const logGroupId =
        logging.Destinations[0]?.CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];

      expect(stateMachine.Properties.StateMachineType).toBe('STANDARD');
      expect(stateMachine.Properties.TracingConfiguration).toEqual({ Enabled: true });
      expect(logging.Level).toBe('ALL');
      expect(logging.IncludeExecutionData).toBe(false);
      expect(stack.resource(String(logGroupId)).Properties.RetentionInDays).toBe(30);
    });

    it('may invoke exactly its own task functions, and nothing else in Lambda', () => {
      const [, stateMachine] = stack.stateMachine(workflow.name);
      const statements = stack.statementsOf(stateMachine);
      const invokable = statementsAllowing(statements, 'lambda:InvokeFunction').flatMap(resources);
      const ownTasks = workflow.functions.map((task) => arnOf(stack.taskFunction(task.name)[0]));

      expect([...invokable].sort(byJson)).toEqual([...ownTasks].sort(byJson));
      expect(invokable).toContainEqual(arnOf(stack.taskFunction('complete-action')[0]));
      expect(invokable).not.toContainEqual(arnOf(stack.apiFunction()[0]));
      expect(invokable).not.toContainEqual(arnOf(stack.report().fn[0]));
      const othersTasks = TASKS.filter(
        (task) => !workflow.functions.some((own) => own.name === task.name),
      );
      expect(othersTasks.length).toBeGreaterThan(0);
      for (const task of othersTasks) {
        expect(invokable, task.name).not.toContainEqual(arnOf(stack.taskFunction(task.name)[0]));
      }
      expect(statements.flatMap(actions).filter((action) => action.startsWith('lambda:'))).toEqual([
        'lambda:InvokeFunction',
      ]);
    });

    it('reads no secret, no table and starts no other state machine', () => {
      const [, stateMachine] = stack.stateMachine(workflow.name);
      const statements = stack.statementsOf(stateMachine);

      expect(
        statements
          .flatMap(actions)
          .filter((action) => /^(secretsmanager|dynamodb|states|kms|sns):/.test(action)),
      ).toEqual([]);
    });

    // A state timeout below the function's would abandon a task that may still finish its write.
    it("never times a Task state out before its function's own timeout", () => {
      const [, stateMachine] = stack.stateMachine(workflow.name);
      const tasks = statesOfType(definitionOf(stateMachine), 'Task');

      expect(tasks.length).toBeGreaterThan(0);
      for (const state of tasks) {
        const task = invokedTask(workflow, state);
        const [, fn] = stack.taskFunction(task.name);
        // Strictly above: a state that gives up as the function ends could abandon its write.
        expect(state.TimeoutSeconds, task.name).toBeGreaterThan(Number(fn.Properties.Timeout));
        if (state.Resource === WAIT_FOR_TASK_TOKEN) {
          // Here the timeout is the approval window (the default hour), not a Lambda's.
          expect(state.TimeoutSeconds, task.name).toBe(3600);
          expect(state, task.name).not.toHaveProperty('HeartbeatSeconds');
        }
      }
    });

    it('holds an action needing approval before acting, and ends a rejected or expired one completed and notified', () => {
      const [, stateMachine] = stack.stateMachine(workflow.name);
      const states = definitionOf(stateMachine).States as States;
      const needsApproval = states.NeedsApproval as { Choices: Json[]; Default: string };
      const requestApproval = states.RequestApproval as {
        Catch: { ErrorEquals: string[]; ResultPath: string; Next: string }[];
        Next: string;
      };

      // A dry run plans and reserves nothing, so it is never held.
      expect(states.ResolveTargets?.Next).toBe('IsDryRun');
      expect(states.IsDryRun).toMatchObject({
        Type: 'Choice',
        Choices: [{ Variable: '$.dryRun', BooleanEquals: true, Next: 'CompleteAction' }],
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
      expect(requestApproval.Next).toBe(needsApproval.Default);
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
      });
      // In this order: States.ALL must come last.
      expect(requestApproval.Catch).toEqual([
        { ErrorEquals: ['ActionRejectedError'], ResultPath: '$.error', Next: 'RecordRejection' },
        { ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'RecordExpiry' },
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'HoldFailed' },
      ]);
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
      const [, stateMachine] = stack.stateMachine(workflow.name);
      const states = definitionOf(stateMachine).States as States;
      const notifyTask = workflow.functions.find((task) => task.name === 'notify-action-outcome');
      const notifyArn = `\${${String(notifyTask?.substitution)}}`;
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
        const notify = states[name] as {
          Parameters: Json;
          ResultPath: string;
          Next: string;
          Catch: { ErrorEquals: string[]; ResultPath: string; Next: string }[];
        };
        // Only the action id goes in: the function reads the outcome from the record.
        expect(notify.Parameters, name).toEqual({ 'actionId.$': '$.actionId' });
        expect(notify.ResultPath, name).toBe('$.notification');
        // Best effort: a failed notification leads where a delivered one does.
        expect(notify.Catch, name).toEqual([
          { ErrorEquals: ['States.ALL'], ResultPath: '$.notificationError', Next: notify.Next },
        ]);
      }
    });
  });

  it('warns the sessions and waits the grace period before acting, and never acts on a protected session', () => {
    const definition = JSON.parse(
      String(stack.stateMachine('session-action')[1].Properties.DefinitionString),
    );
    const states = definition.States as States;
    const map = states.ActOnEachTarget as { ItemProcessor: { StartAt: string; States: States } };

    // After the approval, or straight on when none is needed.
    expect(states.NeedsApproval?.Default).toBe('HasWarning');
    expect(states.RequestApproval?.Next).toBe('HasWarning');
    expect(states.HasWarning).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.warning', IsNull: true, Next: 'ActOnEachTarget' }],
      Default: 'WarnSessions',
    });
    expect(states.WarnSessions).toMatchObject({
      Type: 'Task',
      Resource: placeholder('WarnSessionsFunctionArn'),
      Next: 'WaitGracePeriod',
      // A failed warning task is recorded and never blocks the containment.
      Catch: [
        {
          ErrorEquals: ['States.ALL'],
          ResultPath: '$.warningError',
          Next: 'RecordWarningFailure',
        },
      ],
    });
    // The same task, told the warning failed, records it; then the grace period is still waited.
    expect(states.RecordWarningFailure).toMatchObject({
      Type: 'Task',
      Resource: placeholder('WarnSessionsFunctionArn'),
      Parameters: {
        'actionId.$': '$.actionId',
        'warning.$': '$.warning',
        'targets.$': '$.resolution.targets',
        'failure.$': '$.warningError',
      },
      Next: 'WaitGracePeriod',
      Catch: [
        {
          ErrorEquals: ['States.ALL'],
          ResultPath: '$.warningRecordError',
          Next: 'WaitGracePeriod',
        },
      ],
    });
    // Its result lands where a sent warning's would, leaving the targets the Map reads.
    expect(states.RecordWarningFailure?.ResultPath).toBe(states.WarnSessions?.ResultPath);
    expect(states.WaitGracePeriod).toMatchObject({
      Type: 'Wait',
      SecondsPath: '$.warning.graceSeconds',
      Next: 'ActOnEachTarget',
    });
    expect(map.ItemProcessor.StartAt).toBe('IsActionable');
    // Fails closed, as the device workflow does: only a session marked actionable is acted on.
    expect(map.ItemProcessor.States.IsActionable).toEqual({
      Type: 'Choice',
      Comment: expect.any(String),
      Choices: [
        {
          And: [
            { Variable: '$.target.actionable', IsPresent: true },
            { Variable: '$.target.actionable', BooleanEquals: true },
          ],
          Next: 'SubmitAction',
        },
      ],
      Default: 'RecordTargetResult',
    });
  });

  it('sends a device command only to a device the guardrails marked actionable', () => {
    const definition = JSON.parse(
      String(stack.stateMachine('device-action')[1].Properties.DefinitionString),
    );
    const map = (definition.States as States).ActOnEachDevice as {
      ItemProcessor: { StartAt: string; States: States };
    };

    expect(map.ItemProcessor.StartAt).toBe('IsManaged');
    expect(map.ItemProcessor.States.IsManaged).toEqual({
      Type: 'Choice',
      Comment: expect.any(String),
      Choices: [{ Variable: '$.target.actionable', BooleanEquals: true, Next: 'SendCommand' }],
      Default: 'RecordDeviceResult',
    });
  });

  it('gives each state machine its own log group', () => {
    const logGroups = STATE_MACHINES.map(({ workflow }) => {
      const [, stateMachine] = stack.stateMachine(workflow.name);
      return JSON.stringify(stateMachine.Properties.LoggingConfiguration);
    });

    expect(new Set(logGroups).size).toBe(STATE_MACHINES.length);
  });

  describe('functions', () => {
    it('has one function per task name (16; request-approval, complete-action and notify-action-outcome shared), the API, the report and the source endpoints', () => {
      const functions = stack.ofType('AWS::Lambda::Function');
      const taskNames = functions
        .map(([, fn]) => /^workflow task: (.+)$/.exec(String(fn.Properties.Description))?.[1])
        .filter((name) => name !== undefined);
      const others = functions
        .filter(([, fn]) => !/^workflow task: /.test(String(fn.Properties.Description)))
        .map(([id]) => id);

      expect(functions).toHaveLength(19);
      expect(TASKS).toHaveLength(16);
      expect(taskNames.sort()).toEqual(TASKS.map((task) => task.name).sort());
      expect(others.sort()).toEqual(
        [stack.apiFunction()[0], stack.report().fn[0], stack.sourceFunction()[0]].sort(),
      );
    });

    it('shares a task only where every workflow using it declares it identically', () => {
      const users = new Map<string, { workflow: string; task: WorkflowFunction }[]>();
      for (const workflow of WORKFLOWS) {
        for (const task of workflow.functions) {
          users.set(task.name, [
            ...(users.get(task.name) ?? []),
            { workflow: workflow.name, task },
          ]);
        }
      }
      const shared = [...users].filter(([, declarations]) => declarations.length > 1);

      expect(
        shared.map(([name, declarations]) => [name, declarations.map((d) => d.workflow)]),
      ).toEqual([
        ['request-approval', ['session-action', 'device-action', 'admin-action']],
        ['complete-action', ['session-action', 'device-action', 'admin-action']],
        ['notify-action-outcome', ['session-action', 'device-action', 'admin-action']],
      ]);
      for (const [name, declarations] of shared) {
        for (const { task } of declarations) expect(task, name).toEqual(declarations[0]?.task);
      }
    });

    it('runs every function on Node.js 24, arm64, traced, with its own log group', () => {
      const logGroups = new Set<string>();
      for (const [id, fn] of stack.ofType('AWS::Lambda::Function')) {
        const logGroup = fn.Properties.LoggingConfig as { LogGroup: { Ref: string } };
        logGroups.add(logGroup.LogGroup.Ref);
        expect(fn.Properties.Runtime, id).toBe('nodejs24.x');
        expect(fn.Properties.Architectures, id).toEqual(['arm64']);
        expect(fn.Properties.TracingConfig, id).toEqual({ Mode: 'Active' });
        expect(fn.Properties.MemorySize, id).toBe(512);
        expect(stack.resource(logGroup.LogGroup.Ref).Type, id).toBe('AWS::Logs::LogGroup');
        expect(stack.resource(logGroup.LogGroup.Ref).Properties.RetentionInDays, id).toBe(30);
        expect(stack.environment(fn), id).toMatchObject({
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: 'citrix-response',
          POWERTOOLS_LOG_LEVEL: 'INFO',
        });
      }
      expect(logGroups.size).toBe(19);
    });

    it('gives task functions 60 s (resolve-device-targets 240 s, notify-action-outcome and warn-sessions 120 s), the API and source endpoints 15 s, the report 600 s', () => {
      const longer: Record<string, number> = {
        'resolve-device-targets': 240,
        'notify-action-outcome': 120,
        'warn-sessions': 120,
      };
      for (const task of TASKS) {
        expect(stack.taskFunction(task.name)[1].Properties.Timeout, task.name).toBe(
          longer[task.name] ?? 60,
        );
        expect(task.timeoutSeconds ?? 60, task.name).toBe(longer[task.name] ?? 60);
      }
      expect(stack.apiFunction()[1].Properties.Timeout).toBe(15);
      expect(stack.sourceFunction()[1].Properties.Timeout).toBe(15);
      expect(stack.report().fn[1].Properties.Timeout).toBe(600);
    });

    it('gives each task function the Citrix settings and secret its calls need, and no more', () => {
      expectCitrixAccessByCalls(stack, DEPLOYMENT);
    });

    it('logs Endpoint Management in through Citrix Cloud without the DaaS site', () => {
      const citrixCloud = refTo(stack.secretId('clientSecret'));
      for (const name of ['resolve-device-targets', 'send-device-command', 'read-device-back']) {
        const [, fn] = stack.taskFunction(name);
        expect(stack.environment(fn), name).toMatchObject({
          CITRIX_EM_URL: 'https://mdm.example.com:4443/xenmobile/api/v1',
          CITRIX_EM_AUTH: 'cloud',
          CITRIX_EM_BODY_SHAPE: 'id-array',
          CITRIX_CREDENTIALS_SECRET_ARN: citrixCloud,
        });
        expect(stack.environment(fn), name).not.toHaveProperty('CITRIX_SITE_ID');
        expect(stack.environment(fn), name).not.toHaveProperty('CITRIX_EM_CREDENTIALS_SECRET_ARN');
      }
    });

    it('gives the administrator functions the Citrix Cloud client and the guards, without the site', () => {
      const adminTasks = TASKS.filter((task) => task.calls === 'cloud-administrators');

      expect(adminTasks.map((task) => task.name).sort()).toEqual(ADMIN_TASK_NAMES);
      for (const name of ADMIN_TASK_NAMES) {
        const [, fn] = stack.taskFunction(name);
        expect(stack.citrixEnvironment(fn), name).toEqual({
          CITRIX_CREDENTIALS_SECRET_ARN: refTo(stack.secretId('clientSecret')),
          CITRIX_API_URL: 'https://api-eu.cloud.com',
          CITRIX_CUSTOMER_ID: CUSTOMER_ID,
          CITRIX_API_CLIENT_OWNER: 'api.owner@example.com',
          CITRIX_PROTECTED_ADMINS: 'break.glass@example.com,OID:/citrix/42',
        });
        // The functions read the guards back exactly as the context named them.
        expect(administratorGuardsFromEnv(stack.literalEnvironment(fn)), name).toEqual({
          apiClientOwner: 'api.owner@example.com',
          protected: ['break.glass@example.com', 'OID:/citrix/42'],
        });
      }
    });

    it('gives no function outside the administrator workflow the guards', () => {
      for (const [id, fn] of stack.ofType('AWS::Lambda::Function')) {
        const name = /^workflow task: (.+)$/.exec(String(fn.Properties.Description))?.[1];
        if (name !== undefined && ADMIN_TASK_NAMES.includes(name)) continue;
        expect(stack.environment(fn), id).not.toHaveProperty('CITRIX_API_CLIENT_OWNER');
        expect(stack.environment(fn), id).not.toHaveProperty('CITRIX_PROTECTED_ADMINS');
      }
    });

    it('gives the functions that call nothing no Citrix variable and no secret', () => {
      const idle = TASKS.filter((task) => task.calls === 'nothing').map((task) => task.name);

      expect(idle.sort()).toEqual([
        'complete-action',
        'record-admin-result',
        'record-device-result',
        'record-target-result',
        'request-approval',
      ]);
      for (const name of idle) {
        const [, fn] = stack.taskFunction(name);
        expect(Object.keys(stack.citrixEnvironment(fn)), name).toEqual([]);
        expect(statementsFor(stack.statementsOf(fn), 'secretsmanager'), name).toEqual([]);
      }
    });

    it('lets only the functions that record actions, the API and the source endpoints get, put and update records', () => {
      const [tableId] = stack.actionsTable();
      const touchesActionsTable = (statement: Statement) =>
        resources(statement).some((resource) => byJson(resource, arnOf(tableId)) === 0);
      const recorders = new Set([
        ...TASKS.filter((task) => task.recordsActions).map(
          (task) => stack.taskFunction(task.name)[0],
        ),
        stack.apiFunction()[0],
        stack.sourceFunction()[0],
      ]);

      expect(TASKS.filter((task) => task.recordsActions).map((task) => task.name)).toEqual([
        'resolve-session-targets',
        'warn-sessions',
        'record-target-result',
        'request-approval',
        'complete-action',
        'notify-action-outcome',
        'resolve-device-targets',
        'record-device-result',
        'resolve-admin-targets',
        'record-admin-result',
      ]);
      for (const [id, fn] of stack.ofType('AWS::Lambda::Function')) {
        const onTable = stack.statementsOf(fn).filter(touchesActionsTable);
        if (recorders.has(id)) {
          // Single items only: no Query, Scan, BatchWrite or DeleteItem on the records.
          expect(onTable.flatMap(actions).sort(), id).toEqual([
            'dynamodb:GetItem',
            'dynamodb:PutItem',
            'dynamodb:UpdateItem',
          ]);
          expect(onTable.flatMap(resources), id).toEqual([arnOf(tableId)]);
          expect(stack.environment(fn).ACTIONS_TABLE_NAME, id).toEqual(refTo(tableId));
        } else {
          expect(onTable, id).toEqual([]);
          expect(stack.environment(fn), id).not.toHaveProperty('ACTIONS_TABLE_NAME');
        }
      }
    });

    it('gives each task function exactly its tables: the records if it records actions, audit appends, the limits if it resolves targets', () => {
      const records = arnOf(stack.actionsTable()[0]);
      const audit = arnOf(stack.auditTable()[0]);
      const limits = arnOf(stack.limitsTable()[0]);

      for (const task of TASKS) {
        const [, fn] = stack.taskFunction(task.name);
        const dynamo = statementsFor(stack.statementsOf(fn), 'dynamodb');
        expect(grants(dynamo), task.name).toEqual(
          expectedGrants([
            ...(task.recordsActions
              ? [
                  {
                    Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
                    Resource: [records],
                  },
                ]
              : []),
            // Appends only: no Query, Scan, update or delete of the trail.
            { Action: ['dynamodb:BatchWriteItem'], Resource: [audit] },
            ...(task.appliesGuardrails
              ? [{ Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: [limits] }]
              : []),
            // Gives back a rejected or expired action's reservation: the counters' items only.
            ...(task.releasesLimitReservations
              ? [
                  {
                    Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
                    Resource: [limits],
                    Keys: ACTION_TYPES,
                  },
                ]
              : []),
            // Takes and gives back the administrator change lease: its own item only.
            ...(task.serializesAdministratorChanges
              ? [
                  {
                    Action: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
                    Resource: [limits],
                    Keys: [administratorChangeLeaseKey(CUSTOMER_ID)],
                  },
                ]
              : []),
          ]),
        );
        expect(stack.environment(fn).AUDIT_TABLE_NAME, task.name).toEqual(
          refTo(stack.auditTable()[0]),
        );
      }
    });

    it('lets every function but the report append to the audit trail, and only the API read it', () => {
      const [auditId] = stack.auditTable();
      const writers = [
        ...TASKS.map((task) => stack.taskFunction(task.name)[0]),
        stack.apiFunction()[0],
        stack.sourceFunction()[0],
      ];
      const onAudit = (fn: Resource) =>
        grants(stack.statementsOf(fn)).filter((grant) =>
          grant.endsWith(` on ${JSON.stringify(arnOf(auditId))}`),
        );

      for (const [id, fn] of stack.ofType('AWS::Lambda::Function')) {
        const expected =
          id === stack.apiFunction()[0]
            ? ['dynamodb:BatchWriteItem', 'dynamodb:Query']
            : writers.includes(id)
              ? ['dynamodb:BatchWriteItem']
              : [];
        expect(onAudit(fn), id).toEqual(
          expected.map((action) => `${action} on ${JSON.stringify(arnOf(auditId))}`),
        );
        if (expected.length > 0) {
          expect(stack.environment(fn).AUDIT_TABLE_NAME, id).toEqual(refTo(auditId));
        } else {
          expect(stack.environment(fn), id).not.toHaveProperty('AUDIT_TABLE_NAME');
        }
      }
      // Not the audit table's ARN in any other form (an index, a wildcard) either.
      for (const [id, policy] of stack.ofType('AWS::IAM::Policy')) {
        for (const resource of valuesOfKey(policy.Properties.PolicyDocument, 'Resource')) {
          for (const value of Array.isArray(resource) ? resource : [resource]) {
            if (!JSON.stringify(value).includes(`"${auditId}"`)) continue;
            expect(value, id).toEqual(arnOf(auditId));
          }
        }
      }
    });

    it('lets only the three resolve functions get and put the limit counters, and complete-action give them back', () => {
      const [limitsId] = stack.limitsTable();
      const resolvers = stack.resolverIds();
      const [releaser] = stack.taskFunction('complete-action');
      const [leaseHolder] = stack.taskFunction('apply-admin-change');

      expect(
        TASKS.filter((task) => task.releasesLimitReservations).map((task) => task.name),
      ).toEqual(['complete-action']);
      expect(
        TASKS.filter((task) => task.serializesAdministratorChanges).map((task) => task.name),
      ).toEqual(['apply-admin-change']);
      expect(TASKS.filter((task) => task.appliesGuardrails).map((task) => task.name)).toEqual([
        'resolve-session-targets',
        'resolve-device-targets',
        'resolve-admin-targets',
      ]);
      for (const [id, policy] of stack.ofType('AWS::IAM::Policy')) {
        const document = JSON.stringify(policy.Properties.PolicyDocument);
        const owner = stack
          .ofType('AWS::Lambda::Function')
          .find(([, fn]) => stack.policiesOf(fn).some(([policyId]) => policyId === id))?.[0];
        if (
          owner !== undefined &&
          (resolvers.includes(owner) || owner === releaser || owner === leaseHolder)
        ) {
          continue;
        }
        expect(document, id).not.toContain(`"${limitsId}"`);
      }
      for (const [id, fn] of stack.ofType('AWS::Lambda::Function')) {
        const limitGrants = grants(stack.statementsOf(fn)).filter((grant) =>
          grant.includes(`"${limitsId}"`),
        );
        if (resolvers.includes(id)) {
          expect(limitGrants, id).toEqual(
            ['dynamodb:GetItem', 'dynamodb:PutItem'].map(
              (action) => `${action} on ${JSON.stringify(arnOf(limitsId))}`,
            ),
          );
          expect(stack.environment(fn).LIMITS_TABLE_NAME, id).toEqual(refTo(limitsId));
        } else if (id === releaser) {
          // Only the counters' items (one per action type), never another item of the table.
          expect(limitGrants, id).toEqual(
            ['dynamodb:GetItem', 'dynamodb:PutItem'].map(
              (action) =>
                `${action} on ${JSON.stringify(arnOf(limitsId))} (keys ${ACTION_TYPES.join(', ')})`,
            ),
          );
          expect(stack.environment(fn).LIMITS_TABLE_NAME, id).toEqual(refTo(limitsId));
        } else if (id === leaseHolder) {
          // The administrator change lease's item alone: no counter can be read or written.
          expect(limitGrants, id).toEqual(
            ['dynamodb:DeleteItem', 'dynamodb:PutItem'].map(
              (action) =>
                `${action} on ${JSON.stringify(arnOf(limitsId))} (keys lease:administrator-changes:${CUSTOMER_ID})`,
            ),
          );
          expect(stack.environment(fn).LIMITS_TABLE_NAME, id).toEqual(refTo(limitsId));
        } else {
          expect(limitGrants, id).toEqual([]);
          expect(stack.environment(fn), id).not.toHaveProperty('LIMITS_TABLE_NAME');
        }
      }
    });

    it('gives no function a guardrail variable while none is configured: the resolvers enforce the defaults', () => {
      for (const [id, fn] of stack.ofType('AWS::Lambda::Function')) {
        for (const variable of GUARDRAIL_VARIABLES) {
          expect(stack.environment(fn), id).not.toHaveProperty(variable);
        }
      }
      for (const id of stack.resolverIds()) {
        expect(guardrailsFromEnv(stack.literalEnvironment(stack.resource(id))), id).toEqual(
          DEFAULT_GUARDRAIL_SETTINGS,
        );
      }
    });

    it('lets the API function start and resume exactly the three state machines, read only the webhook secret, use the idempotency table and the audit trail', () => {
      const [, fn] = stack.apiFunction();
      const statements = stack.statementsOf(fn);
      const webhookSecret = refTo(stack.secret('webhook'));
      const session = refTo(stack.stateMachine('session-action')[0]);
      const device = refTo(stack.stateMachine('device-action')[0]);
      const admin = refTo(stack.stateMachine('admin-action')[0]);
      const [idempotencyId] = stack.idempotencyTable();

      expect(stack.environment(fn)).toEqual({
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'citrix-response',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ACTIONS_TABLE_NAME: refTo(stack.actionsTable()[0]),
        SESSION_ACTION_STATE_MACHINE_ARN: session,
        DEVICE_ACTION_STATE_MACHINE_ARN: device,
        ADMIN_ACTION_STATE_MACHINE_ARN: admin,
        AUDIT_TABLE_NAME: refTo(stack.auditTable()[0]),
        WEBHOOK_SECRET_ARN: webhookSecret,
        IDEMPOTENCY_TABLE_NAME: refTo(idempotencyId),
        IDEMPOTENCY_WINDOW_SECONDS: '3600',
      });
      // The function reads the window exactly as the context gave it.
      expect(idempotencyWindowSecondsFromEnv(stack.literalEnvironment(fn))).toBe(3600);
      expect(Object.keys(stack.citrixEnvironment(fn))).toEqual([]);
      expect(grants(statements)).toEqual(
        expectedGrants([
          { Action: XRAY_STATEMENT.Action, Resource: XRAY_STATEMENT.Resource },
          {
            Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
            Resource: [arnOf(stack.actionsTable()[0])],
          },
          {
            Action: [
              'dynamodb:DeleteItem',
              'dynamodb:GetItem',
              'dynamodb:PutItem',
              'dynamodb:UpdateItem',
            ],
            Resource: [arnOf(idempotencyId)],
          },
          // Approve and reject: the timeline is read, each decision appended.
          {
            Action: ['dynamodb:BatchWriteItem', 'dynamodb:Query'],
            Resource: [arnOf(stack.auditTable()[0])],
          },
          // Start an action; resume the workflow waiting on its approval.
          {
            Action: [
              'states:SendTaskFailure',
              'states:SendTaskHeartbeat',
              'states:SendTaskSuccess',
              'states:StartExecution',
            ],
            Resource: [session, device, admin],
          },
          {
            Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
            Resource: [webhookSecret],
          },
        ]),
      );
    });

    it('lets no function but the API send a task token response, and no state machine either', () => {
      const responders = [
        ...stack.ofType('AWS::Lambda::Function'),
        ...stack.ofType('AWS::StepFunctions::StateMachine'),
      ]
        .filter(([, resource]) =>
          stack
            .statementsOf(resource)
            .flatMap(actions)
            .some((action) => /^states:(SendTask|\*)/.test(action)),
        )
        .map(([id]) => id);

      expect(responders).toEqual([stack.apiFunction()[0]]);
    });

    it('lets no function but the API and the source endpoints start an execution', () => {
      const starters = stack
        .ofType('AWS::Lambda::Function')
        .filter(([, fn]) => statementsFor(stack.statementsOf(fn), 'states').length > 0)
        .map(([id]) => id);

      expect(starters.sort()).toEqual([stack.apiFunction()[0], stack.sourceFunction()[0]].sort());
    });

    it('gives notify-action-outcome its record and audit access and the ServiceNow API secret when no callback is configured', () => {
      const [, fn] = stack.taskFunction('notify-action-outcome');

      expect(stack.environment(fn)).toEqual({
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'citrix-response',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ACTIONS_TABLE_NAME: refTo(stack.actionsTable()[0]),
        AUDIT_TABLE_NAME: refTo(stack.auditTable()[0]),
        // The instance URL is in the secret, never a variable.
        SERVICENOW_API_SECRET_ARN: refTo(stack.secret('serviceNowApi')),
      });
      expect(shapes(stack.statementsOf(fn))).toEqual(
        [
          XRAY_STATEMENT,
          {
            Effect: 'Allow',
            Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
            Resource: [arnOf(stack.actionsTable()[0])],
          },
          {
            Effect: 'Allow',
            Action: ['dynamodb:BatchWriteItem'],
            Resource: [arnOf(stack.auditTable()[0])],
          },
          {
            Effect: 'Allow',
            Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
            Resource: [refTo(stack.secret('serviceNowApi'))],
          },
        ].sort(byJson),
      );
    });
  });

  describe('administrator report', () => {
    it('keeps snapshots by kind and takenAt with PITR, TTL, AWS-managed encryption and retention', () => {
      const { table } = stack.report();
      const [, resource] = table;

      expect(
        stack
          .ofType('AWS::DynamoDB::Table')
          .map(([id]) => id)
          .sort(),
      ).toEqual(
        [
          stack.actionsTable()[0],
          table[0],
          stack.idempotencyTable()[0],
          stack.deliveriesTable()[0],
          stack.auditTable()[0],
          stack.limitsTable()[0],
        ].sort(),
      );
      // toEqual, not toMatchObject: no stream, no index, no customer managed key.
      expect(resource.Properties).toEqual({
        KeySchema: [
          { AttributeName: 'kind', KeyType: 'HASH' },
          { AttributeName: 'takenAt', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'kind', AttributeType: 'S' },
          { AttributeName: 'takenAt', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        SSESpecification: { SSEEnabled: true },
      });
      expect([resource.DeletionPolicy, resource.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    });

    it('publishes to one topic encrypted with the AWS managed SNS key', () => {
      const { topic } = stack.report();
      const [, resource] = stack.onlyOfType('AWS::SNS::Topic');

      expect(stack.onlyOfType('AWS::SNS::Topic')[0]).toBe(topic[0]);
      expect(joined(resource.Properties.KmsMasterKeyId)).toBe(
        'arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:alias/aws/sns',
      );
      // No key of the stack's own, and subscribers are the operator's to add.
      expect(stack.ofType('AWS::KMS::Key')).toEqual([]);
      expect(stack.ofType('AWS::SNS::Subscription')).toEqual([]);
    });

    it('refuses publishing to the topic without TLS, and grants nothing in the topic policy', () => {
      const [topicId] = stack.report().topic;
      const [, policy] = stack.onlyOfType('AWS::SNS::TopicPolicy');
      const document = policy.Properties.PolicyDocument as { Statement: Json[] };

      expect(policy.Properties.Topics).toEqual([refTo(topicId)]);
      expect(document.Statement).toEqual([
        {
          Sid: expect.any(String),
          Effect: 'Deny',
          Principal: '*',
          Action: 'sns:Publish',
          Resource: refTo(topicId),
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ]);
    });

    it('gives the report function the Citrix Cloud client, its table, topic and threshold only', () => {
      expectReportEnvironment(stack, DEPLOYMENT, '30');
      expect(stack.environment(stack.report().fn[1])).not.toHaveProperty('CITRIX_SITE_ID');
    });

    it('lets the report query, put and update snapshots, publish to its topic, read the Citrix secret: no more', () => {
      const { fn, table, topic } = stack.report();
      const statements = stack.statementsOf(fn[1]);
      const shape = (statement: Statement) => ({
        Effect: statement.Effect,
        Action: [...actions(statement)].sort(),
        Resource: resources(statement),
        ...('Condition' in statement ? { Condition: statement.Condition as Json } : {}),
      });

      expect(statements.map(shape).sort(byJson)).toEqual(
        [
          {
            Effect: 'Allow',
            Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
            Resource: ['*'],
          },
          {
            Effect: 'Allow',
            Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
            Resource: [refTo(stack.secretId('clientSecret'))],
          },
          {
            Effect: 'Allow',
            Action: ['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
            Resource: [arnOf(table[0])],
          },
          { Effect: 'Allow', Action: ['sns:Publish'], Resource: [refTo(topic[0])] },
        ].sort(byJson),
      );
      expect(statementsFor(statements, 'kms')).toEqual([]);
      expect(JSON.stringify(statements)).not.toContain(stack.actionsTable()[0]);
      expect(stack.environment(fn[1])).not.toHaveProperty('ACTIONS_TABLE_NAME');
    });

    it('runs with only the basic Lambda execution managed policy', () => {
      const role = stack.resource(stack.roleIdOf(stack.report().fn[1]));

      expect((role.Properties.ManagedPolicyArns as Json[]).map(joined)).toEqual([
        'arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
      ]);
    });

    it('is the only one that may touch the snapshots table or publish to the topic', () => {
      const { fn, table, topic } = stack.report();
      const reportPolicies = new Set(stack.policiesOf(fn[1]).map(([id]) => id));
      const others = stack.ofType('AWS::IAM::Policy').filter(([id]) => !reportPolicies.has(id));

      expect(others.length).toBeGreaterThan(0);
      for (const [id, policy] of others) {
        const document = JSON.stringify(policy.Properties.PolicyDocument);
        expect(document, id).not.toContain(`"${table[0]}"`);
        expect(document, id).not.toContain(`"${topic[0]}"`);
        expect(document, id).not.toContain('sns:');
      }
    });

    it('runs on the schedule from the context, sending the input the function accepts', () => {
      const { fn, rule } = stack.report();
      const [ruleId, resource] = stack.onlyOfType('AWS::Events::Rule');
      const targets = resource.Properties.Targets as {
        Arn: Json;
        Input: string;
        RetryPolicy: Json;
      }[];

      expect(ruleId).toBe(rule[0]);
      expect(resource.Properties.ScheduleExpression).toBe(REPORT_SCHEDULE);
      expect(resource.Properties.State).toBe('ENABLED');
      expect(resource.Properties).not.toHaveProperty('EventPattern');
      expect(targets).toHaveLength(1);
      expect(targets[0]?.Arn).toEqual(arnOf(fn[0]));
      expect(JSON.parse(String(targets[0]?.Input))).toEqual({ source: 'schedule' });
      expect(ReportRequestSchema.parse(JSON.parse(String(targets[0]?.Input)))).toEqual({
        source: 'schedule',
      });
      expect(targets[0]?.RetryPolicy).toEqual({ MaximumRetryAttempts: 2 });
    });

    it('lets EventBridge invoke the report function from that rule only, and nothing else', () => {
      const { fn, rule } = stack.report();
      const fromEvents = stack
        .ofType('AWS::Lambda::Permission')
        .filter(([, permission]) => permission.Properties.Principal === 'events.amazonaws.com')
        .map(([, permission]) => permission.Properties);

      expect(fromEvents).toEqual([
        {
          Action: 'lambda:InvokeFunction',
          FunctionName: arnOf(fn[0]),
          Principal: 'events.amazonaws.com',
          SourceArn: arnOf(rule[0]),
        },
      ]);
    });
  });

  describe('secrets', () => {
    it('generates the webhook, callback and Citrix Cloud secrets in CloudFormation and retains them', () => {
      const webhook = stack.resource(stack.secret('webhook'));
      const callback = stack.resource(stack.secret('callback'));
      const citrix = stack.resource(stack.secret('citrix'));

      for (const signing of [webhook, callback]) {
        expect(signing.Properties.GenerateSecretString).toEqual({
          SecretStringTemplate: '{}',
          GenerateStringKey: 'signingSecret',
          PasswordLength: 64,
          ExcludePunctuation: true,
          IncludeSpace: false,
        });
      }
      // Two secrets, not one: callback receivers never learn the key that signs requests to us.
      expect(stack.secret('webhook')).not.toBe(stack.secret('callback'));
      expect(citrix.Properties.GenerateSecretString).toMatchObject({
        SecretStringTemplate: JSON.stringify({ clientId: 'set-me' }),
        GenerateStringKey: 'clientSecret',
      });
      for (const secret of [webhook, callback, citrix]) {
        expect([secret.DeletionPolicy, secret.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
      }
    });

    it('has eight secrets: webhook, callback, Citrix Cloud, ServiceNow work notes and one per source; none for Endpoint Management', () => {
      expect(
        stack
          .ofType('AWS::SecretsManager::Secret')
          .map(([id]) => id)
          .sort(),
      ).toEqual(
        [
          stack.secret('webhook'),
          stack.secret('callback'),
          stack.secret('citrix'),
          stack.secret('serviceNowApi'),
          ...SOURCES.map((source) => stack.secret(`source:${source}`)),
        ].sort(),
      );
      expect(stack.secretIds('CITRIX_EM_PASSWORD')).toEqual([]);
    });

    it('generates the ServiceNow API secret with a placeholder instance URL the function refuses, and retains it', () => {
      const secret = stack.resource(stack.secret('serviceNowApi'));
      const template = JSON.stringify({
        instanceUrl: SERVICENOW_INSTANCE_URL_PLACEHOLDER,
        username: 'set-me',
      });

      expect(secret.Properties.GenerateSecretString).toEqual({
        SecretStringTemplate: template,
        GenerateStringKey: 'password',
        PasswordLength: 48,
        ExcludePunctuation: true,
        IncludeSpace: false,
      });
      expect([secret.DeletionPolicy, secret.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
      // As generated, the secret sends no work note anywhere: only the instanceUrl is refused.
      const generated = { ...JSON.parse(template), password: 'x'.repeat(48) };
      expect(
        ServiceNowApiSecretSchema.safeParse(generated).error?.issues.map((issue) => issue.path),
      ).toEqual([['instanceUrl']]);
      expect(
        ServiceNowApiSecretSchema.safeParse({
          ...generated,
          instanceUrl: 'https://acme.service-now.com',
        }).success,
      ).toBe(true);
    });

    it('lets no function read the callback secret while no destination is configured', () => {
      const callback = JSON.stringify(refTo(stack.secret('callback')));
      for (const [id, fn] of stack.ofType('AWS::Lambda::Function')) {
        expect(JSON.stringify(stack.statementsOf(fn)), id).not.toContain(callback);
        expect(JSON.stringify(stack.environment(fn)), id).not.toContain(callback);
      }
    });

    it('puts no secret value in the template', () => {
      expectNoSecretValues(stack);
    });
  });

  it('stores action records by actionId with PITR, TTL, encryption and retention', () => {
    const [, table] = stack.actionsTable();

    expect(table.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'actionId', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'actionId', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    expect(table.DeletionPolicy).toBe('Retain');
  });

  it('keeps the audit trail by actionId and sortKey with TTL expiresAt, PITR, AWS-managed encryption and retention', () => {
    const [, table] = stack.auditTable();

    expect(AUDIT_TABLE_KEYS).toEqual({
      partitionKey: 'actionId',
      sortKey: 'sortKey',
      timeToLiveAttribute: 'expiresAt',
    });
    // toEqual, not toMatchObject: no stream, no index, no customer managed key.
    expect(table.Properties).toEqual({
      KeySchema: [
        { AttributeName: 'actionId', KeyType: 'HASH' },
        { AttributeName: 'sortKey', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'actionId', AttributeType: 'S' },
        { AttributeName: 'sortKey', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    expect([table.DeletionPolicy, table.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
  });

  it('keeps the limit counters by counter with PITR, AWS-managed encryption and retention, and no TTL', () => {
    const [, table] = stack.limitsTable();

    expect(LIMITS_TABLE_PARTITION_KEY).toBe('counter');
    // No TTL: a counter item holds the last hour's reservations and is rewritten, never expired.
    expect(table.Properties).toEqual({
      KeySchema: [{ AttributeName: 'counter', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'counter', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    expect([table.DeletionPolicy, table.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
  });

  describe('REST API', () => {
    it('routes the actions and the OpenAPI document to the API function, the webhooks to the source endpoints', () => {
      const api = stack.apiFunction()[0];
      const sources = stack.sourceFunction()[0];
      const routes = stack.routes();

      expect(
        Object.fromEntries(
          Object.entries(routes).map(([route, { functionId }]) => [route, functionId]),
        ),
      ).toEqual({
        'POST /v1/actions': api,
        'GET /v1/actions/{actionId}': api,
        'POST /v1/actions/{actionId}/approve': api,
        'POST /v1/actions/{actionId}/reject': api,
        'GET /v1/openapi.json': api,
        'POST /v1/webhooks/{source}': sources,
        // Splunk can set no header: its secret token is the last path segment.
        'POST /v1/webhooks/splunk/{token}': sources,
      });
      // Every caller authenticates in the function (signature, Basic, token, key or HMAC).
      for (const [route, { method }] of Object.entries(routes)) {
        expect(method.Properties.AuthorizationType, route).toBe('NONE');
      }
      expect(routes['POST /v1/webhooks/{source}']?.method.Properties.RequestParameters).toEqual({
        'method.request.path.source': true,
      });
      expect(
        routes['POST /v1/webhooks/splunk/{token}']?.method.Properties.RequestParameters,
      ).toEqual({ 'method.request.path.token': true });
      for (const route of [
        'POST /v1/actions/{actionId}/approve',
        'POST /v1/actions/{actionId}/reject',
      ]) {
        // A signed decision: the function verifies it; no body model at the edge.
        expect(routes[route]?.method.Properties.RequestParameters, route).toEqual({
          'method.request.path.actionId': true,
        });
        expect(routes[route]?.method.Properties, route).not.toHaveProperty('RequestModels');
      }
    });

    it('serves exactly the operations docs/openapi.json describes', () => {
      const document = JSON.parse(
        readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'),
      ) as { paths: Record<string, Record<string, unknown>> };
      const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
      );
      // One API Gateway resource serves the sources that authenticate by header; Splunk has its own.
      const served = Object.keys(stack.routes()).flatMap((route) =>
        route === 'POST /v1/webhooks/{source}'
          ? SOURCES.filter((source) => source !== 'splunk').map(
              (source) => `POST /v1/webhooks/${source}`,
            )
          : [route],
      );

      expect(documented.sort()).toEqual(served.sort());
    });

    it('checks the action request model on POST /v1/actions only, never on the source payloads', () => {
      const routes = stack.routes();
      const withModel = Object.entries(routes)
        .filter(([, { method }]) => method.Properties.RequestModels !== undefined)
        .map(([route]) => route);

      expect(withModel).toEqual(['POST /v1/actions']);
      for (const route of ['POST /v1/webhooks/{source}', 'POST /v1/webhooks/splunk/{token}']) {
        expect(routes[route]?.method.Properties, route).not.toHaveProperty('RequestValidatorId');
      }
    });

    it('lets API Gateway invoke each function on its own routes only', () => {
      const api = stack.apiFunction()[0];
      const sources = stack.sourceFunction()[0];
      const invocations = stack
        .ofType('AWS::Lambda::Permission')
        .filter(([, permission]) => permission.Properties.Principal === 'apigateway.amazonaws.com')
        .map(([, permission]) => {
          const functionId = (permission.Properties.FunctionName as { 'Fn::GetAtt': [string] })[
            'Fn::GetAtt'
          ][0];
          const parts = (permission.Properties.SourceArn as { 'Fn::Join': [string, Json[]] })[
            'Fn::Join'
          ][1];
          expect(permission.Properties.Action).toBe('lambda:InvokeFunction');
          // The ARN ends with the stage, then /METHOD/path (path parameters as *).
          expect(parts.at(-2)).toEqual(refTo(stack.onlyOfType('AWS::ApiGateway::Stage')[0]));
          return `${functionId} ${String(parts.at(-1))}`;
        });

      expect(invocations.sort()).toEqual(
        [
          `${api} /POST/v1/actions`,
          `${api} /GET/v1/actions/*`,
          `${api} /POST/v1/actions/*/approve`,
          `${api} /POST/v1/actions/*/reject`,
          `${api} /GET/v1/openapi.json`,
          `${sources} /POST/v1/webhooks/*`,
          `${sources} /POST/v1/webhooks/splunk/*`,
        ].sort(),
      );
    });

    it('has no resource policy while no source IP allowlist is configured', () => {
      expect(stack.restApi()[1].Properties).not.toHaveProperty('Policy');
    });

    it('validates the POST body against a model requiring action, target and reason', () => {
      const properties = stack.routes()['POST /v1/actions']?.method.Properties ?? {};
      const modelId = (properties.RequestModels as Record<string, { Ref: string }>)[
        'application/json'
      ]?.Ref;
      const validatorId = (properties.RequestValidatorId as { Ref: string }).Ref;

      expect(stack.resource(String(modelId)).Properties.Schema).toMatchObject({
        type: 'object',
        required: ['action', 'target', 'reason'],
      });
      expect(stack.resource(validatorId).Properties.ValidateRequestBody).toBe(true);
    });

    it('answers a body that fails the model with JSON naming what is wrong', () => {
      const [, response] = stack.onlyOfType('AWS::ApiGateway::GatewayResponse');
      expect(response.Properties.ResponseType).toBe('BAD_REQUEST_BODY');
      expect(response.Properties.StatusCode).toBe('400');
      const template = (response.Properties.ResponseTemplates as Record<string, string>)[
        'application/json'
      ];
      expect(template).toContain('$context.error.validationErrorString');
      // With a sample validation error substituted, the template is valid JSON in the API's shape.
      const sample = template?.replace(
        /\$util\.escapeJavaScript\(\$context\.error\.validationErrorString\)\.replaceAll\("\\\\'","'"\)/,
        String.raw`[object has missing required properties ([\"reason\"])]`,
      );
      expect(JSON.parse(sample ?? '')).toEqual({
        error: {
          code: 'invalid_request',
          message: '[object has missing required properties (["reason"])]',
        },
      });
    });

    it('has a throttled prod stage with error logging and access logs that omit the raw path', () => {
      const [, stage] = stack.onlyOfType('AWS::ApiGateway::Stage');
      const accessLogs = stage.Properties.AccessLogSetting as { Format: string };
      const format = JSON.parse(accessLogs.Format) as Record<string, string>;

      expect(stage.Properties.StageName).toBe('prod');
      expect(stage.Properties.MethodSettings).toEqual([
        expect.objectContaining({
          HttpMethod: '*',
          ResourcePath: '/*',
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
          ThrottlingRateLimit: 20,
          ThrottlingBurstLimit: 40,
        }),
      ]);
      expect(format.resourcePath).toBe('$context.resourcePath');
      expect(Object.values(format)).not.toContain('$context.path');
      expect(accessLogs.Format).not.toMatch(/\$context\.(path|identity\.user|identity\.caller)\b/);
    });

    it('never logs the Splunk token: it is a path parameter, and the access logs hold the route template', () => {
      const [, stage] = stack.onlyOfType('AWS::ApiGateway::Stage');
      const format = (stage.Properties.AccessLogSetting as { Format: string }).Format;
      const splunk = stack.routes()['POST /v1/webhooks/splunk/{token}']?.method;

      // What $context.resourcePath logs for a Splunk delivery is this template, not the URL.
      expect(stack.pathOf(splunk?.Properties.ResourceId as Json)).toBe(
        '/v1/webhooks/splunk/{token}',
      );
      // Nothing else in the format may carry the request line, the path or its parameters.
      expect(format).not.toMatch(
        /\$context\.(path|requestOverride|responseOverride|identity\.user\b|identity\.caller\b)|\$input|\$method\.request/,
      );
      expect(Object.values(JSON.parse(format) as Record<string, string>).sort()).toEqual(
        [
          '$context.identity.sourceIp',
          '$context.requestTime',
          '$context.httpMethod',
          '$context.resourcePath',
          '$context.status',
          '$context.protocol',
          '$context.responseLength',
          '$context.requestId',
        ].sort(),
      );
      // Execution logs carry errors only, never request data.
      expect(stage.Properties.MethodSettings).toEqual([
        expect.objectContaining({ LoggingLevel: 'ERROR', DataTraceEnabled: false }),
      ]);
    });
  });

  describe('source endpoints', () => {
    it('gives the source function its tables, the three state machines, its secrets and the window: nothing else', () => {
      const [, fn] = stack.sourceFunction();
      const environment = stack.environment(fn);

      // No ROUTES_FILE: the function reads the rules bundled next to it (routes.json), the same
      // file readConfig validated at synth.
      expect(environment).toEqual({
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'citrix-response',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ACTIONS_TABLE_NAME: refTo(stack.actionsTable()[0]),
        IDEMPOTENCY_TABLE_NAME: refTo(stack.idempotencyTable()[0]),
        IDEMPOTENCY_WINDOW_SECONDS: '3600',
        DELIVERIES_TABLE_NAME: refTo(stack.deliveriesTable()[0]),
        AUDIT_TABLE_NAME: refTo(stack.auditTable()[0]),
        SESSION_ACTION_STATE_MACHINE_ARN: refTo(stack.stateMachine('session-action')[0]),
        DEVICE_ACTION_STATE_MACHINE_ARN: refTo(stack.stateMachine('device-action')[0]),
        ADMIN_ACTION_STATE_MACHINE_ARN: refTo(stack.stateMachine('admin-action')[0]),
        SERVICENOW_SECRET_ARN: refTo(stack.secret('source:servicenow')),
        SPLUNK_SECRET_ARN: refTo(stack.secret('source:splunk')),
        SENTINEL_SECRET_ARN: refTo(stack.secret('source:sentinel')),
        PAGERDUTY_SECRET_ARN: refTo(stack.secret('source:pagerduty')),
      });
      expect(idempotencyWindowSecondsFromEnv(stack.literalEnvironment(fn))).toBe(3600);
      expect(fn.Properties.Description).toBe(
        'Source endpoints: ServiceNow, Splunk, Sentinel and PagerDuty deliveries',
      );
    });

    it('grants exactly: records get/put/update, idempotency get/put/update/delete, deliveries put, audit appends, start the three workflows, read its four secrets', () => {
      const [, fn] = stack.sourceFunction();

      expect(shapes(stack.statementsOf(fn))).toEqual(
        [
          XRAY_STATEMENT,
          {
            Effect: 'Allow',
            Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
            Resource: [arnOf(stack.actionsTable()[0])],
          },
          {
            Effect: 'Allow',
            Action: [
              'dynamodb:DeleteItem',
              'dynamodb:GetItem',
              'dynamodb:PutItem',
              'dynamodb:UpdateItem',
            ],
            Resource: [arnOf(stack.idempotencyTable()[0])],
          },
          // Deliveries are written once and never read back by the function.
          {
            Effect: 'Allow',
            Action: ['dynamodb:PutItem'],
            Resource: [arnOf(stack.deliveriesTable()[0])],
          },
          {
            Effect: 'Allow',
            Action: ['dynamodb:BatchWriteItem'],
            Resource: [arnOf(stack.auditTable()[0])],
          },
          {
            Effect: 'Allow',
            Action: ['states:StartExecution'],
            Resource: WORKFLOWS.map((workflow) => refTo(stack.stateMachine(workflow.name)[0])).sort(
              byJson,
            ),
          },
          {
            Effect: 'Allow',
            Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
            Resource: SOURCES.map((source) => refTo(stack.secret(`source:${source}`))).sort(byJson),
          },
        ].sort(byJson),
      );
      const role = stack.resource(stack.roleIdOf(fn));
      expect((role.Properties.ManagedPolicyArns as Json[]).map(joined)).toEqual([
        'arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
      ]);
    });

    it.each([
      ['idempotency', 'id', 'expiration'],
      ['deliveries', 'deliveryId', 'expiresAt'],
    ] as const)(
      'keeps the %s table by %s with TTL %s, PITR, AWS-managed encryption and retention',
      (name, key, ttl) => {
        const [, table] =
          name === 'idempotency' ? stack.idempotencyTable() : stack.deliveriesTable();

        // toEqual, not toMatchObject: no sort key, stream, index or customer managed key.
        expect(table.Properties).toEqual({
          KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          TimeToLiveSpecification: { AttributeName: ttl, Enabled: true },
          SSESpecification: { SSEEnabled: true },
        });
        expect([table.DeletionPolicy, table.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
      },
    );

    it.each(SOURCES)(
      'generates and retains the %s secret, with the JSON keys the function reads',
      (source) => {
        const secret = stack.resource(stack.secret(`source:${source}`));
        const generate = secret.Properties.GenerateSecretString as {
          SecretStringTemplate: string;
          GenerateStringKey: string;
          PasswordLength: number;
        };

        expect(generate).toMatchObject({
          PasswordLength: 48,
          ExcludePunctuation: true,
          IncludeSpace: false,
        });
        expect(String(secret.Properties.Description)).toMatch(/^Citrix Response source endpoint: /);
        expect([secret.DeletionPolicy, secret.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
        // What CloudFormation will store: the template plus a generated value under the key.
        const stored = {
          ...(JSON.parse(generate.SecretStringTemplate) as object),
          [generate.GenerateStringKey]: 'G'.repeat(generate.PasswordLength),
        };
        const parsed = SOURCE_SECRET_SCHEMAS[source].safeParse(stored);
        expect(parsed.error?.issues, source).toBeUndefined();
      },
    );

    it('lets no other function read a source secret or write deliveries, and only the API share the idempotency table', () => {
      const [sourceId] = stack.sourceFunction();
      const sourcePolicies = new Set(stack.policiesOf(stack.resource(sourceId)).map(([id]) => id));
      const apiPolicies = new Set(stack.policiesOf(stack.apiFunction()[1]).map(([id]) => id));
      const sourceSecrets = SOURCES.map((source) => `"${stack.secret(`source:${source}`)}"`);
      const documentsOf = (policies: Set<string>) =>
        JSON.stringify([...policies].map((id) => stack.resource(id).Properties.PolicyDocument));

      // The ids are matched as they appear in the documents: the owners' own policies name them.
      for (const secret of sourceSecrets) expect(documentsOf(sourcePolicies)).toContain(secret);
      expect(documentsOf(sourcePolicies)).toContain(`"${stack.deliveriesTable()[0]}"`);
      expect(documentsOf(apiPolicies)).toContain(`"${stack.idempotencyTable()[0]}"`);

      for (const [id, policy] of stack.ofType('AWS::IAM::Policy')) {
        if (sourcePolicies.has(id)) continue;
        const document = JSON.stringify(policy.Properties.PolicyDocument);
        for (const secret of sourceSecrets) expect(document, id).not.toContain(secret);
        expect(document, id).not.toContain(`"${stack.deliveriesTable()[0]}"`);
        if (!apiPolicies.has(id)) {
          expect(document, id).not.toContain(`"${stack.idempotencyTable()[0]}"`);
        }
      }
    });
  });

  it('outputs the API URL, state machines, table, report topic and secret ARNs, never values', () => {
    const outputs = stack.json.Outputs as Record<string, { Value: Json }>;

    expect(Object.keys(outputs).sort()).toEqual([
      'ActionsTableName',
      'AdminActionStateMachineArn',
      'AdministratorReportTopicArn',
      'ApiUrl',
      'CallbackSigningSecretArn',
      'CitrixCredentialsSecretArn',
      'DeviceActionStateMachineArn',
      'PagerdutySecretArn',
      'SentinelSecretArn',
      'ServiceNowApiCredentialsSecretArn',
      'ServicenowSecretArn',
      'SessionActionStateMachineArn',
      'SplunkSecretArn',
      'WebhookSecretArn',
    ]);
    expect(outputs.CallbackSigningSecretArn?.Value).toEqual(refTo(stack.secret('callback')));
    expect(outputs.ServiceNowApiCredentialsSecretArn?.Value).toEqual(
      refTo(stack.secret('serviceNowApi')),
    );
    for (const source of SOURCES) {
      const output = `${source[0]?.toUpperCase()}${source.slice(1)}SecretArn`;
      expect(outputs[output]?.Value, output).toEqual(refTo(stack.secret(`source:${source}`)));
    }
    expect(outputs.SessionActionStateMachineArn?.Value).toEqual(
      refTo(stack.stateMachine('session-action')[0]),
    );
    expect(outputs.DeviceActionStateMachineArn?.Value).toEqual(
      refTo(stack.stateMachine('device-action')[0]),
    );
    expect(outputs.AdminActionStateMachineArn?.Value).toEqual(
      refTo(stack.stateMachine('admin-action')[0]),
    );
    expect(outputs.ActionsTableName?.Value).toEqual(refTo(stack.actionsTable()[0]));
    expect(outputs.AdministratorReportTopicArn?.Value).toEqual(refTo(stack.report().topic[0]));
    expect(outputs.WebhookSecretArn?.Value).toEqual(refTo(stack.secret('webhook')));
    expect(outputs.CitrixCredentialsSecretArn?.Value).toEqual(
      refTo(stack.secretId('clientSecret')),
    );
    expect(JSON.stringify(outputs.ApiUrl?.Value)).toContain('execute-api');
  });

  it('carries no deployment-blocking rule when the customer id is set', () => {
    expect(Object.keys(stack.json.Rules ?? {})).not.toContain('CitrixCustomerIdIsSet');
  });
});

describe('CitrixResponse stack with Endpoint Management administrator credentials', () => {
  const CONTEXT = {
    citrixCustomerId: 'customer-marker-4711',
    citrixSiteId: 'site-marker-0815',
    citrixEmUrl: 'https://mdm.example.com:4443/xenmobile/api/v1',
    citrixEmAuth: 'credentials',
    citrixApiClientOwner: 'OID:/citrix/7',
    protectedAdministrators: 'break.glass@example.com,OID:/citrix/42',
  };
  const DEPLOYMENT: Deployment = {
    apiUrl: 'https://api.cloud.com',
    customerId: CONTEXT.citrixCustomerId,
    siteId: CONTEXT.citrixSiteId,
    emUrl: CONTEXT.citrixEmUrl,
    emAuth: 'credentials',
    emBodyShape: 'object',
    apiClientOwner: 'OID:/citrix/7',
    protectedAdmins: 'break.glass@example.com,OID:/citrix/42',
  };
  let stack: StackTemplate;

  beforeAll(() => {
    stack = synth(CONTEXT);
  });

  it('synthesizes with no unacknowledged cdk-nag finding', () => {
    expect(() => synth(CONTEXT)).not.toThrow();
  });

  it('generates the administrator secret in CloudFormation, with the expected keys, and retains it', () => {
    const secret = stack.resource(stack.secretId('CITRIX_EM_PASSWORD'));

    // Webhook, callback, Citrix Cloud, ServiceNow work notes, four sources, and this one.
    expect(stack.ofType('AWS::SecretsManager::Secret')).toHaveLength(9);
    expect(stack.secret('endpointManagement')).toBe(stack.secretId('CITRIX_EM_PASSWORD'));
    expect(secret.Properties.GenerateSecretString).toEqual({
      SecretStringTemplate: JSON.stringify({ CITRIX_EM_USERNAME: 'set-me' }),
      GenerateStringKey: 'CITRIX_EM_PASSWORD',
      PasswordLength: 64,
      ExcludePunctuation: true,
      IncludeSpace: false,
    });
    expect(secret.DeletionPolicy).toBe('Retain');
    expect(secret.UpdateReplacePolicy).toBe('Retain');
  });

  it('gives each task function the Citrix settings and secret its calls need, and no more', () => {
    expectCitrixAccessByCalls(stack, DEPLOYMENT);
  });

  it('lets the Endpoint Management functions read only the administrator secret', () => {
    const administrator = refTo(stack.secretId('CITRIX_EM_PASSWORD'));
    const emTasks = TASKS.filter((task) => task.calls === 'endpoint-management');

    expect(emTasks.map((task) => task.name).sort()).toEqual([
      'read-device-back',
      'resolve-device-targets',
      'send-device-command',
    ]);
    for (const task of emTasks) {
      const [, fn] = stack.taskFunction(task.name);
      expect(stack.environment(fn).CITRIX_EM_CREDENTIALS_SECRET_ARN, task.name).toEqual(
        administrator,
      );
      expect(stack.environment(fn).CITRIX_EM_AUTH, task.name).toBe('credentials');
      expect(stack.environment(fn), task.name).not.toHaveProperty('CITRIX_CREDENTIALS_SECRET_ARN');
      expect(
        statementsFor(stack.statementsOf(fn), 'secretsmanager').flatMap(resources),
        task.name,
      ).toEqual([administrator]);
    }
  });

  it('still logs the administrator functions and the report in with the Citrix Cloud client', () => {
    const citrixCloud = refTo(stack.secretId('clientSecret'));
    for (const name of ADMIN_TASK_NAMES) {
      const [, fn] = stack.taskFunction(name);
      expect(stack.citrixEnvironment(fn), name).toEqual({
        CITRIX_CREDENTIALS_SECRET_ARN: citrixCloud,
        CITRIX_API_URL: 'https://api.cloud.com',
        CITRIX_CUSTOMER_ID: 'customer-marker-4711',
        CITRIX_API_CLIENT_OWNER: 'OID:/citrix/7',
        CITRIX_PROTECTED_ADMINS: 'break.glass@example.com,OID:/citrix/42',
      });
    }
    expectReportEnvironment(stack, DEPLOYMENT, '14');
    expect(
      statementsFor(stack.statementsOf(stack.report().fn[1]), 'secretsmanager').flatMap(resources),
    ).toEqual([citrixCloud]);
  });

  it('lets no other function read the administrator secret', () => {
    const administrator = refTo(stack.secretId('CITRIX_EM_PASSWORD'));
    const readers = stack
      .ofType('AWS::Lambda::Function')
      .filter(([, fn]) =>
        statementsFor(stack.statementsOf(fn), 'secretsmanager')
          .flatMap(resources)
          .some((resource) => JSON.stringify(resource) === JSON.stringify(administrator)),
      )
      .map(([, fn]) => /task: (.+)$/.exec(String(fn.Properties.Description))?.[1]);

    expect(readers.sort()).toEqual([
      'read-device-back',
      'resolve-device-targets',
      'send-device-command',
    ]);
  });

  it('puts no secret value in the template', () => {
    expectNoSecretValues(stack);
  });

  it('outputs the administrator secret ARN besides the others', () => {
    const outputs = stack.json.Outputs as Record<string, { Value: Json }>;

    expect(Object.keys(outputs).sort()).toEqual([
      'ActionsTableName',
      'AdminActionStateMachineArn',
      'AdministratorReportTopicArn',
      'ApiUrl',
      'CallbackSigningSecretArn',
      'CitrixCredentialsSecretArn',
      'DeviceActionStateMachineArn',
      'EndpointManagementCredentialsSecretArn',
      'PagerdutySecretArn',
      'SentinelSecretArn',
      'ServiceNowApiCredentialsSecretArn',
      'ServicenowSecretArn',
      'SessionActionStateMachineArn',
      'SplunkSecretArn',
      'WebhookSecretArn',
    ]);
    expect(outputs.EndpointManagementCredentialsSecretArn?.Value).toEqual(
      refTo(stack.secretId('CITRIX_EM_PASSWORD')),
    );
  });
});

describe('CitrixResponse stack with callbacks and IP allowlists for sources and the API', () => {
  const DESTINATIONS = {
    soar: 'https://soar.example.com/hooks/citrix',
    ticketing: 'https://hooks.example.org/in?channel=sec',
  };
  const ALLOWLISTS = {
    splunk: ['203.0.113.0/24'],
    sentinel: ['198.51.100.0/24', '2001:db8::/32'],
    api: ['192.0.2.0/28'],
  };
  const CONTEXT = {
    citrixCustomerId: 'customer-marker-4711',
    callbackDestinations: DESTINATIONS,
    // As `-c sourceIpAllowlists=...` passes it: a JSON string.
    sourceIpAllowlists: JSON.stringify(ALLOWLISTS),
  };
  let stack: StackTemplate;

  beforeAll(() => {
    stack = synth(CONTEXT);
  });

  it('synthesizes with no unacknowledged cdk-nag finding', () => {
    expect(() => synth(CONTEXT)).not.toThrow();
  });

  it('gives notify-action-outcome the destinations and the ARNs of its two secrets, and no Citrix access', () => {
    const [, fn] = stack.taskFunction('notify-action-outcome');
    const environment = stack.environment(fn);

    expect(environment).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'citrix-response',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      ACTIONS_TABLE_NAME: refTo(stack.actionsTable()[0]),
      AUDIT_TABLE_NAME: refTo(stack.auditTable()[0]),
      CALLBACK_DESTINATIONS: JSON.stringify(DESTINATIONS),
      CALLBACK_SECRET_ARN: refTo(stack.secret('callback')),
      SERVICENOW_API_SECRET_ARN: refTo(stack.secret('serviceNowApi')),
    });
    expect(Object.keys(stack.citrixEnvironment(fn))).toEqual([]);
    // The function reads the destinations back exactly as configured.
    const destinations = parseCallbackDestinations(String(environment.CALLBACK_DESTINATIONS));
    expect(Object.fromEntries([...destinations].map(([name, url]) => [name, url.href]))).toEqual(
      DESTINATIONS,
    );
  });

  it('lets notify-action-outcome read its two secrets, the records and append to the audit trail: nothing else', () => {
    const [, fn] = stack.taskFunction('notify-action-outcome');

    expect(shapes(stack.statementsOf(fn))).toEqual(
      [
        XRAY_STATEMENT,
        {
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
          Resource: [arnOf(stack.actionsTable()[0])],
        },
        {
          Effect: 'Allow',
          Action: ['dynamodb:BatchWriteItem'],
          Resource: [arnOf(stack.auditTable()[0])],
        },
        {
          Effect: 'Allow',
          Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
          Resource: [refTo(stack.secret('callback')), refTo(stack.secret('serviceNowApi'))].sort(
            byJson,
          ),
        },
      ].sort(byJson),
    );
  });

  it('gives every other task function exactly the Citrix access it had', () => {
    expectCitrixAccessByCalls(stack, {
      apiUrl: 'https://api.cloud.com',
      customerId: 'customer-marker-4711',
      emAuth: 'cloud',
      emBodyShape: 'object',
      callbacks: true,
    });
  });

  it('generates the ServiceNow account secret, retains it, and lets only notify-action-outcome read it or the callback secret', () => {
    const secret = stack.resource(stack.secret('serviceNowApi'));
    const readers = (role: SecretRole) =>
      stack
        .ofType('AWS::Lambda::Function')
        .filter(([, fn]) =>
          statementsFor(stack.statementsOf(fn), 'secretsmanager')
            .flatMap(resources)
            .some((resource) => byJson(resource, refTo(stack.secret(role))) === 0),
        )
        .map(([id]) => id);

    expect(stack.ofType('AWS::SecretsManager::Secret')).toHaveLength(8);
    expect(secret.Properties.GenerateSecretString).toEqual({
      SecretStringTemplate: JSON.stringify({
        instanceUrl: SERVICENOW_INSTANCE_URL_PLACEHOLDER,
        username: 'set-me',
      }),
      GenerateStringKey: 'password',
      PasswordLength: 48,
      ExcludePunctuation: true,
      IncludeSpace: false,
    });
    expect([secret.DeletionPolicy, secret.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    const notify = stack.taskFunction('notify-action-outcome')[0];
    expect(readers('serviceNowApi')).toEqual([notify]);
    expect(readers('callback')).toEqual([notify]);
  });

  it('tells the API function the destinations, so it can refuse an unknown one, without the callback secret', () => {
    const [, fn] = stack.apiFunction();
    const environment = stack.environment(fn);

    // Names only: a destination URL may carry the receiver's token.
    expect(environment.CALLBACK_DESTINATION_NAMES).toBe('soar,ticketing');
    expect(environment).not.toHaveProperty('CALLBACK_DESTINATIONS');
    expect(environment).not.toHaveProperty('CALLBACK_SECRET_ARN');
    expect(environment).not.toHaveProperty('SERVICENOW_API_SECRET_ARN');
    expect(statementsFor(stack.statementsOf(fn), 'secretsmanager').flatMap(resources)).toEqual([
      refTo(stack.secret('webhook')),
    ]);
  });

  it('allows every call but denies POST to an allowlisted source or to the API from any other address', () => {
    expect(stack.restApi()[1].Properties.Policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Action: 'execute-api:Invoke',
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Resource: 'execute-api:/*',
        },
        {
          Action: 'execute-api:Invoke',
          Condition: { NotIpAddress: { 'aws:SourceIp': ['203.0.113.0/24'] } },
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Resource: 'execute-api:/*/POST/v1/webhooks/splunk/*',
        },
        {
          Action: 'execute-api:Invoke',
          Condition: { NotIpAddress: { 'aws:SourceIp': ['198.51.100.0/24', '2001:db8::/32'] } },
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Resource: 'execute-api:/*/POST/v1/webhooks/sentinel',
        },
        {
          Action: 'execute-api:Invoke',
          Condition: { NotIpAddress: { 'aws:SourceIp': ['192.0.2.0/28'] } },
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Resource: [
            'execute-api:/*/POST/v1/actions',
            'execute-api:/*/POST/v1/actions/*/approve',
            'execute-api:/*/POST/v1/actions/*/reject',
          ],
        },
      ],
    });
  });

  it('denies exactly the allowlisted routes: two sources, and starting or deciding an action; reading stays open', () => {
    const statements = (
      stack.restApi()[1].Properties.Policy as unknown as { Statement: Statement[] }
    ).Statement;
    // execute-api resource patterns: `*` matches any characters, `/` included.
    const denied = (method: string, path: string) =>
      statements.some(
        (statement) =>
          statement.Effect === 'Deny' &&
          resources(statement).some((resource) =>
            new RegExp(
              `^${String(resource)
                .split('*')
                .map((part) => part.replace(/[.?+^$()[\]{}|\\]/g, '\\$&'))
                .join('.*')}$`,
            ).test(`execute-api:/prod/${method}/${path}`),
          ),
      );
    // Each route as a request would reach it, with its path parameters filled in.
    const requests: [string, string, boolean][] = [
      ['POST', 'v1/webhooks/splunk/0123456789abcdef0123456789abcdef', true],
      ['POST', 'v1/webhooks/sentinel', true],
      ['POST', 'v1/webhooks/servicenow', false],
      ['POST', 'v1/webhooks/pagerduty', false],
      ['POST', 'v1/actions', true],
      ['GET', 'v1/actions/act_01', false],
      ['POST', 'v1/actions/act_01/approve', true],
      ['POST', 'v1/actions/act_01/reject', true],
      ['GET', 'v1/openapi.json', false],
    ];

    expect(Object.keys(stack.routes()).sort()).toEqual([
      'GET /v1/actions/{actionId}',
      'GET /v1/openapi.json',
      'POST /v1/actions',
      'POST /v1/actions/{actionId}/approve',
      'POST /v1/actions/{actionId}/reject',
      'POST /v1/webhooks/splunk/{token}',
      'POST /v1/webhooks/{source}',
    ]);
    for (const [method, path, expected] of requests) {
      expect(denied(method, path), `${method} /${path}`).toBe(expected);
    }
  });

  it('outputs the ServiceNow account secret ARN besides the others', () => {
    const outputs = stack.json.Outputs as Record<string, { Value: Json }>;

    expect(Object.keys(outputs)).toContain('CallbackSigningSecretArn');
    expect(outputs.ServiceNowApiCredentialsSecretArn?.Value).toEqual(
      refTo(stack.secret('serviceNowApi')),
    );
  });

  it('puts no secret value in the template', () => {
    expectNoSecretValues(stack);
  });
});

describe('CitrixResponse stack with guardrails configured', () => {
  const LIMITS = {
    'device.wipe': { perRequest: 2, perHour: 6, overLimit: 'refuse' },
    'admin.revoke': { perHour: 2 },
  };
  // As an operator may set them: the limits as a cdk.json object, the rest as `-c` strings.
  const CONTEXT = {
    citrixCustomerId: 'customer-marker-4711',
    guardrailLimits: LIMITS,
    approvalRequired: 'device.wipe,session.logoff,admin.revoke:delete',
    approvalTimeoutSeconds: '900',
    protectedUsers: 'ceo@example.com, CORP\\ciso',
    protectedDevices: '8d5f2a71-3c4b-4e8a-9f10-2b3c4d5e6f70,1042',
  };
  const ENVIRONMENT = {
    GUARDRAIL_LIMITS: JSON.stringify(LIMITS),
    APPROVAL_REQUIRED: 'device.wipe,session.logoff,admin.revoke:delete',
    APPROVAL_TIMEOUT_SECONDS: '900',
    PROTECTED_USERS: 'ceo@example.com, CORP\\ciso',
    PROTECTED_DEVICES: '8d5f2a71-3c4b-4e8a-9f10-2b3c4d5e6f70,1042',
  };
  const SETTINGS: GuardrailSettings = {
    limits: {
      ...DEFAULT_GUARDRAIL_SETTINGS.limits,
      'device.wipe': { perRequest: 2, perHour: 6, overLimit: 'refuse' },
      'admin.revoke': { ...DEFAULT_GUARDRAIL_SETTINGS.limits['admin.revoke'], perHour: 2 },
    },
    approvalRequired: ['device.wipe', 'session.logoff', 'admin.revoke:delete'],
    approvalTimeoutSeconds: 900,
    protectedUsers: ['ceo@example.com', 'CORP\\ciso'],
    protectedDevices: ['8d5f2a71-3c4b-4e8a-9f10-2b3c4d5e6f70', '1042'],
  };
  let stack: StackTemplate;

  beforeAll(() => {
    stack = synth(CONTEXT);
  });

  it('synthesizes with no unacknowledged cdk-nag finding', () => {
    expect(() => synth(CONTEXT)).not.toThrow();
  });

  it('gives the three resolve functions exactly the configured guardrail variables, which they read back as configured', () => {
    const resolvers = stack.resolverIds();

    expect(resolvers).toHaveLength(3);
    for (const id of resolvers) {
      const environment = stack.environment(stack.resource(id));
      expect(
        Object.fromEntries(
          Object.entries(environment).filter(([variable]) =>
            (GUARDRAIL_VARIABLES as readonly string[]).includes(variable),
          ),
        ),
        id,
      ).toEqual(ENVIRONMENT);
      expect(guardrailsFromEnv(stack.literalEnvironment(stack.resource(id))), id).toEqual(SETTINGS);
    }
  });

  it('gives no other function a guardrail variable or the limits table', () => {
    const resolvers = stack.resolverIds();
    const others = stack.ofType('AWS::Lambda::Function').filter(([id]) => !resolvers.includes(id));
    // complete-action gives reservations back: the limits table, but no guardrail variable.
    const [releaser] = stack.taskFunction('complete-action');
    // apply-admin-change keeps its lease there, on its own item (tested with the functions).
    const [leaseHolder] = stack.taskFunction('apply-admin-change');

    expect(others).toHaveLength(16);
    for (const [id, fn] of others) {
      for (const variable of GUARDRAIL_VARIABLES) {
        expect(stack.environment(fn), id).not.toHaveProperty(variable);
      }
      if (id === releaser || id === leaseHolder) continue;
      expect(stack.environment(fn), id).not.toHaveProperty('LIMITS_TABLE_NAME');
      expect(JSON.stringify(stack.statementsOf(fn)), id).not.toContain(
        `"${stack.limitsTable()[0]}"`,
      );
    }
  });

  it.each(STATE_MACHINES)(
    'waits 900 s for an approval in the $id state machine, the window the resolvers record',
    ({ workflow }) => {
      const [, stateMachine] = stack.stateMachine(workflow.name);
      const definition = JSON.parse(String(stateMachine.Properties.DefinitionString));
      const waits = statesOfType(definition, 'Task').filter(
        (state) => state.Resource === WAIT_FOR_TASK_TOKEN,
      );
      const [, requestApproval] = stack.taskFunction('request-approval');

      expect(definition).toEqual(
        JSON.parse(readDefinition(workflow, { maxConcurrency: 10, approvalTimeoutSeconds: 900 })),
      );
      expect(waits.map((state) => state.TimeoutSeconds)).toEqual([900]);
      expect(900).toBeGreaterThan(Number(requestApproval.Properties.Timeout));
      // The record's expiry (from the resolver's setting) and the state's timeout agree.
      for (const id of stack.resolverIds()) {
        expect(
          guardrailsFromEnv(stack.literalEnvironment(stack.resource(id))).approvalTimeoutSeconds,
          id,
        ).toBe(900);
      }
    },
  );
});

describe('CitrixResponse stack with the default context', () => {
  let stack: StackTemplate;

  beforeAll(() => {
    stack = synth();
  });

  it('uses the defaults: 10 concurrent targets, 90 days of logs, api.cloud.com, no site id', () => {
    for (const { workflow } of STATE_MACHINES) {
      const [, stateMachine] = stack.stateMachine(workflow.name);
      const definition = JSON.parse(String(stateMachine.Properties.DefinitionString));
      expect(valuesOfKey(definition, 'MaxConcurrency'), workflow.name).toEqual([10]);
    }
    for (const [, logGroup] of stack.ofType('AWS::Logs::LogGroup')) {
      expect(logGroup.Properties.RetentionInDays).toBe(90);
    }
    const [, submit] = stack.taskFunction('submit-session-action');
    expect(stack.environment(submit).CITRIX_API_URL).toBe('https://api.cloud.com');
    expect(stack.environment(submit)).not.toHaveProperty('CITRIX_SITE_ID');
  });

  it('logs Endpoint Management in through Citrix Cloud with object bodies, and has no server URL', () => {
    expectCitrixAccessByCalls(stack, {
      apiUrl: 'https://api.cloud.com',
      customerId: 'set-citrix-customer-id',
      emAuth: 'cloud',
      emBodyShape: 'object',
    });
    const [, send] = stack.taskFunction('send-device-command');
    expect(stack.environment(send)).not.toHaveProperty('CITRIX_EM_URL');
    expect(stack.secretIds('CITRIX_EM_PASSWORD')).toEqual([]);
    expect(Object.keys(stack.json.Outputs as object)).not.toContain(
      'EndpointManagementCredentialsSecretArn',
    );
  });

  it('deploys the administrator functions without the owner or protected list, so they refuse to run', () => {
    for (const name of ADMIN_TASK_NAMES) {
      const [, fn] = stack.taskFunction(name);
      expect(stack.citrixEnvironment(fn), name).toEqual({
        CITRIX_CREDENTIALS_SECRET_ARN: refTo(stack.secretId('clientSecret')),
        CITRIX_API_URL: 'https://api.cloud.com',
        CITRIX_CUSTOMER_ID: 'set-citrix-customer-id',
      });
      // By design: an administrator action without its guards fails, saying what is missing.
      expect(() => administratorGuardsFromEnv(stack.literalEnvironment(fn)), name).toThrow(
        InvalidSettingsError,
      );
      expect(() => administratorGuardsFromEnv(stack.literalEnvironment(fn)), name).toThrow(
        /CITRIX_API_CLIENT_OWNER is not set/,
      );
    }
  });

  it('reports daily, on invitations pending longer than 14 days', () => {
    const { rule } = stack.report();

    expect(rule[1].Properties.ScheduleExpression).toBe('rate(1 day)');
    expectReportEnvironment(
      stack,
      {
        apiUrl: 'https://api.cloud.com',
        customerId: 'set-citrix-customer-id',
        emAuth: 'cloud',
        emBodyShape: 'object',
      },
      '14',
    );
  });

  it('calls back nobody: notify-action-outcome gets no destination, only the ServiceNow API secret (whose placeholder sends nothing)', () => {
    const [, fn] = stack.taskFunction('notify-action-outcome');

    expect(Object.keys(stack.environment(fn)).sort()).toEqual([
      'ACTIONS_TABLE_NAME',
      'AUDIT_TABLE_NAME',
      'NODE_OPTIONS',
      'POWERTOOLS_LOG_LEVEL',
      'POWERTOOLS_SERVICE_NAME',
      'SERVICENOW_API_SECRET_ARN',
    ]);
    expect(statementsFor(stack.statementsOf(fn), 'secretsmanager').flatMap(resources)).toEqual([
      refTo(stack.secret('serviceNowApi')),
    ]);
    expect(Object.keys(stack.json.Outputs as object)).toContain(
      'ServiceNowApiCredentialsSecretArn',
    );
    expect(stack.environment(stack.apiFunction()[1])).not.toHaveProperty('CALLBACK_DESTINATIONS');
  });

  it.each(STATE_MACHINES)(
    'waits an hour for an approval in the $id state machine, the resolvers’ default window',
    ({ workflow }) => {
      const [, stateMachine] = stack.stateMachine(workflow.name);
      const definition = JSON.parse(String(stateMachine.Properties.DefinitionString));
      const waits = statesOfType(definition, 'Task').filter(
        (state) => state.Resource === WAIT_FOR_TASK_TOKEN,
      );

      expect(waits.map((state) => state.TimeoutSeconds)).toEqual([3600]);
      for (const id of stack.resolverIds()) {
        const environment = stack.literalEnvironment(stack.resource(id));
        expect(environment, id).not.toHaveProperty('APPROVAL_TIMEOUT_SECONDS');
        expect(guardrailsFromEnv(environment).approvalTimeoutSeconds, id).toBe(3600);
      }
    },
  );

  it('lets every execution outlast its approval window, so that an expiry is recorded', () => {
    for (const { workflow } of STATE_MACHINES) {
      const [, stateMachine] = stack.stateMachine(workflow.name);
      const definition = JSON.parse(String(stateMachine.Properties.DefinitionString));
      const [wait] = statesOfType(definition, 'Task').filter(
        (state) => state.Resource === WAIT_FOR_TASK_TOKEN,
      );
      expect(Number(definition.TimeoutSeconds), workflow.name).toBeGreaterThan(
        Number(wait?.TimeoutSeconds),
      );
    }
  });

  it('has no API resource policy and remembers deliveries for 24 hours', () => {
    expect(stack.restApi()[1].Properties).not.toHaveProperty('Policy');
    for (const [id, fn] of [stack.apiFunction(), stack.sourceFunction()]) {
      expect(stack.environment(fn).IDEMPOTENCY_WINDOW_SECONDS, id).toBe('86400');
    }
  });

  it('synthesizes with the placeholder customer id but refuses to deploy', () => {
    const rule = (stack.json.Rules as Record<string, Json>).CitrixCustomerIdIsSet as {
      Assertions: { Assert: Json; AssertDescription: string }[];
    };

    expect(rule.Assertions).toHaveLength(1);
    expect(rule.Assertions[0]?.Assert).toEqual({
      'Fn::Not': [{ 'Fn::Equals': ['set-citrix-customer-id', 'set-citrix-customer-id'] }],
    });
    expect(rule.Assertions[0]?.AssertDescription).toMatch(/-c citrixCustomerId=/);
  });
});

describe('cdk-nag', () => {
  it('fails synthesis on a finding nobody acknowledged', () => {
    const { stack } = buildApp(appContext({ citrixCustomerId: 'customer-1' }));
    new Secret(stack, 'SecretWithoutRotation');

    expect(() => Template.fromStack(stack)).toThrow(
      /CitrixResponse\/SecretWithoutRotation\/[\s\S]*AwsSolutions-SMG4/,
    );
  });
});

describe('context validation', () => {
  it.each([
    [{ maxConcurrency: 0 }, /"maxConcurrency" must be an integer from 1 to 40, got 0/],
    [{ maxConcurrency: 41 }, /"maxConcurrency" must be an integer from 1 to 40/],
    [{ maxConcurrency: 2.5 }, /"maxConcurrency"/],
    [{ maxConcurrency: 'ten' }, /"maxConcurrency" .* got "ten"/],
    [{ logRetentionDays: 42 }, /"logRetentionDays" must be one of .*\b90\b.*, got 42/],
    [{ logRetentionDays: 'forever' }, /"logRetentionDays"/],
    [{ citrixApiUrl: 'https://evil.example.com' }, /"citrixApiUrl" is invalid/],
    [{ citrixApiUrl: 'http://127.0.0.1:8080' }, /"citrixApiUrl" must be an https URL/],
    [{ citrixCustomerId: 'bad id' }, /"citrixCustomerId" must be 1-64/],
    [{ citrixSiteId: 'site_with_underscore' }, /"citrixSiteId" must be 1-64/],
    [{ citrixEmUrl: 'mdm.example.com' }, /"citrixEmUrl" is invalid: .*not a valid URL/],
    [{ citrixEmUrl: 'http://mdm.example.com/xenmobile' }, /"citrixEmUrl" is invalid: .*https/],
    [{ citrixEmUrl: 'http://127.0.0.1:4443' }, /"citrixEmUrl" must be an https URL/],
    [{ citrixEmAuth: 'password' }, /"citrixEmAuth" must be one of cloud, credentials/],
    [{ citrixEmBodyShape: 'array' }, /"citrixEmBodyShape" must be one of object, id-array/],
    [{ citrixApiClientOwner: 'Jane Doe' }, /"citrixApiClientOwner" must hold .* \(no spaces\)/],
    [{ citrixApiClientOwner: 'a@example.com,b@example.com' }, /"citrixApiClientOwner"/],
    [{ protectedAdministrators: 'a@example.com, Jane Doe' }, /"protectedAdministrators"/],
    [{ adminReportSchedule: 'daily' }, /"adminReportSchedule" must be an EventBridge rate/],
    [{ adminReportSchedule: 'rate(1 week)' }, /"adminReportSchedule"/],
    [{ adminReportSchedule: 'at(2030-01-01T00:00:00)' }, /"adminReportSchedule"/],
    [{ adminReportPendingDays: 0 }, /"adminReportPendingDays" must be an integer from 1 to 365/],
    [{ adminReportPendingDays: '366' }, /"adminReportPendingDays" .* got "366"/],
    [
      { idempotencyWindowSeconds: 59 },
      /"idempotencyWindowSeconds" must be an integer from 60 to 604800, got 59/,
    ],
    [{ idempotencyWindowSeconds: '604801' }, /"idempotencyWindowSeconds" .* got "604801"/],
    [
      { sourceIpAllowlists: { splunk: ['203.0.113.0'] } },
      /"sourceIpAllowlists" is invalid: splunk\.0: must be an IPv4 or IPv6 CIDR range/,
    ],
    [
      { sourceIpAllowlists: '{"jira":["10.0.0.0/8"]}' },
      /"sourceIpAllowlists" is invalid: .*"jira"/,
    ],
    [{ sourceIpAllowlists: 'splunk=10.0.0.0/8' }, /"sourceIpAllowlists" must be JSON/],
    [
      { callbackDestinations: { soar: 'http://soar.example.com/hook' } },
      /"callbackDestinations" is invalid: .*"soar" must be https/,
    ],
    [
      { callbackDestinations: '{"Bad Name":"https://soar.example.com"}' },
      /"callbackDestinations" is invalid: .*name/,
    ],
    [
      { serviceNowInstanceUrl: 'https://acme.service-now.com' },
      /"serviceNowInstanceUrl" is no longer supported: .*ServiceNowApiCredentials secret/,
    ],
    [{ sourceIpAllowlists: { api: ['192.0.2.1'] } }, /"sourceIpAllowlists" is invalid: api\.0/],
    [
      { guardrailLimits: '{not json' },
      /Guardrail context "guardrailLimits" is invalid: .*GUARDRAIL_LIMITS: must be JSON/,
    ],
    [
      { guardrailLimits: { 'session.nuke': { perHour: 1 } } },
      /Guardrail context "guardrailLimits" is invalid: .*GUARDRAIL_LIMITS: session\.nuke: unknown action type/,
    ],
    [
      { approvalTimeoutSeconds: 0 },
      /Guardrail context "approvalTimeoutSeconds" is invalid: .*APPROVAL_TIMEOUT_SECONDS: must be at least 1/,
    ],
    [
      { approvalRequired: 'device.wipe,admin.nuke' },
      /Guardrail context "approvalRequired" is invalid: .*APPROVAL_REQUIRED: admin\.nuke: is not an action type/,
    ],
    [
      { protectedDevices: 'laptop-42' },
      /Guardrail context "protectedDevices" is invalid: .*PROTECTED_DEVICES: laptop-42: must be an Endpoint Management device id/,
    ],
    [
      { routesFile: 'config/no-such-routes.json' },
      /"routesFile": Cannot read the routing rules file .*config\/no-such-routes\.json/,
    ],
  ])('rejects %j', (context, message) => {
    expect(() => buildApp(appContext(context))).toThrow(InvalidContextError);
    expect(() => buildApp(appContext(context))).toThrow(message);
  });
});

describe('routing rules file at synth', () => {
  let directory: string;
  const writeRules = (name: string, rules: unknown): string => {
    const path = join(directory, name);
    writeFileSync(path, JSON.stringify(rules, null, 2));
    return path;
  };

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'citrix-response-stack-routes-'));
  });

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('fails synth on a route whose target kind does not fit its action, naming the route and the field', () => {
    const path = writeRules('routes.json', {
      version: 1,
      routes: {
        sentinel: [
          {
            name: 'wipe-compromised-device',
            match: { severity: 'High' },
            // A device action cannot take a session id.
            action: 'device.selectiveWipe',
            target: { sessionId: 'entities[0].sessionId' },
            reason: 'Sentinel incident {{incidentNumber}}',
          },
        ],
      },
    });
    const error = (() => {
      try {
        buildApp(appContext({ routesFile: path }));
      } catch (caught) {
        return caught as Error;
      }
      throw new Error('synth did not fail');
    })();

    expect(error).toBeInstanceOf(InvalidContextError);
    expect(error.message).toBe(
      `Context "routesFile": Invalid routing rules file ${path}: routes.sentinel[0] (route "wipe-compromised-device").target.sessionId: device.selectiveWipe takes a target of kind deviceId or user`,
    );
  });

  it('synthesizes with a valid file of the operator’s own', () => {
    const path = writeRules('valid-routes.json', {
      version: 1,
      routes: {
        splunk: [
          {
            name: 'impossible-travel',
            action: 'session.logoff',
            target: { user: 'result.user' },
            reason: 'Splunk alert {{search_name}}',
          },
        ],
      },
      servicenow: { allowedActions: ['session.disconnect'] },
    });
    const { stack } = buildApp(appContext({ citrixCustomerId: 'customer-1', routesFile: path }));
    const template = new StackTemplate(Template.fromStack(stack), stack);

    // Synthesized (cdk-nag included) with the source endpoints built as for the shipped file.
    expect(template.sourceFunction()[1].Properties.Timeout).toBe(15);
    expect(template.routes()['POST /v1/webhooks/splunk/{token}']?.functionId).toBe(
      template.sourceFunction()[0],
    );
  });
});
