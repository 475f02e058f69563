import { Duration } from 'aws-cdk-lib';
import { EventField, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { CitrixResponseFunction } from './citrix-response-function.ts';
import { deadLetterQueue } from './operations.ts';

/** How an execution ended that no state of its own can catch (a Catch never sees these). */
export const UNRECORDED_EXECUTION_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;

export interface UnrecordedExecutionsProps {
  /** Every workflow's state machine: executions are named after the action they run. */
  readonly stateMachines: readonly StateMachine[];
  /** The complete-action task, whose last-resort input fails an action still unfinished. */
  readonly completeAction: CitrixResponseFunction;
}

/**
 * The backstop behind every workflow's own Catch: an execution that ends failed, timed out or
 * aborted (its execution timeout, `States.Runtime`, `States.DataLimitExceeded`, a stop by hand)
 * sends the complete-action task its last-resort input, which marks the action failed only if it
 * has not ended; an action whose workflow recorded it is left as it is. So no action stays
 * `running` because its workflow ended where no state could record it.
 */
export class UnrecordedExecutions extends Construct {
  readonly rule: Rule;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: UnrecordedExecutionsProps) {
    super(scope, id);
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue');
    // An event the function still failed on after Lambda's own retries is kept too. The function
    // already exists (every workflow's CompleteAction), so its dead-letter queue is set on its
    // resource, as the `deadLetterQueue` prop would have set it.
    props.completeAction.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(6) });
    (props.completeAction.node.defaultChild as CfnFunction).deadLetterConfig = {
      targetArn: this.deadLetterQueue.queueArn,
    };
    props.completeAction.addToRolePolicy(
      new PolicyStatement({
        actions: ['sqs:SendMessage'],
        resources: [this.deadLetterQueue.queueArn],
      }),
    );
    const status = EventField.fromPath('$.detail.status');
    this.rule = new Rule(this, 'Rule', {
      description:
        'Marks an action failed when its workflow execution ended where no state could record it',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          status: [...UNRECORDED_EXECUTION_STATUSES],
          stateMachineArn: props.stateMachines.map((machine) => machine.stateMachineArn),
        },
      },
      targets: [
        new LambdaFunction(props.completeAction, {
          event: RuleTargetInput.fromObject({
            actionId: EventField.fromPath('$.detail.name'),
            lastResort: {
              Error: `States.${status}`,
              Cause: `The workflow execution ended ${status} before it recorded the action's outcome`,
            },
          }),
          retryAttempts: 8,
          maxEventAge: Duration.hours(6),
          deadLetterQueue: this.deadLetterQueue,
        }),
      ],
    });
  }
}
