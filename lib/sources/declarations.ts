import { ALERT_SOURCES } from './alert-sources.ts';
import type { AlertRoutingRules } from './alert-routing.ts';
import type { RequestRoutingRules } from './request-routing.ts';
import { REQUEST_SOURCES } from './request-sources.ts';
import { SOURCES, type SourceDeclarations, type SourceName } from './types.ts';

/**
 * Every source's declaration, in `SOURCES` order: for what looks at all of them at once (the
 * local stack's secrets, the OpenAPI document, the tests). A function imports only its own table
 * (lib/sources/alert-sources.ts or lib/sources/request-sources.ts).
 */
export const SOURCE_DECLARATIONS: SourceDeclarations<
  SourceName,
  AlertRoutingRules & RequestRoutingRules
> = Object.fromEntries(
  SOURCES.map((source) => [source, { ...ALERT_SOURCES, ...REQUEST_SOURCES }[source]]),
) as SourceDeclarations<SourceName, AlertRoutingRules & RequestRoutingRules>;
