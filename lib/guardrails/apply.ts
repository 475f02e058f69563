import { targetVerdict } from '../actions/outcome.ts';
import {
  type ActionTarget,
  type ActionType,
  byProduct,
  isSweepTarget,
  type ResolvedDevice,
  type ResolvedSession,
  type ResolvedTarget,
} from '../actions/schema.ts';
import type { ActionStore } from '../actions/store.ts';
import { auditEvent } from '../audit/context.ts';
import { recordSweepTargets } from '../runtime/metrics.ts';
import type { GuardrailSettings } from './config.ts';
import { decideGuardrails, type GuardrailOutcome } from './decide.ts';
import type { HourlyLimitCounter } from './limits.ts';
import { protectionReason } from './protected.ts';

/** No request can make an action go ahead: refused before anything was done. */
export class GuardrailRefusedError extends Error {
  override name = 'GuardrailRefusedError';
}

export interface GuardrailDependencies {
  readonly settings: GuardrailSettings;
  readonly counter: Pick<HourlyLimitCounter, 'reserve'>;
  readonly actions: Pick<ActionStore, 'markRunning'>;
}

export interface GuardedResolution {
  readonly targets: ResolvedTarget[];
  /** What the workflow's NeedsApproval Choice reads. */
  readonly guardrails: {
    readonly outcome: Exclude<GuardrailOutcome, 'refuse'>;
    readonly reasons: string[];
    readonly approvalTimeoutSeconds: number;
  };
}

export interface GuardrailRequest {
  readonly actionId: string;
  readonly action: ActionType;
  readonly target: ActionTarget;
  readonly options?: { readonly mode?: string } | undefined;
  readonly dryRun: boolean;
}

/**
 * Between resolving targets and acting: protected users' sessions and protected devices are
 * marked to be skipped, the plan is recorded, and the limits and approval rules decide whether
 * the action proceeds, waits for approval, or is refused (throws GuardrailRefusedError). A dry
 * run reserves nothing against the hourly limits.
 */
export async function applyGuardrails(
  dependencies: GuardrailDependencies,
  request: GuardrailRequest,
  resolved: readonly ResolvedTarget[],
  now: Date,
): Promise<GuardedResolution> {
  const { settings } = dependencies;
  const protect = <T extends ResolvedSession | ResolvedDevice>(target: T, actionable: boolean) => {
    const named = 'user' in request.target ? request.target.user : undefined;
    const reason = protectionReason(target, settings, named);
    return reason === undefined
      ? { ...target, actionable }
      : { ...target, actionable: false, skipReason: reason };
  };
  // Administrators have their own guards (resolved with the target); the rest are protected here.
  const targets = resolved.map((target) =>
    byProduct<ResolvedTarget>(target, {
      administrators: (administrator) => administrator,
      // A target resolution already marked not actionable (a device in its grace period, a
      // session whose age cannot be read) stays so, with its reason.
      devices: (device) => protect(device, device.managed && device.actionable !== false),
      sessions: (session) => protect(session, session.actionable !== false),
    }),
  );
  await dependencies.actions.markRunning(request.actionId, targets);
  const actionable = targets.filter((target) => targetVerdict(target).act).length;
  // A sweep's results: what its run found, to act on or left alone (protected, in grace, ...).
  if (isSweepTarget(request.target)) {
    recordSweepTargets(request.target.sweep, 'actionable', actionable);
    recordSweepTargets(request.target.sweep, 'skipped', targets.length - actionable);
  }
  const counter: Pick<HourlyLimitCounter, 'reserve'> = request.dryRun
    ? { reserve: async () => ({ allowed: true, used: 0 }) }
    : dependencies.counter;
  const decision = await decideGuardrails(
    {
      action: request.action,
      options: request.options,
      actionable,
      actionId: request.actionId,
      now,
    },
    settings,
    counter,
  );
  if (request.dryRun) {
    auditEvent(
      'decision',
      `Planned (dry run): ${actionable} of ${targets.length} targets would be acted on`,
      {
        decision: 'planned',
        reasons: decision.reasons,
      },
    );
  } else if (decision.outcome === 'refuse') {
    auditEvent('decision', `Refused: ${decision.reasons.join('; ')}`, {
      decision: 'refused',
      reasons: decision.reasons,
    });
    throw new GuardrailRefusedError(decision.reasons.join('; '));
  } else if (decision.outcome === 'approval') {
    auditEvent('decision', `Held for approval: ${decision.reasons.join('; ')}`, {
      decision: 'held',
      reasons: decision.reasons,
    });
  }
  return {
    targets,
    guardrails: {
      outcome: decision.outcome === 'refuse' ? 'proceed' : decision.outcome,
      reasons: decision.reasons,
      approvalTimeoutSeconds: settings.approvalTimeoutSeconds,
    },
  };
}
