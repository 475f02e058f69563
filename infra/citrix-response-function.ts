import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Grant } from 'aws-cdk-lib/aws-iam';
import { Architecture, LayerVersion, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import {
  stateMachineArnVariable,
  WORKFLOW_NAMES,
  type WorkflowName,
} from '../lib/actions/declaration.ts';
import { ACTIONS_TABLE_INDEX_NAMES } from '../lib/actions/list.ts';
import { FUNCTION_BUNDLING, powertoolsLayerArn } from './function-bundling.ts';
import { POWERTOOLS_ENVIRONMENT } from './operations.ts';

/** The repository root: entries, package-lock.json and node_modules are resolved from it. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface CitrixResponseFunctionProps {
  /** Entry file relative to the project root, e.g. `functions/actions-api.ts`. */
  readonly entry: string;
  readonly description: string;
  readonly logRetention: RetentionDays;
  /** @default 60 seconds */
  readonly timeout?: Duration;
  /** Files copied next to the bundle, by absolute source path and file name in the bundle. */
  readonly bundledFiles?: readonly { readonly from: string; readonly name: string }[];
  /**
   * For a function invoked asynchronously (by a schedule): how often Lambda retries a failed
   * invocation, for how long, and the queue that keeps an event that still failed.
   * @default Lambda's defaults (2 retries, 6 hours) and no dead-letter queue
   */
  readonly asynchronousInvocation?: {
    readonly retryAttempts: number;
    readonly maxEventAge: Duration;
    readonly deadLetterQueue: IQueue;
  };
}

/**
 * A Lambda function with the project's fixed defaults: Node.js 24 on ARM64, X-Ray tracing, an ESM
 * bundle built by the local esbuild, and its own log group with retention. The `bind*` methods
 * set an environment variable and grant the matching least privilege together.
 */
export class CitrixResponseFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: CitrixResponseFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}LogGroup`, { retention: props.logRetention });
    super(scope, id, {
      entry: join(PROJECT_ROOT, props.entry),
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      tracing: Tracing.ACTIVE,
      timeout: props.timeout ?? Duration.seconds(60),
      memorySize: 512,
      logGroup,
      // Powertools (Logger, Metrics, Tracer and the X-Ray SDK, idempotency, parameters) is left
      // out of every bundle (FUNCTION_BUNDLING) and loaded from its public layer.
      layers: [
        LayerVersion.fromLayerVersionArn(
          scope,
          `${id}PowertoolsLayer`,
          powertoolsLayerArn(Stack.of(scope).region),
        ),
      ],
      ...(props.asynchronousInvocation ?? {}),
      environment: { ...POWERTOOLS_ENVIRONMENT, POWERTOOLS_LOG_LEVEL: 'INFO' },
      bundling: props.bundledFiles?.length
        ? {
            ...FUNCTION_BUNDLING,
            commandHooks: {
              beforeBundling: () => [],
              beforeInstall: () => [],
              // Shell-quoted with JSON.stringify: paths come from the stack, never a request.
              afterBundling: (_input: string, output: string) =>
                (props.bundledFiles ?? []).map(
                  (file) =>
                    `cp ${JSON.stringify(file.from)} ${JSON.stringify(join(output, file.name))}`,
                ),
            },
          }
        : FUNCTION_BUNDLING,
    });

    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          'AWSLambdaBasicExecutionRole only allows writing to CloudWatch Logs, which every function needs.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions.',
      },
    );
  }

  /** Read and write single action records (GetItem, PutItem, UpdateItem); no scans, no deletes. */
  bindActionsTable(table: ITable): void {
    this.addEnvironment('ACTIONS_TABLE_NAME', table.tableName);
    // BatchGetItem reads a session action's batch items back (lib/sessions/batch-items.ts);
    // nothing is granted that could delete. On the table alone: `table.grant` would add its
    // indexes, which only the listing reads (grantListActions).
    Grant.addToPrincipal({
      grantee: this,
      actions: [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:BatchGetItem',
      ],
      resourceArns: [table.tableArn],
    });
  }

  /**
   * Notes on an action the audit entries this function could not write (lib/audit/audited.ts):
   * UpdateItem on the table alone, nothing read, no index.
   */
  bindAuditFailureNotes(table: ITable): void {
    this.addEnvironment('ACTIONS_TABLE_NAME', table.tableName);
    Grant.addToPrincipal({
      grantee: this,
      actions: ['dynamodb:UpdateItem'],
      resourceArns: [table.tableArn],
    });
  }

  /**
   * Reads action records as people see them (GetItem; BatchGetItem for a session action's batch
   * items) and records an approval decision (UpdateItem): no PutItem, no scans, no deletes.
   */
  bindActionRecords(table: ITable): void {
    this.addEnvironment('ACTIONS_TABLE_NAME', table.tableName);
    Grant.addToPrincipal({
      grantee: this,
      actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:BatchGetItem'],
      resourceArns: [table.tableArn],
    });
  }

  /** Lists actions (`GET /v1/actions`): Query on the listing's indexes, never the table or a Scan. */
  grantListActions(table: ITable): void {
    Grant.addToPrincipal({
      grantee: this,
      actions: ['dynamodb:Query'],
      resourceArns: ACTIONS_TABLE_INDEX_NAMES.map((index) => `${table.tableArn}/index/${index}`),
    });
  }

  /** Passes the secret's ARN, never its value, and allows reading it at run time. */
  bindSecret(variable: `${string}_SECRET_ARN`, secret: ISecret): void {
    this.addEnvironment(variable, secret.secretArn);
    secret.grantRead(this);
  }

  /** Read and write one table (the idempotency and delivery records), by name in `variable`. */
  bindTable(variable: `${string}_TABLE_NAME`, table: ITable, ...actions: string[]): void {
    this.addEnvironment(variable, table.tableName);
    table.grant(this, ...actions);
  }

  /** Allows starting executions of each workflow's state machine, by its `<NAME>_STATE_MACHINE_ARN`. */
  bindStateMachines(stateMachines: Readonly<Record<WorkflowName, IStateMachine>>): void {
    for (const workflow of WORKFLOW_NAMES) {
      this.bindStateMachine(stateMachineArnVariable(workflow), stateMachines[workflow]);
    }
  }

  /** Allows starting executions of this one state machine. */
  bindStateMachine(variable: `${string}_STATE_MACHINE_ARN`, stateMachine: IStateMachine): void {
    this.addEnvironment(variable, stateMachine.stateMachineArn);
    stateMachine.grantStartExecution(this);
  }
}
