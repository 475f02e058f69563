import type { AlertRoutingRules } from '../sources/alert-routing.ts';
import { ALERT_SOURCES } from '../sources/alert-sources.ts';
import type { ReceiveDependencies } from '../sources/receive.ts';
import { createHttpFunction } from './http-function.ts';
import type { ApiHandler, RouteHandlers } from './routes.ts';
import { sourceReceiver } from './source-delivery.ts';

/**
 * The alerting sources: `POST /v1/webhooks/{source}` (Sentinel, PagerDuty) and
 * `POST /v1/webhooks/splunk/{token}`, each routed by the rules' alert routes. ServiceNow and
 * Standard Webhooks have routes of their own, to the source requests function: here they are
 * no such source (404). The Splunk token is never logged.
 */
export function createSourceWebhooksHandler(
  getDependencies: () =>
    | ReceiveDependencies<AlertRoutingRules>
    | Promise<ReceiveDependencies<AlertRoutingRules>>,
): ApiHandler {
  const receive = sourceReceiver(ALERT_SOURCES, getDependencies);
  const routes: RouteHandlers<'source-webhooks'> = {
    'POST /v1/webhooks/{source}': (event, context) =>
      receive(event, context, event.pathParameters?.source),
    'POST /v1/webhooks/splunk/{token}': (event, context) =>
      receive(event, context, 'splunk', event.pathParameters?.token ?? ''),
  };
  return createHttpFunction('source-webhooks', routes, 'delivery failed');
}
