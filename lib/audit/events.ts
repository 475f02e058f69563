import { type ActionRecord, type TargetResult, targetKey } from '../actions/schema.ts';
import { auditEvent } from './context.ts';

/** The audit entry of one target's final outcome. */
export function auditTargetOutcome(result: TargetResult): void {
  const target = targetKey(result);
  const why = result.error
    ? `: ${result.error.message}`
    : 'note' in result && result.note
      ? `: ${result.note}`
      : '';
  auditEvent('target_outcome', `${target} ${result.outcome}${why}`, {
    target,
    outcome: result.outcome,
    ...(result.error ? { error: `${result.error.name}: ${result.error.message}` } : {}),
  });
}

/**
 * The audit entries of the warnings sent before acting on sessions: one per failed warning (a
 * sent one is already in the trail as its Citrix call), so a user who was not warned is on record.
 */
export function auditFailedWarnings(warnings: NonNullable<ActionRecord['warnings']>): void {
  for (const warning of warnings) {
    if (warning.status !== 'failed') continue;
    const why = warning.error ? `: ${warning.error.name}: ${warning.error.message}` : '';
    auditEvent('notification', `session warning ${warning.sessionId}: failed${why}`, {
      channel: 'session_warning',
      destination: warning.sessionId,
      status: 'failed',
    });
  }
}
