import { StepFunctionsTaskTokens, StepFunctionsWorkflowStarter } from '../../workflow/starter.ts';
import { requiredEnv } from '../env.ts';
import { once } from '../once.ts';
import { sfnClient } from './sfn.ts';

/** Starts the workflow of an accepted action (`<WORKFLOW>_STATE_MACHINE_ARN`). */
export const awsWorkflowStarter = once(
  () =>
    new StepFunctionsWorkflowStarter(sfnClient, {
      'session-action': requiredEnv(process.env, 'SESSION_ACTION_STATE_MACHINE_ARN'),
      'device-action': requiredEnv(process.env, 'DEVICE_ACTION_STATE_MACHINE_ARN'),
      'admin-action': requiredEnv(process.env, 'ADMIN_ACTION_STATE_MACHINE_ARN'),
    }),
);

/** Resumes a workflow held for approval with the approver's decision. */
export const awsTaskTokens = once(() => new StepFunctionsTaskTokens(sfnClient));
