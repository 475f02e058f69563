import {
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { WorkflowName } from '../actions/declaration.ts';

/** Starts an execution of the named workflow, named after the action it carries out. */
export interface WorkflowStarter {
  start(workflow: WorkflowName, executionName: string, input: unknown): Promise<void>;
}

export class WorkflowStartError extends Error {
  override name = 'WorkflowStartError';
}

export class StepFunctionsWorkflowStarter implements WorkflowStarter {
  readonly #client: SFNClient;
  readonly #stateMachineArns: Readonly<Partial<Record<WorkflowName, string>>>;

  /** `stateMachineArns`: the workflows this function may start (a runbook's steps: not its own). */
  constructor(
    client: SFNClient,
    stateMachineArns: Readonly<Partial<Record<WorkflowName, string>>>,
  ) {
    this.#client = client;
    this.#stateMachineArns = stateMachineArns;
  }

  async start(workflow: WorkflowName, executionName: string, input: unknown): Promise<void> {
    if (this.#stateMachineArns[workflow] === undefined) {
      throw new WorkflowStartError(`This function does not start ${workflow} executions`);
    }
    try {
      await this.#client.send(
        new StartExecutionCommand({
          stateMachineArn: this.#stateMachineArns[workflow],
          name: executionName,
          input: JSON.stringify(input),
        }),
      );
    } catch (error) {
      // Standard workflows are idempotent by name for an identical input, so a repeat succeeds;
      // a name clash with a different input is a bug and surfaces here.
      throw new WorkflowStartError(`Could not start execution ${executionName}`, { cause: error });
    }
  }
}

/** Resumes a workflow waiting on a task token (an approval): what the approve/reject API calls. */
export interface TaskTokenSender {
  succeed(token: string, output: unknown): Promise<void>;
  fail(token: string, error: string, cause: string): Promise<void>;
}

/** The token is unknown, or its wait already ended (Step Functions' TaskTimedOut/InvalidToken). */
export class TaskTokenInvalidError extends Error {
  override name = 'TaskTokenInvalidError';
}

export class StepFunctionsTaskTokens implements TaskTokenSender {
  readonly #client: SFNClient;

  constructor(client: SFNClient) {
    this.#client = client;
  }

  async succeed(token: string, output: unknown): Promise<void> {
    await this.#send(() =>
      this.#client.send(
        new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }),
      ),
    );
  }

  async fail(token: string, error: string, cause: string): Promise<void> {
    await this.#send(() =>
      this.#client.send(new SendTaskFailureCommand({ taskToken: token, error, cause })),
    );
  }

  async #send(operation: () => Promise<unknown>): Promise<void> {
    try {
      await operation();
    } catch (error) {
      const name = (error as { name?: string }).name ?? '';
      if (['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist'].includes(name)) {
        throw new TaskTokenInvalidError('The workflow no longer waits on this approval', {
          cause: error,
        });
      }
      throw error;
    }
  }
}
