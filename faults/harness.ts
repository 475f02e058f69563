import { acceptAction } from '../lib/actions/accept.ts';
import {
  type ActionRecord,
  ActionRequestSchema,
  TERMINAL_ACTION_STATUSES,
  targetKey,
} from '../lib/actions/schema.ts';
import { LocalDynamoFaults } from '../local/dynamodb.ts';
import {
  citrixMutation,
  DEVICE_COMMAND_MUTATIONS,
  type MutationKind,
} from '../local/simulator/faults.ts';
import type { RecordedRequest, SimulatorFixture } from '../local/simulator/server.ts';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../local/stack.ts';
import {
  FAULT_CASES,
  FAULT_SWEEP,
  type FaultName,
  WORKFLOW_CASES,
  type WorkflowName,
} from './cases.ts';
import { fastTimings, faultEnv, faultFixture, writeFaultSweeps } from './fixture.ts';

/** How long one case may run before its workflow counts as stuck. */
export const CASE_TIMEOUT_MS = 60_000;

export interface FaultStack {
  readonly stack: LocalStack;
  /** The DynamoDB conflict switch, if the stack took it (LocalStackOptions.dynamoFaults). */
  readonly dynamo: LocalDynamoFaults;
  close(): Promise<void>;
}

/** The local stack as the fault suite runs it (faults/fixture.ts). */
export async function startFaultStack(): Promise<FaultStack> {
  const dynamo = new LocalDynamoFaults();
  const options: LocalStackOptions & { readonly dynamoFaults: LocalDynamoFaults } = {
    env: faultEnv(writeFaultSweeps(FAULT_SWEEP)),
    simulatorFixture: faultFixture(new Date()),
    reportLine: () => {},
    ...fastTimings(),
    dynamoFaults: dynamo,
  };
  const stack = await startLocalStack(options);
  return { stack, dynamo, close: () => stack.close() };
}

/** A mutating request that Citrix applied more than once for the same target. */
export interface DuplicateMutation {
  readonly kind: MutationKind;
  readonly target: string;
  readonly times: number;
}

export interface CaseResult {
  readonly fault: FaultName;
  readonly workflow: WorkflowName;
  /** The action's status (a runbook run's, its steps' after it), or the report's outcome. */
  readonly terminalState: string;
  readonly targets: number;
  /** Targets with a recorded (terminal) result. */
  readonly recorded: number;
  readonly duplicates: readonly DuplicateMutation[];
  /** How many times the fault fired during the run. */
  readonly fired: number;
  readonly violations: readonly string[];
  readonly durationMs: number;
}

/** Resolves `timeout` after `ms`; unref'd, so a case that ended in time leaves no timer behind. */
const sleep = (ms: number) =>
  new Promise<'timeout'>((resolve) => setTimeout(resolve, ms, 'timeout').unref());

/** Applied mutations per (kind, target): the requests Citrix answered 2xx, the device commands it holds. */
export function duplicateMutations(
  requests: readonly RecordedRequest[],
  state: SimulatorFixture,
): DuplicateMutation[] {
  const counts = new Map<string, DuplicateMutation>();
  const count = (kind: MutationKind, target: string) => {
    const key = `${kind} ${target}`;
    const seen = counts.get(key);
    counts.set(key, { kind, target, times: (seen?.times ?? 0) + 1 });
  };
  for (const request of requests) {
    const kind = citrixMutation(request.method, request.path);
    // A device command's 200 may carry `status: -1`: the device's own record says what was applied.
    if (kind === undefined || DEVICE_COMMAND_MUTATIONS.includes(kind)) continue;
    if (request.status < 200 || request.status >= 300) continue;
    count(kind, mutationTarget(kind, request));
  }
  const commandKinds: Record<string, MutationKind> = {
    wipe: 'wipe',
    selectiveWipe: 'selectiveWipe',
    deployPolicy: 'deployPolicy',
  };
  for (const device of state.endpointManagement?.devices ?? []) {
    for (const command of device.simulation?.commands ?? []) {
      count(commandKinds[command.command] as MutationKind, device.id);
    }
  }
  return [...counts.values()].filter((entry) => entry.times > 1);
}

function mutationTarget(kind: MutationKind, request: RecordedRequest): string {
  const segments = request.path.toLowerCase().split('/');
  switch (kind) {
    case 'logoff':
    case 'disconnect':
    case 'sendMessage':
      return segments.at(-2) ?? request.path;
    case 'adminAccessChange':
      return request.query.id ?? '(no id)';
    case 'invitationDelete':
      return (request.query.email ?? '(no email)').toLowerCase();
    case 'adminDelete':
      return segments.at(-1) ?? request.path;
    case 'wipe':
    case 'selectiveWipe':
    case 'deployPolicy':
      return JSON.stringify(request.body);
  }
}

interface Started {
  readonly actionId?: string;
  readonly report?: Promise<
    { ok: true; administratorCount: number } | { ok: false; error: string }
  >;
}

async function start(stack: LocalStack, workflow: WorkflowName): Promise<Started> {
  const { start: how } = WORKFLOW_CASES[workflow];
  switch (how.kind) {
    case 'action': {
      const record = await acceptAction(
        { actions: stack.actions, workflows: stack.runner, retentionDays: 1 },
        ActionRequestSchema.parse({ reason: 'fault-injection suite', ...how.request }),
        new Date(),
      );
      return { actionId: record.actionId };
    }
    case 'sweep':
      return { actionId: (await stack.runSweep(how.sweep)).actionId };
    case 'report':
      return {
        report: stack.runAdministratorReport().then(
          (report) => ({ ok: true as const, administratorCount: report.administratorCount }),
          (error: unknown) => ({ ok: false as const, error: (error as Error).name }),
        ),
      };
  }
}

/**
 * Waits for the execution to end, at most until `deadline`: `stuck` if it did not, else its
 * status (with the error that failed it).
 */
async function ended(stack: LocalStack, actionId: string, deadline: number): Promise<string> {
  const execution = stack.runner.execution(actionId);
  if (execution === undefined) return 'not started';
  const outcome = await Promise.race([execution.done, sleep(Math.max(0, deadline - Date.now()))]);
  if (outcome === 'timeout') return 'stuck';
  return outcome.status === 'SUCCEEDED'
    ? outcome.status
    : `${outcome.status}: ${(outcome.error as Error).name}`;
}

interface RecordCheck {
  targets: number;
  recorded: number;
  violations: string[];
}

function checkRecord(record: ActionRecord, label: string): RecordCheck {
  const violations: string[] = [];
  if (!TERMINAL_ACTION_STATUSES.includes(record.status)) {
    violations.push(`${label} left ${record.status}`);
  }
  const keys = (record.targets ?? []).map(targetKey);
  const lost = keys.filter((key) => record.results[key] === undefined);
  if (lost.length > 0) violations.push(`${label}: no result for ${lost.join(', ')}`);
  return { targets: keys.length, recorded: keys.length - lost.length, violations };
}

/** Runs one fault × workflow case on a running fault stack and checks its invariants. */
export async function runCase(
  faultStack: FaultStack,
  fault: FaultName,
  workflow: WorkflowName,
  timeoutMs = CASE_TIMEOUT_MS,
): Promise<CaseResult> {
  const { stack, dynamo } = faultStack;
  const began = Date.now();
  const deadline = began + timeoutMs;
  // A late answer of the case before would be recorded in this one's log.
  await stack.simulator?.settled();
  stack.simulator?.reset();
  dynamo.clear();
  stack.runner.lambdaFaults.clear();
  const earlier = new Set(stack.runner.executionNames());
  const faultCase = FAULT_CASES[fault];
  const target = { stack, dynamo, workflow: WORKFLOW_CASES[workflow] };
  let fired = faultCase.phase === 'before' ? faultCase.inject(target) : () => 0;
  const violations: string[] = [];
  let terminalState = '';
  let targets = 0;
  let recorded = 0;
  try {
    const started = await start(stack, workflow);
    if (faultCase.phase === 'accepted') fired = faultCase.inject(target);
    if (started.report !== undefined) {
      const outcome = await Promise.race([started.report, sleep(timeoutMs)]);
      if (outcome === 'timeout') {
        terminalState = 'stuck';
        violations.push(`the report did not end within ${timeoutMs} ms`);
      } else if (outcome.ok) {
        terminalState = 'completed';
        targets = stack.simulator?.state().cloudAdministrators?.administrators?.length ?? 0;
        recorded = outcome.administratorCount;
        if (recorded !== targets) {
          violations.push(`the report counted ${recorded} of ${targets} administrators`);
        }
      } else {
        // A failed report is retried by its schedule and alarmed on; it changes nothing.
        terminalState = `failed (${outcome.error})`;
      }
    } else if (started.actionId !== undefined) {
      const check = await checkAction(stack, started.actionId, deadline);
      terminalState = check.state;
      targets = check.targets;
      recorded = check.recorded;
      violations.push(...check.violations);
      violations.push(
        ...(await untrackedActions(
          stack,
          earlier,
          new Set([started.actionId, ...check.checked]),
          deadline,
        )),
      );
    }
  } catch (error) {
    terminalState = `not started (${(error as Error).name})`;
    violations.push(`the workflow could not start: ${(error as Error).message}`);
  }
  // Late answers are recorded when they are sent.
  await Promise.race([stack.simulator?.settled(), sleep(Math.max(0, deadline - Date.now()))]);
  const requests = stack.simulator?.requests() ?? [];
  const state = stack.simulator?.state();
  const duplicates = state === undefined ? [] : duplicateMutations(requests, state);
  for (const duplicate of duplicates) {
    violations.push(`${duplicate.kind} sent ${duplicate.times} times to ${duplicate.target}`);
  }
  const firedCount = fired();
  if (firedCount === 0) {
    violations.push(
      faultCase.phase === 'accepted'
        ? 'the fault never fired (does startLocalStack pass LocalStackOptions.dynamoFaults to startLocalDynamo?)'
        : 'the fault never fired',
    );
  }
  return {
    fault,
    workflow,
    terminalState,
    targets,
    recorded,
    duplicates,
    fired: firedCount,
    violations,
    durationMs: Date.now() - began,
  };
}

/**
 * Actions started during the case that its run does not record (a runbook step whose start was
 * never written on the run, say): lost. Each is waited for too, so it cannot act in the next case.
 */
async function untrackedActions(
  stack: LocalStack,
  earlier: ReadonlySet<string>,
  tracked: ReadonlySet<string>,
  deadline: number,
): Promise<string[]> {
  const violations: string[] = [];
  for (const name of [...stack.runner.executionNames()]) {
    if (earlier.has(name) || tracked.has(name)) continue;
    const execution = await ended(stack, name, deadline);
    const record = await stack.actions.get(name);
    violations.push(
      `action ${name} (${record?.action ?? 'no record'}, ${record?.status ?? 'no status'}, execution ${execution}) started during the run but is not recorded on it`,
    );
  }
  return violations;
}

async function checkAction(
  stack: LocalStack,
  actionId: string,
  deadline: number,
): Promise<RecordCheck & { state: string; checked: readonly string[] }> {
  const violations: string[] = [];
  const execution = await ended(stack, actionId, deadline);
  if (execution === 'stuck') violations.push(`the execution of ${actionId} did not end in time`);
  const record = await stack.actions.get(actionId);
  if (record === undefined) {
    return {
      state: 'no record',
      targets: 0,
      recorded: 0,
      violations: [...violations, 'no record'],
      checked: [],
    };
  }
  const own = checkRecord(record, record.action);
  let targets = own.targets;
  let recorded = own.recorded;
  violations.push(...own.violations);
  let state: string = record.status;
  // A runbook run's targets are its steps' actions' targets.
  const children = (record.steps ?? []).flatMap((step) =>
    step.childActionId ? [step.childActionId] : [],
  );
  for (const childId of children) {
    if ((await ended(stack, childId, deadline)) === 'stuck') {
      violations.push(`the execution of step ${childId} did not end in time`);
    }
    const child = await stack.actions.get(childId);
    if (child === undefined) {
      violations.push(`no record of step ${childId}`);
      continue;
    }
    const check = checkRecord(child, `step ${child.action}`);
    targets += check.targets;
    recorded += check.recorded;
    violations.push(...check.violations);
  }
  if (record.steps !== undefined) {
    state = `${record.status} [${record.steps.map((step) => step.status).join(',')}]`;
  }
  // A record can be terminal while its execution failed after (its notification then never went).
  if (execution !== 'SUCCEEDED') state = `${state} (execution ${execution})`;
  return { state, targets, recorded, violations, checked: children };
}

/** The table `npm run faults` prints: fault × workflow → terminal state, targets, duplicates. */
export function formatTable(results: readonly CaseResult[]): string {
  const header = ['fault', 'workflow', 'terminal state', 'targets recorded', 'dup. mutations', ''];
  const rows = results.map((result) => [
    result.fault,
    result.workflow,
    result.terminalState,
    `${result.recorded}/${result.targets}`,
    String(result.duplicates.reduce((sum, entry) => sum + entry.times - 1, 0)),
    result.violations.length === 0 ? 'ok' : 'FAIL',
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join(' | ')
      .trimEnd();
  const failures = results.flatMap((result) =>
    result.violations.map((violation) => `  ${result.fault} × ${result.workflow}: ${violation}`),
  );
  return [
    line(header),
    widths.map((width) => '-'.repeat(width)).join('-|-'),
    ...rows.map(line),
    ...(failures.length > 0 ? ['', 'Violations:', ...failures] : []),
  ].join('\n');
}
