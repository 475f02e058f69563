import { type ActionType, modeOf } from '../actions/schema.ts';
import type { GuardrailSettings } from './config.ts';
import type { HourlyLimitCounter } from './limits.ts';

export const GUARDRAIL_OUTCOMES = ['proceed', 'approval', 'refuse'] as const;
export type GuardrailOutcome = (typeof GUARDRAIL_OUTCOMES)[number];

export interface GuardrailDecision {
  readonly outcome: GuardrailOutcome;
  /** Every guardrail that applied, in the order checked; empty when the action may proceed. */
  readonly reasons: string[];
}

export interface GuardrailInput {
  readonly action: ActionType;
  /** The request's options; an `admin.revoke` without a mode is a `strip` (the request default). */
  readonly options?: { readonly mode?: string | undefined } | undefined;
  /** Targets the action would really touch (after protected and unmanaged ones are set aside). */
  readonly actionable: number;
  readonly actionId: string;
  readonly now: Date;
}

type DecisionSettings = Pick<GuardrailSettings, 'limits' | 'approvalRequired'>;

/** Whether `APPROVAL_REQUIRED` names the action, or the mode it runs in (`admin.revoke:delete`). */
export function requiresApproval(
  action: ActionType,
  mode: string | undefined,
  settings: Pick<GuardrailSettings, 'approvalRequired'>,
): boolean {
  const required = settings.approvalRequired as readonly string[];
  if (required.includes(action)) return true;
  const runsIn = modeOf(action, mode === undefined ? undefined : { mode });
  return runsIn !== undefined && required.includes(`${action}:${runsIn}`);
}

/**
 * Decides whether an action may proceed, needs a person's approval, or is refused. Approval comes
 * from `APPROVAL_REQUIRED`; a limit exceeded leads to the limit's `overLimit`; refusal beats
 * approval. An action that may go ahead or is held for approval reserves its targets against the
 * hourly limit, so an action waiting for approval already counts: when exceeding a limit leads to
 * approval the full count is reserved even above the hourly limit (approving it must not take
 * the hour past its limit unseen); a refused action reserves nothing. The reservation is given
 * back if the action ends rejected or expired (see HourlyLimitCounter.release).
 */
export async function decideGuardrails(
  input: GuardrailInput,
  settings: DecisionSettings,
  counter: Pick<HourlyLimitCounter, 'reserve'>,
): Promise<GuardrailDecision> {
  const { action, actionable } = input;
  if (!Number.isInteger(actionable) || actionable < 0) {
    throw new RangeError(`actionable must be a non-negative integer, got ${actionable}`);
  }
  // Nothing will be touched, so there is nothing to approve or count.
  if (actionable === 0) return { outcome: 'proceed', reasons: [] };

  const reasons: string[] = [];
  let approval = false;
  let refuse = false;
  const escalate = (overLimit: 'approval' | 'refuse') => {
    if (overLimit === 'refuse') refuse = true;
    else approval = true;
  };

  const mode = modeOf(action, input.options);
  if (requiresApproval(action, mode, settings)) {
    approval = true;
    const required = settings.approvalRequired as readonly string[];
    reasons.push(
      mode !== undefined && !required.includes(action)
        ? `${action} with mode ${mode} needs approval`
        : `${action} needs approval`,
    );
  }

  const limit = settings.limits[action];
  if (actionable > limit.perRequest) {
    reasons.push(
      // At least two: every per-request limit is at least one.
      `${actionable} targets exceed the limit of ${limit.perRequest} per request for ${action}`,
    );
    escalate(limit.overLimit);
  }
  if (!refuse) {
    // Over the hourly limit either refuses (nothing reserved) or holds for approval (reserved).
    const reservation = await counter.reserve(
      action,
      actionable,
      limit.perHour,
      input.actionId,
      input.now,
      { evenOverLimit: limit.overLimit === 'approval' },
    );
    if (!reservation.allowed) {
      reasons.push(
        `${actionable} more ${actionable === 1 ? 'target' : 'targets'} would exceed the limit of ${limit.perHour} per hour for ${action} (${reservation.used} used in the last hour)`,
      );
      escalate(limit.overLimit);
    }
  }

  const outcome: GuardrailOutcome = refuse ? 'refuse' : approval ? 'approval' : 'proceed';
  return { outcome, reasons };
}
