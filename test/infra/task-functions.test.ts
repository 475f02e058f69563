import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { CitrixResponseFunction } from '../../infra/citrix-response-function.ts';
import { CITRIX_CUSTOMER_ID_PLACEHOLDER, readConfig } from '../../infra/config.ts';
import { deployedRunbooksFile } from '../../infra/runbooks.ts';
import { TaskFunctions } from '../../infra/task-functions.ts';
import { ACTION_TYPES } from '../../lib/actions/schema.ts';
import { administratorChangeLeaseKey } from '../../lib/administrators/change-lock.ts';
import { parseCallbackDestinations } from '../../lib/callbacks/signed-callback.ts';
import {
  DEFAULT_GUARDRAIL_SETTINGS,
  GUARDRAIL_VARIABLES,
  guardrailsFromEnv,
} from '../../lib/guardrails/config.ts';
import { DAAS_THROTTLE_GATE_KEY } from '../../lib/runtime/session-batch-store.ts';
import {
  ADMIN_ACTION_WORKFLOW,
  DEVICE_ACTION_WORKFLOW,
  SESSION_ACTION_WORKFLOW,
  WORKFLOWS,
  type WorkflowDefinition,
  type WorkflowFunction,
} from '../../lib/workflow/definition.ts';
import { POWERTOOLS_VARIABLES } from './support/stack.ts';

interface Fixture {
  readonly stack: Stack;
  readonly tasks: TaskFunctions;
  readonly secretId: string;
  readonly callbackSecretId: string;
  readonly serviceNowSecretId: string;
  readonly actionsTableId: string;
  readonly auditTableId: string;
  readonly limitsTableId: string;
}

/** The ServiceNow API secret is passed, as the stack always does, unless `serviceNow` is false. */
function taskFunctions(
  context: Record<string, unknown> = {},
  { serviceNow = true }: { readonly serviceNow?: boolean } = {},
): Fixture {
  // Properties only: no bundling, no CloudFormation template validation (the stack tests run it).
  const app = new App({
    context: { 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  });
  const stack = new Stack(app, 'Test');
  const secret = new Secret(stack, 'Secret');
  const callbackSecret = new Secret(stack, 'CallbackSecret');
  const serviceNowSecret = new Secret(stack, 'ServiceNowSecret');
  const config = readConfig((key) => context[key]);
  const table = (id: string, key: string) =>
    new Table(stack, id, { partitionKey: { name: key, type: AttributeType.STRING } });
  const actionsTable = table('Table', 'actionId');
  const auditTable = table('AuditTable', 'actionId');
  const limitsTable = table('LimitsTable', 'counter');
  const tasks = new TaskFunctions(stack, 'Tasks', {
    config,
    actionsTable,
    auditTable,
    limitsTable,
    citrixCredentials: secret,
    callbackSigningSecret: callbackSecret,
    ...(serviceNow ? { serviceNowApiCredentials: serviceNowSecret } : {}),
    runbooksFile: deployedRunbooksFile({}),
  });
  const logicalId = (construct: Secret | Table) =>
    stack.getLogicalId(construct.node.defaultChild as CfnElement);
  return {
    stack,
    tasks,
    secretId: logicalId(secret),
    callbackSecretId: logicalId(callbackSecret),
    serviceNowSecretId: logicalId(serviceNowSecret),
    actionsTableId: logicalId(actionsTable),
    auditTableId: logicalId(auditTable),
    limitsTableId: logicalId(limitsTable),
  };
}

const taskOf = (workflow: WorkflowDefinition, name: string): WorkflowFunction => {
  const task = workflow.functions.find((fn) => fn.name === name);
  if (task === undefined) throw new Error(`${name} is not declared by ${workflow.name}`);
  return task;
};
const completeAction = (workflow: WorkflowDefinition) => taskOf(workflow, 'complete-action');

const templates = new WeakMap<Stack, Template>();

/**
 * The stack's template, synthesized on first use: each test builds every function it reads
 * before its first read (Template.fromStack synthesizes the whole app).
 */
function templateOf(stack: Stack): Template {
  let template = templates.get(stack);
  if (template === undefined) {
    template = Template.fromStack(stack);
    templates.set(stack, template);
  }
  return template;
}

/** The environment variables of the one function whose description is `description`. */
function environmentOf(stack: Stack, description: string): Record<string, unknown> {
  const functions = Object.values(
    templateOf(stack).findResources('AWS::Lambda::Function', {
      Properties: { Description: description },
    }),
  ) as { Properties: { Environment?: { Variables: Record<string, unknown> } } }[];
  expect(functions, description).toHaveLength(1);
  return functions[0]?.Properties.Environment?.Variables ?? {};
}

/**
 * What the function of `description` may do in DynamoDB, as `action on table-logical-id` pairs:
 * comparable however CDK merges statements.
 */
function dynamoGrantsOf(stack: Stack, description: string): string[] {
  const template = templateOf(stack).toJSON() as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  const resources = Object.entries(template.Resources);
  const functions = resources.filter(
    ([, resource]) =>
      resource.Type === 'AWS::Lambda::Function' && resource.Properties.Description === description,
  );
  expect(functions, description).toHaveLength(1);
  const fn = functions[0]?.[1];
  if (fn === undefined) throw new Error(`No function ${description}`);
  const role = (fn.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
  const statements = resources
    .filter(
      ([, resource]) =>
        resource.Type === 'AWS::IAM::Policy' &&
        JSON.stringify(resource.Properties.Roles).includes(JSON.stringify({ Ref: role })),
    )
    .flatMap(
      ([, policy]) =>
        (policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement,
    );
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);
  return statements
    .flatMap((statement) => {
      expect(statement.Effect, description).toBe('Allow');
      // The only condition expected: a grant on some items of a table, by partition key.
      const condition = statement.Condition as Record<string, Record<string, unknown>> | undefined;
      const keys = condition?.['ForAllValues:StringEquals']?.['dynamodb:LeadingKeys'];
      if (condition !== undefined) {
        expect(condition, description).toEqual({
          'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': keys },
        });
      }
      const items = keys === undefined ? '' : ` (keys ${list(keys).join(', ')})`;
      return list(statement.Action).flatMap((action) =>
        list(statement.Resource).map((resource) => {
          const table = (resource as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
          return `${String(action)} on ${table ? table[0] : JSON.stringify(resource)}${items}`;
        }),
      );
    })
    .filter((grant) => grant.startsWith('dynamodb:'))
    .sort();
}

/** Only the CITRIX_* variables: a function's whole Citrix configuration. */
function citrixEnvironmentOf(stack: Stack, description: string): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(environmentOf(stack, description)).filter(([name]) =>
      name.startsWith('CITRIX_'),
    ),
  );
}

describe('TaskFunctions', () => {
  it('builds a task declared by all three workflows once', () => {
    const { tasks } = taskFunctions();
    const first = tasks.functionFor(
      SESSION_ACTION_WORKFLOW,
      completeAction(SESSION_ACTION_WORKFLOW),
    );
    const second = tasks.functionFor(
      DEVICE_ACTION_WORKFLOW,
      completeAction(DEVICE_ACTION_WORKFLOW),
    );
    const third = tasks.functionFor(ADMIN_ACTION_WORKFLOW, completeAction(ADMIN_ACTION_WORKFLOW));

    expect(second).toBe(first);
    expect(third).toBe(first);
    expect(tasks.all.size).toBe(1);
    expect(tasks.all.get('complete-action')).toBe(first);
  });

  it('builds every workflow task once: 16 functions named after their tasks', () => {
    const { stack, tasks } = taskFunctions();
    for (const workflow of WORKFLOWS) {
      for (const task of workflow.functions) tasks.functionFor(workflow, task);
    }
    const names = [...new Set(WORKFLOWS.flatMap((w) => w.functions.map((task) => task.name)))];

    expect(names).toHaveLength(16);
    expect([...tasks.all.keys()].sort()).toEqual(names.sort());
    for (const name of names) environmentOf(stack, `workflow task: ${name}`);
    expect(Object.keys(templateOf(stack).findResources('AWS::Lambda::Function'))).toHaveLength(16);
  });

  it('builds notify-action-outcome, declared by all three workflows, once', () => {
    const { tasks } = taskFunctions();
    const built = WORKFLOWS.map((workflow) =>
      tasks.functionFor(workflow, taskOf(workflow, 'notify-action-outcome')),
    );

    expect(new Set(built).size).toBe(1);
    expect([...tasks.all.keys()]).toEqual(['notify-action-outcome']);
  });

  it('builds request-approval, declared alike by all three workflows, once', () => {
    const { tasks } = taskFunctions();
    const built = WORKFLOWS.map((workflow) =>
      tasks.functionFor(workflow, taskOf(workflow, 'request-approval')),
    );

    for (const workflow of WORKFLOWS) {
      expect(taskOf(workflow, 'request-approval'), workflow.name).toEqual({
        substitution: 'RequestApprovalFunctionArn',
        name: 'request-approval',
        entry: 'functions/request-approval.ts',
        recordsActions: true,
        calls: 'nothing',
      });
    }
    expect(new Set(built).size).toBe(1);
    expect([...tasks.all.keys()]).toEqual(['request-approval']);
  });

  it('refuses a shared task declared differently, rather than granting one workflow the wrong access', () => {
    const { tasks } = taskFunctions();
    tasks.functionFor(SESSION_ACTION_WORKFLOW, completeAction(SESSION_ACTION_WORKFLOW));
    expect(() =>
      tasks.functionFor(DEVICE_ACTION_WORKFLOW, {
        ...completeAction(DEVICE_ACTION_WORKFLOW),
        calls: 'endpoint-management',
      }),
    ).toThrow('Task complete-action is declared differently by device-action');
  });

  it.each([
    ['calls', { calls: 'cloud-administrators' }],
    ['recordsActions', { recordsActions: false }],
    ['entry', { entry: 'functions/record-admin-result.ts' }],
    ['timeoutSeconds', { timeoutSeconds: 240 }],
    // Else one workflow's declaration would hand complete-action the limits table.
    ['appliesGuardrails', { appliesGuardrails: true }],
    ['releasesLimitReservations', { releasesLimitReservations: false }],
    // Else one workflow's declaration would hand complete-action the administrator change lease.
    ['serializesAdministratorChanges', { serializesAdministratorChanges: true }],
    // Else one workflow's declaration would hand complete-action the throttle gate's item.
    ['sharesThrottleGate', { sharesThrottleGate: true }],
  ] as const)('refuses a shared task whose %s differs', (_field, change) => {
    const { tasks } = taskFunctions();
    tasks.functionFor(SESSION_ACTION_WORKFLOW, completeAction(SESSION_ACTION_WORKFLOW));

    expect(() =>
      tasks.functionFor(ADMIN_ACTION_WORKFLOW, {
        ...completeAction(ADMIN_ACTION_WORKFLOW),
        ...change,
      }),
    ).toThrow('Task complete-action is declared differently by admin-action');
  });

  it('shares a task declared alike whatever the order of its fields or its placeholder name', () => {
    const { tasks } = taskFunctions();
    const first = tasks.functionFor(
      SESSION_ACTION_WORKFLOW,
      completeAction(SESSION_ACTION_WORKFLOW),
    );
    const { substitution, name, entry, calls, recordsActions, releasesLimitReservations } =
      completeAction(ADMIN_ACTION_WORKFLOW);
    // The placeholder belongs to one definition file; the function is the same.
    const reordered: WorkflowFunction = {
      ...(releasesLimitReservations === undefined ? {} : { releasesLimitReservations }),
      recordsActions,
      calls,
      entry,
      name,
      substitution: `${substitution}InAdminWorkflow`,
    };

    expect(tasks.functionFor(ADMIN_ACTION_WORKFLOW, reordered)).toBe(first);
    expect(tasks.all.size).toBe(1);
  });

  it('describes each task function as "workflow task: <name>"', () => {
    const { stack, tasks } = taskFunctions();
    tasks.functionFor(ADMIN_ACTION_WORKFLOW, taskOf(ADMIN_ACTION_WORKFLOW, 'read-admin-back'));

    expect(environmentOf(stack, 'workflow task: read-admin-back')).toBeDefined();
  });
});

describe('TaskFunctions for the Citrix Cloud administrator tasks', () => {
  const ADMIN_TASKS = ADMIN_ACTION_WORKFLOW.functions.filter(
    (task) => task.calls === 'cloud-administrators',
  );

  it('declares resolve, apply and read-back as the administrator tasks', () => {
    expect(ADMIN_TASKS.map((task) => task.name)).toEqual([
      'resolve-admin-targets',
      'apply-admin-change',
      'read-admin-back',
    ]);
  });

  it.each(ADMIN_TASKS)(
    'gives $name the Citrix Cloud client without the site, and the guards',
    (task) => {
      const { stack, tasks, secretId } = taskFunctions({
        citrixCustomerId: 'customer-1',
        citrixSiteId: 'site-1',
        citrixApiUrl: 'https://api.citrixcloud.jp',
        citrixApiClientOwner: 'api.owner@example.com',
        protectedAdministrators: 'break.glass@example.com, OID:/citrix/42',
      });
      tasks.functionFor(ADMIN_ACTION_WORKFLOW, task);

      expect(citrixEnvironmentOf(stack, `workflow task: ${task.name}`)).toEqual({
        CITRIX_CREDENTIALS_SECRET_ARN: { Ref: secretId },
        CITRIX_API_URL: 'https://api.citrixcloud.jp',
        CITRIX_CUSTOMER_ID: 'customer-1',
        CITRIX_API_CLIENT_OWNER: 'api.owner@example.com',
        CITRIX_PROTECTED_ADMINS: 'break.glass@example.com,OID:/citrix/42',
      });
    },
  );

  it('leaves out the owner and the protected list when the context has none', () => {
    const { stack, tasks } = taskFunctions({ citrixCustomerId: 'customer-1' });
    tasks.functionFor(ADMIN_ACTION_WORKFLOW, taskOf(ADMIN_ACTION_WORKFLOW, 'apply-admin-change'));

    expect(
      Object.keys(citrixEnvironmentOf(stack, 'workflow task: apply-admin-change')).sort(),
    ).toEqual(['CITRIX_API_URL', 'CITRIX_CREDENTIALS_SECRET_ARN', 'CITRIX_CUSTOMER_ID']);
  });

  it('gives the owner alone when no administrator is protected', () => {
    const { stack, tasks } = taskFunctions({ citrixApiClientOwner: 'OID:/citrix/7' });
    tasks.functionFor(ADMIN_ACTION_WORKFLOW, taskOf(ADMIN_ACTION_WORKFLOW, 'read-admin-back'));
    const environment = citrixEnvironmentOf(stack, 'workflow task: read-admin-back');

    expect(environment.CITRIX_API_CLIENT_OWNER).toBe('OID:/citrix/7');
    expect(environment).not.toHaveProperty('CITRIX_PROTECTED_ADMINS');
  });

  it('gives the record and complete tasks of the administrator workflow no Citrix access', () => {
    const { stack, tasks } = taskFunctions({
      citrixApiClientOwner: 'api.owner@example.com',
      protectedAdministrators: 'break.glass@example.com',
    });
    const names = ['record-admin-result', 'complete-action'];
    // All built before the first Template.fromStack, which synthesizes the app.
    for (const name of names) {
      tasks.functionFor(ADMIN_ACTION_WORKFLOW, taskOf(ADMIN_ACTION_WORKFLOW, name));
    }
    for (const name of names) {
      expect(citrixEnvironmentOf(stack, `workflow task: ${name}`), name).toEqual({});
      expect(environmentOf(stack, `workflow task: ${name}`).ACTIONS_TABLE_NAME, name).toBeDefined();
    }
  });
});

describe('TaskFunctions for the Endpoint Management tasks', () => {
  const EM_TASKS = DEVICE_ACTION_WORKFLOW.functions.filter(
    (task) => task.calls === 'endpoint-management',
  );

  it('declares resolve, send and read-back as the Endpoint Management tasks', () => {
    expect(EM_TASKS.map((task) => task.name)).toEqual([
      'resolve-device-targets',
      'send-device-command',
      'read-device-back',
    ]);
  });

  it('logs them in through Citrix Cloud by default: the server URL and body shape, the client, no DaaS site', () => {
    const { stack, tasks, secretId } = taskFunctions({
      citrixCustomerId: 'customer-1',
      citrixSiteId: 'site-1',
      citrixApiUrl: 'https://api-eu.cloud.com',
      citrixEmUrl: 'https://mdm.example.com:4443/xenmobile/api/v1/',
      citrixEmBodyShape: 'id-array',
    });
    for (const task of EM_TASKS) tasks.functionFor(DEVICE_ACTION_WORKFLOW, task);

    for (const task of EM_TASKS) {
      expect(citrixEnvironmentOf(stack, `workflow task: ${task.name}`), task.name).toEqual({
        CITRIX_EM_URL: 'https://mdm.example.com:4443/xenmobile/api/v1',
        CITRIX_EM_AUTH: 'cloud',
        CITRIX_EM_BODY_SHAPE: 'id-array',
        CITRIX_CREDENTIALS_SECRET_ARN: { Ref: secretId },
        CITRIX_API_URL: 'https://api-eu.cloud.com',
        CITRIX_CUSTOMER_ID: 'customer-1',
      });
    }
  });

  it('refuses administrator credentials without their secret, rather than deploying functions that cannot log in', () => {
    const { tasks } = taskFunctions({ citrixEmAuth: 'credentials' });
    const [send] = EM_TASKS;
    if (send === undefined) throw new Error('no Endpoint Management task');

    expect(() => tasks.functionFor(DEVICE_ACTION_WORKFLOW, send)).toThrow(
      'citrixEmAuth "credentials" needs the Endpoint Management credentials secret',
    );
  });
});

describe('TaskFunctions.bindCitrixCloud', () => {
  const CONTEXT = { citrixCustomerId: 'customer-1', citrixSiteId: 'site-1' };

  function boundFunction(withSite: boolean): Record<string, unknown> {
    const { stack, tasks } = taskFunctions(CONTEXT);
    const fn = new CitrixResponseFunction(stack, 'Other', {
      entry: 'functions/report-administrators.ts',
      description: 'another function',
      logRetention: RetentionDays.ONE_WEEK,
    });
    tasks.bindCitrixCloud(fn, withSite);
    return citrixEnvironmentOf(stack, 'another function');
  }

  it('binds the Citrix Cloud client to a function outside the workflows, without the site', () => {
    expect(boundFunction(false)).toEqual({
      CITRIX_CREDENTIALS_SECRET_ARN: expect.objectContaining({ Ref: expect.any(String) }),
      CITRIX_API_URL: 'https://api.cloud.com',
      CITRIX_CUSTOMER_ID: 'customer-1',
    });
  });

  it('adds the DaaS site only when asked to', () => {
    expect(boundFunction(true)).toMatchObject({ CITRIX_SITE_ID: 'site-1' });
  });

  it('never adds the administrator guards', () => {
    const { stack, tasks } = taskFunctions({
      ...CONTEXT,
      citrixApiClientOwner: 'owner@example.com',
    });
    const fn = new CitrixResponseFunction(stack, 'Other', {
      entry: 'functions/report-administrators.ts',
      description: 'another function',
      logRetention: RetentionDays.ONE_WEEK,
    });
    tasks.bindCitrixCloud(fn, false);

    expect(citrixEnvironmentOf(stack, 'another function')).not.toHaveProperty(
      'CITRIX_API_CLIENT_OWNER',
    );
  });
});

describe('TaskFunctions for notify-action-outcome', () => {
  const NOTIFY = taskOf(SESSION_ACTION_WORKFLOW, 'notify-action-outcome');
  const DESCRIPTION = 'workflow task: notify-action-outcome';
  const DESTINATIONS = {
    soar: 'https://soar.example.com/hooks/citrix',
    ticketing: 'https://hooks.example.org/in',
  };

  /** The function's variables beyond the ones every function has. */
  function notifyEnvironment(fixture: Fixture): Record<string, unknown> {
    fixture.tasks.functionFor(SESSION_ACTION_WORKFLOW, NOTIFY);
    const environment = environmentOf(fixture.stack, DESCRIPTION);
    for (const [variable, value] of Object.entries(POWERTOOLS_VARIABLES)) {
      expect(environment[variable], variable).toBe(value);
    }
    return Object.fromEntries(
      Object.entries(environment).filter(([variable]) => !(variable in POWERTOOLS_VARIABLES)),
    );
  }

  /** A traced request records its URL, whose path may carry a receiver's token: never traced. */
  const UNTRACED_REQUESTS = { POWERTOOLS_TRACER_CAPTURE_HTTPS_REQUESTS: 'false' };

  it('is declared alike in every workflow: records actions, calls the notification services, 120 s', () => {
    for (const workflow of WORKFLOWS) {
      expect(taskOf(workflow, 'notify-action-outcome'), workflow.name).toEqual({
        substitution: 'NotifyActionOutcomeFunctionArn',
        name: 'notify-action-outcome',
        entry: 'functions/notify-action-outcome.ts',
        recordsActions: true,
        calls: 'notifications',
        timeoutSeconds: 120,
      });
    }
  });

  it('gets only the actions table when no destination and no ServiceNow secret is given', () => {
    const fixture = taskFunctions(
      { citrixCustomerId: 'customer-1', citrixSiteId: 'site-1' },
      { serviceNow: false },
    );

    expect(notifyEnvironment(fixture)).toEqual({
      ...UNTRACED_REQUESTS,
      ACTIONS_TABLE_NAME: { Ref: fixture.actionsTableId },
      AUDIT_TABLE_NAME: { Ref: fixture.auditTableId },
    });
  });

  it('gets the destinations and the callback secret ARN, not its value, with destinations', () => {
    const fixture = taskFunctions({ callbackDestinations: DESTINATIONS }, { serviceNow: false });
    const environment = notifyEnvironment(fixture);

    expect(environment).toEqual({
      ...UNTRACED_REQUESTS,
      ACTIONS_TABLE_NAME: { Ref: fixture.actionsTableId },
      AUDIT_TABLE_NAME: { Ref: fixture.auditTableId },
      CALLBACK_DESTINATIONS: JSON.stringify(DESTINATIONS),
      CALLBACK_SECRET_ARN: { Ref: fixture.callbackSecretId },
    });
    // The function reads the destinations back exactly as configured.
    const readBack = parseCallbackDestinations(String(environment.CALLBACK_DESTINATIONS));
    expect([...readBack.keys()]).toEqual(['soar', 'ticketing']);
    expect(readBack.get('soar')?.href).toBe(DESTINATIONS.soar);
  });

  it('gets the ServiceNow secret ARN, which holds the instance URL: never the URL itself', () => {
    const fixture = taskFunctions();

    expect(notifyEnvironment(fixture)).toEqual({
      ...UNTRACED_REQUESTS,
      ACTIONS_TABLE_NAME: { Ref: fixture.actionsTableId },
      AUDIT_TABLE_NAME: { Ref: fixture.auditTableId },
      SERVICENOW_API_SECRET_ARN: { Ref: fixture.serviceNowSecretId },
    });
  });

  it('gets both, and never the Citrix client or guards, when both are configured', () => {
    const fixture = taskFunctions({
      citrixCustomerId: 'customer-1',
      citrixApiClientOwner: 'owner@example.com',
      callbackDestinations: DESTINATIONS,
    });
    const environment = notifyEnvironment(fixture);

    expect(Object.keys(environment).sort()).toEqual([
      'ACTIONS_TABLE_NAME',
      'AUDIT_TABLE_NAME',
      'CALLBACK_DESTINATIONS',
      'CALLBACK_SECRET_ARN',
      'POWERTOOLS_TRACER_CAPTURE_HTTPS_REQUESTS',
      'SERVICENOW_API_SECRET_ARN',
    ]);
    expect(citrixEnvironmentOf(fixture.stack, DESCRIPTION)).toEqual({});
    expect(JSON.stringify(environment)).not.toContain(fixture.secretId);
  });

  it('gives the notification variables to no other task', () => {
    const fixture = taskFunctions({ callbackDestinations: DESTINATIONS });
    for (const workflow of WORKFLOWS) {
      for (const task of workflow.functions) fixture.tasks.functionFor(workflow, task);
    }
    for (const name of fixture.tasks.all.keys()) {
      if (name === 'notify-action-outcome') continue;
      const names = Object.keys(environmentOf(fixture.stack, `workflow task: ${name}`));
      expect(
        names.filter((variable) =>
          /^(CALLBACK|SERVICENOW)_|^POWERTOOLS_TRACER_CAPTURE_HTTPS_REQUESTS$/.test(variable),
        ),
        name,
      ).toEqual([]);
    }
  });
});

describe('TaskFunctions: the audit trail and the guardrails', () => {
  /** Every task once, with a workflow that declares it. */
  const TASKS = [
    ...new Map(
      WORKFLOWS.flatMap((workflow) =>
        workflow.functions.map((task) => [task.name, { workflow, task }] as const),
      ),
    ).values(),
  ];
  // A runbook run's start applies the run's own guardrails, as a resolver does an action's.
  const RESOLVERS = [
    'resolve-session-targets',
    'resolve-device-targets',
    'resolve-admin-targets',
    'start-runbook',
  ];
  // As an operator sets them: the limits as a cdk.json object, the rest as `-c` strings.
  const GUARDRAILS = {
    guardrailLimits: { 'device.wipe': { perRequest: 2, perHour: 6, overLimit: 'refuse' } },
    approvalRequired: 'device.wipe,session.logoff',
    approvalTimeoutSeconds: '900',
    protectedUsers: 'ceo@example.com, CORP\\ciso',
    protectedDevices: '8d5f2a71-3c4b-4e8a-9f10-2b3c4d5e6f70,1042',
  };
  const GUARDRAIL_ENVIRONMENT = {
    GUARDRAIL_LIMITS: JSON.stringify(GUARDRAILS.guardrailLimits),
    APPROVAL_REQUIRED: 'device.wipe,session.logoff',
    APPROVAL_TIMEOUT_SECONDS: '900',
    PROTECTED_USERS: 'ceo@example.com, CORP\\ciso',
    PROTECTED_DEVICES: '8d5f2a71-3c4b-4e8a-9f10-2b3c4d5e6f70,1042',
  };

  it('declares appliesGuardrails on the three resolve tasks and start-runbook, and no other', () => {
    expect(TASKS.filter(({ task }) => task.appliesGuardrails).map(({ task }) => task.name)).toEqual(
      RESOLVERS,
    );
    expect(TASKS).toHaveLength(16);
  });

  it.each(TASKS.map(({ workflow, task }) => ({ name: task.name, workflow, task })))(
    'gives $name exactly its DynamoDB access: BatchWriteItem on the audit table, the records if it records actions, the limits if it resolves',
    ({ workflow, task }) => {
      const fixture = taskFunctions(GUARDRAILS);
      fixture.tasks.functionFor(workflow, task);
      const description = `workflow task: ${task.name}`;
      const environment = environmentOf(fixture.stack, description);

      expect(dynamoGrantsOf(fixture.stack, description)).toEqual(
        [
          `dynamodb:BatchWriteItem on ${fixture.auditTableId}`,
          // Single records, and a session action's batch items beside them.
          ...(task.recordsActions
            ? ['GetItem', 'PutItem', 'UpdateItem', 'BatchGetItem'].map(
                (action) => `dynamodb:${action} on ${fixture.actionsTableId}`,
              )
            : // Only its audit failures, noted on its action (lib/audit/audited.ts).
              [`dynamodb:UpdateItem on ${fixture.actionsTableId}`]),
          ...(RESOLVERS.includes(task.name)
            ? ['GetItem', 'PutItem'].map(
                (action) => `dynamodb:${action} on ${fixture.limitsTableId}`,
              )
            : []),
          // Gives back a rejected or expired action's reservation: the counters' items only.
          ...(task.name === 'complete-action'
            ? ['GetItem', 'PutItem'].map(
                (action) =>
                  `dynamodb:${action} on ${fixture.limitsTableId} (keys ${ACTION_TYPES.join(', ')})`,
              )
            : []),
          // Reads and closes DaaS's shared throttle gate: its own item only.
          ...(task.name === 'advance-session-batch'
            ? ['GetItem', 'UpdateItem'].map(
                (action) =>
                  `dynamodb:${action} on ${fixture.limitsTableId} (keys ${DAAS_THROTTLE_GATE_KEY})`,
              )
            : []),
          // Takes and gives back the administrator change lease: its own item only.
          ...(task.name === 'apply-admin-change'
            ? ['PutItem', 'DeleteItem'].map(
                (action) =>
                  `dynamodb:${action} on ${fixture.limitsTableId} (keys ${administratorChangeLeaseKey(CITRIX_CUSTOMER_ID_PLACEHOLDER)})`,
              )
            : []),
        ].sort(),
      );
      expect(environment.AUDIT_TABLE_NAME).toEqual({ Ref: fixture.auditTableId });
      if (RESOLVERS.includes(task.name)) {
        expect(environment.LIMITS_TABLE_NAME).toEqual({ Ref: fixture.limitsTableId });
      } else if (
        task.name === 'complete-action' ||
        task.name === 'apply-admin-change' ||
        task.name === 'advance-session-batch'
      ) {
        expect(environment.LIMITS_TABLE_NAME).toEqual({ Ref: fixture.limitsTableId });
        for (const variable of GUARDRAIL_VARIABLES) {
          expect(environment).not.toHaveProperty(variable);
        }
      } else {
        expect(environment).not.toHaveProperty('LIMITS_TABLE_NAME');
        for (const variable of GUARDRAIL_VARIABLES) {
          expect(environment).not.toHaveProperty(variable);
        }
      }
    },
  );

  it.each(RESOLVERS)(
    'gives %s the guardrail variables exactly as configured, read back as configured',
    (name) => {
      const fixture = taskFunctions(GUARDRAILS);
      const { workflow, task } = TASKS.find((entry) => entry.task.name === name) ?? {};
      if (workflow === undefined || task === undefined) throw new Error(`${name} is not declared`);
      fixture.tasks.functionFor(workflow, task);
      const environment = environmentOf(fixture.stack, `workflow task: ${name}`);
      const guardrails = Object.fromEntries(
        Object.entries(environment).filter(([variable]) =>
          (GUARDRAIL_VARIABLES as readonly string[]).includes(variable),
        ),
      );

      expect(guardrails).toEqual(GUARDRAIL_ENVIRONMENT);
      // What the function will enforce, from exactly these variables.
      expect(guardrailsFromEnv(GUARDRAIL_ENVIRONMENT)).toEqual({
        ...DEFAULT_GUARDRAIL_SETTINGS,
        limits: {
          ...DEFAULT_GUARDRAIL_SETTINGS.limits,
          'device.wipe': { perRequest: 2, perHour: 6, overLimit: 'refuse' },
        },
        approvalRequired: ['device.wipe', 'session.logoff'],
        approvalTimeoutSeconds: 900,
        protectedUsers: ['ceo@example.com', 'CORP\\ciso'],
        protectedDevices: ['8d5f2a71-3c4b-4e8a-9f10-2b3c4d5e6f70', '1042'],
      });
    },
  );

  it('gives the resolvers no guardrail variable when none is configured, so they enforce the defaults', () => {
    const fixture = taskFunctions();
    for (const { workflow, task } of TASKS) fixture.tasks.functionFor(workflow, task);
    for (const name of RESOLVERS) {
      const environment = environmentOf(fixture.stack, `workflow task: ${name}`);
      const literal = Object.fromEntries(
        Object.entries(environment).filter(
          (entry): entry is [string, string] => typeof entry[1] === 'string',
        ),
      );

      for (const variable of GUARDRAIL_VARIABLES) {
        expect(environment, name).not.toHaveProperty(variable);
      }
      expect(environment.LIMITS_TABLE_NAME, name).toEqual({ Ref: fixture.limitsTableId });
      expect(guardrailsFromEnv(literal), name).toEqual(DEFAULT_GUARDRAIL_SETTINGS);
    }
  });
});
