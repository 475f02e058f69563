import { BATCHES_IN_PARALLEL } from '../../sessions/session-actions.ts';
import { CATCH, RETRY } from './policies.ts';
import { actionWorkflow, completeAction, isDryRun, resolveTargets } from './shared-states.ts';
import { ACTION_WORKFLOW_TIMEOUT_SECONDS } from './timeouts.ts';
import { functionArn, type StateMachine } from './types.ts';

/** The advance-session-batch Lambda's timeout: a round of up to 200 sessions, 10 requests at once. */
export const ADVANCE_BATCH_TIMEOUT_SECONDS = 300;

/** The source of `state-machines/session-action.asl.json`. */
export const SESSION_ACTION: StateMachine = actionWorkflow({
  comment:
    'Disconnects or logs off Citrix DaaS sessions: resolve the targets into batch items, advance each batch a round at a time (send, poll log off jobs with growing waits up to a deadline, back off together on throttling), record one result per target. Task Lambdas throw named errors for Retry and Catch.',
  timeoutSeconds: ACTION_WORKFLOW_TIMEOUT_SECONDS['session-action'],
  resolveTargets: resolveTargets({
    function: 'ResolveSessionTargetsFunctionArn',
    comment:
      'Marks the action running, turns the target into sessions and writes them in batch items; the state gets the batch numbers.',
    timeoutSeconds: 120,
  }),
  isDryRun: isDryRun('A dry run records the plan and touches nothing.'),
  act: 'HasWarning',
  states: {
    HasWarning: {
      Type: 'Choice',
      Comment:
        'Citrix advises warning users before acting: unless the request asked for none or said urgency immediate.',
      Choices: [{ Variable: '$.warning', IsNull: true, Next: 'ActOnEachBatch' }],
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
        'batches.$': '$.resolution.batches',
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
        'batches.$': '$.resolution.batches',
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
      Next: 'ActOnEachBatch',
    },
    ActOnEachBatch: {
      Type: 'Map',
      Comment:
        'One iteration per batch of sessions (lib/sessions/batches.ts), a few batches at once: the state carries batch numbers only, and the sessions, their claims and results stay in the batch items, so neither the state nor the history grows with each session.',
      ItemsPath: '$.resolution.batches',
      ItemSelector: {
        'actionId.$': '$.actionId',
        'action.$': '$.action',
        'batch.$': '$$.Map.Item.Value',
      },
      MaxConcurrency: BATCHES_IN_PARALLEL,
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'AdvanceBatch',
        States: {
          AdvanceBatch: {
            Type: 'Task',
            Comment:
              'One round for every session of the batch: reads the running log off jobs, claims and sends those not yet sent (never twice), and waits with every other batch while Citrix throttles. Returns whether the batch is done and the next wait.',
            Resource: functionArn('AdvanceSessionBatchFunctionArn'),
            Parameters: {
              'actionId.$': '$.actionId',
              'action.$': '$.action',
              'batch.$': '$.batch',
            },
            ResultPath: '$.round',
            TimeoutSeconds: ADVANCE_BATCH_TIMEOUT_SECONDS + 30,
            Retry: [RETRY.batchRound],
            Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'FailBatch' }],
            Next: 'IsBatchDone',
          },
          IsBatchDone: {
            Type: 'Choice',
            Choices: [{ Variable: '$.round.done', BooleanEquals: true, Next: 'BatchDone' }],
            Default: 'WaitForJobs',
          },
          WaitForJobs: {
            Type: 'Wait',
            Comment:
              'Growing waits (2, 4, 8 ... capped) while jobs run, or until Citrix stops throttling; the task bounds the rounds, which bounds the history.',
            SecondsPath: '$.round.waitSeconds',
            Next: 'AdvanceBatch',
          },
          FailBatch: {
            Type: 'Task',
            Comment:
              'A round failed as a whole: records every session of the batch not yet finished as failed with the error, sending nothing to Citrix.',
            Resource: functionArn('AdvanceSessionBatchFunctionArn'),
            Parameters: {
              'actionId.$': '$.actionId',
              'action.$': '$.action',
              'batch.$': '$.batch',
              'failure.$': '$.error',
            },
            ResultPath: '$.round',
            TimeoutSeconds: ADVANCE_BATCH_TIMEOUT_SECONDS + 30,
            Retry: [RETRY.batchRound],
            Next: 'BatchDone',
          },
          BatchDone: { Type: 'Succeed' },
        },
      },
      ResultPath: null,
      Catch: CATCH.failAction,
      Next: 'CompleteAction',
    },
  },
  completeAction: completeAction(
    "Derives the action's status from the per-target results (or the plan, for a dry run) and stores it.",
  ),
});
