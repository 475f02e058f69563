import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { logger } from '../runtime/logger.ts';
import { INTERNAL_ERROR_BODY } from './http-errors.ts';
import type { OpenApiDocument } from './openapi.ts';
import { type ApiHandler, type RouteHandlers, routeRequests } from './routes.ts';

/**
 * The public `GET /v1/openapi.json`: the API's description, without a signature, like any API's
 * documentation. Its own function, so that the document weighs on no other function's bundle.
 */
export function createApiDocumentHandler(getDocument: () => OpenApiDocument): ApiHandler {
  const routes: RouteHandlers<'api-document'> = {
    'GET /v1/openapi.json': async () => ({
      statusCode: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: JSON.stringify(getDocument()),
    }),
  };
  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpHeaderNormalizer())
    .use(httpErrorHandler({ logger: logUnexpected, fallbackMessage: INTERNAL_ERROR_BODY }))
    .handler(routeRequests('api-document', routes));
  return (event, context) => handler(event, context);
}

/** 4xx answers are expected traffic; anything else is logged with its cause chain. */
function logUnexpected(error: unknown): void {
  const status = (error as { statusCode?: number }).statusCode;
  if (status === undefined || status >= 500) logger.error('request failed', error as Error);
}
