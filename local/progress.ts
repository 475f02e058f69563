import type { WorkflowEvent } from './workflow-runner.ts';

interface StateData {
  readonly name: string;
  readonly output?: unknown;
}

const record = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};

/** ` (error message)` or ` (note)` of a target's result, or nothing. */
function reasonOf(output: Record<string, unknown>): string {
  const error = record(output.error);
  if (error.message) return ` (${String(error.message)})`;
  return output.note ? ` (${String(output.note)})` : '';
}

/** One human line per step that matters to an on-call engineer watching `npm start`. */
export function describeWorkflowEvent(event: WorkflowEvent): string | undefined {
  switch (event.type) {
    case 'ExecutionStarted':
      return 'workflow started';
    case 'StateExited': {
      const state = (event as { state: StateData }).state;
      const output = record(state.output);
      if (state.name === 'ResolveTargets') {
        const targets = record(output.resolution).targets;
        const list: unknown[] = Array.isArray(targets) ? targets : [];
        const admins = list.filter((target) => 'administratorId' in record(target));
        if (admins.length > 0) {
          return admins
            .map((admin) => {
              const a = record(admin);
              const name = String(a.email ?? a.displayName ?? a.ucOid);
              return a.allowed === true
                ? `resolved administrator ${name} (${String(a.accessType ?? '?')} access)`
                : `resolved administrator ${name}: refused, ${String(a.refusal)}`;
            })
            .join('; ');
        }
        const devices = list.filter((target) => 'deviceId' in record(target));
        if (devices.length === 0) return `resolved ${list.length} session(s)`;
        const unmanaged = devices.filter((device) => record(device).managed !== true).length;
        return `resolved ${devices.length} device(s)${unmanaged > 0 ? `, ${unmanaged} not managed` : ''}`;
      }
      if (state.name === 'SendCommand' && !('error' in output)) {
        const device = String(record(output.target).deviceId ?? '?');
        return `device ${device}: ${String(record(output.command).name)} accepted`;
      }
      if (state.name === 'RecordDeviceResult') {
        const why = reasonOf(output);
        return `device ${String(output.deviceId)}: ${String(output.outcome)}${why}`;
      }
      if (state.name === 'ApplyChange' && !('error' in output)) {
        const target = record(output.target);
        const name = String(target.email ?? target.displayName ?? target.ucOid ?? '?');
        return `administrator ${name}: ${String(record(output.change).mode)} accepted by Citrix Cloud`;
      }
      if (state.name === 'RecordAdminResult') {
        const why = reasonOf(output);
        const name = String(output.email ?? output.displayName ?? output.ucOid);
        return `administrator ${name}: ${String(output.outcome)}${why}`;
      }
      // A caught error leaves the previous progress in place; RecordTargetResult reports it.
      if ((state.name === 'SubmitAction' || state.name === 'CheckJob') && !('error' in output)) {
        const progress = record(output.progress);
        const session = String(progress.sessionId ?? '?');
        if (progress.done === true) return `session ${session}: done`;
        const status = progress.jobStatus
          ? `job ${String(progress.jobStatus)}`
          : 'log off submitted';
        return `session ${session}: ${status}, next check in ${String(progress.waitSeconds)} s`;
      }
      if (state.name === 'RecordTargetResult') {
        const why = reasonOf(output);
        return `session ${String(output.sessionId)}: ${String(output.outcome)}${why}`;
      }
      if (state.name === 'CompleteAction') {
        // The device workflow keeps its state and puts the completion at $.completion.
        const completion = 'completion' in output ? record(output.completion) : output;
        return `action ${String(completion.status)}: ${String(completion.summary)}`;
      }
      return undefined;
    }
    case 'StateRetried':
      return `retrying ${(event as { state: StateData }).state.name}`;
    case 'ExecutionFailed':
      return `workflow failed: ${String((event as { Error?: unknown }).Error)}`;
    default:
      return undefined;
  }
}
