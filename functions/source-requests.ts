import { createSourceRequestsHandler } from '../lib/api/source-requests-handler.ts';
import { awsSourceReceiveDependencies } from '../lib/runtime/clients/source-receive.ts';
import { loadRequestRoutingRules } from '../lib/sources/request-routing.ts';
import { REQUEST_SOURCES } from '../lib/sources/request-sources.ts';

/** The requesting sources' composition root (ServiceNow, Standard Webhooks): the handler over AWS. */
export { createSourceRequestsHandler } from '../lib/api/source-requests-handler.ts';

export const handler = createSourceRequestsHandler(
  awsSourceReceiveDependencies(REQUEST_SOURCES, loadRequestRoutingRules),
);
