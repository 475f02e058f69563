import { CATCH, RETRY } from './policies.ts';
import {
  actionWorkflow,
  actOnEachTarget,
  completeAction,
  isDryRun,
  recordTargetResult,
  resolveTargets,
} from './shared-states.ts';
import { functionArn, type StateMachine } from './types.ts';

/** The source of `state-machines/session-action.asl.json`. */
export const SESSION_ACTION: StateMachine = actionWorkflow({
  comment:
    'Disconnects or logs off Citrix DaaS sessions: resolve the targets, act on each with bounded concurrency, poll log off jobs with growing waits up to a deadline, record one result per target. Task Lambdas throw named errors for Retry and Catch.',
  timeoutSeconds: 10800,
  resolveTargets: resolveTargets({
    function: 'ResolveSessionTargetsFunctionArn',
    comment:
      'Marks the action running and turns the target (a session id or a user) into sessions.',
    timeoutSeconds: 120,
  }),
  isDryRun: isDryRun('A dry run records the plan and touches nothing.'),
  act: 'HasWarning',
  states: {
    HasWarning: {
      Type: 'Choice',
      Comment:
        'Citrix advises warning users before acting: unless the request asked for none or said urgency immediate.',
      Choices: [{ Variable: '$.warning', IsNull: true, Next: 'ActOnEachTarget' }],
      Default: 'WarnSessions',
    },
    WarnSessions: {
      Type: 'Task',
      Comment:
        'Sends $sendMessage to each session to be acted on; a failed warning is recorded and never blocks the containment.',
      Resource: functionArn('WarnSessionsFunctionArn'),
      Parameters: {
        'actionId.$': '$.actionId',
        'warning.$': '$.warning',
        'targets.$': '$.resolution.targets',
      },
      ResultPath: '$.warnings',
      TimeoutSeconds: 150,
      Retry: [RETRY.recordWrite],
      Catch: CATCH.continueAfter('$.warningError', 'RecordWarningFailure'),
      Next: 'WaitGracePeriod',
    },
    RecordWarningFailure: {
      Type: 'Task',
      Comment:
        "The warning task failed as a whole: records each session's warning as failed with the error (action record and audit trail), sending nothing; the grace period is still waited, since some messages may have gone out.",
      Resource: functionArn('WarnSessionsFunctionArn'),
      Parameters: {
        'actionId.$': '$.actionId',
        'warning.$': '$.warning',
        'targets.$': '$.resolution.targets',
        'failure.$': '$.warningError',
      },
      ResultPath: '$.warnings',
      TimeoutSeconds: 150,
      Retry: [RETRY.recordWrite],
      Catch: CATCH.continueAfter('$.warningRecordError', 'WaitGracePeriod'),
      Next: 'WaitGracePeriod',
    },
    WaitGracePeriod: {
      Type: 'Wait',
      Comment: 'Gives users the grace period the warning announced.',
      SecondsPath: '$.warning.graceSeconds',
      Next: 'ActOnEachTarget',
    },
    ActOnEachTarget: actOnEachTarget({
      comment:
        'One iteration per session; a failed session is recorded and never stops the others.',
      startAt: 'IsActionable',
      states: {
        IsActionable: {
          Type: 'Choice',
          Comment:
            "Only a session the guardrails marked actionable is acted on; a protected user's session (or one without the mark) is recorded as skipped.",
          Choices: [
            {
              And: [
                { Variable: '$.target.actionable', IsPresent: true },
                { Variable: '$.target.actionable', BooleanEquals: true },
              ],
              Next: 'SubmitAction',
            },
          ],
          Default: 'RecordTargetResult',
        },
        SubmitAction: {
          Type: 'Task',
          Comment:
            'Sends $disconnect or $logoff; a log off returns the Citrix job to poll and the first wait.',
          Resource: functionArn('SubmitSessionActionFunctionArn'),
          Parameters: {
            'actionId.$': '$.actionId',
            'action.$': '$.action',
            'sessionId.$': '$.target.sessionId',
          },
          ResultPath: '$.progress',
          TimeoutSeconds: 120,
          Retry: [RETRY.citrixTransient, RETRY.lambdaTransient],
          Catch: CATCH.failTarget('RecordTargetResult'),
          Next: 'IsTargetDone',
        },
        IsTargetDone: {
          Type: 'Choice',
          Choices: [
            { Variable: '$.progress.done', BooleanEquals: true, Next: 'RecordTargetResult' },
          ],
          Default: 'WaitForJob',
        },
        WaitForJob: {
          Type: 'Wait',
          Comment:
            'Growing waits (2, 4, 8 ... capped) computed by the task; the task also enforces the deadline, which bounds the history.',
          SecondsPath: '$.progress.waitSeconds',
          Next: 'CheckJob',
        },
        CheckJob: {
          Type: 'Task',
          Comment:
            'Reads the Citrix job; throws LogoffJobFailedError or LogoffJobDeadlineExceededError.',
          Resource: functionArn('CheckLogoffJobFunctionArn'),
          Parameters: { 'actionId.$': '$.actionId', 'progress.$': '$.progress' },
          ResultPath: '$.progress',
          TimeoutSeconds: 120,
          Retry: [RETRY.citrixTransient, RETRY.lambdaTransient],
          Catch: CATCH.failTarget('RecordTargetResult'),
          Next: 'IsTargetDone',
        },
        RecordTargetResult: recordTargetResult({
          function: 'RecordTargetResultFunctionArn',
          comment:
            "Turns progress or error into the target's result, stores it and returns it as the iteration's output.",
        }),
      },
    }),
  },
  completeAction: completeAction(
    "Derives the action's status from the per-target results (or the plan, for a dry run) and stores it.",
  ),
});
