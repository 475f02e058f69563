import { Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import {
  DefinitionBody,
  LogLevel,
  StateMachine,
  StateMachineType,
} from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { readDefinition, SESSION_ACTION_WORKFLOW } from '../lib/workflow/definition.ts';
import { CitrixResponseFunction } from './citrix-response-function.ts';
import type { CitrixResponseConfig } from './config.ts';

export interface SessionActionWorkflowProps {
  readonly config: CitrixResponseConfig;
  readonly actionsTable: ITable;
  readonly citrixCredentials: ISecret;
}

/**
 * The `session-action` state machine, defined by `state-machines/session-action.asl.json`, and one
 * task function per entry of `SESSION_ACTION_WORKFLOW.functions`.
 */
export class SessionActionWorkflow extends Construct {
  readonly stateMachine: StateMachine;
  /** Task functions by their workflow name, e.g. `submit-session-action`. */
  readonly functions: ReadonlyMap<string, CitrixResponseFunction>;

  constructor(scope: Construct, id: string, props: SessionActionWorkflowProps) {
    super(scope, id);
    const { config } = props;

    const functions = new Map<string, CitrixResponseFunction>();
    const definitionSubstitutions: Record<string, string> = {};
    for (const task of SESSION_ACTION_WORKFLOW.functions) {
      const fn = new CitrixResponseFunction(this, pascalCase(task.name), {
        entry: task.entry,
        description: `${SESSION_ACTION_WORKFLOW.name} task: ${task.name}`,
        logRetention: config.logRetention,
      });
      fn.bindActionsTable(props.actionsTable);
      if (task.callsCitrix) {
        fn.bindSecret('CITRIX_CREDENTIALS_SECRET_ARN', props.citrixCredentials);
        fn.addEnvironment('CITRIX_API_URL', config.citrixApiUrl);
        fn.addEnvironment('CITRIX_CUSTOMER_ID', config.citrixCustomerId);
        if (config.citrixSiteId !== undefined) {
          fn.addEnvironment('CITRIX_SITE_ID', config.citrixSiteId);
        }
      }
      functions.set(task.name, fn);
      definitionSubstitutions[task.substitution] = fn.functionArn;
    }
    this.functions = functions;

    // The file is the definition (the local runner reads the same one), so it goes in as a string:
    // fromFile would upload an S3 asset that tests cannot inspect.
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      definitionBody: DefinitionBody.fromString(
        readDefinition(SESSION_ACTION_WORKFLOW, { maxConcurrency: config.maxConcurrency }),
      ),
      definitionSubstitutions,
      stateMachineType: StateMachineType.STANDARD,
      tracingEnabled: true,
      logs: {
        destination: new LogGroup(this, 'StateMachineLogGroup', { retention: config.logRetention }),
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
        resources: [...functions.values()].map((fn) => fn.functionArn),
      }),
    );

    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Step Functions log delivery (logs:CreateLogDelivery and related) and X-Ray tracing do not support resource-level permissions.',
    });
  }
}

/** `submit-session-action` → `SubmitSessionAction`. */
function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
