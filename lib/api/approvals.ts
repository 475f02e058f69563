import { z } from 'zod';
import { ActionIdSchema, type ActionRecord } from '../actions/schema.ts';
import { ActionNotAwaitingApprovalError, type ActionStore } from '../actions/store.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { TaskTokenInvalidError, type TaskTokenSender } from '../workflow/starter.ts';
import { apiError, validationError } from './http-errors.ts';
import type { ApprovalDecision } from './responses.ts';

export interface ApprovalDependencies {
  readonly actions: Pick<ActionStore, 'get' | 'decideApproval'>;
  readonly tokens: TaskTokenSender;
  readonly audit: Pick<AuditLog, 'append'>;
}

/** Who decides, in the body of `POST /v1/actions/{id}/approve` and `/reject`. */
export const ApprovalRequestSchema = z.strictObject({
  /** The person deciding (the signature authenticates the calling tool, this names the person). */
  by: z.string().trim().min(1, 'must name the approver').max(256),
  comment: z.string().trim().max(1000).optional(),
});

const same = (a: string | undefined, b: string) =>
  a !== undefined && a.trim().toLowerCase() === b.trim().toLowerCase();

type Decision = 'approved' | 'rejected';

/**
 * The same decision by the same approver, already recorded, whose workflow may not have been
 * resumed (the record still holds the task token until the action completes).
 */
function isRepeat(
  record: ActionRecord,
  decision: Decision,
  by: string,
): record is ActionRecord & {
  approvalTaskToken: string;
} {
  return (
    record.status === (decision === 'approved' ? 'running' : 'rejected') &&
    record.approval?.decision === decision &&
    same(record.approval.decidedBy, by) &&
    record.approvalTaskToken !== undefined
  );
}

/**
 * Approves or rejects an action awaiting approval, once, and resumes its workflow. The requester
 * cannot approve their own action, and an action that names no requester cannot be approved
 * (only rejected). A decision on an action no longer waiting is a conflict, except the same
 * decision by the same approver repeated after resuming the workflow failed: that resends it.
 * `webhookId` (the Standard Webhooks message id of the request) goes into the audit entry.
 */
export async function decideOnAction(
  dependencies: ApprovalDependencies,
  actionIdParameter: string | undefined,
  decision: Decision,
  body: unknown,
  webhookId?: string,
): Promise<ApprovalDecision> {
  const actionId = ActionIdSchema.safeParse(actionIdParameter);
  if (!actionId.success) throw validationError(actionId.error, 'actionId');
  const request = ApprovalRequestSchema.safeParse(body);
  if (!request.success) throw validationError(request.error);
  const { by, comment } = request.data;
  const record = await dependencies.actions.get(actionId.data);
  if (record === undefined) throw apiError(404, 'not_found', `No action ${actionId.data}`);
  const repeat = isRepeat(record, decision, by);
  if (record.status !== 'awaiting_approval' && !repeat) {
    throw apiError(409, 'not_awaiting_approval', `Action ${actionId.data} is ${record.status}`);
  }
  if (decision === 'approved' && record.requestedBy === undefined) {
    throw apiError(
      403,
      'requester_unknown',
      'The action names no requester (requestedBy), so self-approval cannot be ruled out; it can only be rejected',
    );
  }
  if (decision === 'approved' && same(record.requestedBy, by)) {
    throw apiError(403, 'self_approval', 'The requester cannot approve their own action');
  }
  let token: string;
  if (repeat) token = record.approvalTaskToken;
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
  }
  const why = comment ? `: ${comment}` : '';
  await dependencies.audit.append([
    {
      actionId: actionId.data,
      at: new Date().toISOString(),
      type: 'decision',
      summary: `${decision === 'approved' ? 'Approved' : 'Rejected'} by ${by}${why}${repeat ? ' (repeated, resent to the workflow)' : ''}`,
      details: {
        decision,
        by,
        ...(webhookId ? { webhookId } : {}),
        ...(repeat ? { repeated: true } : {}),
      },
    },
  ]);
  try {
    if (decision === 'approved') await dependencies.tokens.succeed(token, { approvedBy: by });
    else await dependencies.tokens.fail(token, 'ActionRejectedError', `Rejected by ${by}${why}`);
  } catch (error) {
    if (!(error instanceof TaskTokenInvalidError)) throw error;
    // A repeat within the window finds the token used: the earlier request did resume the
    // workflow (its answer was lost). Otherwise the wait has ended without this decision.
    const expiresAt = Date.parse(record.approval?.expiresAt ?? '');
    if (!(repeat && Date.now() < expiresAt)) {
      throw apiError(409, 'expired', 'The approval window has closed; nothing was done');
    }
  }
  return {
    actionId: actionId.data,
    status: decision === 'approved' ? 'running' : 'rejected',
    decidedBy: by,
  };
}
