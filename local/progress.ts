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
        return `resolved ${Array.isArray(targets) ? targets.length : 0} session(s)`;
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
        return `action ${String(output.status)}: ${String(output.summary)}`;
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
