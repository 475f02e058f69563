import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { logger } from '../runtime/logger.ts';
import { SourceAuthenticationError } from '../sources/authenticate.ts';
import { type ReceiveDependencies, receiveSourceDelivery } from '../sources/receive.ts';
import { SOURCES, type SourceName } from '../sources/types.ts';
import { apiError } from './http-errors.ts';
import { createHttpFunction } from './http-function.ts';
import { readRawBody, statusUrlFor } from './request.ts';
import type { ApiHandler, RouteHandlers } from './routes.ts';
import { sourceErrorToApiError } from './source-errors.ts';

/**
 * `POST /v1/webhooks/{source}` (ServiceNow, Sentinel, PagerDuty) and
 * `POST /v1/webhooks/splunk/{token}`: each source authenticated its own way, its payload routed
 * by the rules, each action accepted exactly once. The Splunk token is never logged.
 */
export function createSourceWebhooksHandler(
  getDependencies: () => ReceiveDependencies | Promise<ReceiveDependencies>,
): ApiHandler {
  const receive = async (
    event: APIGatewayProxyEvent,
    context: Context,
    source: string | undefined,
    pathToken?: string,
  ): Promise<APIGatewayProxyResult> => {
    if (!(SOURCES as readonly string[]).includes(source ?? '')) {
      throw apiError(404, 'not_found', 'No such source; see GET /v1/openapi.json');
    }
    const delivery = {
      source: source as SourceName,
      rawBody: readRawBody(event),
      headers: event.headers,
      ...(pathToken === undefined ? {} : { pathToken }),
    };
    try {
      const outcome = await receiveSourceDelivery(
        await getDependencies(),
        delivery,
        context,
        new Date(),
      );
      const actionIds = outcome.status === 'ignored' ? [] : outcome.actions.map((a) => a.actionId);
      // One action: its id is the correlation id, as in its workflow's logs.
      if (actionIds.length === 1) logger.setCorrelationId(actionIds[0]);
      logger.info('delivery received', {
        source,
        deliveryId: outcome.deliveryId,
        status: outcome.status,
        actionIds,
      });
      const body =
        outcome.status === 'ignored'
          ? outcome
          : {
              ...outcome,
              actions: outcome.actions.map((action) => ({
                ...action,
                statusUrl: statusUrlFor(event, action.actionId),
              })),
            };
      return {
        statusCode: 202,
        headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
        body: JSON.stringify(body),
      };
    } catch (error) {
      if (error instanceof SourceAuthenticationError) {
        logger.warn('rejected delivery', { source, reason: error.message });
      }
      throw sourceErrorToApiError(error, source as SourceName);
    }
  };
  const routes: RouteHandlers<'source-webhooks'> = {
    'POST /v1/webhooks/{source}': (event, context) =>
      receive(event, context, event.pathParameters?.source),
    'POST /v1/webhooks/splunk/{token}': (event, context) =>
      receive(event, context, 'splunk', event.pathParameters?.token ?? ''),
  };
  return createHttpFunction('source-webhooks', routes, 'delivery failed');
}
