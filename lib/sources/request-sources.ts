import type { RequestRoutingRules } from './request-routing.ts';
import { SERVICENOW } from './servicenow.ts';
import { STANDARD } from './standard.ts';
import type { RequestingSource, SourceDeclarations } from './types.ts';

/**
 * The sources whose requests name their action, within `allowedActions`: what the source requests
 * function serves (`POST /v1/webhooks/servicenow`, `POST /v1/webhooks/standard`), and all it
 * imports of lib/sources' declarations.
 */
export const REQUEST_SOURCES: SourceDeclarations<RequestingSource, RequestRoutingRules> = {
  servicenow: SERVICENOW,
  standard: STANDARD,
};
