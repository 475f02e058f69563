import { createSourceWebhooksHandler } from '../lib/api/source-webhooks-handler.ts';
import { awsSourceReceiveDependencies } from '../lib/runtime/clients/source-receive.ts';
import { loadAlertRoutingRules } from '../lib/sources/alert-routing.ts';
import { ALERT_SOURCES } from '../lib/sources/alert-sources.ts';

/** The alerting sources' composition root (Splunk, Sentinel, PagerDuty): the handler over AWS. */
export { createSourceWebhooksHandler } from '../lib/api/source-webhooks-handler.ts';

export const handler = createSourceWebhooksHandler(
  awsSourceReceiveDependencies(ALERT_SOURCES, loadAlertRoutingRules),
);
