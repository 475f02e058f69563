import { Duration, RemovalPolicy, Stack, TimeZone } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IRole, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  ContextAttribute,
  Schedule,
  ScheduleExpression,
  ScheduleGroup,
  ScheduleTargetInput,
  TimeWindow,
} from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke, type ScheduleTargetBaseProps } from 'aws-cdk-lib/aws-scheduler-targets';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { WorkflowName } from '../lib/actions/schema.ts';
import { describeSweepWork, type Sweep, type SweepsFile } from '../lib/sweeps/config.ts';
import type { RunSweepEvent } from '../lib/sweeps/run.ts';
import { CitrixResponseFunction } from './citrix-response-function.ts';
import { deadLetterQueue } from './operations.ts';
import { runbooksBeside } from './runbooks.ts';
import { bindIdempotency } from './source-endpoints.ts';

export interface SweepsProps {
  /** The sweeps as validated at synth (`readConfig`): each enabled one gets a schedule. */
  readonly sweeps: SweepsFile;
  /** The file they were read from, bundled beside the function as `sweeps.json`. */
  readonly sweepsFile: string;
  readonly actionsTable: ITable;
  readonly auditTable: ITable;
  /** The source endpoints' table: a run is accepted once per sweep and scheduled time. */
  readonly idempotencyTable: ITable;
  readonly idempotencyWindowSeconds: number;
  readonly stateMachines: Readonly<Record<WorkflowName, IStateMachine>>;
  readonly logRetention: RetentionDays;
  /** The deployed runbooks (infra/runbooks.ts): a sweep may run one. */
  readonly runbooksFile: string;
}

/**
 * How long a run may still start late, and how often a failed start is tried again: by the
 * schedule when Lambda cannot take the event, and by Lambda when the function fails. A retry is
 * harmless (a run is accepted once per scheduled time); a run an hour late is not worth starting,
 * since the next one is due.
 */
export const SWEEP_RUN_RETRIES = {
  maxEventAge: Duration.hours(1),
  /** EventBridge Scheduler's attempts to hand the event to Lambda. */
  scheduleRetryAttempts: 3,
  /** Lambda's attempts to run the function (2 is the most Lambda allows). */
  functionRetryAttempts: 2,
} as const;

/**
 * The sweeps: the run-sweep function, which starts one run of a sweep through the same
 * idempotent acceptance as a source delivery, and one EventBridge Scheduler schedule per enabled
 * sweep (a disabled sweep has none), named after the sweep in the stack's own schedule group.
 * A run that could not be started (after the retries above) lands in one dead-letter queue,
 * whether the schedule could not invoke the function or the function failed.
 */
export class Sweeps extends Construct {
  readonly handler: CitrixResponseFunction;
  readonly deadLetterQueue: Queue;
  readonly scheduleGroup: ScheduleGroup;
  /** The role the schedules invoke the function with. */
  readonly schedulerRole: Role;
  /** One schedule per enabled sweep, by sweep name. */
  readonly schedules: ReadonlyMap<string, Schedule>;

  constructor(scope: Construct, id: string, props: SweepsProps) {
    super(scope, id);

    // Holds the scheduled event of a run that never started, with the error; nothing else.
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue');

    this.handler = new CitrixResponseFunction(this, 'Handler', {
      entry: 'functions/run-sweep.ts',
      description: 'Sweeps: starts one run of a scheduled sweep',
      logRetention: props.logRetention,
      timeout: Duration.seconds(30),
      // The sweeps were validated at synth (infra/config.ts); the function reads this copy.
      bundledFiles: [
        { from: props.sweepsFile, name: 'sweeps.json' },
        runbooksBeside(props.runbooksFile),
      ],
      asynchronousInvocation: {
        retryAttempts: SWEEP_RUN_RETRIES.functionRetryAttempts,
        maxEventAge: SWEEP_RUN_RETRIES.maxEventAge,
        deadLetterQueue: this.deadLetterQueue,
      },
    });
    // What accepting an action takes, as for a source delivery; no source secret.
    this.handler.bindActionsTable(props.actionsTable);
    bindIdempotency(this.handler, props.idempotencyTable, props.idempotencyWindowSeconds);
    this.handler.bindTable('AUDIT_TABLE_NAME', props.auditTable, 'dynamodb:BatchWriteItem');
    this.handler.bindStateMachines(props.stateMachines);

    // The stack's own group: schedule names are unique per group, so each is the sweep's name.
    // It holds only the schedules, which the stack re-creates: a group kept after the stack is
    // deleted would only make the next deployment fail on its name.
    this.scheduleGroup = new ScheduleGroup(this, 'ScheduleGroup', {
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Only EventBridge Scheduler, for this account's schedules of this group, may use the role.
    this.schedulerRole = new Role(this, 'SchedulerRole', {
      description: 'EventBridge Scheduler invokes the run-sweep function for the sweep schedules',
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': Stack.of(this).account,
            'aws:SourceArn': this.scheduleGroup.scheduleGroupArn,
          },
        },
      }),
    });

    const schedules = new Map<string, Schedule>();
    for (const sweep of props.sweeps.sweeps) {
      if (!sweep.enabled) continue;
      // The sweep's name as the construct id: names are unique, their PascalCase forms may not be.
      schedules.set(sweep.name, this.#schedule(sweep));
    }
    this.schedules = schedules;
  }

  #schedule(sweep: Sweep): Schedule {
    const event: RunSweepEvent = {
      sweep: sweep.name,
      scheduledAt: ContextAttribute.scheduledTime,
    };
    const schedule = new Schedule(this, sweep.name, {
      scheduleName: sweep.name,
      scheduleGroup: this.scheduleGroup,
      description: `Sweep ${sweep.name}: ${describeSweepWork(sweep)} (${sweep.mode})`,
      schedule: ScheduleExpression.expression(sweep.schedule, TimeZone.of(sweep.timezone)),
      // At the scheduled time: the time is the run's idempotency key and what it reports.
      timeWindow: TimeWindow.off(),
      target: new InvokeUnqualified(this.handler, {
        role: this.schedulerRole,
        input: ScheduleTargetInput.fromObject(event),
        deadLetterQueue: this.deadLetterQueue,
        maxEventAge: SWEEP_RUN_RETRIES.maxEventAge,
        retryAttempts: SWEEP_RUN_RETRIES.scheduleRetryAttempts,
      }),
    });
    // The group is named, not referenced: created before its schedules, deleted after them.
    schedule.node.addDependency(this.scheduleGroup);
    return schedule;
  }
}

/**
 * LambdaInvoke, allowed to invoke the function's unqualified ARN (what the schedules call)
 * rather than also every version and alias (`:*`), which `grantInvoke` adds.
 */
class InvokeUnqualified extends LambdaInvoke {
  readonly #function: IFunction;

  constructor(fn: IFunction, props: ScheduleTargetBaseProps) {
    super(fn, props);
    this.#function = fn;
  }

  protected override addTargetActionToRole(role: IRole): void {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [this.#function.functionArn],
      }),
    );
  }
}
