import { Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import {
  DefinitionBody,
  LogLevel,
  StateMachine,
  StateMachineType,
} from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { readDefinition, type WorkflowDefinition } from '../lib/workflow/definition.ts';
import type { CitrixResponseFunction } from './citrix-response-function.ts';
import type { TaskFunctions } from './task-functions.ts';

export interface ActionWorkflowProps {
  readonly workflow: WorkflowDefinition;
  readonly tasks: TaskFunctions;
  readonly maxConcurrency: number;
  readonly approvalTimeoutSeconds: number;
  readonly logRetention: RetentionDays;
}

/**
 * One state machine, defined by its `state-machines/<name>.asl.json` file, invoking the task
 * functions its definition declares.
 */
export class ActionWorkflow extends Construct {
  readonly stateMachine: StateMachine;
  /** This workflow's task functions by name, e.g. `send-device-command`. */
  readonly functions: ReadonlyMap<string, CitrixResponseFunction>;

  constructor(scope: Construct, id: string, props: ActionWorkflowProps) {
    super(scope, id);
    const { workflow } = props;

    const functions = new Map<string, CitrixResponseFunction>();
    const definitionSubstitutions: Record<string, string> = {};
    for (const task of workflow.functions) {
      const fn = props.tasks.functionFor(workflow, task);
      functions.set(task.name, fn);
      definitionSubstitutions[task.substitution] = fn.functionArn;
    }
    this.functions = functions;

    // The file is the definition (the local runner reads the same one), so it goes in as a string:
    // fromFile would upload an S3 asset that tests cannot inspect.
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      definitionBody: DefinitionBody.fromString(
        readDefinition(workflow, {
          maxConcurrency: props.maxConcurrency,
          approvalTimeoutSeconds: props.approvalTimeoutSeconds,
        }),
      ),
      definitionSubstitutions,
      stateMachineType: StateMachineType.STANDARD,
      tracingEnabled: true,
      logs: {
        destination: new LogGroup(this, 'StateMachineLogGroup', { retention: props.logRetention }),
        level: LogLevel.ALL,
        // Every state transition is logged, but not its input and output: those hold user names
        // and reasons, which stay in the execution history (90 days) instead of the logs.
        includeExecutionData: false,
      },
    });

    // With a string definition nothing is granted automatically. One statement names exactly the
    // task functions' ARNs, which the definition invokes unqualified, so no `:*` version wildcard.
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [...new Set(functions.values())].map((fn) => fn.functionArn),
      }),
    );

    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Step Functions log delivery (logs:CreateLogDelivery and related) and X-Ray tracing do not support resource-level permissions.',
    });
  }
}
