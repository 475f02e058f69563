import { Duration } from 'aws-cdk-lib';
import { AttributeType, type Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Alias } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CitrixResponseFunction } from './citrix-response-function.ts';
import type { CitrixResponseConfig } from './config.ts';
import { deadLetterQueue } from './operations.ts';
import { retainedTable } from './storage.ts';
import type { TaskFunctions } from './task-functions.ts';

export interface AdministratorReportProps {
  readonly config: CitrixResponseConfig;
  /** Binds the Citrix Cloud API client the same way as for the workflow tasks. */
  readonly tasks: TaskFunctions;
}

/**
 * How often a report run that could not start or failed is tried again, and for how long: the
 * next scheduled run is due a day (by default) later, so an hour-old event is still worth running.
 */
export const REPORT_RUN_RETRIES = {
  maxEventAge: Duration.hours(1),
  /** EventBridge's attempts to hand the event to Lambda. */
  ruleRetryAttempts: 2,
  /** Lambda's attempts to run the function (2 is the most Lambda allows). */
  functionRetryAttempts: 2,
} as const;

/**
 * The scheduled administrator report: an EventBridge rule runs the function, which snapshots the
 * Citrix Cloud administrators into the snapshots table and publishes findings to the topic. A run
 * that could not be delivered or still failed after the retries lands in the dead-letter queue.
 */
export class AdministratorReport extends Construct {
  readonly snapshotsTable: Table;
  readonly topic: Topic;
  readonly handler: CitrixResponseFunction;
  readonly rule: Rule;
  /** The scheduled events of runs that never ran to the end, with the error. */
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: AdministratorReportProps) {
    super(scope, id);
    const { config } = props;

    this.snapshotsTable = retainedTable(this, 'SnapshotsTable', {
      partitionKey: { name: 'kind', type: AttributeType.STRING },
      sortKey: { name: 'takenAt', type: AttributeType.STRING },
      timeToLiveAttribute: 'expiresAt',
    });

    // Subscribers (email, chat, a SIEM) are added by the operator; the messages name
    // administrators, so the topic is encrypted and refuses plain HTTP publishers.
    this.topic = new Topic(this, 'Topic', {
      displayName: 'Citrix Cloud administrator changes',
      masterKey: Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
      enforceSSL: true,
    });

    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue');
    this.handler = new CitrixResponseFunction(this, 'Handler', {
      entry: 'functions/report-administrators.ts',
      description:
        'Scheduled report: Citrix Cloud administrators added, made Full, given more access, removed',
      logRetention: config.logRetention,
      // One access read per administrator, 5 at a time: a large tenant (2000 administrators) needs
      // minutes, not the 2 minutes a small one does.
      timeout: Duration.minutes(10),
      asynchronousInvocation: {
        retryAttempts: REPORT_RUN_RETRIES.functionRetryAttempts,
        maxEventAge: REPORT_RUN_RETRIES.maxEventAge,
        deadLetterQueue: this.deadLetterQueue,
      },
    });
    props.tasks.bindCitrixCloud(this.handler, false);
    this.handler.addEnvironment('SNAPSHOTS_TABLE_NAME', this.snapshotsTable.tableName);
    this.handler.addEnvironment('ADMIN_REPORT_PENDING_DAYS', String(config.adminReportPendingDays));
    this.handler.addEnvironment('REPORT_TOPIC_ARN', this.topic.topicArn);
    // UpdateItem marks a saved report published once SNS took it.
    this.snapshotsTable.grant(
      this.handler,
      'dynamodb:Query',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    );
    // Not topic.grantPublish: with an alias it adds kms:GenerateDataKey* on every key. The AWS
    // managed SNS key already lets any principal of the account use it through SNS.
    this.handler.addToRolePolicy(
      new PolicyStatement({ actions: ['sns:Publish'], resources: [this.topic.topicArn] }),
    );

    this.rule = new Rule(this, 'Schedule', {
      description: 'Runs the Citrix Cloud administrator report',
      schedule: Schedule.expression(config.adminReportSchedule),
      targets: [
        new LambdaFunction(this.handler, {
          event: RuleTargetInput.fromObject({ source: 'schedule' }),
          retryAttempts: REPORT_RUN_RETRIES.ruleRetryAttempts,
          maxEventAge: REPORT_RUN_RETRIES.maxEventAge,
          deadLetterQueue: this.deadLetterQueue,
        }),
      ],
    });
  }
}
