import { App, Stack } from 'aws-cdk-lib';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../infra/config.ts';
import { TaskFunctions } from '../../infra/task-functions.ts';
import { DEVICE_ACTION_WORKFLOW, SESSION_ACTION_WORKFLOW } from '../../lib/workflow/definition.ts';

function taskFunctions(): TaskFunctions {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test');
  return new TaskFunctions(stack, 'Tasks', {
    config: readConfig(() => undefined),
    actionsTable: new Table(stack, 'Table', {
      partitionKey: { name: 'actionId', type: AttributeType.STRING },
    }),
    citrixCredentials: new Secret(stack, 'Secret'),
  });
}

const completeAction = (workflow: typeof SESSION_ACTION_WORKFLOW) => {
  const task = workflow.functions.find((fn) => fn.name === 'complete-action');
  if (task === undefined) throw new Error('complete-action is not declared');
  return task;
};

describe('TaskFunctions', () => {
  it('builds a task declared by two workflows once', () => {
    const tasks = taskFunctions();
    const first = tasks.functionFor(
      SESSION_ACTION_WORKFLOW,
      completeAction(SESSION_ACTION_WORKFLOW),
    );
    const second = tasks.functionFor(
      DEVICE_ACTION_WORKFLOW,
      completeAction(DEVICE_ACTION_WORKFLOW),
    );
    expect(second).toBe(first);
    expect(tasks.all.size).toBe(1);
  });

  it('refuses a shared task declared differently, rather than granting one workflow the wrong access', () => {
    const tasks = taskFunctions();
    tasks.functionFor(SESSION_ACTION_WORKFLOW, completeAction(SESSION_ACTION_WORKFLOW));
    expect(() =>
      tasks.functionFor(DEVICE_ACTION_WORKFLOW, {
        ...completeAction(DEVICE_ACTION_WORKFLOW),
        calls: 'endpoint-management',
      }),
    ).toThrow('Task complete-action is declared differently by device-action');
  });
});
