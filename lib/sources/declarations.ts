import type { AlertRoutingRules } from './alert-routing.ts';
import { ALERT_SOURCES } from './alert-sources.ts';
import type { RequestRoutingRules } from './request-routing.ts';
import { REQUEST_SOURCES } from './request-sources.ts';
import type { SourceDeclarations, SourceName } from './types.ts';

/**
 * Every source's declaration, in `SOURCES` order: for what looks at all of them at once (the
 * local stack's secrets, the OpenAPI document, the tests). A function imports only its own table
 * (lib/sources/alert-sources.ts or lib/sources/request-sources.ts).
 */
export const SOURCE_DECLARATIONS: SourceDeclarations<
  SourceName,
  AlertRoutingRules & RequestRoutingRules
> = {
  servicenow: REQUEST_SOURCES.servicenow,
  splunk: ALERT_SOURCES.splunk,
  sentinel: ALERT_SOURCES.sentinel,
  pagerduty: ALERT_SOURCES.pagerduty,
  standard: REQUEST_SOURCES.standard,
};
