import { CATCH, RETRY } from './policies.ts';
import {
  actionWorkflow,
  actOnEachTarget,
  completeAction,
  isDryRun,
  recordTargetResult,
  resolveTargets,
} from './shared-states.ts';
import { ACTION_WORKFLOW_TIMEOUT_SECONDS } from './timeouts.ts';
import { functionArn, type StateMachine } from './types.ts';

/** The source of `state-machines/device-action.asl.json`. */
export const DEVICE_ACTION: StateMachine = actionWorkflow({
  comment:
    "Sends a full wipe, selective wipe or policy deploy to Citrix Endpoint Management devices: resolve the target (a device id or a user's devices), skip devices that are not managed or are protected, send the command to each other device with bounded concurrency, read each device back, record one result per device, then notify the source. Each Endpoint Management task ends its own session (auth_token) before it returns. Task Lambdas throw named errors for Retry and Catch.",
  timeoutSeconds: ACTION_WORKFLOW_TIMEOUT_SECONDS['device-action'],
  resolveTargets: resolveTargets({
    function: 'ResolveDeviceTargetsFunctionArn',
    comment:
      'Marks the action running and turns the target into devices (exact, case-insensitive user name match).',
    // Reading every page of a broad device search can take a while (a 240 s Lambda).
    timeoutSeconds: 300,
  }),
  isDryRun: isDryRun(
    'A dry run records the plan (and which devices would be skipped) and touches nothing.',
  ),
  act: 'ActOnEachDevice',
  states: {
    ActOnEachDevice: actOnEachTarget({
      comment: 'One iteration per device; a failed device is recorded and never stops the others.',
      startAt: 'IsManaged',
      states: {
        IsManaged: {
          Type: 'Choice',
          Comment:
            'A device that is not managed, or is protected, is recorded as skipped and never sent a command.',
          Choices: [{ Variable: '$.target.actionable', BooleanEquals: true, Next: 'SendCommand' }],
          Default: 'RecordDeviceResult',
        },
        SendCommand: {
          Type: 'Task',
          Comment:
            'POSTs the wipe, selective wipe or deploy for this one device, once: a command that may have been applied without an answer (timeout, 5xx) comes back unanswered and is never sent again; a 200 with status -1 is EndpointManagementRejectedError. Only failures before the command went out (the login) or a 429 are retried. Lambda errors are not retried, since the function may have sent the command: any error goes on to ReadDeviceBack, and the record says unconfirmed unless the error shows nothing was sent.',
          Resource: functionArn('SendDeviceCommandFunctionArn'),
          Parameters: {
            'actionId.$': '$.actionId',
            'action.$': '$.action',
            'device.$': '$.target',
          },
          ResultPath: '$.command',
          TimeoutSeconds: 120,
          Retry: [RETRY.citrixTransient, RETRY.invokeThrottled],
          Catch: CATCH.failTarget('ReadDeviceBack'),
          Next: 'ReadDeviceBack',
        },
        ReadDeviceBack: {
          Type: 'Task',
          Comment:
            'Reads the device after the command (or after a send step that failed), so the record shows what Endpoint Management holds now, and whether an unanswered wipe took effect. A failure here does not undo the accepted command.',
          Resource: functionArn('ReadDeviceBackFunctionArn'),
          Parameters: { 'actionId.$': '$.actionId', 'deviceId.$': '$.target.deviceId' },
          ResultPath: '$.readBack',
          TimeoutSeconds: 120,
          Retry: [RETRY.citrixTransient, RETRY.lambdaTransient],
          Catch: CATCH.continueAfter('$.readBackError', 'RecordDeviceResult'),
          Next: 'RecordDeviceResult',
        },
        RecordDeviceResult: recordTargetResult({
          function: 'RecordDeviceResultFunctionArn',
          comment:
            "Turns the command, read-back or error into the device's result (an unanswered command: confirmed by the read-back, or unconfirmed), stores it and returns it as the iteration's output.",
        }),
      },
    }),
  },
  completeAction: completeAction(
    "Derives the action's status from the per-device results (or the plan, for a dry run) and stores it.",
  ),
});
