import { type TargetResult, targetKey } from '../actions/schema.ts';
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
