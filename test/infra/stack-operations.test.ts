import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { routeThrottles, STAGE_THROTTLE, WEB_ACL_RULES } from '../../infra/actions-api.ts';
import { ALARM_KINDS } from '../../infra/operations.ts';
import { COMPLETE_ACTION } from '../../lib/workflow/definition.ts';
import {
  ALARM_EMAIL,
  type Json,
  POWERTOOLS_VARIABLES,
  type Resource,
  SYNTH_TIMEOUT,
  type SynthesizedStack,
  statesOfType,
  synthesized,
  TASKS,
  target,
  valuesOfKey,
} from './support/stack.ts';

/**
 * Operations by default, in the `configured` stack (alarm email, a rate limit of 600 per address)
 * and, where the defaults differ, the `defaults` one: every alarm to one encrypted topic, one
 * dashboard, a dead-letter queue behind every asynchronous invocation, tracing everywhere but the
 * Splunk token, and the API's protection (a WAF web ACL with a rate-based rule, and a throttle per
 * route).
 */

let stack: SynthesizedStack;
beforeAll(() => {
  stack = synthesized('configured');
}, SYNTH_TIMEOUT);

type Template = { Resources: Record<string, Resource> };
interface AlarmProperties {
  AlarmName: string;
  AlarmDescription: string;
  Namespace: string;
  MetricName: string;
  Dimensions: { Name: string; Value: Json }[];
  Statistic: string;
  Period: number;
  Threshold: number;
  EvaluationPeriods: number;
  DatapointsToAlarm: number;
  ComparisonOperator: string;
  TreatMissingData: string;
  AlarmActions: Json[];
  OKActions: Json[];
}

const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

function alarms(of: SynthesizedStack = stack): AlarmProperties[] {
  return of
    .idsOf('AWS::CloudWatch::Alarm')
    .map((id) => of.resource(id).Properties as unknown as AlarmProperties);
}

/** The alarms on `metric` whose dimension `name` is `value`. */
function alarmsOn(namespace: string, metric: string, name: string, value: Json) {
  return alarms().filter(
    (alarm) =>
      alarm.Namespace === namespace &&
      alarm.MetricName === metric &&
      alarm.Dimensions.some(
        (dimension) =>
          dimension.Name === name && JSON.stringify(dimension.Value) === JSON.stringify(value),
      ),
  );
}

/** The one alarm on `metric` of that resource, with what every alarm here shares. */
function expectOneAlarm(
  namespace: string,
  metric: string,
  dimension: [string, Json],
  expected: Partial<AlarmProperties>,
) {
  const found = alarmsOn(namespace, metric, ...dimension);
  expect(found, `${metric} ${JSON.stringify(dimension)}`).toHaveLength(1);
  expect(found[0]).toMatchObject({
    Period: 300,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    EvaluationPeriods: 1,
    DatapointsToAlarm: 1,
    TreatMissingData: 'notBreaching',
    ...expected,
  });
}

describe('the alarm topic', () => {
  it('is encrypted with its own key, rotated yearly, which CloudWatch may use only for this stack’s alarms of this account', () => {
    const topic = stack.idOf(stack.stack.operations.topic);
    const key = stack.idOf(stack.stack.operations.key);

    expect(stack.resource(topic).Properties.KmsMasterKeyId).toEqual(arnOf(key));
    expect(stack.resource(key).Properties.EnableKeyRotation).toBe(true);
    const statements = (
      stack.resource(key).Properties.KeyPolicy as { Statement: Record<string, Json>[] }
    ).Statement;
    const cloudWatch = statements.filter((statement) =>
      JSON.stringify(statement.Principal).includes('cloudwatch.amazonaws.com'),
    );
    expect(cloudWatch).toEqual([
      {
        Sid: 'CloudWatchAlarmsPublishToTheAlarmTopic',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': expect.anything() },
        },
      },
    ]);
    const [statement] = cloudWatch;
    const condition = statement?.Condition as { ArnLike: { 'aws:SourceArn': Json } };
    const sourceArn = target(condition.ArnLike['aws:SourceArn']);
    expect(sourceArn).toBe(
      'arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:CitrixResponse-*',
    );
    // The condition covers every alarm of the stack: each name starts with the stack name.
    for (const alarm of alarms()) expect(alarm.AlarmName).toMatch(/^CitrixResponse-/);
    // Nobody else but the account (the CDK default statement) is named in the key policy.
    expect(
      statements.filter((statement) => statement !== cloudWatch[0]).map((s) => s.Principal),
    ).toEqual([{ AWS: expect.anything() }]);
  });

  it(
    'mails the alarm email when one is configured, and has no subscriber otherwise',
    () => {
      const topic = stack.idOf(stack.stack.operations.topic);
      const subscriptions = stack
        .idsOf('AWS::SNS::Subscription')
        .map((id) => stack.resource(id).Properties);
      expect(subscriptions).toEqual([
        { Protocol: 'email', Endpoint: ALARM_EMAIL, TopicArn: { Ref: topic } },
      ]);

      const defaults = synthesized('defaults');
      expect(defaults.idsOf('AWS::SNS::Subscription')).toEqual([]);
    },
    SYNTH_TIMEOUT,
  );

  it('is a stack output', () => {
    expect(stack.outputs.AlarmTopicArn?.Value).toEqual({
      Ref: stack.idOf(stack.stack.operations.topic),
    });
  });
});

describe('alarms', () => {
  it('send their alarm and their return to OK to the topic, and say where to read what to do', () => {
    const topic = { Ref: stack.idOf(stack.stack.operations.topic) };
    const headings = new Set(
      [
        ...readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8').matchAll(
          /^#{2,4} (.+)$/gm,
        ),
      ].map(([, heading]) => githubAnchor(String(heading))),
    );

    expect(alarms().length).toBeGreaterThan(0);
    for (const alarm of alarms()) {
      expect(alarm.AlarmActions, alarm.AlarmName).toEqual([topic]);
      expect(alarm.OKActions, alarm.AlarmName).toEqual([topic]);
      const kind = /What to do: docs\/operations\.md#([a-z0-9-]+)$/.exec(
        alarm.AlarmDescription,
      )?.[1];
      expect(ALARM_KINDS, alarm.AlarmName).toContain(kind);
      expect(headings, `docs/operations.md has no section #${kind}`).toContain(kind);
    }
    // Unique names: an alarm replaced by another of the same name would silently drop it.
    const names = alarms().map((alarm) => alarm.AlarmName);
    expect(new Set(names).size).toBe(names.length);
  });

  it('are each named in docs/operations.md, as created', () => {
    const docs = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
    for (const { AlarmName: name } of alarms()) {
      // Per resource: the resource's name, with the metric suffixes listed once for the kind.
      const base = name.replace(
        /-(ExecutionsFailed|ExecutionsTimedOut|ExecutionsAborted|Errors|Throttles|NotEmpty)$/,
        '',
      );
      expect(docs, name).toContain(`\`${base}\``);
    }
  });

  it('raise on a failed, timed-out or aborted execution of every workflow', () => {
    const stateMachines = stack.idsOf('AWS::StepFunctions::StateMachine');
    expect(stateMachines).toHaveLength(4);
    for (const id of stateMachines) {
      for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
        expectOneAlarm('AWS/States', metric, ['StateMachineArn', { Ref: id }], {
          Statistic: 'Sum',
          Threshold: 1,
        });
      }
    }
    expect(alarms().map((alarm) => alarm.AlarmName)).toContain(
      'CitrixResponse-SessionAction-ExecutionsFailed',
    );
  });

  it('raise on errors and throttles of every function: any error of an entry point, five in 5 minutes of a workflow task', () => {
    const tasks = new Set(TASKS.map((task) => stack.taskFunction(task.name)));
    expect(stack.functionIds.length).toBe(tasks.size + 7);
    for (const id of stack.functionIds) {
      expectOneAlarm('AWS/Lambda', 'Errors', ['FunctionName', { Ref: id }], {
        Statistic: 'Sum',
        // Tasks throw by design (a throttle retried, a rejected target caught).
        Threshold: tasks.has(id) ? 5 : 1,
      });
      expectOneAlarm('AWS/Lambda', 'Throttles', ['FunctionName', { Ref: id }], {
        Statistic: 'Sum',
        Threshold: 1,
      });
    }
    expect(alarms().map((alarm) => alarm.AlarmName)).toEqual(
      expect.arrayContaining([
        'CitrixResponse-ActionsApi-Handler-Errors',
        'CitrixResponse-Tasks-NotifyActionOutcome-Errors',
        'CitrixResponse-Sweeps-Handler-Throttles',
      ]),
    );
  });

  it('raise on any 5xx answer of the API stage', () => {
    const [stage] = stack.idsOf('AWS::ApiGateway::Stage');
    const found = alarmsOn('AWS/ApiGateway', '5XXError', 'Stage', { Ref: String(stage) });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      AlarmName: 'CitrixResponse-Api-5xx',
      Statistic: 'Sum',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(found[0]?.Dimensions).toContainEqual({
      Name: 'ApiName',
      Value: 'CitrixResponse-actions',
    });
  });

  it('raise as soon as a dead-letter queue holds a message', () => {
    const queues = stack.idsOf('AWS::SQS::Queue');
    // The sweeps', the report's, and that of the executions no state could record.
    expect(queues).toHaveLength(3);
    for (const id of queues) {
      expectOneAlarm(
        'AWS/SQS',
        'ApproximateNumberOfMessagesVisible',
        ['QueueName', { 'Fn::GetAtt': [id, 'QueueName'] }],
        { Statistic: 'Maximum', Threshold: 1 },
      );
    }
  });

  it('raise on any audit append failure or report failure, and on sustained Citrix throttling, counted by the service dimension alone', () => {
    const only = [{ Name: 'service', Value: 'citrix-response' }];
    const custom = alarms().filter((alarm) => alarm.Namespace === 'CitrixResponse');

    expect(
      Object.fromEntries(
        custom.map((alarm) => [
          alarm.MetricName,
          [alarm.Threshold, alarm.EvaluationPeriods, alarm.DatapointsToAlarm],
        ]),
      ),
    ).toEqual({
      AuditAppendFailures: [1, 1, 1],
      ReportFailures: [1, 1, 1],
      // 25 throttles in each of two consecutive 5-minute periods: retries heal a short burst.
      CitrixThrottles: [25, 2, 2],
    });
    for (const alarm of custom) {
      expect(alarm.Dimensions, alarm.MetricName).toEqual(only);
      expect(alarm, alarm.MetricName).toMatchObject({
        Statistic: 'Sum',
        Period: 300,
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('are exactly these: per workflow, per function, per queue, the API and the three custom metrics', () => {
    const count =
      3 * stack.idsOf('AWS::StepFunctions::StateMachine').length +
      2 * stack.functionIds.length +
      stack.idsOf('AWS::SQS::Queue').length +
      1 +
      3;
    expect(alarms()).toHaveLength(count);
  });
});

describe('the dashboard', () => {
  /** The dashboard's JSON, each reference written as its target (a logical id). */
  const dashboard = () => {
    const ids = stack.idsOf('AWS::CloudWatch::Dashboard');
    expect(ids).toHaveLength(1);
    const [separator, parts] = (
      stack.resource(String(ids[0])).Properties.DashboardBody as { 'Fn::Join': [string, Json[]] }
    )['Fn::Join'];
    return JSON.parse(parts.map(target).join(separator)) as { widgets: Json[] };
  };
  const metricsOf = (body: { widgets: Json[] }) =>
    valuesOfKey(body, 'metrics').flatMap((metrics) => metrics as Json[][]);
  /** A graphed metric's `name, value, ...` dimensions (its last entry may be its options). */
  const dimensionsOf = (entries: Json[]) => {
    const pairs = entries.filter((entry) => typeof entry === 'string') as string[];
    return Object.fromEntries(
      pairs.flatMap((name, index) => (index % 2 === 0 ? [[name, pairs[index + 1]]] : [])),
    );
  };

  it('is one, showing every alarm, function, workflow and dead-letter queue', () => {
    const body = dashboard();
    const text = JSON.stringify(body);

    expect((valuesOfKey(body, 'alarms') as string[][]).flat().sort()).toEqual(
      stack.idsOf('AWS::CloudWatch::Alarm').sort(),
    );
    const graphed = new Set(metricsOf(body).flat());
    for (const id of [
      ...stack.functionIds,
      ...stack.idsOf('AWS::StepFunctions::StateMachine'),
      ...stack.idsOf('AWS::SQS::Queue').map((queue) => `${queue}.QueueName`),
    ]) {
      expect(graphed, id).toContain(id);
    }
    expect(text).toContain('npx citrix-response timeline');
  });

  it('graphs every custom metric: the alarmed ones by service, the others with a SEARCH over their dimensions', () => {
    const body = dashboard();
    const expressions = valuesOfKey(body, 'expression');

    expect(expressions.sort()).toEqual(
      [
        ['ActionsFinished', 'service,action,outcome', 'Sum'],
        ['TargetsFinished', 'service,action,outcome', 'Sum'],
        ['CitrixCalls', 'service,product,status', 'Sum'],
        ['CitrixRetries', 'service,product', 'Sum'],
        ['ApprovalWaitSeconds', 'service,action', 'Maximum'],
        ['SweepTargets', 'service,sweep,outcome', 'Sum'],
      ]
        .map(
          ([metric, dimensions, statistic]) =>
            `SEARCH('{CitrixResponse,${dimensions}} MetricName="${metric}"', '${statistic}', 300)`,
        )
        .sort(),
    );
    const custom = metricsOf(body).filter((metric) => metric[0] === 'CitrixResponse');
    expect(custom.map((metric) => metric.slice(0, 4)).sort()).toEqual(
      ['AuditAppendFailures', 'CitrixThrottles', 'ReportFailures'].map((metric) => [
        'CitrixResponse',
        metric,
        'service',
        'citrix-response',
      ]),
    );
    // What WAF blocks, by the rate rule and in all.
    const waf = metricsOf(body).filter((metric) => metric[0] === 'AWS/WAFV2');
    expect(waf.map(([, name, ...dimensions]) => [name, dimensionsOf(dimensions)])).toEqual(
      [WEB_ACL_RULES.rateLimit, 'ALL'].map((rule) => [
        'BlockedRequests',
        { WebACL: 'CitrixResponse-api', Region: '<AWS::Region>', Rule: rule },
      ]),
    );
  });

  it('is a stack output', () => {
    expect(stack.outputs.DashboardName?.Value).toEqual({
      Ref: stack.idOf(stack.stack.operations.dashboard),
    });
  });
});

/**
 * Every asynchronous invocation of a template and what is wrong with it: a schedule, rule target
 * or SNS subscription without a dead-letter queue; a function invoked asynchronously (by a
 * schedule, a rule, SNS, S3 or any other service but API Gateway) without a dead-letter queue or
 * an on-failure destination; a state machine that invokes a function asynchronously; a function
 * allowed to invoke another; a dead-letter queue without an alarm.
 */
function asynchronousInvocations(template: Template): { sources: string[]; problems: string[] } {
  const { Resources: resources } = template;
  const ofType = (type: string) =>
    Object.entries(resources).filter(([, resource]) => resource.Type === type);
  const sources: string[] = [];
  const problems: string[] = [];
  const queues = new Set<string>();
  const isQueue = (arn: Json | undefined) => {
    if (arn === undefined) return false;
    const id = target(arn).split('.')[0] ?? '';
    if (resources[id]?.Type !== 'AWS::SQS::Queue') return false;
    queues.add(id);
    return true;
  };
  /** A function invoked asynchronously keeps what still failed after Lambda's retries. */
  const checkFunction = (functionArn: Json, by: string) => {
    const id = target(functionArn).split('.')[0] ?? '';
    const fn = resources[id];
    if (fn?.Type !== 'AWS::Lambda::Function') return;
    sources.push(`${by} → ${id}`);
    const deadLetter = (fn.Properties.DeadLetterConfig as { TargetArn?: Json } | undefined)
      ?.TargetArn;
    const onFailure = ofType('AWS::Lambda::EventInvokeConfig')
      .filter(
        ([, config]) =>
          JSON.stringify(config.Properties.FunctionName) === JSON.stringify({ Ref: id }),
      )
      .map(
        ([, config]) =>
          (config.Properties.DestinationConfig as { OnFailure?: { Destination: Json } } | undefined)
            ?.OnFailure?.Destination,
      )
      .find((destination) => destination !== undefined);
    if (!isQueue(deadLetter) && onFailure === undefined) {
      problems.push(`${id}, invoked by ${by}, has no dead-letter queue or on-failure destination`);
    }
  };

  for (const [id, schedule] of ofType('AWS::Scheduler::Schedule')) {
    const scheduled = schedule.Properties.Target as { Arn: Json; DeadLetterConfig?: { Arn: Json } };
    sources.push(id);
    if (!isQueue(scheduled.DeadLetterConfig?.Arn)) problems.push(`${id} has no dead-letter queue`);
    checkFunction(scheduled.Arn, id);
  }
  for (const [id, rule] of ofType('AWS::Events::Rule')) {
    for (const ruleTarget of rule.Properties.Targets as {
      Arn: Json;
      DeadLetterConfig?: { Arn: Json };
    }[]) {
      sources.push(id);
      if (!isQueue(ruleTarget.DeadLetterConfig?.Arn)) {
        problems.push(`${id} has a target without a dead-letter queue`);
      }
      checkFunction(ruleTarget.Arn, id);
    }
  }
  for (const [id, subscription] of ofType('AWS::SNS::Subscription')) {
    const { Protocol, Endpoint, RedrivePolicy } = subscription.Properties as {
      Protocol: string;
      Endpoint: Json;
      RedrivePolicy?: { deadLetterTargetArn: Json };
    };
    // An email is a notification to a person, not an invocation that can fail silently.
    if (Protocol === 'email' || Protocol === 'email-json') continue;
    sources.push(id);
    if (!isQueue(RedrivePolicy?.deadLetterTargetArn)) {
      problems.push(`${id} (${Protocol}) has no dead-letter queue`);
    }
    if (Protocol === 'lambda') checkFunction(Endpoint, id);
  }
  for (const [id, permission] of ofType('AWS::Lambda::Permission')) {
    const principal = String(permission.Properties.Principal);
    // API Gateway waits for the answer; every other service principal invokes asynchronously.
    if (principal === 'apigateway.amazonaws.com') continue;
    checkFunction(permission.Properties.FunctionName as Json, `${principal} (${id})`);
  }
  for (const [id, mapping] of ofType('AWS::Lambda::EventSourceMapping')) {
    sources.push(id);
    const destination = (
      mapping.Properties.DestinationConfig as { OnFailure?: { Destination: Json } } | undefined
    )?.OnFailure?.Destination;
    if (!isQueue(destination)) problems.push(`${id} has no on-failure destination`);
  }
  for (const [id, stateMachine] of ofType('AWS::StepFunctions::StateMachine')) {
    const definition = JSON.parse(String(stateMachine.Properties.DefinitionString)) as unknown;
    for (const task of statesOfType(definition, 'Task')) {
      if (JSON.stringify(task.Parameters ?? {}).includes('"InvocationType":"Event"')) {
        problems.push(`${id} invokes a function asynchronously`);
      }
    }
  }
  for (const [id, policy] of ofType('AWS::IAM::Policy')) {
    const roles = JSON.stringify(policy.Properties.Roles);
    const ofFunction = ofType('AWS::Lambda::Function').some(([, fn]) =>
      roles.includes(JSON.stringify({ Ref: target(fn.Properties.Role as Json).split('.')[0] })),
    );
    if (ofFunction && JSON.stringify(policy.Properties.PolicyDocument).includes('lambda:Invoke')) {
      problems.push(`${id} lets a function invoke another`);
    }
  }
  const alarmed = new Set(
    ofType('AWS::CloudWatch::Alarm')
      .filter(([, alarm]) => alarm.Properties.MetricName === 'ApproximateNumberOfMessagesVisible')
      .flatMap(([, alarm]) =>
        (alarm.Properties.Dimensions as { Value: Json }[]).map(
          (d) => target(d.Value).split('.')[0],
        ),
      ),
  );
  for (const queue of queues) {
    if (!alarmed.has(queue)) problems.push(`the dead-letter queue ${queue} has no alarm`);
  }
  return { sources, problems };
}

/** The permission that lets EventBridge invoke `fn` (by default the report function). */
function eventsPermission(of: SynthesizedStack, fn = of.reportFunction): string {
  const ids = of
    .idsOf('AWS::Lambda::Permission')
    .filter(
      (id) =>
        of.resource(id).Properties.Principal === 'events.amazonaws.com' &&
        JSON.stringify(of.resource(id).Properties.FunctionName).includes(fn),
    );
  expect(ids).toHaveLength(1);
  return String(ids[0]);
}

describe('asynchronous invocations', () => {
  it.each(['configured', 'defaults'] as const)(
    'each has a dead-letter queue, and each queue an alarm, in the %s stack',
    (configuration) => {
      const found = synthesized(configuration);
      const { sources, problems } = asynchronousInvocations(found.template.toJSON() as Template);

      expect(problems).toEqual([]);
      // The schedules and rule found, and the functions they invoke checked.
      const report = found.idOf(found.stack.administratorReport.rule);
      expect(sources).toContain(report);
      expect(sources).toContain(`${report} → ${found.reportFunction}`);
      for (const schedule of found.idsOf('AWS::Scheduler::Schedule')) {
        expect(sources).toContain(`${schedule} → ${found.sweepFunction}`);
      }
      expect(sources).toContain(
        `events.amazonaws.com (${eventsPermission(found)}) → ${found.reportFunction}`,
      );
    },
    SYNTH_TIMEOUT,
  );

  it('are each found wanting without their queue', () => {
    const broken = structuredClone(stack.template.toJSON()) as Template;
    const properties = (id: string) => {
      const resource = broken.Resources[id];
      if (resource === undefined) throw new Error(`No resource ${id}`);
      return resource.Properties;
    };
    const rule = stack.idOf(stack.stack.administratorReport.rule);
    for (const ruleTarget of properties(rule).Targets as Record<string, Json>[]) {
      delete ruleTarget.DeadLetterConfig;
    }
    delete properties(stack.reportFunction).DeadLetterConfig;
    const unrecorded = stack.idOf(stack.stack.unrecordedExecutions.rule);
    for (const ruleTarget of properties(unrecorded).Targets as Record<string, Json>[]) {
      delete ruleTarget.DeadLetterConfig;
    }
    const completeAction = stack.idOf(stack.stack.tasks.functionNamed(COMPLETE_ACTION));
    delete properties(completeAction).DeadLetterConfig;
    const [schedule = ''] = stack.idsOf('AWS::Scheduler::Schedule');
    delete (properties(schedule).Target as Record<string, Json>).DeadLetterConfig;
    for (const id of stack.idsOf('AWS::CloudWatch::Alarm')) {
      if (properties(id).MetricName === 'ApproximateNumberOfMessagesVisible') {
        delete broken.Resources[id];
      }
    }

    expect(asynchronousInvocations(broken).problems.sort()).toEqual(
      [
        `${rule} has a target without a dead-letter queue`,
        `${stack.reportFunction}, invoked by ${rule}, has no dead-letter queue or on-failure destination`,
        `${stack.reportFunction}, invoked by events.amazonaws.com (${eventsPermission(stack)}), has no dead-letter queue or on-failure destination`,
        `${unrecorded} has a target without a dead-letter queue`,
        `${completeAction}, invoked by ${unrecorded}, has no dead-letter queue or on-failure destination`,
        `${completeAction}, invoked by events.amazonaws.com (${eventsPermission(stack, completeAction)}), has no dead-letter queue or on-failure destination`,
        `${schedule} has no dead-letter queue`,
        `the dead-letter queue ${stack.idOf(stack.stack.sweeps.deadLetterQueue)} has no alarm`,
      ].sort(),
    );
  });

  it('keep their dead letters 14 days in queues encrypted at rest that refuse requests without TLS', () => {
    for (const id of stack.idsOf('AWS::SQS::Queue')) {
      expect(stack.resource(id).Properties, id).toEqual({
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 14 * 86_400,
      });
      const policies = stack
        .idsOf('AWS::SQS::QueuePolicy')
        .map((policy) => stack.resource(policy).Properties)
        .filter((policy) => JSON.stringify(policy.Queues) === JSON.stringify([{ Ref: id }]));
      expect(JSON.stringify(policies), id).toContain('"aws:SecureTransport":"false"');
    }
  });
});

describe('tracing', () => {
  it('traces every function, with the Powertools settings and no response in a trace', () => {
    for (const id of stack.functionIds) {
      expect(stack.resource(id).Properties.TracingConfig, id).toEqual({ Mode: 'Active' });
      expect(stack.environment(id), id).toMatchObject(POWERTOOLS_VARIABLES);
    }
  });

  it('traces every workflow and the API stage', () => {
    for (const id of stack.idsOf('AWS::StepFunctions::StateMachine')) {
      expect(stack.resource(id).Properties.TracingConfiguration, id).toEqual({ Enabled: true });
    }
    for (const id of stack.idsOf('AWS::ApiGateway::Stage')) {
      expect(stack.resource(id).Properties.TracingEnabled, id).toBe(true);
    }
  });

  it('never samples the Splunk route at the stage, whose URL carries the token', () => {
    const [stage = ''] = stack.idsOf('AWS::ApiGateway::Stage');
    const [rule] = stack.idsOf('AWS::XRay::SamplingRule');
    const sampling = stack.resource(String(rule)).Properties.SamplingRule as Record<string, Json>;

    expect(stack.idsOf('AWS::XRay::SamplingRule')).toHaveLength(1);
    expect(sampling).toMatchObject({
      Priority: 1,
      FixedRate: 0,
      ReservoirSize: 0,
      ServiceType: 'AWS::ApiGateway::Stage',
      Host: '*',
      HTTPMethod: '*',
      ResourceARN: '*',
    });
    expect(String(sampling.RuleName).length).toBeLessThanOrEqual(32);
    // `{api-name}/{stage-name}`, as API Gateway names the service to X-Ray.
    expect(target(sampling.ServiceName as Json)).toBe(`CitrixResponse-actions/${stage}`);
    expect(stack.resource(stage).Properties.StageName).toBe('prod');
    const matches = globMatcher(String(sampling.URLPath));
    expect(matches('/prod/v1/webhooks/splunk/the-token')).toBe(true);
    expect(matches('/v1/webhooks/splunk/the-token')).toBe(true);
    expect(matches('/v1/webhooks/sentinel')).toBe(false);
    expect(matches('/v1/actions')).toBe(false);
  });
});

describe('API protection', () => {
  // An L1: its own logical id, not a default child's.
  const webAcl = () => stack.stack.getLogicalId(stack.stack.api.webAcl);

  it('puts a regional WAF web ACL in front of the stage, without sampling requests (their URI may hold the Splunk token)', () => {
    const [stage = ''] = stack.idsOf('AWS::ApiGateway::Stage');
    const [api = ''] = stack.idsOf('AWS::ApiGateway::RestApi');
    const associations = stack.idsOf('AWS::WAFv2::WebACLAssociation');

    expect(associations).toHaveLength(1);
    const association = stack.resource(String(associations[0]));
    expect(association.Properties.WebACLArn).toEqual(arnOf(webAcl()));
    expect(target(association.Properties.ResourceArn as Json)).toBe(
      `arn:<AWS::Partition>:apigateway:<AWS::Region>::/restapis/${api}/stages/${stage}`,
    );
    // Created after the stage it names (by id, not by reference).
    expect((association as Resource & { DependsOn?: string[] }).DependsOn).toContain(stage);
    const properties = stack.resource(webAcl()).Properties;
    expect(properties).toMatchObject({
      Name: 'CitrixResponse-api',
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
    });
    for (const visibility of valuesOfKey(properties, 'VisibilityConfig')) {
      expect(visibility).toMatchObject({
        CloudWatchMetricsEnabled: true,
        SampledRequestsEnabled: false,
      });
    }
  });

  it(
    'blocks an address over the configured requests in 5 minutes with 429, before the managed rules',
    () => {
      const rules = stack.resource(webAcl()).Properties.Rules as Record<string, Json>[];

      expect(rules.map((rule) => [rule.Priority, rule.Name])).toEqual([
        [0, WEB_ACL_RULES.rateLimit],
        [1, WEB_ACL_RULES.ipReputation],
        [2, WEB_ACL_RULES.knownBadInputs],
      ]);
      expect(rules[0]).toMatchObject({
        Action: { Block: { CustomResponse: { ResponseCode: 429 } } },
        Statement: {
          RateBasedStatement: { Limit: 600, AggregateKeyType: 'IP', EvaluationWindowSec: 300 },
        },
      });
      for (const rule of rules.slice(1)) {
        expect(rule).toMatchObject({
          OverrideAction: { None: {} },
          Statement: {
            ManagedRuleGroupStatement: {
              VendorName: 'AWS',
              Name: String(rule.Name).replace(/^AWS-/, ''),
            },
          },
        });
      }

      const defaults = synthesized('defaults');
      const defaultRules = defaults.resource(defaults.stack.getLogicalId(defaults.stack.api.webAcl))
        .Properties.Rules as Record<string, Json>[];
      expect(valuesOfKey(defaultRules[0], 'Limit')).toEqual([1500]);
    },
    SYNTH_TIMEOUT,
  );

  it('throttles every route on its own, people’s and the document’s below the sources’', () => {
    const [stage = ''] = stack.idsOf('AWS::ApiGateway::Stage');
    const settings = stack.resource(stage).Properties.MethodSettings as {
      ResourcePath: string;
      HttpMethod: string;
      ThrottlingRateLimit: number;
      ThrottlingBurstLimit: number;
    }[];
    const throttles = Object.fromEntries(
      settings.map((setting) => [
        // `/` and the path with each of its `/` escaped as `~1`; `/*` for the stage's default.
        `${setting.HttpMethod} ${setting.ResourcePath === '/*' ? '/*' : setting.ResourcePath.slice(1).replaceAll('~1', '/')}`,
        { rate: setting.ThrottlingRateLimit, burst: setting.ThrottlingBurstLimit },
      ]),
    );

    // No method falls back to the stage's default.
    expect(Object.keys(stack.apiMethods()).sort()).toEqual(Object.keys(routeThrottles()).sort());
    expect(throttles).toEqual({
      '* /*': { rate: STAGE_THROTTLE.rate, burst: STAGE_THROTTLE.burst },
      'POST /v1/actions': { rate: 10, burst: 20 },
      'GET /v1/actions': { rate: 10, burst: 20 },
      'GET /v1/actions/{actionId}': { rate: 10, burst: 20 },
      'POST /v1/actions/{actionId}/approve': { rate: 5, burst: 10 },
      'POST /v1/actions/{actionId}/reject': { rate: 5, burst: 10 },
      'GET /v1/openapi.json': { rate: 5, burst: 10 },
      'POST /v1/webhooks/{source}': { rate: 20, burst: 40 },
      'POST /v1/webhooks/splunk/{token}': { rate: 20, burst: 40 },
      'POST /v1/webhooks/servicenow': { rate: 20, burst: 40 },
      'POST /v1/webhooks/standard': { rate: 20, burst: 40 },
    });
  });
});

/** GitHub's heading anchor: lower case, punctuation dropped, spaces as hyphens. */
function githubAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .replace(/\s/g, '-');
}

/** An X-Ray sampling rule's wildcard pattern (`*` any run, `?` one character) as a matcher. */
function globMatcher(pattern: string): (value: string) => boolean {
  const source = pattern
    .split('')
    .map((char) =>
      char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\/]/g, '\\$&'),
    )
    .join('');
  const regex = new RegExp(`^${source}$`);
  return (value) => regex.test(value);
}

describe('executions no state could record', () => {
  it('send their end to complete-action as its last-resort input, for every workflow', () => {
    const rule = stack.resource(stack.idOf(stack.stack.unrecordedExecutions.rule)).Properties;
    const completeAction = stack.idOf(stack.stack.tasks.functionNamed(COMPLETE_ACTION));
    const machines = Object.values(stack.stack.stateMachines).map((machine) => ({
      Ref: stack.idOf(machine),
    }));

    expect(rule.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: machines },
    });
    const [ruleTarget] = rule.Targets as Record<string, Json>[];
    expect(ruleTarget?.Arn).toEqual({ 'Fn::GetAtt': [completeAction, 'Arn'] });
    const transformer = ruleTarget?.InputTransformer as {
      InputPathsMap: Record<string, string>;
      InputTemplate: string;
    };
    expect(transformer.InputPathsMap).toEqual({
      'detail-name': '$.detail.name',
      'detail-status': '$.detail.status',
    });
    // The template, with an execution's values put in as EventBridge does (a bare placeholder
    // becomes a JSON string, one inside a string its text), is the input complete-action accepts.
    const values: Record<string, string> = {
      'detail-name': 'act_0123',
      'detail-status': 'TIMED_OUT',
    };
    const input = JSON.parse(
      transformer.InputTemplate.replace(
        /(:\s*)<([a-z-]+)>|<([a-z-]+)>/g,
        (_, colon: string | undefined, bare: string | undefined, inner: string | undefined) =>
          bare === undefined
            ? String(values[inner ?? ''])
            : `${colon}${JSON.stringify(values[bare])}`,
      ),
    );
    expect(input).toEqual({
      actionId: 'act_0123',
      lastResort: {
        Error: 'States.TIMED_OUT',
        Cause: "The workflow execution ended TIMED_OUT before it recorded the action's outcome",
      },
    });
  });
});
