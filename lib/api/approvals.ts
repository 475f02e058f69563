import * as z from 'zod';
import { ActionIdSchema, type ActionRecord } from '../actions/schema.ts';
import { ActionNotAwaitingApprovalError, type ActionStore } from '../actions/store.ts';
import { type AuditLog, auditSummary } from '../audit/audit-log.ts';
import { ApprovalRefusedError, checkApprover } from '../identity/approver.ts';
import type { Person } from '../identity/principal.ts';
import { recordApprovalWait } from '../runtime/metrics.ts';
import { TaskTokenInvalidError, type TaskTokenSender } from '../workflow/starter.ts';
import { apiError, validationError } from './http-errors.ts';
import type { ApprovalDecision } from './responses.ts';

export interface ApprovalDependencies {
  readonly actions: Pick<ActionStore, 'get' | 'decideApproval'>;
  readonly tokens: TaskTokenSender;
  readonly audit: Pick<AuditLog, 'append'>;
}

/**
 * The body of `POST /v1/actions/{id}/approve` and `/reject`: only why. Who decides is the
 * authenticated person, never a field (`by` is refused, naming it).
 */
export const ApprovalRequestSchema = z
  .strictObject({
    comment: z.string().trim().max(1000).optional(),
  })
  .meta({
    id: 'ApprovalRequest',
    description:
      'Why (`POST /v1/actions/{actionId}/approve` and `/reject`); the decider is the authenticated caller, so the body names nobody.',
  });

/** What a body may not say about who decides, and why. */
export const DECIDER_FIELDS = {
  by: 'is not accepted: the person who signs the request decides',
} as const;

type Decision = 'approved' | 'rejected';

/** The status a decision leaves the action in while it takes effect. */
const statusAfter = (decision: Decision) => (decision === 'approved' ? 'running' : 'rejected');

/** The same decision by the same person, already recorded: a repeat, not a new decision. */
function isRepeat(record: ActionRecord, decision: Decision, by: string): boolean {
  return (
    record.status !== 'awaiting_approval' &&
    record.approval?.decision === decision &&
    record.approval.decidedBy === by
  );
}

/**
 * The answer to a repeated decision, from what the record says now (not from the approval's
 * `expiresAt`, which is only approximate): still in effect (approved and running, or rejected)
 * is 200; the wait ended before the decision reached the workflow is 409 `expired`; an action
 * that has ended otherwise is 409 `not_awaiting_approval`.
 */
function answerFromRecord(
  record: ActionRecord | undefined,
  actionId: string,
  decision: Decision,
  by: string,
): ApprovalDecision {
  if (record === undefined) throw apiError(404, 'not_found', `No action ${actionId}`);
  if (record.status === statusAfter(decision)) {
    return { actionId, status: statusAfter(decision), decidedBy: by };
  }
  if (record.status === 'expired') {
    throw apiError(409, 'expired', 'The approval window has closed; nothing was done');
  }
  throw apiError(
    409,
    'not_awaiting_approval',
    `Action ${actionId} was already decided (${record.approval?.decision ?? 'unknown'}) and is ${record.status}`,
  );
}

/** How long the action waited for this decision, from its approval request (first decision only). */
function recordDecisionWait(record: ActionRecord): void {
  const requestedAt = Date.parse(record.approval?.requestedAt ?? '');
  if (Number.isNaN(requestedAt)) return;
  recordApprovalWait(record.action, (Date.now() - requestedAt) / 1000);
}

/**
 * Approves or rejects an action awaiting approval, once, and resumes its workflow. `approver` is
 * the authenticated person: never the requester (compared by principal, then by name as shown and
 * by what it looks like), and an action that names no requester cannot be approved (only
 * rejected). A decision on an action no longer waiting is a conflict, except the same decision by
 * the same person repeated: while the workflow may still wait on it, it is resent (resuming the
 * workflow may have failed), and the answer follows what the record says then. `requestId` (API
 * Gateway's id of the request) goes into the audit entry.
 */
export async function decideOnAction(
  dependencies: ApprovalDependencies,
  actionIdParameter: string | undefined,
  decision: Decision,
  body: unknown,
  approver: Person,
  requestId?: string,
): Promise<ApprovalDecision> {
  const actionId = ActionIdSchema.safeParse(actionIdParameter);
  if (!actionId.success) throw validationError(actionId.error, 'actionId');
  const request = ApprovalRequestSchema.safeParse(body);
  if (!request.success) throw validationError(request.error, '', DECIDER_FIELDS);
  const { comment } = request.data;
  const by = approver.name;
  const record = await dependencies.actions.get(actionId.data);
  if (record === undefined) throw apiError(404, 'not_found', `No action ${actionId.data}`);
  const repeat = isRepeat(record, decision, by);
  if (record.status !== 'awaiting_approval' && !repeat) {
    throw apiError(409, 'not_awaiting_approval', `Action ${actionId.data} is ${record.status}`);
  }
  // A runbook run waits while one of its steps does: that step's action is what is decided.
  const heldStep = record.steps?.find((step) => step.status === 'awaiting_approval');
  if (heldStep !== undefined && record.approvalTaskToken === undefined) {
    throw apiError(
      409,
      'not_awaiting_approval',
      `Action ${actionId.data} is a runbook run waiting on its step ${heldStep.id}: ${decision === 'approved' ? 'approve' : 'reject'} its action ${heldStep.childActionId ?? ''}`,
    );
  }
  // A repeat with nothing left to resend (the action ended, its token gone, or it is no longer
  // in the decision's state) is answered from the record alone.
  const resendable = record.status === statusAfter(decision) && record.approvalTaskToken;
  if (repeat && !resendable) return answerFromRecord(record, actionId.data, decision, by);
  if (decision === 'approved') {
    try {
      checkApprover(record, approver);
    } catch (error) {
      if (!(error instanceof ApprovalRefusedError)) throw error;
      throw apiError(403, error.code, error.message);
    }
  }
  let token: string;
  if (repeat && resendable) token = resendable;
  else {
    try {
      token = await dependencies.actions.decideApproval(actionId.data, {
        decision,
        by,
        ...(comment ? { comment } : {}),
      });
    } catch (error) {
      if (error instanceof ActionNotAwaitingApprovalError) {
        throw apiError(409, 'not_awaiting_approval', `Action ${actionId.data} was already decided`);
      }
      throw error;
    }
    recordDecisionWait(record);
  }
  const why = comment ? `: ${comment}` : '';
  await dependencies.audit.append([
    {
      actionId: actionId.data,
      at: new Date().toISOString(),
      type: 'decision',
      summary: auditSummary(
        `${decision === 'approved' ? 'Approved' : 'Rejected'} by ${by}${why}${repeat ? ' (repeated, resent to the workflow)' : ''}`,
      ),
      details: {
        decision,
        by,
        principal: approver.key,
        ...(requestId ? { requestId } : {}),
        ...(repeat ? { repeated: true } : {}),
      },
    },
  ]);
  try {
    if (decision === 'approved') await dependencies.tokens.succeed(token, { approvedBy: by });
    else await dependencies.tokens.fail(token, 'ActionRejectedError', `Rejected by ${by}${why}`);
  } catch (error) {
    if (!(error instanceof TaskTokenInvalidError)) throw error;
    // This request alone took the token from the record: the wait ended without this decision.
    if (!repeat) throw apiError(409, 'expired', 'The approval window has closed; nothing was done');
    // A repeat may find the token used by the earlier request (whose answer was lost), or the
    // wait ended first: the record tells which once the workflow has recorded how it ended.
    return answerFromRecord(
      await dependencies.actions.get(actionId.data),
      actionId.data,
      decision,
      by,
    );
  }
  return { actionId: actionId.data, status: statusAfter(decision), decidedBy: by };
}
