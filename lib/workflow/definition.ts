import { readFileSync } from 'node:fs';
import type { WorkflowName } from '../actions/declaration.ts';
import { ADVANCE_BATCH_TIMEOUT_SECONDS } from './asl/session-action.ts';

/**
 * The Amazon States Language files in `state-machines/` are the single source of every workflow:
 * the CDK stack and the local runner both read them through this module.
 */

/** A task Lambda that a state machine calls, by the `${...}` placeholder its definition uses. */
export interface WorkflowFunction {
  /** Placeholder name in the `.asl.json` file, e.g. `SubmitSessionActionFunctionArn`. */
  readonly substitution: string;
  /** Short name, used for the Lambda's id in the stack and its pseudo-ARN locally. */
  readonly name: string;
  /** Entry file, relative to the project root. */
  readonly entry: string;
  /** The Citrix service the function calls, which decides its configuration and secrets. */
  readonly calls:
    | 'nothing'
    | 'daas'
    | 'endpoint-management'
    | 'cloud-administrators'
    /** ServiceNow work notes and signed callbacks. */
    | 'notifications';
  /** Whether the function reads or writes action records (and so may use the table). */
  readonly recordsActions: boolean;
  /** Lambda timeout; default 60 seconds. The state's TimeoutSeconds is kept above it. */
  readonly timeoutSeconds?: number;
  /** Resolves targets, so applies the guardrails (limits, approval rules, protected targets). */
  readonly appliesGuardrails?: boolean;
  /**
   * Gives back the hourly limit reservation of an action that ended rejected or expired: reads
   * and writes the counters in the limits table (their items only), without the guardrail settings.
   */
  readonly releasesLimitReservations?: boolean;
  /**
   * Changes Citrix Cloud administrators one at a time per tenant, under a lease kept in the
   * limits table (its own item only).
   */
  readonly serializesAdministratorChanges?: boolean;
  /**
   * Reads and closes DaaS's throttle gate, one item of the limits table (lib/sessions/batches.ts),
   * so that every batch of every action backs off together on a 429.
   */
  readonly sharesThrottleGate?: boolean;
  /** Reads the deployment's runbooks: synth writes them beside its bundle (`runbooks.json`). */
  readonly readsRunbooks?: boolean;
  /**
   * Starts actions of the other workflows (a runbook's steps): may start their executions, never
   * its own workflow's (runbooks do not nest).
   */
  readonly startsActions?: boolean;
}

export interface WorkflowDefinition {
  readonly name: WorkflowName;
  readonly file: URL;
  readonly functions: readonly WorkflowFunction[];
}

/**
 * Every workflow ends with these two: the action's status, then telling its source. CompleteAction
 * is also the last resort that fails an action its workflow could not record (infra's
 * UnrecordedExecutions).
 */
export const COMPLETE_ACTION: WorkflowFunction = {
  substitution: 'CompleteActionFunctionArn',
  name: 'complete-action',
  entry: 'functions/complete-action.ts',
  recordsActions: true,
  releasesLimitReservations: true,
  calls: 'nothing',
};

/** Holds an action for approval: the target of the waitForTaskToken task. */
const REQUEST_APPROVAL: WorkflowFunction = {
  substitution: 'RequestApprovalFunctionArn',
  name: 'request-approval',
  entry: 'functions/request-approval.ts',
  recordsActions: true,
  calls: 'nothing',
};

const NOTIFY_ACTION_OUTCOME: WorkflowFunction = {
  substitution: 'NotifyActionOutcomeFunctionArn',
  name: 'notify-action-outcome',
  entry: 'functions/notify-action-outcome.ts',
  recordsActions: true,
  calls: 'notifications',
  // Two deliveries, each retried with backoff inside the function.
  timeoutSeconds: 120,
};

export const SESSION_ACTION_WORKFLOW: WorkflowDefinition = {
  name: 'session-action',
  file: new URL('../../state-machines/session-action.asl.json', import.meta.url),
  functions: [
    {
      substitution: 'ResolveSessionTargetsFunctionArn',
      name: 'resolve-session-targets',
      entry: 'functions/resolve-session-targets.ts',
      recordsActions: true,
      appliesGuardrails: true,
      calls: 'daas',
    },
    {
      substitution: 'AdvanceSessionBatchFunctionArn',
      name: 'advance-session-batch',
      entry: 'functions/advance-session-batch.ts',
      // Its batch items, in the actions table beside the record.
      recordsActions: true,
      sharesThrottleGate: true,
      calls: 'daas',
      // One round for up to 200 sessions, 25 Citrix requests at once.
      timeoutSeconds: ADVANCE_BATCH_TIMEOUT_SECONDS,
    },
    {
      substitution: 'WarnSessionsFunctionArn',
      name: 'warn-sessions',
      entry: 'functions/warn-sessions.ts',
      recordsActions: true,
      calls: 'daas',
      // One $sendMessage per session, at most SESSION_MAX_TARGETS of them.
      timeoutSeconds: 120,
    },
    REQUEST_APPROVAL,
    COMPLETE_ACTION,
    NOTIFY_ACTION_OUTCOME,
  ],
};

export const DEVICE_ACTION_WORKFLOW: WorkflowDefinition = {
  name: 'device-action',
  file: new URL('../../state-machines/device-action.asl.json', import.meta.url),
  functions: [
    {
      substitution: 'ResolveDeviceTargetsFunctionArn',
      name: 'resolve-device-targets',
      entry: 'functions/resolve-device-targets.ts',
      recordsActions: true,
      appliesGuardrails: true,
      // Reading every page of a broad device search can take a while.
      timeoutSeconds: 240,
      calls: 'endpoint-management',
    },
    {
      substitution: 'SendDeviceCommandFunctionArn',
      name: 'send-device-command',
      entry: 'functions/send-device-command.ts',
      recordsActions: false,
      calls: 'endpoint-management',
    },
    {
      substitution: 'ReadDeviceBackFunctionArn',
      name: 'read-device-back',
      entry: 'functions/read-device-back.ts',
      recordsActions: false,
      calls: 'endpoint-management',
    },
    {
      substitution: 'RecordDeviceResultFunctionArn',
      name: 'record-device-result',
      entry: 'functions/record-device-result.ts',
      recordsActions: true,
      calls: 'nothing',
    },
    REQUEST_APPROVAL,
    COMPLETE_ACTION,
    NOTIFY_ACTION_OUTCOME,
  ],
};

export const ADMIN_ACTION_WORKFLOW: WorkflowDefinition = {
  name: 'admin-action',
  file: new URL('../../state-machines/admin-action.asl.json', import.meta.url),
  functions: [
    {
      substitution: 'ResolveAdminTargetsFunctionArn',
      name: 'resolve-admin-targets',
      entry: 'functions/resolve-admin-targets.ts',
      recordsActions: true,
      appliesGuardrails: true,
      calls: 'cloud-administrators',
    },
    {
      substitution: 'ApplyAdminChangeFunctionArn',
      name: 'apply-admin-change',
      entry: 'functions/apply-admin-change.ts',
      // A restore reads its revoke snapshot and records itself on it (items of the actions table).
      recordsActions: true,
      serializesAdministratorChanges: true,
      calls: 'cloud-administrators',
    },
    {
      substitution: 'ReadAdminBackFunctionArn',
      name: 'read-admin-back',
      entry: 'functions/read-admin-back.ts',
      recordsActions: false,
      calls: 'cloud-administrators',
    },
    {
      substitution: 'RecordAdminResultFunctionArn',
      name: 'record-admin-result',
      entry: 'functions/record-admin-result.ts',
      recordsActions: true,
      calls: 'nothing',
    },
    REQUEST_APPROVAL,
    COMPLETE_ACTION,
    NOTIFY_ACTION_OUTCOME,
  ],
};

export const RUNBOOK_WORKFLOW: WorkflowDefinition = {
  name: 'runbook',
  file: new URL('../../state-machines/runbook.asl.json', import.meta.url),
  functions: [
    {
      substitution: 'StartRunbookFunctionArn',
      name: 'start-runbook',
      entry: 'functions/start-runbook.ts',
      recordsActions: true,
      appliesGuardrails: true,
      readsRunbooks: true,
      calls: 'nothing',
    },
    {
      substitution: 'AdvanceRunbookFunctionArn',
      name: 'advance-runbook',
      entry: 'functions/advance-runbook.ts',
      recordsActions: true,
      startsActions: true,
      calls: 'nothing',
    },
    REQUEST_APPROVAL,
    COMPLETE_ACTION,
    NOTIFY_ACTION_OUTCOME,
  ],
};

/** Every workflow the catalog can name, by name: a name without a definition is a type error. */
const WORKFLOWS_BY_NAME: Readonly<Record<WorkflowName, WorkflowDefinition>> = {
  'session-action': SESSION_ACTION_WORKFLOW,
  'device-action': DEVICE_ACTION_WORKFLOW,
  'admin-action': ADMIN_ACTION_WORKFLOW,
  runbook: RUNBOOK_WORKFLOW,
};
export const WORKFLOWS: readonly WorkflowDefinition[] = Object.values(WORKFLOWS_BY_NAME);

export interface DefinitionOptions {
  /** Upper bound on targets acted on at once, applied to every Map state. */
  readonly maxConcurrency?: number;
  /** How long an approval may wait, applied to every waitForTaskToken task. */
  readonly approvalTimeoutSeconds?: number;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Reads a workflow's definition and applies deployment options. Placeholders (`${...}`) are left
 * in place: CDK fills them with `definitionSubstitutions`, the local runner with `substitute`.
 */
export function readDefinition(
  workflow: WorkflowDefinition,
  options: DefinitionOptions = {},
): string {
  const definition = JSON.parse(readFileSync(workflow.file, 'utf8')) as Json;
  if (options.maxConcurrency !== undefined) {
    if (!Number.isInteger(options.maxConcurrency) || options.maxConcurrency < 1) {
      throw new RangeError(
        `maxConcurrency must be a positive integer, got ${options.maxConcurrency}`,
      );
    }
    setMapConcurrency(definition, options.maxConcurrency);
  }
  if (options.approvalTimeoutSeconds !== undefined) {
    if (!Number.isInteger(options.approvalTimeoutSeconds) || options.approvalTimeoutSeconds < 1) {
      throw new RangeError(
        `approvalTimeoutSeconds must be a positive integer, got ${options.approvalTimeoutSeconds}`,
      );
    }
    // The file's execution timeout includes its own approval window: a different window moves
    // it by the same amount, so an unanswered approval still ends in RecordExpiry.
    const fileWindow = approvalTimeoutOf(definition);
    if (
      fileWindow !== undefined &&
      definition !== null &&
      typeof definition === 'object' &&
      !Array.isArray(definition) &&
      typeof definition.TimeoutSeconds === 'number'
    ) {
      definition.TimeoutSeconds += options.approvalTimeoutSeconds - fileWindow;
    }
    setApprovalTimeout(definition, options.approvalTimeoutSeconds);
  }
  return JSON.stringify(definition, null, 2);
}

const WAIT_FOR_TASK_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/** The TimeoutSeconds of the definition's waitForTaskToken task (the approval window), if any. */
function approvalTimeoutOf(node: Json): number | undefined {
  if (Array.isArray(node)) {
    for (const child of node) {
      const found = approvalTimeoutOf(child);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (node === null || typeof node !== 'object') return undefined;
  if (node.Type === 'Task' && node.Resource === WAIT_FOR_TASK_TOKEN) {
    return typeof node.TimeoutSeconds === 'number' ? node.TimeoutSeconds : undefined;
  }
  for (const child of Object.values(node)) {
    const found = approvalTimeoutOf(child);
    if (found !== undefined) return found;
  }
  return undefined;
}

function setMapConcurrency(node: Json, maxConcurrency: number): void {
  if (Array.isArray(node)) {
    for (const child of node) setMapConcurrency(child, maxConcurrency);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  if (node.Type === 'Map') node.MaxConcurrency = maxConcurrency;
  for (const child of Object.values(node)) setMapConcurrency(child, maxConcurrency);
}

function setApprovalTimeout(node: Json, seconds: number): void {
  if (Array.isArray(node)) {
    for (const child of node) setApprovalTimeout(child, seconds);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  if (node.Type === 'Task' && node.Resource === WAIT_FOR_TASK_TOKEN) {
    node.TimeoutSeconds = seconds;
  }
  for (const child of Object.values(node)) setApprovalTimeout(child, seconds);
}

/** Replaces `${Name}` placeholders the way Step Functions' definitionSubstitutions does. */
export function substitute(
  definition: string,
  substitutions: Readonly<Record<string, string>>,
): string {
  return definition.replace(/\$\{([A-Za-z0-9_]+)\}/g, (match, key: string) => {
    const value = substitutions[key];
    if (value === undefined)
      throw new Error(`No substitution for ${match} in state machine definition`);
    return value;
  });
}
