import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { WorkflowName } from '../actions/schema.ts';

/** Starts an execution of the named workflow, named after the action it carries out. */
export interface WorkflowStarter {
  start(workflow: WorkflowName, executionName: string, input: unknown): Promise<void>;
}

export class WorkflowStartError extends Error {
  override name = 'WorkflowStartError';
}

export class StepFunctionsWorkflowStarter implements WorkflowStarter {
  readonly #client: SFNClient;
  readonly #stateMachineArns: Readonly<Record<WorkflowName, string>>;

  constructor(client: SFNClient, stateMachineArns: Readonly<Record<WorkflowName, string>>) {
    this.#client = client;
    this.#stateMachineArns = stateMachineArns;
  }

  async start(workflow: WorkflowName, executionName: string, input: unknown): Promise<void> {
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
