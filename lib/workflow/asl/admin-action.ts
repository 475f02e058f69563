import { CHANGE_NOT_SENT_ERRORS } from '../../administrators/admin-actions.ts';
import { CATCH, RETRY } from './policies.ts';
import {
  actionWorkflow,
  actOnEachTarget,
  completeAction,
  isDryRun,
  recordActionFailure,
  recordTargetResult,
  resolveTargets,
} from './shared-states.ts';
import { ACTION_WORKFLOW_TIMEOUT_SECONDS } from './timeouts.ts';
import { functionArn, type StateMachine } from './types.ts';

/** The source of `state-machines/admin-action.asl.json`. */
export const ADMIN_ACTION: StateMachine = actionWorkflow({
  comment:
    "Revokes a Citrix Cloud administrator (strip every permission, or delete), restores the access a strip replaced, or deletes a pending invitation: resolve the target and record its current access, apply guards no request can override (the API client's owner, the last Full administrator, the protected list), re-check them just before the change, make it, read it back, record the result. Task Lambdas throw named errors for Retry and Catch.",
  timeoutSeconds: ACTION_WORKFLOW_TIMEOUT_SECONDS['admin-action'],
  resolveTargets: resolveTargets({
    function: 'ResolveAdminTargetsFunctionArn',
    comment:
      'Marks the action running, finds the administrator or invitation, applies the guards and snapshots the current access; a restore also plans what it puts back from the revoke snapshot, or fails (NoRevokeSnapshotError, RevokeAlreadyRestoredError, AdministratorChangedSinceRevokeError).',
    timeoutSeconds: 120,
    parameters: { 'options.$': '$.options' },
  }),
  isDryRun: isDryRun(
    "A dry run records the plan, the guards' verdict and the current access, and changes nothing.",
  ),
  act: 'ActOnEachAdministrator',
  states: {
    ActOnEachAdministrator: actOnEachTarget({
      comment:
        'One iteration per administrator (a request names one); a refused target goes straight to its result.',
      itemFields: { 'options.$': '$.options' },
      startAt: 'IsAllowed',
      states: {
        IsAllowed: {
          Type: 'Choice',
          Comment: 'Only a target every guard allowed is changed.',
          Choices: [{ Variable: '$.target.allowed', BooleanEquals: true, Next: 'ApplyChange' }],
          Default: 'RecordAdminResult',
        },
        ApplyChange: {
          Type: 'Task',
          Comment:
            "Takes the tenant's administrator change lease, re-checks the guards on a fresh list, then PUTs Custom access with every permission unchecked, DELETEs the administrator, DELETEs the invitation, or PUTs back the access a strip replaced (re-checked: unchanged since the revoke, not restored yet), once: a change that may have been applied without an answer (timeout, 5xx) comes back unanswered and is never sent again. While another change holds the lease (at most 120 s, its expiry) it throws AdministratorChangeInProgressError and is retried for about 3.5 minutes. Only errors thrown before the change could go out (or after a definite answer) and a throttled invoke are retried; a Lambda timeout, crash or service error may follow a change that went out and is never retried.",
          Resource: functionArn('ApplyAdminChangeFunctionArn'),
          Parameters: {
            'actionId.$': '$.actionId',
            'action.$': '$.action',
            'options.$': '$.options',
            'admin.$': '$.target',
          },
          ResultPath: '$.change',
          TimeoutSeconds: 120,
          Retry: [
            RETRY.administratorChangeInProgress,
            RETRY.citrixTransient,
            RETRY.administratorChangeTransient,
            RETRY.invokeThrottled,
          ],
          Catch: CATCH.failTarget('WasChangeSent'),
          Next: 'ReadBack',
        },
        WasChangeSent: {
          Type: 'Choice',
          Comment:
            'After ApplyChange failed: an error it throws only when the change did not go out, or was refused, is recorded as it is. Any other (a Lambda timeout or crash, a service error) may follow a change that went out: the administrator is read back first, and the record says confirmed or unconfirmed.',
          Choices: CHANGE_NOT_SENT_ERRORS.map((name) => ({
            Variable: '$.error.Error',
            StringEquals: name,
            Next: 'RecordAdminResult',
          })),
          Default: 'ReadBack',
        },
        ReadBack: {
          Type: 'Task',
          Comment:
            "Reads the administrator again, with the iteration's whole state: the change, or ApplyChange's error. AdministratorChangeNotAppliedError if the change did not take (for a change that was not answered: not confirmed).",
          Resource: functionArn('ReadAdminBackFunctionArn'),
          ResultPath: '$.after',
          TimeoutSeconds: 120,
          Retry: [RETRY.citrixTransient, RETRY.lambdaTransient],
          Catch: CATCH.continueAfter('$.readBackError', 'RecordAdminResult'),
          Next: 'RecordAdminResult',
        },
        RecordAdminResult: recordTargetResult({
          function: 'RecordAdminResultFunctionArn',
          comment:
            "Turns the change, read-back, refusal or error into the administrator's result (a change that was not answered: confirmed by the read-back, or unconfirmed), records a strip's snapshot for admin.restore, stores the result and returns it.",
        }),
      },
    }),
  },
  completeAction: completeAction(
    "Derives the action's status (refused when a guard kept every target untouched) and stores it.",
  ),
  recordActionFailure: recordActionFailure(
    'Records an action that failed as a whole (no such administrator, ambiguous target, guards not configured).',
  ),
});
