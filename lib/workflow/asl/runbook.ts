import { RUNBOOK_WORKFLOW_TIMEOUT_SECONDS } from '../../runbooks/schedule.ts';
import { CATCH, RETRY } from './policies.ts';
import {
  actionWorkflow,
  completeAction,
  resolveTargets,
  TASK_TIMEOUT_SECONDS,
} from './shared-states.ts';
import { functionArn, type StateMachine } from './types.ts';

/** The source of `state-machines/runbook.asl.json`. */
export const RUNBOOK: StateMachine = actionWorkflow({
  comment:
    "Runs a runbook: records its runbook and steps, applies the run's own guardrails (approval only where a deployment asks for it), then starts each step in order as its own action (its own guardrails and approvals; the run waits while a step awaits approval), with growing waits between rounds, skipping a step whose condition does not hold and stopping at the first failure its step does not continue past. Task Lambdas throw named errors for Retry and Catch.",
  timeoutSeconds: RUNBOOK_WORKFLOW_TIMEOUT_SECONDS,
  resolveTargets: resolveTargets({
    function: 'StartRunbookFunctionArn',
    comment:
      'Marks the run running with its runbook and its steps (all pending), checks its inputs and steps again, and applies its own limits and approval rule; returns how long to wait on each step.',
    timeoutSeconds: TASK_TIMEOUT_SECONDS,
  }),
  isDryRun: {
    Type: 'Choice',
    Comment:
      'A dry run runs every step as a dry run, so the whole plan is recorded before anything acts; it needs no approval.',
    Choices: [{ Variable: '$.dryRun', BooleanEquals: true, Next: 'AdvanceRunbook' }],
    Default: 'NeedsApproval',
  },
  act: 'AdvanceRunbook',
  states: {
    AdvanceRunbook: {
      Type: 'Task',
      Comment:
        "One round: records how the running step's action ended (or that it awaits approval), then starts the next step whose condition holds, under an action id derived from the run's, so a retried round never starts a step twice. Returns whether the run is done and the next wait.",
      Resource: functionArn('AdvanceRunbookFunctionArn'),
      Parameters: {
        'actionId.$': '$.actionId',
        'schedule.$': '$.resolution.schedule',
      },
      ResultPath: '$.round',
      TimeoutSeconds: TASK_TIMEOUT_SECONDS,
      Retry: [RETRY.recordWrite],
      Catch: CATCH.failAction,
      Next: 'IsRunbookDone',
    },
    IsRunbookDone: {
      Type: 'Choice',
      Choices: [{ Variable: '$.round.done', BooleanEquals: true, Next: 'CompleteAction' }],
      Default: 'WaitForStep',
    },
    WaitForStep: {
      Type: 'Wait',
      Comment:
        "Waits 5, 10, 20 … seconds up to the run's longest wait while a step runs or awaits approval; each step's deadline bounds the rounds, which bounds the history.",
      SecondsPath: '$.round.waitSeconds',
      Next: 'AdvanceRunbook',
    },
  },
  completeAction: completeAction(
    "Records the run's status and summary, as the last round derived them from its steps.",
    {
      'actionId.$': '$.actionId',
      'action.$': '$.action',
      'dryRun.$': '$.dryRun',
      'runbook.$': '$.round.outcome',
    },
  ),
});
