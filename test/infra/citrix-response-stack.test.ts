import { readFileSync } from 'node:fs';
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ReportRequestSchema } from '../../functions/report-administrators.ts';
import { buildApp } from '../../infra/build-app.ts';
import type { CitrixResponseStack } from '../../infra/citrix-response-stack.ts';
import { InvalidContextError } from '../../infra/config.ts';
import type { WorkflowName } from '../../lib/actions/schema.ts';
import {
  administratorGuardsFromEnv,
  administratorReportSettingsFromEnv,
  InvalidSettingsError,
} from '../../lib/runtime/settings.ts';
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
  readonly Action: string | string[];
  readonly Effect: string;
  readonly Resource: Json;
}

const FEATURE_FLAGS = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'))
  .context as Record<string, unknown>;

/** Every task function once: a task used by several workflows (complete-action) is one Lambda. */
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

/** A copy of a definition with every MaxConcurrency removed. */
function withoutMaxConcurrency(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutMaxConcurrency);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key]) => key !== 'MaxConcurrency')
      .map(([key, child]) => [key, withoutMaxConcurrency(child)]),
  );
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
}

/**
 * The CITRIX_* variables and the secrets a task function must get, and nothing beyond them:
 * DaaS functions the Citrix Cloud client and site; Endpoint Management functions their server and
 * either the Citrix Cloud client (cloud login, no site) or the administrator secret alone;
 * Citrix Cloud administrator functions the Citrix Cloud client (no site) and the guards.
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
  }
}

function expectCitrixAccessByCalls(stack: StackTemplate, deployment: Deployment): void {
  for (const task of TASKS) {
    const [, fn] = stack.taskFunction(task.name);
    const expected = expectedCitrixAccess(stack, task, deployment);
    const secretStatements = statementsFor(stack.statementsOf(fn), 'secretsmanager');

    expect(stack.citrixEnvironment(fn), task.name).toEqual(expected.environment);
    // Read-only, and only on the secrets the function's login needs.
    expect(secretStatements.flatMap(resources), task.name).toEqual(expected.secrets);
    for (const action of secretStatements.flatMap(actions)) {
      expect(
        ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        task.name,
      ).toContain(action);
    }
    if (expected.secrets.length > 0) {
      expect(
        statementsAllowing(secretStatements, 'secretsmanager:GetSecretValue').flatMap(resources),
        task.name,
      ).toEqual(expected.secrets);
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
      const expected = JSON.parse(readDefinition(workflow, { maxConcurrency: MAX_CONCURRENCY }));
      const actual = definitionOf(stateMachine);
      const maps = statesOfType(actual, 'Map');

      expect(actual).toEqual(expected);
      expect(maps.length).toBeGreaterThan(0);
      expect(maps.map((map) => map.MaxConcurrency)).toEqual(maps.map(() => MAX_CONCURRENCY));
      expect(valuesOfKey(actual, 'MaxConcurrency')).toEqual(maps.map(() => MAX_CONCURRENCY));
      // Checked against the file itself too, not only through readDefinition.
      const file = new URL(`../../state-machines/${workflow.name}.asl.json`, import.meta.url);
      expect(workflow.file.href).toBe(file.href);
      expect(withoutMaxConcurrency(actual)).toEqual(
        withoutMaxConcurrency(JSON.parse(readFileSync(file, 'utf8'))),
      );
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
        const substitution = /^\$\{(\w+)\}$/.exec(String(state.Resource))?.[1];
        const task = workflow.functions.find((fn) => fn.substitution === substitution);
        expect(task, String(state.Resource)).toBeDefined();
        const [, fn] = stack.taskFunction(String(task?.name));
        // Strictly above: a state that gives up as the function ends could abandon its write.
        expect(state.TimeoutSeconds, task?.name).toBeGreaterThan(Number(fn.Properties.Timeout));
      }
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
    it('has one function per task name (14, complete-action shared), the API and the report function', () => {
      const functions = stack.ofType('AWS::Lambda::Function');
      const taskNames = functions
        .map(([, fn]) => /^workflow task: (.+)$/.exec(String(fn.Properties.Description))?.[1])
        .filter((name) => name !== undefined);
      const others = functions
        .filter(([, fn]) => !/^workflow task: /.test(String(fn.Properties.Description)))
        .map(([id]) => id);

      expect(functions).toHaveLength(16);
      expect(TASKS).toHaveLength(14);
      expect(taskNames.sort()).toEqual(TASKS.map((task) => task.name).sort());
      expect(others.sort()).toEqual([stack.apiFunction()[0], stack.report().fn[0]].sort());
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
      ).toEqual([['complete-action', ['session-action', 'device-action', 'admin-action']]]);
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
      expect(logGroups.size).toBe(16);
    });

    it('gives task functions 60 s, resolve-device-targets 240 s, the API 15 s and the report 120 s', () => {
      for (const task of TASKS) {
        const expected = task.name === 'resolve-device-targets' ? 240 : 60;
        expect(stack.taskFunction(task.name)[1].Properties.Timeout, task.name).toBe(expected);
      }
      expect(stack.apiFunction()[1].Properties.Timeout).toBe(15);
      expect(stack.report().fn[1].Properties.Timeout).toBe(120);
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
      ]);
      for (const name of idle) {
        const [, fn] = stack.taskFunction(name);
        expect(Object.keys(stack.citrixEnvironment(fn)), name).toEqual([]);
        expect(statementsFor(stack.statementsOf(fn), 'secretsmanager'), name).toEqual([]);
      }
    });

    it('lets only the functions that record actions, and the API, get, put and update records', () => {
      const [tableId] = stack.actionsTable();
      const withTable: [string, Resource, boolean][] = [
        ...TASKS.map((task): [string, Resource, boolean] => [
          task.name,
          stack.taskFunction(task.name)[1],
          task.recordsActions,
        ]),
        ['actions-api', stack.apiFunction()[1], true],
      ];

      expect(withTable.filter(([, , records]) => records).map(([name]) => name)).toEqual([
        'resolve-session-targets',
        'record-target-result',
        'complete-action',
        'resolve-device-targets',
        'record-device-result',
        'resolve-admin-targets',
        'record-admin-result',
        'actions-api',
      ]);
      for (const [name, fn, recordsActions] of withTable) {
        const dynamo = statementsFor(stack.statementsOf(fn), 'dynamodb');
        if (recordsActions) {
          expect(dynamo.flatMap(actions).sort(), name).toEqual([
            'dynamodb:GetItem',
            'dynamodb:PutItem',
            'dynamodb:UpdateItem',
          ]);
          expect(dynamo.flatMap(resources), name).toEqual([arnOf(tableId)]);
          expect(stack.environment(fn).ACTIONS_TABLE_NAME, name).toEqual(refTo(tableId));
        } else {
          expect(dynamo, name).toEqual([]);
          expect(stack.environment(fn), name).not.toHaveProperty('ACTIONS_TABLE_NAME');
        }
      }
    });

    it('lets the API function start exactly the three state machines and read only the webhook secret', () => {
      const [, fn] = stack.apiFunction();
      const statements = stack.statementsOf(fn);
      const webhookSecret = refTo(stack.secretId('signingSecret'));
      const session = refTo(stack.stateMachine('session-action')[0]);
      const device = refTo(stack.stateMachine('device-action')[0]);
      const admin = refTo(stack.stateMachine('admin-action')[0]);

      expect(stack.environment(fn)).toEqual({
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'citrix-response',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ACTIONS_TABLE_NAME: refTo(stack.actionsTable()[0]),
        SESSION_ACTION_STATE_MACHINE_ARN: session,
        DEVICE_ACTION_STATE_MACHINE_ARN: device,
        ADMIN_ACTION_STATE_MACHINE_ARN: admin,
        WEBHOOK_SECRET_ARN: webhookSecret,
      });
      expect(Object.keys(stack.citrixEnvironment(fn))).toEqual([]);
      expect(statementsFor(statements, 'states').flatMap(actions)).toEqual([
        'states:StartExecution',
      ]);
      expect(
        statementsAllowing(statements, 'states:StartExecution').flatMap(resources).sort(byJson),
      ).toEqual([session, device, admin].sort(byJson));
      expect(statementsFor(statements, 'secretsmanager').flatMap(resources)).toEqual([
        webhookSecret,
      ]);
      expect(statementsFor(statements, 'lambda')).toEqual([]);
      expect(statementsFor(statements, 'sns')).toEqual([]);
    });

    it('lets no function but the API start an execution', () => {
      const starters = stack
        .ofType('AWS::Lambda::Function')
        .filter(([, fn]) => statementsFor(stack.statementsOf(fn), 'states').length > 0)
        .map(([id]) => id);

      expect(starters).toEqual([stack.apiFunction()[0]]);
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
      ).toEqual([stack.actionsTable()[0], table[0]].sort());
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

    it('lets the report query and put snapshots, publish to its topic, read the Citrix secret: no more', () => {
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
            Action: ['dynamodb:PutItem', 'dynamodb:Query'],
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
    it('generates the webhook and Citrix Cloud secrets in CloudFormation and retains them', () => {
      const webhook = stack.resource(stack.secretId('signingSecret'));
      const citrix = stack.resource(stack.secretId('clientSecret'));

      expect(webhook.Properties.GenerateSecretString).toMatchObject({
        SecretStringTemplate: '{}',
        PasswordLength: 64,
        ExcludePunctuation: true,
      });
      expect(citrix.Properties.GenerateSecretString).toMatchObject({
        SecretStringTemplate: JSON.stringify({ clientId: 'set-me' }),
      });
      expect([webhook.DeletionPolicy, citrix.DeletionPolicy]).toEqual(['Retain', 'Retain']);
    });

    it('has no Endpoint Management secret with the cloud login', () => {
      expect(stack.ofType('AWS::SecretsManager::Secret')).toHaveLength(2);
      expect(stack.secretIds('CITRIX_EM_PASSWORD')).toEqual([]);
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

  describe('REST API', () => {
    function pathOf(resourceId: Json): string {
      const ref = (resourceId as { Ref?: string }).Ref;
      if (ref === undefined) return '';
      const resource = stack.resource(ref);
      return `${pathOf(resource.Properties.ParentId as Json)}/${String(resource.Properties.PathPart)}`;
    }

    it('routes POST /v1/actions and GET /v1/actions/{actionId} to the API function', () => {
      const [apiFunctionId] = stack.apiFunction();
      const routes = stack.ofType('AWS::ApiGateway::Method').map(([, method]) => {
        const integration = method.Properties.Integration as { Type: string; Uri: Json };
        expect(integration.Type).toBe('AWS_PROXY');
        expect(JSON.stringify(integration.Uri)).toContain(JSON.stringify(arnOf(apiFunctionId)));
        return `${String(method.Properties.HttpMethod)} ${pathOf(method.Properties.ResourceId as Json)}`;
      });

      expect(routes.sort()).toEqual(['GET /v1/actions/{actionId}', 'POST /v1/actions']);
    });

    it('validates the POST body against a model requiring action, target and reason', () => {
      const post = stack
        .ofType('AWS::ApiGateway::Method')
        .find(([, method]) => method.Properties.HttpMethod === 'POST');
      const properties = (post as [string, Resource])[1].Properties;
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
  });

  it('outputs the API URL, state machines, table, report topic and secret ARNs, never values', () => {
    const outputs = stack.json.Outputs as Record<string, { Value: Json }>;

    expect(Object.keys(outputs).sort()).toEqual([
      'ActionsTableName',
      'AdminActionStateMachineArn',
      'AdministratorReportTopicArn',
      'ApiUrl',
      'CitrixCredentialsSecretArn',
      'DeviceActionStateMachineArn',
      'SessionActionStateMachineArn',
      'WebhookSecretArn',
    ]);
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
    expect(outputs.WebhookSecretArn?.Value).toEqual(refTo(stack.secretId('signingSecret')));
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

    expect(stack.ofType('AWS::SecretsManager::Secret')).toHaveLength(3);
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
      'log-out-of-endpoint-management',
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
      'log-out-of-endpoint-management',
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
      'CitrixCredentialsSecretArn',
      'DeviceActionStateMachineArn',
      'EndpointManagementCredentialsSecretArn',
      'SessionActionStateMachineArn',
      'WebhookSecretArn',
    ]);
    expect(outputs.EndpointManagementCredentialsSecretArn?.Value).toEqual(
      refTo(stack.secretId('CITRIX_EM_PASSWORD')),
    );
  });
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
  ])('rejects %j', (context, message) => {
    expect(() => buildApp(appContext(context))).toThrow(InvalidContextError);
    expect(() => buildApp(appContext(context))).toThrow(message);
  });
});
