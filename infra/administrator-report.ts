import { Duration } from 'aws-cdk-lib';
import { AttributeType, type Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Alias } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { CitrixResponseFunction } from './citrix-response-function.ts';
import type { CitrixResponseConfig } from './config.ts';
import { retainedTable } from './storage.ts';
import type { TaskFunctions } from './task-functions.ts';

export interface AdministratorReportProps {
  readonly config: CitrixResponseConfig;
  /** Binds the Citrix Cloud API client the same way as for the workflow tasks. */
  readonly tasks: TaskFunctions;
}

/**
 * The scheduled administrator report: an EventBridge rule runs the function, which snapshots the
 * Citrix Cloud administrators into the snapshots table and publishes findings to the topic.
 */
export class AdministratorReport extends Construct {
  readonly snapshotsTable: Table;
  readonly topic: Topic;
  readonly handler: CitrixResponseFunction;
  readonly rule: Rule;

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

    this.handler = new CitrixResponseFunction(this, 'Handler', {
      entry: 'functions/report-administrators.ts',
      description:
        'Scheduled report: Citrix Cloud administrators added, made Full, given more access, removed',
      logRetention: config.logRetention,
      // One access read per administrator, 5 at a time: a large tenant (2000 administrators) needs
      // minutes, not the 2 minutes a small one does.
      timeout: Duration.minutes(10),
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
          retryAttempts: 2,
        }),
      ],
    });
  }
}
