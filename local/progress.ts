import { CaughtErrorSchema, summarizeCaughtError } from '../lib/actions/outcome.ts';
import type { WorkflowEvent } from './workflow-runner.ts';

interface StateData {
  readonly name: string;
  readonly input?: unknown;
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

/** The message of an error a Catch put in the state (`{Error, Cause}`), if there is one. */
function caughtMessage(value: unknown): string | undefined {
  const caught = CaughtErrorSchema.safeParse(value);
  return caught.success ? summarizeCaughtError(caught.data).message : undefined;
}

const lowerFirst = (text: string) => text.charAt(0).toLowerCase() + text.slice(1);

const duration = (seconds: unknown) =>
  typeof seconds === 'number' && seconds >= 60 && seconds % 60 === 0
    ? `${seconds / 60} min`
    : `${String(seconds)} s`;

/** States that record how the whole action ended (the result at `$.completion`, or the output). */
const COMPLETIONS = new Set([
  'CompleteAction',
  'RecordRejection',
  'RecordExpiry',
  'RecordActionFailure',
]);

/** `action rejected; nothing was done: …` rather than `action rejected: Rejected; nothing…`. */
function describeCompletion(completion: Record<string, unknown>): string {
  const status = String(completion.status);
  const summary = String(completion.summary);
  const lower = summary.toLowerCase();
  if (lower.startsWith(`action ${status}`)) return lowerFirst(summary);
  if (lower.startsWith(status)) return `action ${lowerFirst(summary)}`;
  return `action ${status}: ${summary}`;
}

/** Lines for states entered, where the wait that follows is the news. */
function describeEntered(state: StateData, actionId: string | undefined): string | undefined {
  const input = record(state.input);
  if (state.name === 'RequestApproval') {
    const guardrails = record(record(input.resolution).guardrails);
    const reasons = Array.isArray(guardrails.reasons) ? guardrails.reasons.map(String) : [];
    const why = reasons.length > 0 ? ` (${reasons.join('; ')})` : '';
    const id = actionId ?? String(input.actionId ?? '<actionId>');
    return `awaiting approval${why} for up to ${duration(guardrails.approvalTimeoutSeconds)}; approve as another person with: npx citrix-response approve ${id}`;
  }
  if (state.name === 'WaitGracePeriod') {
    const seconds = record(input.warning).graceSeconds;
    return seconds === 0
      ? undefined
      : `waiting the ${duration(seconds)} grace period before acting`;
  }
  return undefined;
}

/** The approver's decision, or how the wait for it ended. */
function describeDecision(output: Record<string, unknown>): string {
  if (!('error' in output)) {
    return `approved by ${String(record(output.approval).approvedBy ?? '?')}`;
  }
  const error = record(output.error);
  const message = caughtMessage(error) ?? String(error.Error);
  if (error.Error === 'ActionRejectedError') {
    return /^rejected\b/i.test(message) ? lowerFirst(message) : `rejected: ${message}`;
  }
  if (error.Error === 'States.Timeout') return 'approval expired: nobody decided in time';
  return `approval hold failed: ${message}`;
}

/** The `$sendMessage` warnings sent before acting, or the failure of the warning task. */
function describeWarnings(name: string, output: Record<string, unknown>): string | undefined {
  // WarnSessions returns counts (the warnings themselves are kept in the session batches).
  const counts = record(output.warnings);
  if (name === 'WarnSessions') {
    // A failed task is reported by RecordWarningFailure, which runs next.
    if ('warningError' in output) return undefined;
    const failed = Number(counts.failed ?? 0);
    const why = failed > 0 ? `, failed for ${failed}${reasonOf({ error: counts.firstError })}` : '';
    return `$sendMessage warning sent to ${String(counts.sent ?? 0)} session(s)${why}`;
  }
  const message = caughtMessage(output.warningError) ?? 'unknown error';
  const recordError = caughtMessage(output.warningRecordError);
  const recorded =
    recordError === undefined
      ? `recorded as failed for ${String(counts.failed ?? 0)} session(s)`
      : `could not be recorded (${recordError})`;
  return `$sendMessage warning failed (${message}), ${recorded}; acting after the grace period anyway`;
}

/** The work note and callback sent once the action ended, and how each went. */
function describeNotifications(output: Record<string, unknown>): string | undefined {
  const failure = caughtMessage(output.notificationError);
  if (failure !== undefined) return `notifications failed: ${failure}`;
  const notifications = record(output.notification).notifications;
  const list = (Array.isArray(notifications) ? notifications : []).map(record);
  if (list.length === 0) return undefined;
  return list
    .map((notification) => {
      const destination = String(notification.destination);
      const what =
        notification.channel === 'servicenow'
          ? `work note on ServiceNow incident ${destination}`
          : `callback to ${destination}`;
      const error = record(notification.error);
      const why = error.message ? ` (${String(error.message)})` : '';
      return `${what}: ${String(notification.status)}${why}`;
    })
    .join('; ');
}

/**
 * One human line per step that matters to an on-call engineer watching `npm start`. `actionId`
 * (the execution name) goes into the hints to copy, such as the approve command.
 */
export function describeWorkflowEvent(event: WorkflowEvent, actionId?: string): string | undefined {
  switch (event.type) {
    case 'ExecutionStarted':
      return 'workflow started';
    case 'StateEntered':
      return describeEntered((event as { state: StateData }).state, actionId);
    case 'StateExited': {
      const state = (event as { state: StateData }).state;
      const output = record(state.output);
      if (state.name === 'RequestApproval') return describeDecision(output);
      if (state.name === 'WarnSessions' || state.name === 'RecordWarningFailure') {
        return describeWarnings(state.name, output);
      }
      if (state.name === 'NotifyOutcome' || state.name === 'NotifyOutcomeAfterFailure') {
        return describeNotifications(output);
      }
      if (state.name === 'ResolveTargets' && 'schedule' in record(output.resolution)) {
        const steps = record(record(output.resolution).schedule).stepDeadlineSeconds;
        return `runbook: ${Array.isArray(steps) ? steps.length : '?'} step(s) to run in order`;
      }
      if (state.name === 'AdvanceRunbook' && !('error' in output)) {
        const round = record(output.round);
        if (round.done === true) return undefined;
        const step = record(round.step);
        const status = String(step.status).replaceAll('_', ' ');
        const hint =
          step.status === 'awaiting_approval'
            ? `; approve its action with: npx citrix-response approve ${String(step.childActionId)}`
            : '';
        return `step ${String(step.id)} (${String(step.action)} ${String(step.childActionId ?? '')}): ${status}${hint}; next look in ${String(round.waitSeconds)} s`;
      }
      if (state.name === 'ResolveTargets') {
        const resolution = record(output.resolution);
        const targets = resolution.targets;
        if (typeof targets === 'number') {
          const batches = Array.isArray(resolution.batches) ? resolution.batches.length : 0;
          return `resolved ${targets} session(s) in ${batches} batch(es)`;
        }
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
        const command = record(output.command);
        const answer =
          command.unanswered === undefined ? 'accepted' : 'sent, no answer (not sent again)';
        return `device ${device}: ${String(command.name)} ${answer}`;
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
      // FailBatch's state still carries the caught error; its own output is the round.
      if (state.name === 'FailBatch' || (state.name === 'AdvanceBatch' && !('error' in output))) {
        const round = record(output.round);
        const counts = record(round.counts);
        const batch = `batch ${String(output.batch ?? '?')}`;
        const claimed = Number(counts.claimed ?? 0);
        const tally = `${String(counts.finished ?? 0)} finished, ${String(counts.submitted ?? 0)} running, ${String(counts.pending ?? 0)} not sent${claimed > 0 ? `, ${claimed} claimed` : ''}`;
        if (round.done === true) return `${batch}: done (${tally})`;
        return `${batch}: ${tally}; next round in ${String(round.waitSeconds)} s`;
      }
      if (COMPLETIONS.has(state.name)) {
        // The workflows keep their state and put the completion at $.completion.
        return describeCompletion('completion' in output ? record(output.completion) : output);
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
