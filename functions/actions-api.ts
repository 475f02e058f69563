import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ActionIdSchema } from '../lib/actions/schema.ts';
import type { ActionStore } from '../lib/actions/store.ts';
import { toActionView } from '../lib/actions/view.ts';
import { type AcceptRequestDependencies, acceptSignedRequest } from '../lib/api/accept-request.ts';
import { type ApprovalDependencies, decideOnAction } from '../lib/api/approvals.ts';
import { apiError, INTERNAL_ERROR_BODY, validationError } from '../lib/api/http-errors.ts';
import { readRawBody, statusUrlFor } from '../lib/api/request.ts';
import { servedOpenApiDocument } from '../lib/api/served-openapi.ts';
import type { AuditLog } from '../lib/audit/audit-log.ts';
import {
  awsActionStore,
  awsAuditLog,
  awsCallbackNames,
  awsIdempotentAcceptor,
  awsSigningSecret,
  awsTaskTokens,
} from '../lib/runtime/aws.ts';
import { logger } from '../lib/runtime/logger.ts';
import { verifyStandardWebhook, WebhookSignatureError } from '../lib/webhooks/standard-webhooks.ts';

export interface ActionsApiDependencies extends AcceptRequestDependencies, ApprovalDependencies {
  readonly actions: Pick<ActionStore, 'get' | 'decideApproval'>;
  readonly audit: Pick<AuditLog, 'append' | 'timeline'>;
  /** The Standard Webhooks signing secret, cached per warm container by the provider. */
  readonly signingSecret: () => Promise<string>;
}

export type ApiHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult>;

const APPROVAL_ROUTES: Record<string, 'approved' | 'rejected'> = {
  'POST /v1/actions/{actionId}/approve': 'approved',
  'POST /v1/actions/{actionId}/reject': 'rejected',
};

const parseBody = (rawBody: string): unknown => {
  try {
    return JSON.parse(rawBody);
  } catch {
    throw apiError(400, 'invalid_json', 'The body is not valid JSON');
  }
};

const json = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

/** `POST /v1/actions` and `GET /v1/actions/{actionId}`, both authenticated by a Standard Webhooks signature. */
export function createActionsApiHandler(
  getDependencies: () => ActionsApiDependencies | Promise<ActionsApiDependencies>,
): ApiHandler {
  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpHeaderNormalizer())
    .use(httpErrorHandler({ logger: logUnexpected, fallbackMessage: INTERNAL_ERROR_BODY }))
    .handler(async (event, context) => {
      // The API description is public, like any API's documentation: no signature needed.
      if (event.httpMethod === 'GET' && event.resource === '/v1/openapi.json') {
        return json(200, servedOpenApiDocument());
      }
      const dependencies = await getDependencies();
      const rawBody = readRawBody(event);
      try {
        verifyStandardWebhook(await dependencies.signingSecret(), rawBody, event.headers);
      } catch (error) {
        if (!(error instanceof WebhookSignatureError)) throw error;
        logger.warn('rejected unsigned or badly signed request', { reason: error.message });
        throw apiError(401, 'invalid_signature', error.message);
      }
      const route = `${event.httpMethod} ${event.resource}`;
      if (route === 'POST /v1/actions') {
        const webhookId = event.headers['webhook-id'] ?? '';
        const accepted = await acceptSignedRequest(dependencies, rawBody, webhookId, context);
        logger.info('action accepted', { ...accepted });
        return json(202, {
          actionId: accepted.actionId,
          status: 'accepted',
          statusUrl: statusUrlFor(event, accepted.actionId),
          duplicate: accepted.duplicate,
        });
      }
      const decision = APPROVAL_ROUTES[route];
      if (decision !== undefined) {
        const decided = await decideOnAction(
          dependencies,
          event.pathParameters?.actionId,
          decision,
          parseBody(rawBody),
        );
        logger.info('approval decided', { ...decided, decision });
        return json(200, decided);
      }
      if (route === 'GET /v1/actions/{actionId}') {
        const actionId = ActionIdSchema.safeParse(event.pathParameters?.actionId);
        if (!actionId.success) throw validationError(actionId.error, 'actionId');
        const record = await dependencies.actions.get(actionId.data);
        if (record === undefined) throw apiError(404, 'not_found', `No action ${actionId.data}`);
        const timeline = await dependencies.audit.timeline(actionId.data);
        return json(200, { ...toActionView(record), timeline });
      }
      throw apiError(404, 'not_found', `No route for ${event.httpMethod} ${event.path}`);
    });
  return (event, context) => handler(event, context);
}

/** 4xx answers are expected traffic; anything else is logged with its cause chain. */
function logUnexpected(error: unknown): void {
  const status = (error as { statusCode?: number }).statusCode;
  if (status === undefined || status >= 500) logger.error('request failed', error as Error);
}

export const handler = createActionsApiHandler(() => ({
  actions: awsActionStore(),
  acceptor: awsIdempotentAcceptor(),
  tokens: awsTaskTokens(),
  audit: awsAuditLog(),
  signingSecret: awsSigningSecret,
  callbackNames: awsCallbackNames(),
}));
