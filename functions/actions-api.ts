import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import {
  type ActionsRoutesDependencies,
  json,
  routeSignedRequest,
} from '../lib/api/actions-routes.ts';
import { apiError, INTERNAL_ERROR_BODY } from '../lib/api/http-errors.ts';
import { readRawBody } from '../lib/api/request.ts';
import { servedOpenApiDocument } from '../lib/api/served-openapi.ts';
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

export interface ActionsApiDependencies extends ActionsRoutesDependencies {
  /** The Standard Webhooks signing secret, cached per warm container by the provider. */
  readonly signingSecret: () => Promise<string>;
}

export type ApiHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult>;

/**
 * `POST /v1/actions`, `GET /v1/actions/{actionId}` and its approve/reject, all authenticated by a
 * Standard Webhooks signature, and the public `GET /v1/openapi.json`.
 */
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
      return routeSignedRequest(dependencies, event, rawBody, context);
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
