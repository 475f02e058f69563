import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { CitrixResponseFunction } from '../../infra/citrix-response-function.ts';
import { readConfig } from '../../infra/config.ts';
import { TaskFunctions } from '../../infra/task-functions.ts';
import { parseCallbackDestinations } from '../../lib/callbacks/signed-callback.ts';
import {
  ADMIN_ACTION_WORKFLOW,
  DEVICE_ACTION_WORKFLOW,
  SESSION_ACTION_WORKFLOW,
  WORKFLOWS,
  type WorkflowDefinition,
  type WorkflowFunction,
} from '../../lib/workflow/definition.ts';

interface Fixture {
  readonly stack: Stack;
  readonly tasks: TaskFunctions;
  readonly secretId: string;
  readonly callbackSecretId: string;
  readonly serviceNowSecretId: string;
}

/** With `serviceNowInstanceUrl` in the context the ServiceNow secret is passed, as the stack does. */
function taskFunctions(context: Record<string, unknown> = {}): Fixture {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test');
  const secret = new Secret(stack, 'Secret');
  const callbackSecret = new Secret(stack, 'CallbackSecret');
  const serviceNowSecret = new Secret(stack, 'ServiceNowSecret');
  const config = readConfig((key) => context[key]);
  const tasks = new TaskFunctions(stack, 'Tasks', {
    config,
    actionsTable: new Table(stack, 'Table', {
      partitionKey: { name: 'actionId', type: AttributeType.STRING },
    }),
    citrixCredentials: secret,
    callbackSigningSecret: callbackSecret,
    ...(config.serviceNowInstanceUrl === undefined
      ? {}
      : { serviceNowApiCredentials: serviceNowSecret }),
  });
  const logicalId = (construct: Secret) =>
    stack.getLogicalId(construct.node.defaultChild as CfnElement);
  return {
    stack,
    tasks,
    secretId: logicalId(secret),
    callbackSecretId: logicalId(callbackSecret),
    serviceNowSecretId: logicalId(serviceNowSecret),
  };
}

const taskOf = (workflow: WorkflowDefinition, name: string): WorkflowFunction => {
  const task = workflow.functions.find((fn) => fn.name === name);
  if (task === undefined) throw new Error(`${name} is not declared by ${workflow.name}`);
  return task;
};
const completeAction = (workflow: WorkflowDefinition) => taskOf(workflow, 'complete-action');

/** The environment variables of the one function whose description is `description`. */
function environmentOf(stack: Stack, description: string): Record<string, unknown> {
  const functions = Object.values(
    Template.fromStack(stack).findResources('AWS::Lambda::Function', {
      Properties: { Description: description },
    }),
  ) as { Properties: { Environment?: { Variables: Record<string, unknown> } } }[];
  expect(functions, description).toHaveLength(1);
  return functions[0]?.Properties.Environment?.Variables ?? {};
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

  it('builds every workflow task once: 15 functions named after their tasks', () => {
    const { stack, tasks } = taskFunctions();
    for (const workflow of WORKFLOWS) {
      for (const task of workflow.functions) tasks.functionFor(workflow, task);
    }
    const names = [...new Set(WORKFLOWS.flatMap((w) => w.functions.map((task) => task.name)))];

    expect(names).toHaveLength(15);
    expect([...tasks.all.keys()].sort()).toEqual(names.sort());
    for (const name of names) environmentOf(stack, `workflow task: ${name}`);
    expect(
      Object.keys(Template.fromStack(stack).findResources('AWS::Lambda::Function')),
    ).toHaveLength(15);
  });

  it('builds notify-action-outcome, declared by all three workflows, once', () => {
    const { tasks } = taskFunctions();
    const built = WORKFLOWS.map((workflow) =>
      tasks.functionFor(workflow, taskOf(workflow, 'notify-action-outcome')),
    );

    expect(new Set(built).size).toBe(1);
    expect([...tasks.all.keys()]).toEqual(['notify-action-outcome']);
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
    const { substitution, name, entry, calls, recordsActions } =
      completeAction(ADMIN_ACTION_WORKFLOW);
    // The placeholder belongs to one definition file; the function is the same.
    const reordered: WorkflowFunction = {
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
    const {
      NODE_OPTIONS: _node,
      POWERTOOLS_SERVICE_NAME: _service,
      POWERTOOLS_LOG_LEVEL: _level,
      ...own
    } = environmentOf(fixture.stack, DESCRIPTION);
    return own;
  }

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

  it('gets only the actions table when no destination and no ServiceNow instance is configured', () => {
    const fixture = taskFunctions({ citrixCustomerId: 'customer-1', citrixSiteId: 'site-1' });

    expect(notifyEnvironment(fixture)).toEqual({ ACTIONS_TABLE_NAME: expect.any(Object) });
  });

  it('gets the destinations and the callback secret ARN, not its value, with destinations', () => {
    const fixture = taskFunctions({ callbackDestinations: DESTINATIONS });
    const environment = notifyEnvironment(fixture);

    expect(environment).toEqual({
      ACTIONS_TABLE_NAME: expect.any(Object),
      CALLBACK_DESTINATIONS: JSON.stringify(DESTINATIONS),
      CALLBACK_SECRET_ARN: { Ref: fixture.callbackSecretId },
    });
    // The function reads the destinations back exactly as configured.
    const readBack = parseCallbackDestinations(String(environment.CALLBACK_DESTINATIONS));
    expect([...readBack.keys()]).toEqual(['soar', 'ticketing']);
    expect(readBack.get('soar')?.href).toBe(DESTINATIONS.soar);
  });

  it('gets the ServiceNow instance and its secret ARN only with serviceNowInstanceUrl', () => {
    const fixture = taskFunctions({ serviceNowInstanceUrl: 'https://acme.service-now.com/' });

    expect(notifyEnvironment(fixture)).toEqual({
      ACTIONS_TABLE_NAME: expect.any(Object),
      SERVICENOW_INSTANCE_URL: 'https://acme.service-now.com',
      SERVICENOW_API_SECRET_ARN: { Ref: fixture.serviceNowSecretId },
    });
  });

  it('gets both, and never the Citrix client or guards, when both are configured', () => {
    const fixture = taskFunctions({
      citrixCustomerId: 'customer-1',
      citrixApiClientOwner: 'owner@example.com',
      callbackDestinations: DESTINATIONS,
      serviceNowInstanceUrl: 'https://acme.service-now.com',
    });
    const environment = notifyEnvironment(fixture);

    expect(Object.keys(environment).sort()).toEqual([
      'ACTIONS_TABLE_NAME',
      'CALLBACK_DESTINATIONS',
      'CALLBACK_SECRET_ARN',
      'SERVICENOW_API_SECRET_ARN',
      'SERVICENOW_INSTANCE_URL',
    ]);
    expect(citrixEnvironmentOf(fixture.stack, DESCRIPTION)).toEqual({});
    expect(JSON.stringify(environment)).not.toContain(fixture.secretId);
  });

  it('gives the notification variables to no other task', () => {
    const fixture = taskFunctions({
      callbackDestinations: DESTINATIONS,
      serviceNowInstanceUrl: 'https://acme.service-now.com',
    });
    for (const workflow of WORKFLOWS) {
      for (const task of workflow.functions) fixture.tasks.functionFor(workflow, task);
    }
    for (const name of fixture.tasks.all.keys()) {
      if (name === 'notify-action-outcome') continue;
      const names = Object.keys(environmentOf(fixture.stack, `workflow task: ${name}`));
      expect(
        names.filter((variable) => /^(CALLBACK|SERVICENOW)_/.test(variable)),
        name,
      ).toEqual([]);
    }
  });
});
