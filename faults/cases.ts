import { LOCAL_ACTIONS_TABLE, LOCAL_SNAPSHOTS_TABLE } from '../local/defaults.ts';
import type { LocalDynamoFaults } from '../local/dynamodb.ts';
import type { FaultSettings } from '../local/simulator/fixture.ts';
import type { LocalStack } from '../local/stack.ts';
import { FAULT_CLIENT_TIMEOUT_MS } from './fixture.ts';

/**
 * The fault-injection table: every fault, every workflow, and the pairs the CI subset runs. `npm
 * run faults` (faults/run.ts) runs every applicable pair; test/faults/ runs CI_SUBSET through the
 * same harness (faults/harness.ts).
 */

export const WORKFLOW_NAMES = [
  'session.logoff',
  'session.logoff+warning',
  'session.disconnect',
  'device.wipe',
  'device.selectiveWipe',
  'device.deployPolicy',
  'admin.revoke',
  'admin.deleteInvitation',
  'report',
  'sweep',
  'runbook',
] as const;
export type WorkflowName = (typeof WORKFLOW_NAMES)[number];

/** Demo fixture targets (local/simulator/demo-fixture.json). */
export const TARGETS = {
  user: 'alice@example.com',
  bobPhone: '5d2f8b36-9e1c-4b7a-a043-1c8e6f2d9a04',
  admin: 'mallory@example.com',
  invitation: 'pending.contractor@example.com',
} as const;

/** The sweep the suite runs (faults/fixture.ts writes it): log off stale disconnected sessions. */
export const FAULT_SWEEP = 'faults-stale-sessions';

/** What starts one workflow: an action request, the sweep, or the administrator report. */
export type WorkflowStart =
  | { readonly kind: 'action'; readonly request: Record<string, unknown> }
  | { readonly kind: 'sweep'; readonly sweep: string }
  | { readonly kind: 'report' };

export interface WorkflowCase {
  readonly start: WorkflowStart;
  /** The task function that changes Citrix: the one a Lambda timeout hits. */
  readonly mutatingTask: string | undefined;
  /** Whether the workflow logs sessions off (and so polls log off jobs). */
  readonly logsOff: boolean;
  /** Whether the workflow sends Endpoint Management device commands. */
  readonly sendsDeviceCommands: boolean;
}

export const WORKFLOW_CASES: Readonly<Record<WorkflowName, WorkflowCase>> = {
  'session.logoff': {
    start: {
      kind: 'action',
      request: { action: 'session.logoff', target: { user: TARGETS.user } },
    },
    mutatingTask: 'advance-session-batch',
    logsOff: true,
    sendsDeviceCommands: false,
  },
  'session.logoff+warning': {
    start: {
      kind: 'action',
      request: {
        action: 'session.logoff',
        target: { user: TARGETS.user },
        notify: { title: 'Security', text: 'Your session ends soon', graceSeconds: 30 },
      },
    },
    mutatingTask: 'warn-sessions',
    logsOff: true,
    sendsDeviceCommands: false,
  },
  'session.disconnect': {
    start: {
      kind: 'action',
      request: { action: 'session.disconnect', target: { user: TARGETS.user } },
    },
    mutatingTask: 'advance-session-batch',
    logsOff: false,
    sendsDeviceCommands: false,
  },
  'device.wipe': {
    start: {
      kind: 'action',
      request: { action: 'device.wipe', target: { deviceId: TARGETS.bobPhone } },
    },
    mutatingTask: 'send-device-command',
    logsOff: false,
    sendsDeviceCommands: true,
  },
  'device.selectiveWipe': {
    start: {
      kind: 'action',
      request: { action: 'device.selectiveWipe', target: { user: TARGETS.user } },
    },
    mutatingTask: 'send-device-command',
    logsOff: false,
    sendsDeviceCommands: true,
  },
  'device.deployPolicy': {
    start: {
      kind: 'action',
      request: { action: 'device.deployPolicy', target: { user: TARGETS.user } },
    },
    mutatingTask: 'send-device-command',
    logsOff: false,
    sendsDeviceCommands: true,
  },
  'admin.revoke': {
    start: {
      kind: 'action',
      request: { action: 'admin.revoke', target: { admin: TARGETS.admin } },
    },
    mutatingTask: 'apply-admin-change',
    logsOff: false,
    sendsDeviceCommands: false,
  },
  'admin.deleteInvitation': {
    start: {
      kind: 'action',
      request: { action: 'admin.deleteInvitation', target: { email: TARGETS.invitation } },
    },
    mutatingTask: 'apply-admin-change',
    logsOff: false,
    sendsDeviceCommands: false,
  },
  // Runs in its own Lambda, not in a workflow: a Lambda timeout of the runner does not reach it.
  report: {
    start: { kind: 'report' },
    mutatingTask: undefined,
    logsOff: false,
    sendsDeviceCommands: false,
  },
  sweep: {
    start: { kind: 'sweep', sweep: FAULT_SWEEP },
    mutatingTask: 'advance-session-batch',
    logsOff: true,
    sendsDeviceCommands: false,
  },
  runbook: {
    start: {
      kind: 'action',
      request: {
        action: 'runbook.run',
        target: { runbook: 'compromised-user' },
        inputs: { user: TARGETS.user },
      },
    },
    mutatingTask: 'send-device-command',
    logsOff: true,
    sendsDeviceCommands: true,
  },
};

/** What a fault can reach while it is injected: the stack, and its DynamoDB fault switch. */
export interface FaultTarget {
  readonly stack: LocalStack;
  /** Undefined when the stack was started without a switch (see faults/harness.ts). */
  readonly dynamo: LocalDynamoFaults | undefined;
  readonly workflow: WorkflowCase;
}

export interface FaultCase {
  readonly description: string;
  /** Whether the fault can happen on this workflow at all (a log off job fault on a wipe cannot). */
  readonly appliesTo: (workflow: WorkflowCase) => boolean;
  /** Injects the fault; `before` the workflow starts, or once its action is `accepted`. */
  readonly phase: 'before' | 'accepted';
  /**
   * Injects the fault; returns how many times it has fired so far, read after the run (a fault
   * that never fired proves nothing, and is reported as a violation).
   */
  readonly inject: (target: FaultTarget) => () => number;
}

const always = () => true;

/** A simulator fault whose counters count down in `state().faults`: fired = set − left. */
function simulatorFault(faults: FaultSettings, left: (current: FaultSettings) => number) {
  const total = left(faults);
  return ({ stack }: FaultTarget) => {
    stack.simulator?.setFaults(faults);
    return () => total - left(stack.simulator?.state().faults ?? faults);
  };
}

/**
 * One conditional-write conflict on the workflow's table (the snapshots table for the report, the
 * actions table otherwise), after `skip` conditional writes to it went through.
 */
function dynamoConflict(skip: { readonly actions: number; readonly snapshots: number }) {
  return ({ dynamo, workflow }: FaultTarget) => {
    if (dynamo === undefined) return () => 0;
    const before = dynamo.fired;
    if (workflow.start.kind === 'report') {
      dynamo.conflictNext(LOCAL_SNAPSHOTS_TABLE, 1, skip.snapshots);
    } else {
      dynamo.conflictNext(LOCAL_ACTIONS_TABLE, 1, skip.actions);
    }
    return () => dynamo.fired - before;
  };
}

/** A mutating request answered this long after the client gave up on it. */
const LATE_REPLY_MS = FAULT_CLIENT_TIMEOUT_MS * 3;

export const FAULT_NAMES = [
  'none',
  '429+Retry-After',
  '429 bare',
  '5xx burst',
  'token expiry',
  'late mutation reply',
  'failed job',
  'hanging job',
  'status -1',
  'dynamo conflict',
  'dynamo conflict (later)',
  'lambda timeout',
  'lambda timeout (record)',
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

export const FAULT_CASES: Readonly<Record<FaultName, FaultCase>> = {
  none: {
    description: 'no fault: the baseline',
    appliesTo: always,
    phase: 'before',
    // Nothing to inject: counts as fired, so the baseline is checked like every other case.
    inject: () => () => 1,
  },
  '429+Retry-After': {
    description: 'the next 4 Citrix requests get 429 with Retry-After: 1',
    appliesTo: always,
    phase: 'before',
    inject: simulatorFault(
      { throttle: { count: 4, retryAfterSeconds: 1 } },
      (f) => f.throttle?.count ?? 0,
    ),
  },
  '429 bare': {
    description: 'the next 4 Citrix requests get 429 without Retry-After',
    appliesTo: always,
    phase: 'before',
    inject: simulatorFault({ throttle: { count: 4 } }, (f) => f.throttle?.count ?? 0),
  },
  '5xx burst': {
    description: 'the next 3 Citrix requests get 503',
    appliesTo: always,
    phase: 'before',
    inject: simulatorFault(
      { serverErrors: { count: 3, status: 503 } },
      (f) => f.serverErrors?.count ?? 0,
    ),
  },
  'token expiry': {
    description: 'every token expires at the 3rd Citrix request of the run',
    appliesTo: always,
    phase: 'before',
    // The countdown is removed when it fires.
    inject: simulatorFault({ expireTokensAfterRequests: 3 }, (f) =>
      f.expireTokensAfterRequests === undefined ? 0 : 1,
    ),
  },
  'late mutation reply': {
    description: `the first mutating request is applied, its reply sent after ${LATE_REPLY_MS} ms (client timeout ${FAULT_CLIENT_TIMEOUT_MS} ms)`,
    appliesTo: (workflow) => workflow.mutatingTask !== undefined,
    phase: 'before',
    inject: simulatorFault(
      { mutationLatency: { latencyMs: LATE_REPLY_MS, count: 1 } },
      (f) => f.mutationLatency?.count ?? 0,
    ),
  },
  'failed job': {
    description: 'the first log off job fails',
    appliesTo: (workflow) => workflow.logsOff,
    phase: 'before',
    inject: simulatorFault(
      { logoffJobs: { outcome: 'fail', count: 1 } },
      (f) => f.logoffJobs?.count ?? 0,
    ),
  },
  'hanging job': {
    description: 'the first log off job never ends',
    appliesTo: (workflow) => workflow.logsOff,
    phase: 'before',
    inject: simulatorFault(
      { logoffJobs: { outcome: 'never', count: 1 } },
      (f) => f.logoffJobs?.count ?? 0,
    ),
  },
  'status -1': {
    description: 'the first device command answers 200 {"status": -1}',
    appliesTo: (workflow) => workflow.sendsDeviceCommands,
    phase: 'before',
    inject: simulatorFault(
      { deviceCommandFailures: { count: 1 } },
      (f) => f.deviceCommandFailures?.count ?? 0,
    ),
  },
  'dynamo conflict': {
    description:
      'the first conditional write to the actions table (snapshots table for the report) after acceptance fails with ConditionalCheckFailed / TransactionCanceled',
    appliesTo: always,
    phase: 'accepted',
    inject: dynamoConflict({ actions: 0, snapshots: 0 }),
  },
  'dynamo conflict (later)': {
    description:
      'as dynamo conflict, on the 3rd conditional write (a result or batch write, mid-run)',
    appliesTo: always,
    phase: 'accepted',
    inject: dynamoConflict({ actions: 2, snapshots: 1 }),
  },
  'lambda timeout': {
    description: "the workflow's mutating task overruns its Lambda timeout once, after its work",
    appliesTo: (workflow) => workflow.mutatingTask !== undefined,
    phase: 'before',
    inject: ({ stack, workflow }) => {
      const task = workflow.mutatingTask as string;
      const faults = stack.runner.lambdaFaults;
      const before = faults.fired(task);
      faults.timeOut(task, 1, 'after-work');
      return () => faults.fired(task) - before;
    },
  },
  'lambda timeout (record)': {
    description:
      'complete-action (CompleteAction / RecordActionFailure) times out once before it writes anything',
    appliesTo: (workflow) => workflow.start.kind !== 'report',
    phase: 'before',
    inject: ({ stack }) => {
      const faults = stack.runner.lambdaFaults;
      const before = faults.fired('complete-action');
      faults.timeOut('complete-action', 1, 'before-work');
      return () => faults.fired('complete-action') - before;
    },
  },
};

/**
 * The CI subset: every fault at least once, every workflow at least once, each fault on the
 * workflow where it bites hardest.
 */
export const CI_SUBSET: readonly (readonly [FaultName, WorkflowName])[] = [
  ['none', 'runbook'],
  ['429+Retry-After', 'session.logoff'],
  ['429 bare', 'admin.deleteInvitation'],
  ['5xx burst', 'session.disconnect'],
  ['token expiry', 'report'],
  ['late mutation reply', 'device.wipe'],
  ['late mutation reply', 'admin.revoke'],
  ['failed job', 'sweep'],
  ['hanging job', 'session.logoff+warning'],
  ['status -1', 'device.selectiveWipe'],
  ['dynamo conflict', 'device.deployPolicy'],
  ['dynamo conflict (later)', 'device.selectiveWipe'],
  ['dynamo conflict (later)', 'runbook'],
  ['dynamo conflict (later)', 'session.logoff'],
  ['lambda timeout', 'admin.revoke'],
  ['lambda timeout (record)', 'session.disconnect'],
];

/** Every applicable pair, fault by fault. */
export function allCases(): [FaultName, WorkflowName][] {
  return FAULT_NAMES.flatMap((fault) =>
    WORKFLOW_NAMES.filter((workflow) => FAULT_CASES[fault].appliesTo(WORKFLOW_CASES[workflow])).map(
      (workflow): [FaultName, WorkflowName] => [fault, workflow],
    ),
  );
}
