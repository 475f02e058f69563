import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  Stats,
  TextWidget,
  TreatMissingData,
  Unit,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, type IConstruct } from 'constructs';

/**
 * The custom metrics the functions emit (Powertools Metrics, EMF: CloudWatch Logs turns the log
 * lines into metrics, so nothing is granted for them). The alarmed ones carry only the `service`
 * dimension, so one alarm sees every function's count.
 */
export const CUSTOM_METRICS = {
  namespace: 'CitrixResponse',
  service: 'citrix-response',
  /** Audit entries that could not be appended (the action goes on, with a warning). */
  auditAppendFailures: 'AuditAppendFailures',
  /** Administrator report runs that failed. */
  reportFailures: 'ReportFailures',
  /** Citrix answers of 429 Too Many Requests, every product. */
  citrixThrottles: 'CitrixThrottles',
} as const;

/**
 * What the Powertools Tracer and Metrics read, on every function. Responses stay out of traces:
 * a Citrix answer names users, machines and administrators.
 */
export const POWERTOOLS_ENVIRONMENT = {
  POWERTOOLS_SERVICE_NAME: CUSTOM_METRICS.service,
  POWERTOOLS_METRICS_NAMESPACE: CUSTOM_METRICS.namespace,
  POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
} as const;

/**
 * The kinds of alarm, each a section of docs/operations.md (its heading anchor) that says what
 * the alarm means and what to do.
 */
export const ALARM_KINDS = [
  'workflow-executions',
  'lambda-errors',
  'lambda-throttles',
  'api-5xx',
  'dead-letter-queues',
  'audit-append-failures',
  'report-failures',
  'citrix-throttling',
] as const;
export type AlarmKind = (typeof ALARM_KINDS)[number];

/** Every alarm looks at 5-minute periods. */
const PERIOD = Duration.minutes(5);

/**
 * How many errors of a function in 5 minutes raise its alarm. An entry point (API, source, sweep,
 * report) answers 5xx or loses a run on any error. A workflow task also throws by design (a Citrix
 * throttle or outage, retried by its state machine; a rejected target, caught and recorded), so
 * its alarm waits for more than a passing retry; a failure that ends an action raises the
 * workflow's own alarm anyway.
 */
export const LAMBDA_ERROR_THRESHOLDS = { entryPoint: 1, workflowTask: 5 } as const;

/**
 * Citrix 429s in each of two consecutive 5-minute periods before anyone is woken: the clients
 * retry throttled calls with back-off (and DaaS shares a throttle gate), so a short burst heals
 * itself; ten minutes of it means actions are being delayed or failing.
 */
export const CITRIX_THROTTLE_ALARM = { threshold: 25, periods: 2 } as const;

/**
 * A dead-letter queue for events an asynchronous invocation could not deliver: SSE-SQS, TLS only,
 * kept 14 days (the most SQS allows) so a long weekend does not lose one. Its depth is alarmed.
 */
export function deadLetterQueue(scope: Construct, id: string): Queue {
  return new Queue(scope, id, {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
}

export interface OperationsProps {
  /** The API's stage: its 5xx answers are alarmed. */
  readonly apiStage: Stage;
  /** The web ACL in front of the stage, as WAF names it in its metrics, and its rate rule. */
  readonly webAcl: { readonly metricName: string; readonly rateRuleMetricName: string };
  /** Subscribed to the alarm topic (a confirmation mail is sent first). */
  readonly alarmEmail?: string;
}

/**
 * The stack's operations: one alarm topic, encrypted with its own key, every alarm (with its alarm
 * and OK actions on the topic) and one dashboard. Built last: it finds every function, state
 * machine and dead-letter queue of the stack itself, so a new one is alarmed without a change here.
 */
export class Operations extends Construct {
  readonly topic: Topic;
  readonly key: Key;
  readonly dashboard: Dashboard;
  /** Every alarm, by its name. */
  readonly alarms: ReadonlyMap<string, Alarm>;
  readonly #alarms = new Map<string, Alarm>();
  readonly #prefix: string;

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.#prefix = stack.stackName;

    // The key only protects alarm notifications in flight: nothing to keep once the stack is gone.
    this.key = new Key(this, 'AlarmTopicKey', {
      description: `${stack.stackName}: encrypts the alarm notifications`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // CloudWatch encrypts what it publishes to the topic with this key: for this account's alarms
    // of this stack only (their names start with the stack name).
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublishToTheAlarmTopic',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: `${this.#prefix}-*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    this.topic = new Topic(this, 'AlarmTopic', {
      displayName: `${stack.stackName} alarms`,
      masterKey: this.key,
      enforceSSL: true,
    });
    if (props.alarmEmail !== undefined) {
      this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    }

    const all = stack.node.findAll();
    const stateMachines = all.filter((c): c is StateMachine => c instanceof StateMachine);
    const functions = all.filter((c): c is LambdaFunction => c instanceof LambdaFunction);
    const queues = all.filter((c): c is Queue => c instanceof Queue);

    for (const stateMachine of stateMachines) {
      const name = this.#nameOf(stateMachine);
      this.#alarm('workflow-executions', `${name}-ExecutionsFailed`, {
        metric: stateMachine.metricFailed({ period: PERIOD, statistic: Stats.SUM }),
        threshold: 1,
        description: `An execution of ${name} failed: an action may have stopped before its end.`,
      });
      this.#alarm('workflow-executions', `${name}-ExecutionsTimedOut`, {
        metric: stateMachine.metricTimedOut({ period: PERIOD, statistic: Stats.SUM }),
        threshold: 1,
        description: `An execution of ${name} ran past its TimeoutSeconds.`,
      });
      this.#alarm('workflow-executions', `${name}-ExecutionsAborted`, {
        metric: stateMachine.metricAborted({ period: PERIOD, statistic: Stats.SUM }),
        threshold: 1,
        description: `An execution of ${name} was stopped (StopExecution).`,
      });
    }

    for (const fn of functions) {
      const name = this.#nameOf(fn);
      const task = isWorkflowTask(fn);
      const errors = task
        ? LAMBDA_ERROR_THRESHOLDS.workflowTask
        : LAMBDA_ERROR_THRESHOLDS.entryPoint;
      this.#alarm('lambda-errors', `${name}-Errors`, {
        metric: fn.metricErrors({ period: PERIOD, statistic: Stats.SUM }),
        threshold: errors,
        description: task
          ? `The workflow task ${name} failed ${errors} or more times in 5 minutes.`
          : `${name} failed: a request got 5xx or a scheduled run was retried.`,
      });
      this.#alarm('lambda-throttles', `${name}-Throttles`, {
        metric: fn.metricThrottles({ period: PERIOD, statistic: Stats.SUM }),
        threshold: 1,
        description: `Lambda refused to run ${name}: the account's concurrency is exhausted.`,
      });
    }

    this.#alarm('api-5xx', 'Api-5xx', {
      metric: props.apiStage.metricServerError({ period: PERIOD, statistic: Stats.SUM }),
      threshold: 1,
      description: 'The API answered 5xx: a function failed or API Gateway could not reach it.',
    });

    for (const queue of queues) {
      const name = this.#nameOf(queue);
      this.#alarm('dead-letter-queues', `${name}-NotEmpty`, {
        metric: queue.metricApproximateNumberOfMessagesVisible({
          period: PERIOD,
          statistic: Stats.MAXIMUM,
        }),
        threshold: 1,
        description: `${name} holds events an asynchronous invocation could not deliver.`,
      });
    }

    const custom = (metricName: string) =>
      new Metric({
        namespace: CUSTOM_METRICS.namespace,
        metricName,
        dimensionsMap: { service: CUSTOM_METRICS.service },
        period: PERIOD,
        statistic: Stats.SUM,
        unit: Unit.COUNT,
      });
    this.#alarm('audit-append-failures', 'AuditAppendFailures', {
      metric: custom(CUSTOM_METRICS.auditAppendFailures),
      threshold: 1,
      description: 'An audit entry could not be appended: the action carries a warning.',
    });
    this.#alarm('report-failures', 'ReportFailures', {
      metric: custom(CUSTOM_METRICS.reportFailures),
      threshold: 1,
      description: 'The administrator report failed: no changes were reported for that run.',
    });
    this.#alarm('citrix-throttling', 'CitrixThrottling', {
      metric: custom(CUSTOM_METRICS.citrixThrottles),
      threshold: CITRIX_THROTTLE_ALARM.threshold,
      evaluationPeriods: CITRIX_THROTTLE_ALARM.periods,
      description: `Citrix answered 429 at least ${CITRIX_THROTTLE_ALARM.threshold} times in each of ${CITRIX_THROTTLE_ALARM.periods} 5-minute periods.`,
    });
    this.alarms = this.#alarms;

    this.dashboard = this.#dashboard({ props, stateMachines, functions, queues, custom });
  }

  /** A construct's path below the stack, as alarm names and labels show it. */
  #nameOf(construct: IConstruct): string {
    const stackPath = Stack.of(this).node.path;
    const path = construct.node.path.slice(stackPath.length + 1);
    // `Sweeps/Handler` → `Sweeps-Handler`; the L2's own id (`StateMachine`) adds nothing.
    return path.replace(/\/StateMachine$/, '').replaceAll('/', '-');
  }

  #alarm(
    kind: AlarmKind,
    name: string,
    options: {
      readonly metric: IMetric;
      readonly threshold: number;
      readonly description: string;
      readonly evaluationPeriods?: number;
    },
  ): void {
    const alarmName = `${this.#prefix}-${name}`;
    const periods = options.evaluationPeriods ?? 1;
    const alarm = new Alarm(this, name, {
      alarmName,
      alarmDescription: `${options.description} What to do: docs/operations.md#${kind}`,
      metric: options.metric,
      threshold: options.threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      // No data means nothing happened: a custom metric exists only once emitted, and AWS metrics
      // have no datapoint without an execution, invocation or message.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const action = new SnsAction(this.topic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.#alarms.set(alarmName, alarm);
  }

  #dashboard({
    props,
    stateMachines,
    functions,
    queues,
    custom,
  }: {
    props: OperationsProps;
    stateMachines: StateMachine[];
    functions: LambdaFunction[];
    queues: Queue[];
    custom: (metricName: string) => Metric;
  }): Dashboard {
    const stack = Stack.of(this);
    const labelled = (metric: Metric, construct: IConstruct) =>
      metric.with({ label: this.#nameOf(construct) });
    const search = (label: string, dimensions: string, metricName: string, statistic = 'Sum') =>
      new MathExpression({
        label,
        expression: `SEARCH('{${CUSTOM_METRICS.namespace},${dimensions}} MetricName="${metricName}"', '${statistic}', 300)`,
        period: PERIOD,
        usingMetrics: {},
      });
    const graph = (title: string, left: IMetric[], width = 12) =>
      new GraphWidget({ title, left, width, height: 6, period: PERIOD });
    const wafMetric = (metricName: string, rule: string) =>
      new Metric({
        namespace: 'AWS/WAFV2',
        metricName,
        dimensionsMap: { WebACL: props.webAcl.metricName, Region: stack.region, Rule: rule },
        period: PERIOD,
        statistic: Stats.SUM,
      });

    const dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `${this.#prefix}-operations`,
      defaultInterval: Duration.hours(6),
    });
    dashboard.addWidgets(
      new TextWidget({
        markdown: `# ${this.#prefix}\nEvery alarm and what to do: docs/operations.md. An action's steps: \`npx citrix-response timeline <actionId>\`.`,
        width: 24,
        height: 2,
      }),
      new AlarmStatusWidget({
        title: 'Alarms',
        alarms: [...this.#alarms.values()],
        width: 24,
        height: 6,
      }),
    );
    dashboard.addWidgets(
      graph('Actions finished, by action and outcome', [
        search('Actions', 'service,action,outcome', 'ActionsFinished'),
      ]),
      graph('Targets finished, by action and outcome', [
        search('Targets', 'service,action,outcome', 'TargetsFinished'),
      ]),
      graph(
        'Workflow executions failed, timed out, aborted',
        stateMachines.flatMap((stateMachine) => [
          labelled(stateMachine.metricFailed({ statistic: Stats.SUM }), stateMachine),
          labelled(stateMachine.metricTimedOut({ statistic: Stats.SUM }), stateMachine),
          labelled(stateMachine.metricAborted({ statistic: Stats.SUM }), stateMachine),
        ]),
      ),
      graph(
        'Workflow executions started',
        stateMachines.map((stateMachine) =>
          labelled(stateMachine.metricStarted({ statistic: Stats.SUM }), stateMachine),
        ),
      ),
      graph('Citrix calls, by product and status', [
        search('Calls', 'service,product,status', 'CitrixCalls'),
      ]),
      graph('Citrix throttles and retries', [
        custom(CUSTOM_METRICS.citrixThrottles).with({ label: 'Throttles (429)' }),
        search('Retries', 'service,product', 'CitrixRetries'),
      ]),
      graph('Approval wait (seconds), by action', [
        search('Approval wait', 'service,action', 'ApprovalWaitSeconds', 'Maximum'),
      ]),
      graph('Sweep targets, by sweep and outcome', [
        search('Sweep targets', 'service,sweep,outcome', 'SweepTargets'),
      ]),
      graph('Audit append failures and report failures', [
        custom(CUSTOM_METRICS.auditAppendFailures).with({ label: 'Audit append failures' }),
        custom(CUSTOM_METRICS.reportFailures).with({ label: 'Report failures' }),
      ]),
      graph('API requests and errors', [
        props.apiStage.metricCount({ statistic: Stats.SUM, label: 'Requests' }),
        props.apiStage.metricClientError({ statistic: Stats.SUM, label: '4xx' }),
        props.apiStage.metricServerError({ statistic: Stats.SUM, label: '5xx' }),
      ]),
      graph('API latency (p99, ms)', [
        props.apiStage.metricLatency({ statistic: Stats.p(99), label: 'Latency' }),
        props.apiStage.metricIntegrationLatency({
          statistic: Stats.p(99),
          label: 'Integration latency',
        }),
      ]),
      graph('WAF: requests blocked', [
        wafMetric('BlockedRequests', props.webAcl.rateRuleMetricName).with({
          label: 'Rate limit per address',
        }),
        wafMetric('BlockedRequests', 'ALL').with({ label: 'All rules' }),
      ]),
      graph(
        'Lambda errors',
        functions.map((fn) => labelled(fn.metricErrors({ statistic: Stats.SUM }), fn)),
        24,
      ),
      graph(
        'Lambda throttles',
        functions.map((fn) => labelled(fn.metricThrottles({ statistic: Stats.SUM }), fn)),
      ),
      graph(
        'Dead-letter queues: messages waiting',
        queues.map((queue) =>
          labelled(
            queue.metricApproximateNumberOfMessagesVisible({ statistic: Stats.MAXIMUM }),
            queue,
          ),
        ),
      ),
    );
    return dashboard;
  }
}

/** Workflow tasks are the functions of the `Tasks` construct (infra/task-functions.ts). */
function isWorkflowTask(fn: LambdaFunction): boolean {
  return fn.node.scope?.node.id === 'Tasks';
}
