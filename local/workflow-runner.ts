import type { Context } from 'aws-lambda';
import { StateMachine } from 'aws-local-stepfunctions';
import * as z from 'zod';
import type { WorkflowName } from '../lib/actions/schema.ts';
import {
  type DefinitionOptions,
  readDefinition,
  substitute,
  type WorkflowDefinition,
} from '../lib/workflow/definition.ts';
import {
  TaskTokenInvalidError,
  type TaskTokenSender,
  type WorkflowStarter,
} from '../lib/workflow/starter.ts';

/** A Lambda handler as the local engine calls it: same function object as deployed. */
export type LocalTaskHandler = (event: unknown, context: Context) => Promise<unknown>;

type Run = ReturnType<StateMachine['run']>;
export type WorkflowEvent = Run['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

export interface LocalWorkflowRunnerOptions extends DefinitionOptions {
  /** Task Lambda handlers by the function names the workflow declares. */
  readonly handlers: Readonly<Record<string, LocalTaskHandler>>;
  /** Wait state durations in milliseconds by state name (tests shorten the polling waits). */
  readonly waitTimeOverrides?: Readonly<Record<string, number>>;
  /** Retry intervals in milliseconds by state name. */
  readonly retryIntervalOverrides?: Readonly<Record<string, number>>;
  readonly onEvent?: (executionName: string, event: WorkflowEvent) => void;
  /**
   * Whether each execution keeps its event log (`LocalExecution.events`, which tests read). A
   * long-running stack (`npm start`, the fuzz) turns it off: every execution's history would
   * otherwise stay in memory for good.
   */
  readonly retainEvents?: boolean;
}

export class ExecutionAlreadyExistsError extends Error {
  override name = 'ExecutionAlreadyExistsError';
}

export interface LocalExecution {
  readonly name: string;
  readonly events: WorkflowEvent[];
  /** Settles when the execution ends: its output, or the error that failed it. */
  readonly done: Promise<
    { status: 'SUCCEEDED'; output: unknown } | { status: 'FAILED'; error: unknown }
  >;
}

/**
 * A task Lambda's timeout when its declaration names none: the value infra/task-functions.ts
 * gives such functions (`task.timeoutSeconds ?? 60`).
 */
export const DEFAULT_TASK_TIMEOUT_SECONDS = 60;

/**
 * What Step Functions reports when a task's Lambda runs out of time: the error `Sandbox.Timedout`
 * (a Retry or Catch names it, or `States.ALL` catches it).
 */
export class LambdaTimeoutError extends Error {
  override name = 'Sandbox.Timedout';
}

/**
 * When an injected Lambda timeout strikes: `after-work` once the handler has done everything
 * (its Citrix calls and writes are made, its answer is lost), `before-work` before it does
 * anything (stuck on a dependency from the start).
 */
export const LAMBDA_TIMEOUT_MOMENTS = ['after-work', 'before-work'] as const;
export type LambdaTimeoutMoment = (typeof LAMBDA_TIMEOUT_MOMENTS)[number];

const LambdaTimeoutFaultSchema = z.strictObject({
  functionName: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'must be a task function name'),
  count: z.int().min(1).max(1000),
  moment: z.enum(LAMBDA_TIMEOUT_MOMENTS),
});

/**
 * Lambda timeouts injected into the local runner: the next `count` invocations of a task
 * function fail with `Sandbox.Timedout`, at the moment given. The Retry and Catch of the workflow
 * file then apply, as in Step Functions.
 */
export class LocalLambdaFaults {
  readonly #pending = new Map<string, { count: number; moment: LambdaTimeoutMoment }>();
  readonly #fired = new Map<string, number>();

  timeOut(functionName: string, count = 1, moment: LambdaTimeoutMoment = 'after-work'): void {
    const fault = LambdaTimeoutFaultSchema.parse({ functionName, count, moment });
    const pending = this.#pending.get(fault.functionName)?.count ?? 0;
    this.#pending.set(fault.functionName, { count: pending + fault.count, moment: fault.moment });
  }

  /** When this invocation of `functionName` times out, if it does (counting the fault down). */
  take(functionName: string): LambdaTimeoutMoment | undefined {
    const pending = this.#pending.get(functionName);
    if (pending === undefined || pending.count <= 0) return undefined;
    this.#pending.set(functionName, { ...pending, count: pending.count - 1 });
    this.#fired.set(functionName, (this.#fired.get(functionName) ?? 0) + 1);
    return pending.moment;
  }

  /** How many invocations of `functionName` the fault has timed out so far. */
  fired(functionName: string): number {
    return this.#fired.get(functionName) ?? 0;
  }

  clear(): void {
    this.#pending.clear();
    this.#fired.clear();
  }
}

/**
 * Runs one invocation as Lambda would: the handler gets `timeoutSeconds` and fails with
 * `Sandbox.Timedout` past it. Locally the overrunning handler is abandoned, not frozen.
 */
async function invokeWithin(
  functionName: string,
  timeoutSeconds: number,
  faults: LocalLambdaFaults,
  run: (context: Context) => Promise<unknown>,
): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const overrun = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new LambdaTimeoutError(`${functionName} timed out after ${timeoutSeconds} seconds`)),
      timeoutSeconds * 1000,
    );
  });
  const injected = () =>
    new LambdaTimeoutError(
      `${functionName} timed out after ${timeoutSeconds} seconds (fault injected)`,
    );
  try {
    const moment = faults.take(functionName);
    if (moment === 'before-work') throw injected();
    const output = await Promise.race([run(lambdaContext(functionName, timeoutSeconds)), overrun]);
    if (moment === 'after-work') throw injected();
    return output;
  } finally {
    clearTimeout(timer);
  }
}

/** The longest timer Node.js keeps (2^31 - 1 ms), in whole seconds. */
const LONGEST_LOCAL_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

const LOCAL_ARN_PREFIX = 'arn:aws:lambda:us-east-1:000000000000:function:citrix-response-local-';

/**
 * Runs a workflow's `.asl.json` file in aws-local-stepfunctions, with each Task state mapped to
 * the Lambda handler its `${...FunctionArn}` placeholder names: the definition is the deployed one.
 */
export class LocalWorkflowRunner {
  readonly #stateMachine: StateMachine;
  readonly #taskHandlers: Record<string, (input: unknown) => Promise<unknown>>;
  readonly #options: LocalWorkflowRunnerOptions;
  readonly #executions = new Map<string, LocalExecution>();

  readonly #tokens: LocalTaskTokens;
  #lambdaFaults = new LocalLambdaFaults();

  constructor(
    workflow: WorkflowDefinition,
    options: LocalWorkflowRunnerOptions,
    tokens: LocalTaskTokens = new LocalTaskTokens(),
  ) {
    const substitutions = Object.fromEntries(
      workflow.functions.map((fn) => [fn.substitution, `${LOCAL_ARN_PREFIX}${fn.name}`]),
    );
    const definition = JSON.parse(substitute(readDefinition(workflow, options), substitutions));
    // The engine times an execution with one setTimeout, which cannot hold more than about 24
    // days (a runbook run's backstop is months): longer is kept at that, which no local run reaches.
    definition.TimeoutSeconds = Math.min(definition.TimeoutSeconds, LONGEST_LOCAL_TIMEOUT_SECONDS);
    this.#stateMachine = new StateMachine(definition);
    this.#options = options;
    this.#tokens = tokens;
    this.#taskHandlers = {};
    for (const [stateName, resource, functionArn] of taskStates(definition)) {
      const functionName = functionArn.startsWith(LOCAL_ARN_PREFIX)
        ? functionArn.slice(LOCAL_ARN_PREFIX.length)
        : undefined;
      const handler = functionName === undefined ? undefined : options.handlers[functionName];
      if (functionName === undefined || handler === undefined) {
        throw new Error(`No local handler for task state ${stateName} (${resource})`);
      }
      const timeoutSeconds =
        workflow.functions.find((fn) => fn.name === functionName)?.timeoutSeconds ??
        DEFAULT_TASK_TIMEOUT_SECONDS;
      const invoke = (payload: unknown) =>
        invokeWithin(functionName, timeoutSeconds, this.#lambdaFaults, (context) =>
          handler(payload, context),
        );
      this.#taskHandlers[stateName] =
        resource === WAIT_FOR_TASK_TOKEN
          ? // As Step Functions does: invoke with the Payload, then wait for the token's answer.
            async (input) => {
              const { Payload } = input as { Payload: { taskToken: string } };
              const answer = this.#tokens.wait(Payload.taskToken);
              await invoke(Payload);
              return answer;
            }
          : invoke;
    }
  }

  /** Injected Lambda timeouts; LocalWorkflows gives all its runners the same ones. */
  useLambdaFaults(faults: LocalLambdaFaults): void {
    this.#lambdaFaults = faults;
  }

  async start(executionName: string, input: unknown): Promise<void> {
    if (this.#executions.has(executionName)) {
      throw new ExecutionAlreadyExistsError(`Execution ${executionName} already exists`);
    }
    const run = this.#stateMachine.run(input as Parameters<StateMachine['run']>[0], {
      // One token per execution: a workflow waits on at most one approval.
      context: { Task: { Token: `local-task-token:${executionName}` } },
      overrides: {
        taskResourceLocalHandlers: this.#taskHandlers as never,
        ...(this.#options.waitTimeOverrides
          ? { waitTimeOverrides: { ...this.#options.waitTimeOverrides } }
          : {}),
        ...(this.#options.retryIntervalOverrides
          ? { retryIntervalOverrides: { ...this.#options.retryIntervalOverrides } }
          : {}),
      },
    });
    const events: WorkflowEvent[] = [];
    const collecting = (async () => {
      for await (const event of run.eventLogs) {
        if (this.#options.retainEvents !== false) events.push(event);
        this.#options.onEvent?.(executionName, event);
      }
    })();
    const done = run.result.then(
      (output) => ({ status: 'SUCCEEDED' as const, output }),
      (error: unknown) => ({ status: 'FAILED' as const, error }),
    );
    this.#executions.set(executionName, {
      name: executionName,
      events,
      done: done.then(async (outcome) => {
        await collecting;
        return outcome;
      }),
    });
  }

  execution(executionName: string): LocalExecution | undefined {
    return this.#executions.get(executionName);
  }

  executionNames(): IterableIterator<string> {
    return this.#executions.keys();
  }

  /** Resolves when every execution started so far has ended. */
  async idle(): Promise<void> {
    await Promise.all([...this.#executions.values()].map((execution) => execution.done));
  }
}

const WAIT_FOR_TASK_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/** Task states with their Resource and the function they invoke (`FunctionName` for integrations). */
function* taskStates(node: unknown): Generator<[string, string, string]> {
  if (node === null || typeof node !== 'object') return;
  const states = (node as { States?: Record<string, unknown> }).States;
  for (const [name, state] of Object.entries(states ?? {})) {
    const typed = state as {
      Type?: string;
      Resource?: string;
      Parameters?: { FunctionName?: string };
      ItemProcessor?: unknown;
      Iterator?: unknown;
      Branches?: unknown[];
    };
    if (typed.Type === 'Task' && typed.Resource !== undefined) {
      yield [name, typed.Resource, typed.Parameters?.FunctionName ?? typed.Resource];
    }
    yield* taskStates(typed.ItemProcessor);
    yield* taskStates(typed.Iterator);
    for (const branch of typed.Branches ?? []) yield* taskStates(branch);
  }
}

let invocation = 0;

/** The slice of the Lambda context that middy and Powertools read. */
export function lambdaContext(
  functionName: string,
  timeoutSeconds = DEFAULT_TASK_TIMEOUT_SECONDS,
): Context {
  invocation += 1;
  const deadline = Date.now() + timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `${LOCAL_ARN_PREFIX}${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: `local-${invocation}`,
    logGroupName: `/local/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Thrown into a waiting task by a rejection, named like the error SendTaskFailure carries. */
export class LocalTaskFailure extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

/**
 * Task tokens of the local runner: what `SendTaskSuccess` / `SendTaskFailure` do in Step
 * Functions. The waiting task resolves with the output, or fails with the named error.
 */
export class LocalTaskTokens implements TaskTokenSender {
  readonly #waiting = new Map<string, PromiseWithResolvers<unknown>>();

  wait(token: string): Promise<unknown> {
    const waiter = Promise.withResolvers<unknown>();
    this.#waiting.set(token, waiter);
    return waiter.promise.finally(() => this.#waiting.delete(token));
  }

  async succeed(token: string, output: unknown): Promise<void> {
    this.#take(token).resolve(output);
  }

  async fail(token: string, error: string, cause: string): Promise<void> {
    this.#take(token).reject(new LocalTaskFailure(error, cause));
  }

  #take(token: string): PromiseWithResolvers<unknown> {
    const waiter = this.#waiting.get(token);
    if (waiter === undefined) throw new TaskTokenInvalidError('No task waits on this token');
    return waiter;
  }
}

/** Every workflow of the product, started by name as Step Functions would be. */
export class LocalWorkflows implements WorkflowStarter {
  readonly #runners: ReadonlyMap<WorkflowName, LocalWorkflowRunner>;
  /** Lambda timeouts to inject, by task function name, across every workflow. */
  readonly lambdaFaults = new LocalLambdaFaults();

  constructor(runners: ReadonlyMap<WorkflowName, LocalWorkflowRunner>) {
    this.#runners = runners;
    for (const runner of runners.values()) runner.useLambdaFaults(this.lambdaFaults);
  }

  async start(workflow: WorkflowName, executionName: string, input: unknown): Promise<void> {
    const runner = this.#runners.get(workflow);
    if (runner === undefined) throw new Error(`No local workflow ${workflow}`);
    // Execution names are unique across workflows here, as action ids are.
    if (this.execution(executionName) !== undefined) {
      throw new ExecutionAlreadyExistsError(`Execution ${executionName} already exists`);
    }
    await runner.start(executionName, input);
  }

  execution(executionName: string): LocalExecution | undefined {
    for (const runner of this.#runners.values()) {
      const execution = runner.execution(executionName);
      if (execution !== undefined) return execution;
    }
    return undefined;
  }

  async idle(): Promise<void> {
    await Promise.all([...this.#runners.values()].map((runner) => runner.idle()));
  }

  /** The names (action ids) of every execution started so far. */
  *executionNames(): Generator<string> {
    for (const runner of this.#runners.values()) yield* runner.executionNames();
  }
}
