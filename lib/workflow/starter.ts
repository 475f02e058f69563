import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';

/** Starts a workflow execution named after the action it carries out. */
export interface WorkflowStarter {
  start(executionName: string, input: unknown): Promise<void>;
}

export class WorkflowStartError extends Error {
  override name = 'WorkflowStartError';
}

export class StepFunctionsWorkflowStarter implements WorkflowStarter {
  readonly #client: SFNClient;
  readonly #stateMachineArn: string;

  constructor(client: SFNClient, stateMachineArn: string) {
    this.#client = client;
    this.#stateMachineArn = stateMachineArn;
  }

  async start(executionName: string, input: unknown): Promise<void> {
    try {
      await this.#client.send(
        new StartExecutionCommand({
          stateMachineArn: this.#stateMachineArn,
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
