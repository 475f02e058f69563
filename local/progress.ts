import type { WorkflowEvent } from './workflow-runner.ts';

interface StateData {
  readonly name: string;
  readonly output?: unknown;
}

const record = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};

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
        const error = record(output.error);
        const why = error.message
          ? ` (${String(error.message)})`
          : output.note
            ? ` (${String(output.note)})`
            : '';
        return `device ${String(output.deviceId)}: ${String(output.outcome)}${why}`;
      }
      if (state.name === 'LogOut' || state.name === 'LogOutAfterFailure') {
        return 'error' in output || 'logoutError' in output
          ? 'Endpoint Management log out failed (the session ends by its timeout)'
          : 'logged out of Endpoint Management';
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
        const error = record(output.error);
        const why = error.message ? ` (${String(error.message)})` : '';
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
