import type { ReceiveDependencies } from '../sources/receive.ts';
import type { RequestRoutingRules } from '../sources/request-routing.ts';
import { REQUEST_SOURCES } from '../sources/request-sources.ts';
import { createHttpFunction } from './http-function.ts';
import type { ApiHandler, RouteHandlers } from './routes.ts';
import { sourceReceiver } from './source-delivery.ts';

/**
 * The requesting sources: `POST /v1/webhooks/servicenow` (HTTP Basic) and
 * `POST /v1/webhooks/standard` (Standard Webhooks signature), each request naming its action
 * within the rules' `allowedActions`. Their own function, so that the alerting sources' function
 * carries neither their code nor Standard Webhooks'.
 */
export function createSourceRequestsHandler(
  getDependencies: () =>
    | ReceiveDependencies<RequestRoutingRules>
    | Promise<ReceiveDependencies<RequestRoutingRules>>,
): ApiHandler {
  const receive = sourceReceiver(REQUEST_SOURCES, getDependencies);
  const routes: RouteHandlers<'source-requests'> = {
    'POST /v1/webhooks/servicenow': (event, context) => receive(event, context, 'servicenow'),
    'POST /v1/webhooks/standard': (event, context) => receive(event, context, 'standard'),
  };
  return createHttpFunction('source-requests', routes, 'delivery failed');
}
