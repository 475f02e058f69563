import type { Catcher, Retrier } from './types.ts';

/**
 * Every Retry and Catch policy of the workflows, each defined once and named. The workflow
 * sources (`session-action.ts`, `device-action.ts`, `admin-action.ts`, `runbook.ts`,
 * `shared-states.ts`) use only these; `npm run workflows` writes them into
 * `state-machines/*.asl.json`.
 *
 * The error names are the `name` of the typed errors the task Lambdas throw (Step Functions
 * matches a Lambda's error by it), and Lambda's own service errors. A test checks that every name
 * here is still thrown by the project's code.
 */

/** Lambda's own transient failures to invoke a task function. */
const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;

/** What the Citrix clients throw once their own retries are spent (lib/citrix/errors.ts). */
const CITRIX_TRANSIENT_ERRORS = [
  'CitrixThrottledError',
  'CitrixUnavailableError',
  'CitrixTimeoutError',
] as const;

/**
 * The actions table could not be reached, or a write on a record kept meeting another writer's
 * change although the record allowed it (lib/actions/record-writes.ts): both pass, and the writes
 * are idempotent, so the task is sent again with the same input.
 */
const ACTION_STORE_TRANSIENT = [
  'ActionStoreUnavailableError',
  'ActionStoreContentionError',
] as const;

/** A session action's batch items could not be reached (lib/runtime/session-batch-store.ts). */
const SESSION_BATCHES_UNAVAILABLE = 'SessionBatchStoreUnavailableError';

export const RETRY = {
  /** Citrix throttled, unavailable or too slow after the client's own retries: 5 s doubling to 60 s, 4 times. */
  citrixTransient: {
    ErrorEquals: CITRIX_TRANSIENT_ERRORS,
    IntervalSeconds: 5,
    MaxAttempts: 4,
    BackoffRate: 2,
    MaxDelaySeconds: 60,
    JitterStrategy: 'FULL',
  },
  /**
   * Lambda refused the invoke itself (throttled): the function never ran, so even a task whose
   * command must never be sent twice may run again. 2 s doubling to 30 s, 4 times.
   */
  invokeThrottled: {
    ErrorEquals: ['Lambda.TooManyRequestsException'],
    IntervalSeconds: 2,
    MaxAttempts: 4,
    BackoffRate: 2,
    MaxDelaySeconds: 30,
    JitterStrategy: 'FULL',
  },
  /** A task that calls Citrix could not be invoked: 2 s doubling to 30 s, 4 times. */
  lambdaTransient: {
    ErrorEquals: LAMBDA_SERVICE_ERRORS,
    IntervalSeconds: 2,
    MaxAttempts: 4,
    BackoffRate: 2,
    MaxDelaySeconds: 30,
    JitterStrategy: 'FULL',
  },
  /**
   * Resolving targets: the task could not be invoked, or the actions or guardrail limits table
   * could not be reached (lib/guardrails/limits.ts). As `lambdaTransient`.
   */
  resolveTransient: {
    ErrorEquals: [
      ...LAMBDA_SERVICE_ERRORS,
      ...ACTION_STORE_TRANSIENT,
      'GuardrailStoreUnavailableError',
    ],
    IntervalSeconds: 2,
    MaxAttempts: 4,
    BackoffRate: 2,
    MaxDelaySeconds: 30,
    JitterStrategy: 'FULL',
  },
  /**
   * A task that writes the action record (status, hold, results, warnings) could not be invoked,
   * could not reach the table, or kept meeting another writer's change: 1 s doubling to 20 s, 6
   * times, as a lost record loses the action's outcome. Its writes are idempotent (a result
   * written again is the same record), so the same input is sent again.
   */
  recordWrite: {
    ErrorEquals: [...ACTION_STORE_TRANSIENT, SESSION_BATCHES_UNAVAILABLE, ...LAMBDA_SERVICE_ERRORS],
    IntervalSeconds: 1,
    MaxAttempts: 6,
    BackoffRate: 2,
    MaxDelaySeconds: 20,
    JitterStrategy: 'FULL',
  },
  /**
   * A round of a batch of sessions could not be invoked, or could not reach its batch item (the
   * round is safe to repeat: a claimed session is never sent again): 2 s doubling to 30 s, 4 times.
   */
  batchRound: {
    ErrorEquals: [...LAMBDA_SERVICE_ERRORS, SESSION_BATCHES_UNAVAILABLE],
    IntervalSeconds: 2,
    MaxAttempts: 4,
    BackoffRate: 2,
    MaxDelaySeconds: 30,
    JitterStrategy: 'FULL',
  },
  /**
   * Telling the source (work note, signed callback) could not be invoked or could not reach the
   * table: 2 s doubling to 30 s, 4 times. Each delivery is also retried inside the function.
   */
  notifyTransient: {
    ErrorEquals: [...ACTION_STORE_TRANSIENT, ...LAMBDA_SERVICE_ERRORS],
    IntervalSeconds: 2,
    MaxAttempts: 4,
    BackoffRate: 2,
    MaxDelaySeconds: 30,
    JitterStrategy: 'FULL',
  },
  /**
   * Another change to the tenant's administrators holds the lease (lib/administrators): waited
   * out for about 3.5 minutes, 2 s growing by 1.5 to 30 s, 12 times, longer than the lease's
   * 120 s expiry. No jitter: the wait is for a known holder, not a crowd.
   */
  administratorChangeInProgress: {
    ErrorEquals: ['AdministratorChangeInProgressError'],
    IntervalSeconds: 2,
    MaxAttempts: 12,
    BackoffRate: 1.5,
    MaxDelaySeconds: 30,
  },
  /**
   * Applying an administrator change: the lease could not be read or written
   * (lib/administrators/change-lock.ts), or a restore could not reach its revoke snapshot in the
   * actions table (a repeat finds the access already put back and sends nothing). Never a Lambda
   * service error: the function may have sent the change (a throttled invoke, which never ran it,
   * is retried by `invokeThrottled`). 2 s doubling to 30 s, 4 times.
   */
  administratorChangeTransient: {
    ErrorEquals: ['AdministratorChangeLockError', ...ACTION_STORE_TRANSIENT],
    IntervalSeconds: 2,
    MaxAttempts: 4,
    BackoffRate: 2,
    MaxDelaySeconds: 30,
    JitterStrategy: 'FULL',
  },
  /**
   * The last resort, marking an action failed because its outcome could not be recorded: any
   * error, as the usual ones were already retried; 2 s doubling to 60 s, 8 times (about 5
   * minutes), which outlasts a short DynamoDB or Lambda outage.
   */
  lastResort: {
    ErrorEquals: ['States.ALL'],
    IntervalSeconds: 2,
    MaxAttempts: 8,
    BackoffRate: 2,
    MaxDelaySeconds: 60,
    JitterStrategy: 'FULL',
  },
} as const satisfies Record<string, Retrier>;

const ANY_ERROR = ['States.ALL'] as const;

/** Where the error of an action that failed as a whole is kept, and the state that records it. */
const ACTION_ERROR = { ResultPath: '$.error', Next: 'RecordActionFailure' } as const;

export const CATCH = {
  /**
   * The action fails as a whole: any error is kept at `$.error` and `RecordActionFailure`
   * records it (resolving the targets, or the Map over them, failed).
   */
  failAction: [{ ErrorEquals: ANY_ERROR, ...ACTION_ERROR }],

  /**
   * The end of an approval hold: a rejection (`ActionRejectedError`, sent with the task token by
   * the approvals API) and the approval window running out (`States.Timeout`) are recorded as
   * such; any other failure of the hold ends in `HoldFailed`.
   */
  approvalOutcome: [
    { ErrorEquals: ['ActionRejectedError'], ResultPath: '$.error', Next: 'RecordRejection' },
    { ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'RecordExpiry' },
    { ErrorEquals: ANY_ERROR, ResultPath: '$.error', Next: 'HoldFailed' },
  ],

  /**
   * One target fails and the others go on: any error is kept at `$.error` and `recordState` (the
   * Map iteration's last state) records it as that target's result.
   */
  failTarget: (recordState: string): readonly Catcher[] => [
    { ErrorEquals: ANY_ERROR, ResultPath: '$.error', Next: recordState },
  ],

  /**
   * Best effort: a step whose failure must never change the outcome (a warning, a read-back, a
   * notification). Any error is kept at `resultPath`, beside the rest, and the workflow goes on
   * at `next`.
   */
  continueAfter: (resultPath: `$.${string}Error`, next: string): readonly Catcher[] => [
    { ErrorEquals: ANY_ERROR, ResultPath: resultPath, Next: next },
  ],

  /**
   * Recording the action's outcome failed after its retries: the error is kept at
   * `$.completionError` and `RecordFailureLastResort` marks the action failed, so that it never
   * stays `running`.
   */
  lastResort: [
    { ErrorEquals: ANY_ERROR, ResultPath: '$.completionError', Next: 'RecordFailureLastResort' },
  ],

  /**
   * The last resort itself failed: the execution fails with the completion's error (its failure,
   * an alarmed failed execution, is all that is left to tell).
   */
  unrecorded: [
    { ErrorEquals: ANY_ERROR, ResultPath: '$.lastResortError', Next: 'OutcomeUnrecorded' },
  ],
} as const;
