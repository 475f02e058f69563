import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ActionIdSchema } from '../actions/schema.ts';
import type { ActionStore } from '../actions/store.ts';
import { toActionView } from '../actions/view.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { logger } from '../runtime/logger.ts';
import { type AcceptRequestDependencies, acceptSignedRequest } from './accept-request.ts';
import { type ApprovalDependencies, decideOnAction } from './approvals.ts';
import { apiError, validationError } from './http-errors.ts';
import { statusUrlFor } from './request.ts';
import type { ActionAccepted } from './responses.ts';

export interface ActionsRoutesDependencies extends AcceptRequestDependencies, ApprovalDependencies {
  readonly actions: Pick<ActionStore, 'get' | 'decideApproval'>;
  readonly audit: Pick<AuditLog, 'append' | 'timeline'>;
}

const APPROVAL_ROUTES: Record<string, 'approved' | 'rejected'> = {
  'POST /v1/actions/{actionId}/approve': 'approved',
  'POST /v1/actions/{actionId}/reject': 'rejected',
};

/** Every route `routeSignedRequest` serves, as `METHOD /path` with API Gateway's templates. */
export const SIGNED_ROUTES: readonly string[] = [
  'POST /v1/actions',
  'GET /v1/actions/{actionId}',
  ...Object.keys(APPROVAL_ROUTES),
];

export const json = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

function parseBody(rawBody: string): unknown {
  try {
    return JSON.parse(rawBody);
  } catch {
    throw apiError(400, 'invalid_json', 'The body is not valid JSON');
  }
}

/** The signed routes of the actions API, once the signature has been verified. */
export async function routeSignedRequest(
  dependencies: ActionsRoutesDependencies,
  event: APIGatewayProxyEvent,
  rawBody: string,
  context: Context,
): Promise<APIGatewayProxyResult> {
  const route = `${event.httpMethod} ${event.resource}`;
  if (route === 'POST /v1/actions') {
    const webhookId = event.headers['webhook-id'] ?? '';
    const accepted = await acceptSignedRequest(dependencies, rawBody, webhookId, context);
    // The action id is the correlation id, as in every workflow task of the action.
    logger.setCorrelationId(accepted.actionId);
    logger.info('action accepted', { ...accepted });
    const answer: ActionAccepted = {
      actionId: accepted.actionId,
      status: 'accepted',
      statusUrl: statusUrlFor(event, accepted.actionId),
      duplicate: accepted.duplicate,
    };
    return json(202, answer);
  }
  const decision = APPROVAL_ROUTES[route];
  if (decision !== undefined) {
    const actionId = event.pathParameters?.actionId;
    if (ActionIdSchema.safeParse(actionId).success) logger.setCorrelationId(actionId);
    const webhookId = event.headers['webhook-id'];
    const decided = await decideOnAction(
      dependencies,
      actionId,
      decision,
      parseBody(rawBody),
      webhookId,
    );
    logger.info('approval decided', { ...decided, decision, webhookId });
    return json(200, decided);
  }
  if (route === 'GET /v1/actions/{actionId}') {
    const actionId = ActionIdSchema.safeParse(event.pathParameters?.actionId);
    if (!actionId.success) throw validationError(actionId.error, 'actionId');
    logger.setCorrelationId(actionId.data);
    const record = await dependencies.actions.get(actionId.data);
    if (record === undefined) throw apiError(404, 'not_found', `No action ${actionId.data}`);
    const timeline = await dependencies.audit.timeline(actionId.data);
    return json(200, { ...toActionView(record), timeline });
  }
  throw apiError(404, 'not_found', `No route for ${event.httpMethod} ${event.path}`);
}
