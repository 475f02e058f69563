import { createSourceWebhooksHandler } from '../lib/api/source-webhooks-handler.ts';
import { awsSourceReceiveDependencies } from '../lib/runtime/clients/source-receive.ts';

/** The source webhooks' composition root: the handler (lib/api) over its AWS clients. */
export { createSourceWebhooksHandler } from '../lib/api/source-webhooks-handler.ts';

export const handler = createSourceWebhooksHandler(awsSourceReceiveDependencies);
