import { z } from 'zod';
import { ActionIdSchema } from '../actions/schema.ts';
import { ActionNotAwaitingApprovalError, type ActionStore } from '../actions/store.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { TaskTokenInvalidError, type TaskTokenSender } from '../workflow/starter.ts';
import { apiError, validationError } from './http-errors.ts';

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

/**
 * Approves or rejects an action awaiting approval, once, and resumes its workflow. The requester
 * cannot approve their own action; a decision on an action no longer waiting is a conflict.
 */
export async function decideOnAction(
  dependencies: ApprovalDependencies,
  actionIdParameter: string | undefined,
  decision: 'approved' | 'rejected',
  body: unknown,
): Promise<{ actionId: string; status: string; decidedBy: string }> {
  const actionId = ActionIdSchema.safeParse(actionIdParameter);
  if (!actionId.success) throw validationError(actionId.error, 'actionId');
  const request = ApprovalRequestSchema.safeParse(body);
  if (!request.success) throw validationError(request.error);
  const record = await dependencies.actions.get(actionId.data);
  if (record === undefined) throw apiError(404, 'not_found', `No action ${actionId.data}`);
  if (record.status !== 'awaiting_approval') {
    throw apiError(409, 'not_awaiting_approval', `Action ${actionId.data} is ${record.status}`);
  }
  if (decision === 'approved' && same(record.requestedBy, request.data.by)) {
    throw apiError(403, 'self_approval', 'The requester cannot approve their own action');
  }
  let token: string;
  try {
    token = await dependencies.actions.decideApproval(actionId.data, {
      decision,
      by: request.data.by,
      ...(request.data.comment ? { comment: request.data.comment } : {}),
    });
  } catch (error) {
    if (error instanceof ActionNotAwaitingApprovalError) {
      throw apiError(409, 'not_awaiting_approval', `Action ${actionId.data} was already decided`);
    }
    throw error;
  }
  const comment = request.data.comment ? `: ${request.data.comment}` : '';
  await dependencies.audit.append([
    {
      actionId: actionId.data,
      at: new Date().toISOString(),
      type: 'decision',
      summary: `${decision === 'approved' ? 'Approved' : 'Rejected'} by ${request.data.by}${comment}`,
      details: { decision, by: request.data.by },
    },
  ]);
  try {
    if (decision === 'approved')
      await dependencies.tokens.succeed(token, { approvedBy: request.data.by });
    else {
      const why = request.data.comment ? `: ${request.data.comment}` : '';
      await dependencies.tokens.fail(
        token,
        'ActionRejectedError',
        `Rejected by ${request.data.by}${why}`,
      );
    }
  } catch (error) {
    if (error instanceof TaskTokenInvalidError) {
      throw apiError(409, 'expired', 'The approval window has closed; nothing was done');
    }
    throw error;
  }
  return {
    actionId: actionId.data,
    status: decision === 'approved' ? 'running' : 'rejected',
    decidedBy: request.data.by,
  };
}
