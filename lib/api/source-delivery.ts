import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { logger } from '../runtime/logger.ts';
import { SourceAuthenticationError } from '../sources/errors.ts';
import { isServed, type ReceiveDependencies, receiveSourceDelivery } from '../sources/receive.ts';
import type { SourceDeclarations, SourceName } from '../sources/types.ts';
import { apiError } from './http-errors.ts';
import { readRawBody, statusUrlFor } from './request.ts';
import { sourceErrorToApiError } from './source-errors.ts';

/** Receives one delivery for a source of `sources`, from its route's request. */
export type SourceReceiver = (
  event: APIGatewayProxyEvent,
  context: Context,
  source: string | undefined,
  pathToken?: string,
) => Promise<APIGatewayProxyResult>;

/**
 * The HTTP side of a source function: each source of `sources` authenticated its own way, its
 * payload routed by the rules, each action accepted exactly once (lib/sources/receive.ts). A
 * source the function does not serve is a 404. A token from the path is never logged.
 */
export function sourceReceiver<S extends SourceName, Rules>(
  sources: SourceDeclarations<S, Rules>,
  getDependencies: () => ReceiveDependencies<Rules> | Promise<ReceiveDependencies<Rules>>,
): SourceReceiver {
  return async (event, context, source, pathToken) => {
    if (!isServed(sources, source)) {
      throw apiError(404, 'not_found', 'No such source; see GET /v1/openapi.json');
    }
    const delivery = {
      source,
      rawBody: readRawBody(event),
      headers: event.headers,
      ...(pathToken === undefined ? {} : { pathToken }),
    };
    try {
      const outcome = await receiveSourceDelivery(
        sources,
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
      throw sourceErrorToApiError(error, source);
    }
  };
}
