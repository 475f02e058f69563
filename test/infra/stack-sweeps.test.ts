import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type IStateMachine, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/build-app.ts';
import { PROJECT_ROOT } from '../../infra/citrix-response-function.ts';
import { InvalidContextError } from '../../infra/config.ts';
import { deployedRunbooksFile } from '../../infra/runbooks.ts';
import { Sweeps } from '../../infra/sweeps.ts';
import { WORKFLOW_NAMES } from '../../lib/actions/declaration.ts';
import { loadSweeps, SweepsFileError } from '../../lib/sweeps/config.ts';
import { RunSweepEventSchema } from '../../lib/sweeps/run.ts';
import { WORKFLOWS } from '../../lib/workflow/definition.ts';
import {
  appContext,
  expectNoSecretValues,
  type Json,
  OPERATOR_SWEEPS_FILE,
  POWERTOOLS_VARIABLES,
  type Resource,
  SYNTH_TIMEOUT,
  SynthesizedStack,
  synthesized,
} from './support/stack.ts';

/**
 * The sweeps (config/sweeps.json, or the `sweepsFile` context, or `SWEEPS_FILE`): one EventBridge
 * Scheduler schedule per enabled sweep invoking the run-sweep function, which accepts each run as
 * a source delivery is accepted. The `configured` stack reads test/infra/support/
 * operator-sweeps.json: `night-logoff` (cron, Europe/Berlin) and `unhealthy-devices` (rate, no
 * time zone) enabled, `stale-invitations` disabled. The function's grants are in
 * stack-iam.test.ts with the schedules' role.
 */

let stack: SynthesizedStack;
let directory: string;
beforeAll(() => {
  stack = synthesized('configured');
  directory = mkdtempSync(join(tmpdir(), 'citrix-response-stack-sweeps-'));
}, SYNTH_TIMEOUT);

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

/** Writes a sweeps file of its own and returns its path. */
function sweepsFile(name: string, sweeps: unknown[]): string {
  const path = join(directory, name);
  writeFileSync(path, JSON.stringify({ sweeps }));
  return path;
}

/** A valid sweep, as an operator writes it. */
const night = {
  name: 'night-logoff',
  schedule: 'cron(30 1 * * ? *)',
  find: { sessions: { state: 'Disconnected', olderThan: 'PT4H' } },
  action: 'session.logoff',
  mode: 'enforce',
  maxTargets: 100,
  enabled: true,
};

const SCHEDULED_TIME = '<aws.scheduler.scheduled-time>';
const queue = () => stack.idOf(stack.stack.sweeps.deadLetterQueue);
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

describe('schedules', () => {
  it('schedules each enabled sweep once, and a disabled sweep not at all', () => {
    expect(stack.idsOf('AWS::Scheduler::Schedule')).toHaveLength(2);
    expect(Object.keys(stack.schedules).sort()).toEqual(['night-logoff', 'unhealthy-devices']);
    expect(stack.schedules).not.toHaveProperty('stale-invitations');
    expect([...stack.stack.sweeps.schedules.keys()].sort()).toEqual([
      'night-logoff',
      'unhealthy-devices',
    ]);
    expect(JSON.stringify(stack.template.toJSON())).not.toContain('stale-invitations');
  });

  it.each([
    {
      name: 'night-logoff',
      expression: 'cron(30 1 * * ? *)',
      timezone: 'Europe/Berlin',
      description: 'Sweep night-logoff: session.logoff over sessions (enforce)',
    },
    {
      // No time zone in the file: UTC.
      name: 'unhealthy-devices',
      expression: 'rate(6 hours)',
      timezone: 'UTC',
      description: 'Sweep unhealthy-devices: device.selectiveWipe over devices (report)',
    },
  ])(
    'runs $name at $expression in $timezone, on time, invoking run-sweep with the sweep and the scheduled time, retried, then kept in the dead-letter queue',
    ({ name, expression, timezone, description }) => {
      const schedule = stack.schedules[name] as Resource;

      expect(schedule.Properties).toEqual({
        Name: name,
        GroupName: stack.stack.sweeps.scheduleGroup.scheduleGroupName,
        Description: description,
        ScheduleExpression: expression,
        ScheduleExpressionTimezone: timezone,
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
        Target: {
          Arn: arnOf(stack.sweepFunction),
          RoleArn: arnOf(stack.schedulerRole),
          Input: JSON.stringify({ sweep: name, scheduledAt: SCHEDULED_TIME }),
          RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 3 },
          DeadLetterConfig: { Arn: arnOf(queue()) },
        },
      });
    },
  );

  it('sends an input the function accepts once Scheduler fills in the time', () => {
    for (const [name, schedule] of Object.entries(stack.schedules)) {
      const input = String((schedule.Properties.Target as Record<string, Json>).Input);
      // Scheduler writes the scheduled time as 2022-03-22T18:59:43Z.
      const sent = JSON.parse(input.replace(SCHEDULED_TIME, '2025-06-01T01:30:00Z'));

      expect(RunSweepEventSchema.parse(sent), name).toEqual({
        sweep: name,
        scheduledAt: '2025-06-01T01:30:00Z',
      });
    }
  });

  it("puts the schedules in the stack's own group, created before them and deleted with the stack", () => {
    const group = stack.idOf(stack.stack.sweeps.scheduleGroup);
    const name = stack.stack.sweeps.scheduleGroup.scheduleGroupName;

    expect(stack.resource(group)).toMatchObject({
      Type: 'AWS::Scheduler::ScheduleGroup',
      Properties: { Name: name },
      DeletionPolicy: 'Delete',
    });
    expect(name).toMatch(/^CitrixResponse-Sweeps-ScheduleGroup-[0-9A-F]{8}$/);
    for (const id of stack.idsOf('AWS::Scheduler::Schedule')) {
      expect(stack.template.toJSON().Resources[id].DependsOn, id).toContain(group);
    }
    expect(stack.outputs.SweepScheduleGroupName?.Value).toBe(name);
  });

  it('keeps runs that could not start in one encrypted queue of their own that refuses requests without TLS', () => {
    // The report's runs and unrecorded executions have their own queues (stack-operations.test.ts
    // checks every queue).
    expect(stack.idsOf('AWS::SQS::Queue').sort()).toEqual(
      [
        queue(),
        stack.idOf(stack.stack.administratorReport.deadLetterQueue),
        stack.idOf(stack.stack.unrecordedExecutions.deadLetterQueue),
      ].sort(),
    );
    expect(stack.resource(queue()).Properties).toEqual({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 86_400,
    });
    stack.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queue() }],
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 'sqs:*',
            Resource: arnOf(queue()),
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ],
      },
    });
    expect(stack.outputs.SweepsDeadLetterQueueUrl?.Value).toEqual({ Ref: queue() });
  });
});

describe('the run-sweep function', () => {
  it('gets what accepting an action takes, as the source endpoints do: tables, window, workflows; no secret, no sweeps path', () => {
    // No SWEEPS_FILE: the function reads the sweeps bundled next to it (sweeps.json), the same
    // file readConfig validated at synth.
    expect(stack.environment(stack.sweepFunction)).toEqual({
      ...POWERTOOLS_VARIABLES,
      ACTIONS_TABLE_NAME: { Ref: stack.table('actions') },
      IDEMPOTENCY_TABLE_NAME: { Ref: stack.table('idempotency') },
      IDEMPOTENCY_WINDOW_SECONDS: '3600',
      AUDIT_TABLE_NAME: { Ref: stack.table('audit') },
      ...Object.fromEntries(
        WORKFLOWS.map((workflow) => [
          `${workflow.name.replaceAll('-', '_').toUpperCase()}_STATE_MACHINE_ARN`,
          { Ref: stack.stateMachine(workflow.name) },
        ]),
      ),
    });
    expect(
      stack.grants(stack.sweepFunction).filter((line) => /secretsmanager|kms/.test(line)),
    ).toEqual([]);
    expect(stack.resource(stack.sweepFunction).Properties.Description).toBe(
      'Sweeps: starts one run of a scheduled sweep',
    );
  });

  it('retries a failed run twice within the hour, then keeps it in the same dead-letter queue', () => {
    expect(stack.resource(stack.sweepFunction).Properties.DeadLetterConfig).toEqual({
      TargetArn: arnOf(queue()),
    });
    stack.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: stack.sweepFunction },
      Qualifier: '$LATEST',
      MaximumEventAgeInSeconds: 3600,
      MaximumRetryAttempts: 2,
    });
  });

  it('puts no secret value in the template', () => {
    expectNoSecretValues(stack);
  });
});

describe('the sweeps file at synth', () => {
  it(
    'schedules the enabled sweeps of the shipped config/sweeps.json by default',
    () => {
      const shipped = loadSweeps(join(PROJECT_ROOT, 'config', 'sweeps.json'));
      const defaults = synthesized('defaults');

      expect(
        Object.fromEntries(
          Object.entries(defaults.schedules).map(([name, schedule]) => [
            name,
            [
              schedule.Properties.ScheduleExpression,
              schedule.Properties.ScheduleExpressionTimezone,
            ],
          ]),
        ),
      ).toEqual(
        Object.fromEntries(
          shipped.sweeps
            .filter((sweep) => sweep.enabled)
            .map((sweep) => [sweep.name, [sweep.schedule, sweep.timezone]]),
        ),
      );
    },
    SYNTH_TIMEOUT,
  );

  it('fails synth on an action that cannot run over what the sweep finds, naming the sweep and field', () => {
    const path = sweepsFile('wrong-action.json', [
      night,
      { ...night, name: 'lost-phones', find: { devices: { jailbroken: true } } },
    ]);
    const build = () => buildApp(appContext({ sweepsFile: path }), { environment: {} });

    expect(build).toThrow(InvalidContextError);
    expect(build).toThrow(
      `Context "sweepsFile" is invalid: Invalid sweeps file ${path}: sweeps[1] (sweep "lost-phones").action: session.logoff cannot run over find.devices`,
    );
    try {
      build();
    } catch (error) {
      expect((error as Error).cause).toBeInstanceOf(SweepsFileError);
    }
  });

  it('fails synth when a sweep names a callback destination that is not configured', () => {
    const build = () =>
      buildApp(appContext({ sweepsFile: OPERATOR_SWEEPS_FILE }), { environment: {} });

    expect(build).toThrow(InvalidContextError);
    expect(build).toThrow(
      /^Context "sweepsFile" is invalid: .*sweeps\[0\] \(sweep "night-logoff"\)\.callback: no callback destination named "soar"/,
    );
  });

  it(
    'reads SWEEPS_FILE, over the sweepsFile context, and names it when its file is invalid',
    () => {
      const path = sweepsFile('from-variable.json', [
        { ...night, name: 'paris-logoff', timezone: 'Europe/Paris' },
        { ...night, name: 'paused', enabled: false },
      ]);
      const { stack: built } = buildApp(appContext({ sweepsFile: OPERATOR_SWEEPS_FILE }), {
        validateTemplates: false,
        environment: { SWEEPS_FILE: path },
      });
      const fromVariable = new SynthesizedStack(built);

      expect(Object.keys(fromVariable.schedules)).toEqual(['paris-logoff']);
      expect(fromVariable.schedules['paris-logoff']?.Properties).toMatchObject({
        ScheduleExpression: 'cron(30 1 * * ? *)',
        ScheduleExpressionTimezone: 'Europe/Paris',
      });

      const invalid = sweepsFile('invalid.json', [{ ...night, timezone: 'Mars/Olympus' }]);
      expect(() =>
        buildApp(appContext(), { environment: { SWEEPS_FILE: invalid }, validateTemplates: false }),
      ).toThrow(
        `SWEEPS_FILE (which overrides context "sweepsFile") is invalid: Invalid sweeps file ${invalid}: sweeps[0] (sweep "night-logoff").timezone: `,
      );
    },
    SYNTH_TIMEOUT,
  );
});

describe('the run-sweep bundle', () => {
  it(
    'carries the sweeps file beside the code, as sweeps.json, and the runbooks',
    () => {
      // The Sweeps construct alone, bundled for real (the stack tests skip bundling).
      const app = new App({ outdir: join(directory, 'cdk.out') });
      const scope = new Stack(app, 'Bundled');
      const table = (id: string) =>
        new Table(scope, id, { partitionKey: { name: 'id', type: AttributeType.STRING } });
      const path = sweepsFile('bundled.json', [night]);
      new Sweeps(scope, 'Sweeps', {
        sweeps: loadSweeps(path),
        sweepsFile: path,
        actionsTable: table('Actions'),
        auditTable: table('Audit'),
        idempotencyTable: table('Idempotency'),
        idempotencyWindowSeconds: 3600,
        stateMachines: Object.fromEntries(
          WORKFLOW_NAMES.map((workflow) => [
            workflow,
            StateMachine.fromStateMachineName(scope, workflow, workflow),
          ]),
        ) as Record<(typeof WORKFLOW_NAMES)[number], IStateMachine>,
        logRetention: RetentionDays.ONE_WEEK,
        runbooksFile: deployedRunbooksFile({}),
      });
      const assembly = app.synth();
      const assets = readdirSync(assembly.directory).filter((name) => name.startsWith('asset.'));

      expect(assets).toHaveLength(1);
      const asset = join(assembly.directory, assets[0] as string);
      // A sweep may run a runbook by name: the runbooks synth checked come along.
      expect(readdirSync(asset).sort()).toEqual(['index.mjs', 'runbooks.json', 'sweeps.json']);
      expect(readFileSync(join(asset, 'sweeps.json'), 'utf8')).toBe(readFileSync(path, 'utf8'));
    },
    SYNTH_TIMEOUT,
  );
});
