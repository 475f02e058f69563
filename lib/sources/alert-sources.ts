import type { AlertRoutingRules } from './alert-routing.ts';
import { PAGERDUTY } from './pagerduty.ts';
import { SENTINEL } from './sentinel.ts';
import { SPLUNK } from './splunk.ts';
import type { AlertingSource, SourceDeclarations } from './types.ts';

/**
 * The sources whose alerts the routing rules turn into actions: what the source webhooks function
 * serves (`POST /v1/webhooks/{source}`, `POST /v1/webhooks/splunk/{token}`), and all it imports
 * of lib/sources' declarations.
 */
export const ALERT_SOURCES: SourceDeclarations<AlertingSource, AlertRoutingRules> = {
  splunk: SPLUNK,
  sentinel: SENTINEL,
  pagerduty: PAGERDUTY,
};
