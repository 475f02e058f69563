import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { expect } from 'vitest';
import { buildApp } from '../../../infra/build-app.ts';
import type { CitrixResponseStack } from '../../../infra/citrix-response-stack.ts';
import type { SecretSource } from '../../../infra/source-endpoints.ts';
import type { WorkflowName } from '../../../lib/actions/schema.ts';
import { WORKFLOWS, type WorkflowFunction } from '../../../lib/workflow/definition.ts';

/**
 * The stack as `cdk synth` builds it, synthesized once per configuration and test file (the
 * Template is cached), with bundling skipped (no esbuild run). Synthesis runs cdk-nag: an
 * unacknowledged finding throws here, so every file that uses a configuration fails on one.
 * CDK's built-in CloudFormation template validation runs only where asked for (`validated`):
 * stack-deployment.test.ts validates both configurations, and the files that only read
 * properties save the seconds its rule engine takes to start in each test process.
 */

const FEATURE_FLAGS = JSON.parse(
  readFileSync(new URL('../../../cdk.json', import.meta.url), 'utf8'),
).context as Record<string, unknown>;

/** The cdk.json context plus `context`, with bundling skipped. */
export function appContext(context: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...FEATURE_FLAGS, 'aws:cdk:bundling-stacks': [], ...context };
}

export const CUSTOMER_ID = 'customer-marker-4711';
export const SITE_ID = 'site-marker-0815';
export const DESTINATIONS = {
  soar: 'https://soar.example.com/hooks/citrix?token=receiver-token-1',
  ticketing: 'https://hooks.example.org/in?channel=sec',
};
export const ALLOWLISTS = {
  splunk: ['203.0.113.0/24'],
  sentinel: ['198.51.100.0/24', '2001:db8::/32'],
  api: ['192.0.2.0/28'],
};
/** Subscribed to the alarm topic in the `configured` stack. */
export const ALARM_EMAIL = 'oncall@example.com';
export const GUARDRAIL_LIMITS = {
  'device.wipe': { perRequest: 2, perHour: 6, overLimit: 'refuse' },
  'admin.revoke': { perHour: 2 },
};
/** An operator's own rules file: one Splunk route that calls `soar` back. */
export const OPERATOR_ROUTES_FILE = fileURLToPath(
  new URL('./operator-routes.json', import.meta.url),
);

/**
 * An operator's own sweeps file: `night-logoff` (cron, Europe/Berlin, calls `soar` back) and
 * `unhealthy-devices` (rate, no time zone: UTC) enabled, `stale-invitations` disabled.
 */
export const OPERATOR_SWEEPS_FILE = fileURLToPath(
  new URL('./operator-sweeps.json', import.meta.url),
);

/**
 * The two configurations the stack tests synthesize:
 * - `defaults`: no context at all, as a fresh clone synthesizes (and may not deploy);
 * - `configured`: every setting given, as an operator may type them (strings with spaces and
 *   trailing commas, `-c` JSON strings, cdk.json objects and arrays): Endpoint Management with
 *   administrator credentials, callbacks, IP allowlists, guardrails, an own routes file, an own
 *   sweeps file, an alarm email and a lower rate limit per address.
 */
export const CONFIGURATIONS = {
  defaults: {},
  configured: {
    citrixCustomerId: CUSTOMER_ID,
    citrixSiteId: SITE_ID,
    citrixApiUrl: 'https://api-eu.cloud.com/',
    citrixEmUrl: 'https://mdm.example.com:4443/xenmobile/api/v1/',
    citrixEmAuth: 'credentials',
    citrixEmBodyShape: 'id-array',
    citrixApiClientOwner: ' api.owner@example.com ',
    protectedAdministrators: ' break.glass@example.com , OID:/citrix/42,',
    adminReportSchedule: 'cron(0 6 * * ? *)',
    adminReportPendingDays: '30',
    maxConcurrency: 7,
    logRetentionDays: '30',
    idempotencyWindowSeconds: '3600',
    routesFile: OPERATOR_ROUTES_FILE,
    sweepsFile: OPERATOR_SWEEPS_FILE,
    callbackDestinations: DESTINATIONS,
    sourceIpAllowlists: JSON.stringify(ALLOWLISTS),
    guardrailLimits: GUARDRAIL_LIMITS,
    approvalRequired: 'device.wipe,session.logoff,admin.revoke:delete',
    approvalTimeoutSeconds: '900',
    protectedUsers: ['ceo@example.com', 'CORP\\ciso'],
    protectedDevices: '8d5f2a71-3c4b-4e8a-9f10-2b3c4d5e6f70,1042',
    alarmEmail: ALARM_EMAIL,
    apiRateLimitPerAddress: '600',
  },
} as const satisfies Record<string, Record<string, unknown>>;
export type Configuration = keyof typeof CONFIGURATIONS;

/** The guardrail variables the resolve functions get in the `configured` stack. */
export const CONFIGURED_GUARDRAILS = {
  GUARDRAIL_LIMITS: JSON.stringify(GUARDRAIL_LIMITS),
  APPROVAL_REQUIRED: 'device.wipe,session.logoff,admin.revoke:delete',
  APPROVAL_TIMEOUT_SECONDS: '900',
  PROTECTED_USERS: 'ceo@example.com,CORP\\ciso',
  PROTECTED_DEVICES: '8d5f2a71-3c4b-4e8a-9f10-2b3c4d5e6f70,1042',
};

/**
 * For a `beforeAll` that synthesizes: the first synthesis in a test process loads much of
 * aws-cdk-lib (and, validated, starts CloudFormation's rule engine), which on a busy two-core
 * machine can take longer than the default 30 s hook timeout.
 */
export const SYNTH_TIMEOUT = 120_000;

const synthesizedStacks = new Map<string, SynthesizedStack>();

/**
 * The stack of a configuration, synthesized on first use in this test file; `validated` also
 * runs the built-in CloudFormation template validation, as `cdk synth` does.
 */
export function synthesized(
  configuration: Configuration,
  { validated = false }: { readonly validated?: boolean } = {},
): SynthesizedStack {
  const key = `${configuration}${validated ? ' validated' : ''}`;
  let found = synthesizedStacks.get(key);
  if (found === undefined) {
    // No SWEEPS_FILE: the shell's own would replace the configuration's sweeps file.
    const { stack } = buildApp(appContext(CONFIGURATIONS[configuration]), {
      validateTemplates: validated,
      environment: {},
    });
    found = new SynthesizedStack(stack);
    synthesizedStacks.set(key, found);
  }
  return found;
}

/** Every task function once: one Lambda per task name, however many workflows use it. */
export const TASKS: readonly WorkflowFunction[] = [
  ...new Map(
    WORKFLOWS.flatMap((workflow) => workflow.functions).map((task) => [task.name, task]),
  ).values(),
];

// Synthesized templates are plain JSON; these types name only what the assertions read.
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, Json>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}
interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: Json;
  readonly Condition?: Json;
}

/** The stack's secrets by role. */
export type SecretRole =
  | 'webhook'
  | 'citrix'
  | 'callback'
  | 'serviceNowApi'
  | 'endpointManagement'
  | `source:${SecretSource}`;

/** `dynamodb:GetItem on ActionsTable402DF2D7` for each action and target: how grants compare. */
export function allow(actions: readonly string[], ...targets: readonly string[]): string[] {
  return actions.flatMap((action) => targets.map((target) => `${action} on ${target}`));
}

/**
 * What every function's Powertools reads: the service and metrics namespace the alarms and the
 * dashboard look for, and no Citrix response in a trace.
 */
export const POWERTOOLS_VARIABLES = {
  POWERTOOLS_SERVICE_NAME: 'citrix-response',
  POWERTOOLS_METRICS_NAMESPACE: 'CitrixResponse',
  POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
  POWERTOOLS_LOG_LEVEL: 'INFO',
} as const;

/** Every function traces: the X-Ray actions support no resource-level permission. */
export const XRAY = allow(['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], '*');

/** A synthesized stack, with lookups by construct (never by a hand-written logical id). */
export class SynthesizedStack {
  readonly template: Template;
  readonly resources: Readonly<Record<string, Resource>>;
  readonly outputs: Readonly<Record<string, { readonly Value: Json }>>;
  readonly rules: Readonly<Record<string, Json>>;
  readonly stack: CitrixResponseStack;

  constructor(stack: CitrixResponseStack) {
    this.stack = stack;
    this.template = Template.fromStack(stack);
    const json = this.template.toJSON() as {
      Resources: Record<string, Resource>;
      Outputs?: Record<string, { Value: Json }>;
      Rules?: Record<string, Json>;
    };
    this.resources = json.Resources;
    this.outputs = json.Outputs ?? {};
    this.rules = json.Rules ?? {};
  }

  resource(id: string): Resource {
    const resource = this.resources[id];
    if (resource === undefined) throw new Error(`No resource ${id}`);
    return resource;
  }

  idsOf(type: string): string[] {
    return Object.keys(this.resources).filter((id) => this.resources[id]?.Type === type);
  }

  /** The logical id of a construct's main resource. */
  idOf(construct: IConstruct): string {
    return this.stack.getLogicalId(construct.node.defaultChild as CfnElement);
  }

  /** The task function of that name (one per name, described `workflow task: <name>`). */
  taskFunction(name: string): string {
    const fn = this.stack.tasks.all.get(name);
    if (fn === undefined) throw new Error(`No task function ${name}`);
    return this.idOf(fn);
  }

  /** The function behind `POST /v1/actions`. */
  get apiFunction(): string {
    return this.idOf(this.stack.api.handler);
  }

  /** The function behind `GET /v1/actions`, `GET /v1/actions/{actionId}` and its decisions. */
  get recordsFunction(): string {
    return this.idOf(this.stack.api.recordsHandler);
  }

  /** The function behind the public `GET /v1/openapi.json`. */
  get documentFunction(): string {
    return this.idOf(this.stack.api.documentHandler);
  }

  /** The alerting sources' function (Splunk, Sentinel, PagerDuty). */
  get sourceFunction(): string {
    return this.idOf(this.stack.sourceEndpoints.handler);
  }

  /** The requesting sources' function (ServiceNow, Standard Webhooks). */
  get requestSourceFunction(): string {
    return this.idOf(this.stack.sourceEndpoints.requestHandler);
  }

  get reportFunction(): string {
    return this.idOf(this.stack.administratorReport.handler);
  }

  /** The run-sweep function, which the sweep schedules invoke. */
  get sweepFunction(): string {
    return this.idOf(this.stack.sweeps.handler);
  }

  /** The role the sweep schedules invoke the run-sweep function with. */
  get schedulerRole(): string {
    return this.idOf(this.stack.sweeps.schedulerRole);
  }

  /** The sweep schedules, by their Name (the sweep's name). */
  get schedules(): Readonly<Record<string, Resource>> {
    return Object.fromEntries(
      this.idsOf('AWS::Scheduler::Schedule').map((id) => {
        const schedule = this.resource(id);
        return [String(schedule.Properties.Name), schedule];
      }),
    );
  }

  stateMachine(workflow: WorkflowName): string {
    return this.idOf(this.stack.stateMachines[workflow]);
  }

  /** A workflow's definition as deployed (placeholders in place, filled by substitutions). */
  definition(workflow: WorkflowName): Record<string, Json> & { States: Record<string, State> } {
    return JSON.parse(
      String(this.resource(this.stateMachine(workflow)).Properties.DefinitionString),
    );
  }

  table(name: 'actions' | 'audit' | 'limits' | 'idempotency' | 'deliveries' | 'snapshots'): string {
    const { stack } = this;
    return this.idOf(
      {
        actions: stack.actionsTable,
        audit: stack.auditTable,
        limits: stack.limitsTable,
        idempotency: stack.sourceEndpoints.idempotencyTable,
        deliveries: stack.sourceEndpoints.deliveriesTable,
        snapshots: stack.administratorReport.snapshotsTable,
      }[name],
    );
  }

  /** A secret's logical id by what it is for; fails if the stack has no such secret. */
  secret(role: SecretRole): string {
    const { stack } = this;
    const construct = role.startsWith('source:')
      ? stack.sourceEndpoints.secrets[role.slice('source:'.length) as SecretSource]
      : {
          webhook: stack.webhookSecret,
          citrix: stack.citrixCredentials,
          callback: stack.callbackSigningSecret,
          serviceNowApi: stack.serviceNowApiCredentials,
          endpointManagement: stack.endpointManagementCredentials,
        }[role as Exclude<SecretRole, `source:${string}`>];
    if (construct === undefined) throw new Error(`The stack has no ${role} secret`);
    return this.idOf(construct);
  }

  environment(functionId: string): Record<string, Json> {
    const environment = this.resource(functionId).Properties.Environment as
      | { Variables?: Record<string, Json> }
      | undefined;
    return environment?.Variables ?? {};
  }

  /** The literal (non-reference) variables, as the function's code reads `process.env`. */
  literalEnvironment(functionId: string): Record<string, string> {
    return Object.fromEntries(
      Object.entries(this.environment(functionId)).filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string',
      ),
    );
  }

  /** The CITRIX_* variables of a function: its whole Citrix configuration. */
  citrixEnvironment(functionId: string): Record<string, Json> {
    return Object.fromEntries(
      Object.entries(this.environment(functionId)).filter(([name]) => name.startsWith('CITRIX_')),
    );
  }

  /** The role a function or state machine runs as; a role is its own. */
  roleOf(id: string): string {
    const resource = this.resource(id);
    if (resource.Type === 'AWS::IAM::Role') return id;
    const { Role, RoleArn } = resource.Properties;
    return ((Role ?? RoleArn) as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  }

  /** The inline policies of the role a function or state machine runs as (or of a role). */
  policiesOf(id: string): string[] {
    const role = JSON.stringify({ Ref: this.roleOf(id) });
    return this.idsOf('AWS::IAM::Policy').filter((policy) =>
      (this.resource(policy).Properties.Roles as Json[]).some(
        (entry) => JSON.stringify(entry) === role,
      ),
    );
  }

  /**
   * What a function, state machine or role may do, as sorted `action on target` lines: comparable
   * however CDK merges statements. A target is a logical id (a table, secret, state machine), a
   * joined ARN with its references as ids (`TableId/index/*`), or `*`. A grant limited to some
   * items by partition key ends with ` (keys a, b)`; a Deny or any other condition shows as such.
   */
  grants(id: string): string[] {
    return this.policiesOf(id)
      .flatMap((policy) => {
        const document = this.resource(policy).Properties.PolicyDocument as unknown as {
          Statement: Statement[];
        };
        return document.Statement.flatMap(statementLines);
      })
      .sort();
  }

  /** The AWS managed policies of the role a function or state machine runs as. */
  managedPolicies(id: string): string[] {
    const role = this.resource(this.roleOf(id));
    return ((role.Properties.ManagedPolicyArns ?? []) as Json[]).map(target);
  }

  /** Every function and state machine whose grants mention `target`, by logical id. */
  grantedOn(targetId: string): string[] {
    return [
      ...this.idsOf('AWS::Lambda::Function'),
      ...this.idsOf('AWS::StepFunctions::StateMachine'),
    ]
      .filter((id) => this.grants(id).some((line) => mentions(line, targetId)))
      .sort();
  }

  /** Every Lambda function, by logical id. */
  get functionIds(): string[] {
    return this.idsOf('AWS::Lambda::Function');
  }

  /** Every API method's logical id, by route (`POST /v1/actions/{actionId}/approve`). */
  apiMethods(): Record<string, string> {
    const pathOf = (resourceId: Json): string => {
      const ref = (resourceId as { Ref?: string }).Ref;
      // The root resource is a GetAtt of the API, not a Ref of an AWS::ApiGateway::Resource.
      if (ref === undefined) return '';
      const resource = this.resource(ref);
      return `${pathOf(resource.Properties.ParentId as Json)}/${String(resource.Properties.PathPart)}`;
    };
    return Object.fromEntries(
      this.idsOf('AWS::ApiGateway::Method').map((id) => {
        const { HttpMethod, ResourceId } = this.resource(id).Properties;
        return [`${String(HttpMethod)} ${pathOf(ResourceId as Json)}`, id];
      }),
    );
  }
}

export type State = Record<string, Json> & { Type?: string };

/** Whether a grant line names `id` as (part of) its target. */
function mentions(line: string, id: string): boolean {
  const [, targetText = ''] = /^\S+ on (\S+)/.exec(line) ?? [];
  return targetText.split(/[/:]/).includes(id);
}

function list<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

function statementLines(statement: Statement): string[] {
  const keys = leadingKeysOf(statement.Condition);
  const suffix =
    statement.Condition === undefined
      ? ''
      : keys !== undefined
        ? ` (keys ${keys.join(', ')})`
        : ` if ${JSON.stringify(statement.Condition)}`;
  const effect = statement.Effect === 'Allow' ? '' : `${statement.Effect.toUpperCase()} `;
  return list(statement.Action).flatMap((action) =>
    list(statement.Resource).map(
      (resource) => `${effect}${action} on ${target(resource)}${suffix}`,
    ),
  );
}

/** The partition keys a `ForAllValues:StringEquals dynamodb:LeadingKeys` condition allows. */
function leadingKeysOf(condition: Json | undefined): string[] | undefined {
  const equals = (condition as Record<string, Record<string, Json>> | undefined)?.[
    'ForAllValues:StringEquals'
  ];
  const keys = equals?.['dynamodb:LeadingKeys'];
  if (keys === undefined || Object.keys(condition ?? {}).length !== 1) return undefined;
  if (Object.keys(equals ?? {}).length !== 1) return undefined;
  return list(keys).map(String);
}

/** A resource reference as text: logical ids for references, `<AWS::Partition>` for pseudo ones. */
export function target(value: Json): string {
  if (typeof value === 'string') return value;
  const record = value as Record<string, Json>;
  const ref = record.Ref;
  if (typeof ref === 'string') return ref.startsWith('AWS::') ? `<${ref}>` : ref;
  const attribute = record['Fn::GetAtt'] as [string, string] | undefined;
  if (attribute !== undefined) return attribute[1] === 'Arn' ? attribute[0] : attribute.join('.');
  const join = record['Fn::Join'] as [string, Json[]] | undefined;
  if (join !== undefined) return join[1].map(target).join(join[0]);
  return JSON.stringify(value);
}

/** Every value of `key` anywhere in `node`. */
export function valuesOfKey(node: unknown, key: string): unknown[] {
  if (Array.isArray(node)) return node.flatMap((child) => valuesOfKey(child, key));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([name, child]) => [
    ...(name === key ? [child] : []),
    ...valuesOfKey(child, key),
  ]);
}

/** The integration of the approval task: invoke a Lambda, then wait for its task token. */
export const WAIT_FOR_TASK_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/** Every state of `type` anywhere in a definition, Map iterations included. */
export function statesOfType(node: unknown, type: string): State[] {
  if (Array.isArray(node)) return node.flatMap((child) => statesOfType(child, type));
  if (node === null || typeof node !== 'object') return [];
  const record = node as State;
  return [
    ...(record.Type === type ? [record] : []),
    ...Object.values(record).flatMap((child) => statesOfType(child, type)),
  ];
}

/** Every secret value stays out of the template: secrets are generated, functions get ARNs. */
export function expectNoSecretValues(stack: SynthesizedStack): void {
  expect(valuesOfKey(stack.template.toJSON(), 'SecretString')).toEqual([]);
  for (const id of stack.functionIds) {
    for (const [name, value] of Object.entries(stack.environment(id))) {
      expect(name, id).not.toMatch(/SECRET$|PASSWORD|USERNAME|TOKEN|CLIENT_ID/);
      if (name.endsWith('_SECRET_ARN')) {
        expect(value, `${id} ${name}`).toEqual({ Ref: expect.any(String) });
        expect(stack.resource((value as { Ref: string }).Ref).Type).toBe(
          'AWS::SecretsManager::Secret',
        );
      }
    }
  }
  for (const [name, output] of Object.entries(stack.outputs)) {
    // An output names a secret by its ARN (a Ref), never by a value.
    if (name.endsWith('SecretArn')) {
      expect(stack.resource(target(output.Value as Json)).Type, name).toBe(
        'AWS::SecretsManager::Secret',
      );
    }
  }
}
