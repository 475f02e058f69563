import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { logger } from '../runtime/logger.ts';
import { INTERNAL_ERROR_BODY } from './http-errors.ts';
import { type ApiFunction, type ApiHandler, type RouteHandlers, routeRequests } from './routes.ts';

export interface HttpFunctionOptions {
  /**
   * Runs after every invocation, answered or failed: the records API publishes its metrics here,
   * so the metrics module stays out of the functions that record none.
   */
  readonly afterInvocation?: () => void;
}

/**
 * One HTTP Lambda: a logger context per invocation, normalized headers, the routes `fn` serves
 * from the route table, and typed 4xx errors answered as thrown while anything else becomes the
 * standard 500 body. `failure` is the log line of an unexpected error.
 */
export function createHttpFunction<F extends ApiFunction>(
  fn: F,
  routes: RouteHandlers<F>,
  failure = 'request failed',
  { afterInvocation }: HttpFunctionOptions = {},
): ApiHandler {
  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpHeaderNormalizer())
    .use(
      httpErrorHandler({
        // 4xx answers are expected traffic; anything else is logged with its cause chain.
        logger: (error: unknown) => {
          const status = (error as { statusCode?: number }).statusCode;
          if (status === undefined || status >= 500) logger.error(failure, error as Error);
        },
        fallbackMessage: INTERNAL_ERROR_BODY,
      }),
    )
    .handler(routeRequests(fn, routes));
  if (afterInvocation === undefined) return (event, context) => handler(event, context);
  return async (event, context) => {
    try {
      return await handler(event, context);
    } finally {
      afterInvocation();
    }
  };
}
