import { stateMachineArnVariable, WORKFLOW_NAMES } from '../../actions/declaration.ts';
import { StepFunctionsTaskTokens, StepFunctionsWorkflowStarter } from '../../workflow/starter.ts';
import { requiredEnv } from '../env.ts';
import { once } from '../once.ts';
import { sfnClient } from './sfn.ts';

/** Starts the workflow of an accepted action (`<WORKFLOW>_STATE_MACHINE_ARN`, one per workflow). */
export const awsWorkflowStarter = once(
  () =>
    new StepFunctionsWorkflowStarter(
      sfnClient,
      Object.fromEntries(
        WORKFLOW_NAMES.map((workflow) => [
          workflow,
          requiredEnv(process.env, stateMachineArnVariable(workflow)),
        ]),
      ) as Record<(typeof WORKFLOW_NAMES)[number], string>,
    ),
);

/** Resumes a workflow held for approval with the approver's decision. */
export const awsTaskTokens = once(() => new StepFunctionsTaskTokens(sfnClient));
