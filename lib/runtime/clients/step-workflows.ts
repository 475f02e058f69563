import { stateMachineArnVariable } from '../../actions/declaration.ts';
import { STEP_WORKFLOW_NAMES } from '../../runbooks/definition.ts';
import { StepFunctionsWorkflowStarter } from '../../workflow/starter.ts';
import { requiredEnv } from '../env.ts';
import { once } from '../once.ts';
import { sfnClient } from './sfn.ts';

/**
 * Starts a runbook step's action (`<WORKFLOW>_STATE_MACHINE_ARN` of each workflow a step can run):
 * never the runbook workflow, whose own task would otherwise name its state machine (a cycle).
 */
export const awsStepWorkflowStarter = once(
  () =>
    new StepFunctionsWorkflowStarter(
      sfnClient,
      Object.fromEntries(
        STEP_WORKFLOW_NAMES.map((workflow) => [
          workflow,
          requiredEnv(process.env, stateMachineArnVariable(workflow)),
        ]),
      ),
    ),
);
