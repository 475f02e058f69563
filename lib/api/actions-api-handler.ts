import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ActionIdSchema } from '../actions/schema.ts';
import type { ActionStore } from '../actions/store.ts';
import { toActionView } from '../actions/view.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { logger } from '../runtime/logger.ts';
import { verifyStandardWebhook, WebhookSignatureError } from '../webhooks/standard-webhooks.ts';
import { type AcceptRequestDependencies, acceptSignedRequest } from './accept-request.ts';
import { type ApprovalDependencies, decideOnAction } from './approvals.ts';
import { apiError, validationError } from './http-errors.ts';
import { createHttpFunction } from './http-function.ts';
import { readRawBody, statusUrlFor } from './request.ts';
import type { ActionAccepted } from './responses.ts';
import {
  API_ROUTES,
  type ApiHandler,
  type RouteHandlers,
  type RouteKeyOf,
  routeKey,
} from './routes.ts';

export type { ApiHandler } from './routes.ts';

export interface ActionsApiDependencies extends AcceptRequestDependencies, ApprovalDependencies {
  readonly actions: Pick<ActionStore, 'get' | 'decideApproval'>;
  readonly audit: Pick<AuditLog, 'append' | 'timeline'>;
  /** The Standard Webhooks signing secret, cached per warm container by the provider. */
  readonly signingSecret: () => Promise<string>;
}

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

type SignedHandler = (
  dependencies: ActionsApiDependencies,
  event: APIGatewayProxyEvent,
  rawBody: string,
  context: Context,
) => Promise<APIGatewayProxyResult>;

const createAction: SignedHandler = async (dependencies, event, rawBody, context) => {
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
};

const getAction: SignedHandler = async (dependencies, event) => {
  const actionId = ActionIdSchema.safeParse(event.pathParameters?.actionId);
  if (!actionId.success) throw validationError(actionId.error, 'actionId');
  logger.setCorrelationId(actionId.data);
  const record = await dependencies.actions.get(actionId.data);
  if (record === undefined) throw apiError(404, 'not_found', `No action ${actionId.data}`);
  const timeline = await dependencies.audit.timeline(actionId.data);
  return json(200, { ...toActionView(record), timeline });
};

const decide =
  (decision: 'approved' | 'rejected'): SignedHandler =>
  async (dependencies, event, rawBody) => {
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
  };

/**
 * `POST /v1/actions`, `GET /v1/actions/{actionId}` and its approve/reject, all authenticated by a
 * Standard Webhooks signature. The public `GET /v1/openapi.json` has its own function
 * (api-document-handler.ts), which keeps the document out of this one's bundle.
 */
export function createActionsApiHandler(
  getDependencies: () => ActionsApiDependencies | Promise<ActionsApiDependencies>,
): ApiHandler {
  /** Verifies the signature over the exact body bytes, then runs the route. */
  const signed =
    (route: SignedHandler): ApiHandler =>
    async (event, context) => {
      const dependencies = await getDependencies();
      const rawBody = readRawBody(event);
      try {
        verifyStandardWebhook(await dependencies.signingSecret(), rawBody, event.headers);
      } catch (error) {
        if (!(error instanceof WebhookSignatureError)) throw error;
        logger.warn('rejected unsigned or badly signed request', { reason: error.message });
        throw apiError(401, 'invalid_signature', error.message);
      }
      return route(dependencies, event, rawBody, context);
    };
  const signedRoutes: Record<RouteKeyOf<'actions-api', true>, SignedHandler> = {
    'POST /v1/actions': createAction,
    'GET /v1/actions/{actionId}': getAction,
    'POST /v1/actions/{actionId}/approve': decide('approved'),
    'POST /v1/actions/{actionId}/reject': decide('rejected'),
  };
  // None today: a public route of this function would be answered without a signature.
  const publicRoutes: Record<RouteKeyOf<'actions-api', false>, ApiHandler> = {};
  // The route table says which routes are signed.
  const routes = Object.fromEntries(
    API_ROUTES.filter((route) => route.function === 'actions-api').map((route) => {
      const key = routeKey(route);
      return [
        key,
        route.signed
          ? signed(signedRoutes[key as RouteKeyOf<'actions-api', true>])
          : publicRoutes[key as RouteKeyOf<'actions-api', false>],
      ];
    }),
  ) as RouteHandlers<'actions-api'>;
  return createHttpFunction('actions-api', routes);
}
