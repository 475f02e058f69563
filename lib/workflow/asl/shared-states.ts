import { CATCH, RETRY } from './policies.ts';
import { FILE_APPROVAL_WINDOW_SECONDS } from './timeouts.ts';
import {
  type ChoiceState,
  type FailState,
  functionArn,
  type JsonObject,
  type MapState,
  type PassState,
  type StateMachine,
  type States,
  type SucceedState,
  type TaskState,
} from './types.ts';

/**
 * The states every action workflow shares, each defined once: resolving the targets, the dry run
 * and approval branch, the Map over the targets, the completion and the notification of the
 * source. `actionWorkflow` puts them around a workflow's own states.
 */

const COMPLETE_ACTION_FUNCTION = functionArn('CompleteActionFunctionArn');
const NOTIFY_ACTION_OUTCOME_FUNCTION = functionArn('NotifyActionOutcomeFunctionArn');
const WAIT_FOR_TASK_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/** The Lambda timeout (60 s) and a margin: every task whose function keeps the default. */
export const TASK_TIMEOUT_SECONDS = 90;
/** A 120 s Lambda timeout and a margin (warn-sessions, notify-action-outcome). */
const LONG_TASK_TIMEOUT_SECONDS = 150;

/** The approval hold ended without anything done: the action's status says how. */
function recordHoldEnd(comment: string, ended: 'rejected' | 'expired'): TaskState {
  return {
    Type: 'Task',
    Comment: comment,
    Resource: COMPLETE_ACTION_FUNCTION,
    Parameters: {
      'actionId.$': '$.actionId',
      'action.$': '$.action',
      'dryRun.$': '$.dryRun',
      'error.$': '$.error',
      ended,
    },
    ResultPath: '$.completion',
    TimeoutSeconds: TASK_TIMEOUT_SECONDS,
    Retry: [RETRY.recordWrite],
    Catch: CATCH.lastResort,
    Next: 'NotifyOutcome',
  };
}

export const RECORD_REJECTION: TaskState = recordHoldEnd(
  'An approver rejected the action: status rejected, nothing done.',
  'rejected',
);

export const RECORD_EXPIRY: TaskState = recordHoldEnd(
  'Nobody decided in time: status expired, nothing done.',
  'expired',
);

export const HOLD_FAILED: PassState = {
  Type: 'Pass',
  Comment:
    'The hold failed before anything was done (its record could not be written, or the wait itself failed): marked ended so that RecordActionFailure gives the whole hourly reservation back.',
  Result: 'failed',
  ResultPath: '$.ended',
  Next: 'RecordActionFailure',
};

/** Tells the source how the action ended; its failure never changes the outcome. */
function notifyOutcome(comment: string, next: string): TaskState {
  return {
    Type: 'Task',
    Comment: comment,
    Resource: NOTIFY_ACTION_OUTCOME_FUNCTION,
    Parameters: { 'actionId.$': '$.actionId' },
    ResultPath: '$.notification',
    TimeoutSeconds: LONG_TASK_TIMEOUT_SECONDS,
    Retry: [RETRY.notifyTransient],
    Catch: CATCH.continueAfter('$.notificationError', next),
    Next: next,
  };
}

export const NOTIFY_OUTCOME: TaskState = notifyOutcome(
  "Writes the ServiceNow work note and sends the signed callback the action asked for, and records how each went. A failed delivery never changes the action's outcome.",
  'ActionDone',
);

export const NOTIFY_OUTCOME_AFTER_FAILURE: TaskState = notifyOutcome(
  'Tells the source that the action failed as a whole, the same way. Best effort.',
  'ActionFailed',
);

export const ACTION_DONE: SucceedState = {
  Type: 'Succeed',
  Comment: "The execution's output is the completion, as the action record has it.",
  OutputPath: '$.completion',
};

export const ACTION_FAILED: FailState = {
  Type: 'Fail',
  ErrorPath: '$.error.Error',
  CausePath: '$.error.Cause',
};

/**
 * The last resort: completing or failing the action could not be recorded (after its retries),
 * so the action is marked failed in one small conditional write (an outcome already recorded
 * stays), with a retry of its own, and the execution fails.
 */
export const RECORD_FAILURE_LAST_RESORT: TaskState = {
  Type: 'Task',
  Comment:
    "Last resort: the action's outcome could not be recorded. Marks it failed, unless it has already ended, so that it never stays running; then the execution fails with the error.",
  Resource: COMPLETE_ACTION_FUNCTION,
  Parameters: { 'actionId.$': '$.actionId', 'lastResort.$': '$.completionError' },
  ResultPath: '$.lastResort',
  TimeoutSeconds: TASK_TIMEOUT_SECONDS,
  Retry: [RETRY.lastResort],
  Catch: CATCH.unrecorded,
  Next: 'OutcomeUnrecorded',
};

export const OUTCOME_UNRECORDED: FailState = {
  Type: 'Fail',
  Comment: "The action's outcome could not be recorded: the error that stopped it.",
  ErrorPath: '$.completionError.Error',
  CausePath: '$.completionError.Cause',
};

/** Marks the action running and turns its target into the targets to act on. */
export function resolveTargets(options: {
  readonly function: `${string}FunctionArn`;
  readonly comment: string;
  readonly timeoutSeconds: number;
  /** Request fields the task reads besides the action, target and dry run flag. */
  readonly parameters?: JsonObject;
}): TaskState {
  return {
    Type: 'Task',
    Comment: options.comment,
    Resource: functionArn(options.function),
    Parameters: {
      'actionId.$': '$.actionId',
      'action.$': '$.action',
      'target.$': '$.target',
      'dryRun.$': '$.dryRun',
      ...options.parameters,
    },
    ResultPath: '$.resolution',
    TimeoutSeconds: options.timeoutSeconds,
    Retry: [RETRY.citrixTransient, RETRY.resolveTransient],
    Catch: CATCH.failAction,
    Next: 'IsDryRun',
  };
}

export function isDryRun(comment: string): ChoiceState {
  return {
    Type: 'Choice',
    Comment: comment,
    Choices: [{ Variable: '$.dryRun', BooleanEquals: true, Next: 'CompleteAction' }],
    Default: 'NeedsApproval',
  };
}

/** Held for approval when the guardrails said so; otherwise straight on to `act`. */
export function needsApproval(act: string): ChoiceState {
  return {
    Type: 'Choice',
    Comment:
      'Held when the action type needs approval or a limit was exceeded (set by ResolveTargets).',
    Choices: [
      {
        Variable: '$.resolution.guardrails.outcome',
        StringEquals: 'approval',
        Next: 'RequestApproval',
      },
    ],
    Default: act,
  };
}

/**
 * The hold: its TimeoutSeconds is the approval window, which `readDefinition` replaces with the
 * configured one (and moves the execution's timeout by as much).
 */
export function requestApproval(act: string): TaskState {
  return {
    Type: 'Task',
    Comment:
      'Records the hold with its task token (status awaiting_approval) and waits for POST /v1/actions/{id}/approve or /reject; nothing has been changed yet. The wait ends at the configured approval timeout (set when the definition is read): expired.',
    Resource: WAIT_FOR_TASK_TOKEN,
    Parameters: {
      FunctionName: functionArn('RequestApprovalFunctionArn'),
      Payload: {
        'actionId.$': '$.actionId',
        'taskToken.$': '$$.Task.Token',
        'reasons.$': '$.resolution.guardrails.reasons',
        'timeoutSeconds.$': '$.resolution.guardrails.approvalTimeoutSeconds',
      },
    },
    ResultPath: '$.approval',
    TimeoutSeconds: FILE_APPROVAL_WINDOW_SECONDS,
    Retry: [RETRY.recordWrite],
    Catch: CATCH.approvalOutcome,
    Next: act,
  };
}

/** One iteration per target, at most 10 at once; one failed target never stops the others. */
export function actOnEachTarget(options: {
  readonly comment: string;
  /** Request fields each iteration reads besides the action id and the action. */
  readonly itemFields?: JsonObject;
  readonly startAt: string;
  readonly states: States;
}): MapState {
  return {
    Type: 'Map',
    Comment: options.comment,
    ItemsPath: '$.resolution.targets',
    ItemSelector: {
      'actionId.$': '$.actionId',
      'action.$': '$.action',
      ...options.itemFields,
      'target.$': '$$.Map.Item.Value',
    },
    MaxConcurrency: 10,
    ItemProcessor: {
      ProcessorConfig: { Mode: 'INLINE' },
      StartAt: options.startAt,
      States: options.states,
    },
    ResultPath: '$.results',
    Catch: CATCH.failAction,
    Next: 'CompleteAction',
  };
}

/** The last state of each Map iteration: the target's result, stored and returned. */
export function recordTargetResult(options: {
  readonly function: `${string}FunctionArn`;
  readonly comment: string;
}): TaskState {
  return {
    Type: 'Task',
    Comment: options.comment,
    Resource: functionArn(options.function),
    TimeoutSeconds: TASK_TIMEOUT_SECONDS,
    Retry: [RETRY.recordWrite],
    End: true,
  };
}

/** Records the action's outcome; if that cannot be recorded, the last resort marks it failed. */
export function completeAction(comment: string, parameters?: JsonObject): TaskState {
  return {
    Type: 'Task',
    Comment: comment,
    Resource: COMPLETE_ACTION_FUNCTION,
    ...(parameters === undefined ? {} : { Parameters: parameters }),
    ResultPath: '$.completion',
    TimeoutSeconds: TASK_TIMEOUT_SECONDS,
    Retry: [RETRY.recordWrite],
    Catch: CATCH.lastResort,
    Next: 'NotifyOutcome',
  };
}

export function recordActionFailure(
  comment = 'Records an action that failed as a whole (targets could not be resolved, or too many), and gives back the hourly reservation of the targets it never acted on.',
): TaskState {
  return {
    Type: 'Task',
    Comment: comment,
    Resource: COMPLETE_ACTION_FUNCTION,
    ResultPath: '$.completion',
    TimeoutSeconds: TASK_TIMEOUT_SECONDS,
    Retry: [RETRY.recordWrite],
    Catch: CATCH.lastResort,
    Next: 'NotifyOutcomeAfterFailure',
  };
}

/** What a workflow says about itself; everything else of its shape is shared. */
export interface ActionWorkflowSource {
  readonly comment: string;
  readonly timeoutSeconds: number;
  readonly resolveTargets: TaskState;
  readonly isDryRun: ChoiceState;
  /** The first of the workflow's own states: where it goes once it may act. */
  readonly act: string;
  /** The workflow's own states, ending in `actOnEachTarget` (whose Next is CompleteAction). */
  readonly states: States;
  readonly completeAction: TaskState;
  readonly recordActionFailure?: TaskState;
}

const SHARED_STATE_NAMES = [
  'ResolveTargets',
  'IsDryRun',
  'NeedsApproval',
  'RequestApproval',
  'RecordRejection',
  'RecordExpiry',
  'HoldFailed',
  'CompleteAction',
  'RecordActionFailure',
  'NotifyOutcome',
  'ActionDone',
  'NotifyOutcomeAfterFailure',
  'ActionFailed',
  'RecordFailureLastResort',
  'OutcomeUnrecorded',
] as const;

/**
 * An action workflow: resolve the targets; a dry run completes at once; a hold for approval
 * when the guardrails ask for one (rejected, expired or failed holds are recorded); then the
 * workflow's own states; then the action's status and the notification of its source. Recording
 * the status has a last resort, so that every path ends with the action recorded as ended.
 */
export function actionWorkflow(source: ActionWorkflowSource): StateMachine {
  for (const name of Object.keys(source.states)) {
    if ((SHARED_STATE_NAMES as readonly string[]).includes(name)) {
      throw new Error(`State ${name} is one of the shared states; give the workflow's own a name`);
    }
  }
  if (!(source.act in source.states)) {
    throw new Error(`The workflow acts from ${source.act}, which is not one of its own states`);
  }
  return {
    Comment: source.comment,
    StartAt: 'ResolveTargets',
    TimeoutSeconds: source.timeoutSeconds,
    States: {
      ResolveTargets: source.resolveTargets,
      IsDryRun: source.isDryRun,
      NeedsApproval: needsApproval(source.act),
      RequestApproval: requestApproval(source.act),
      RecordRejection: RECORD_REJECTION,
      RecordExpiry: RECORD_EXPIRY,
      HoldFailed: HOLD_FAILED,
      ...source.states,
      CompleteAction: source.completeAction,
      RecordActionFailure: source.recordActionFailure ?? recordActionFailure(),
      NotifyOutcome: NOTIFY_OUTCOME,
      ActionDone: ACTION_DONE,
      NotifyOutcomeAfterFailure: NOTIFY_OUTCOME_AFTER_FAILURE,
      ActionFailed: ACTION_FAILED,
      RecordFailureLastResort: RECORD_FAILURE_LAST_RESORT,
      OutcomeUnrecorded: OUTCOME_UNRECORDED,
    },
  };
}
