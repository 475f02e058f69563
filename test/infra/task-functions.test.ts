import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { CitrixResponseFunction } from '../../infra/citrix-response-function.ts';
import { readConfig } from '../../infra/config.ts';
import { TaskFunctions } from '../../infra/task-functions.ts';
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
}

function taskFunctions(context: Record<string, unknown> = {}): Fixture {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test');
  const secret = new Secret(stack, 'Secret');
  const tasks = new TaskFunctions(stack, 'Tasks', {
    config: readConfig((key) => context[key]),
    actionsTable: new Table(stack, 'Table', {
      partitionKey: { name: 'actionId', type: AttributeType.STRING },
    }),
    citrixCredentials: secret,
  });
  return { stack, tasks, secretId: stack.getLogicalId(secret.node.defaultChild as CfnElement) };
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

  it('builds every workflow task once: 14 functions named after their tasks', () => {
    const { stack, tasks } = taskFunctions();
    for (const workflow of WORKFLOWS) {
      for (const task of workflow.functions) tasks.functionFor(workflow, task);
    }
    const names = [...new Set(WORKFLOWS.flatMap((w) => w.functions.map((task) => task.name)))];

    expect(names).toHaveLength(14);
    expect([...tasks.all.keys()].sort()).toEqual(names.sort());
    for (const name of names) environmentOf(stack, `workflow task: ${name}`);
    expect(
      Object.keys(Template.fromStack(stack).findResources('AWS::Lambda::Function')),
    ).toHaveLength(14);
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
