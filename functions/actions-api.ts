import { createActionsApiHandler } from '../lib/api/actions-api-handler.ts';
import { awsActionsApiDependencies } from '../lib/runtime/clients/actions-api.ts';

/** The actions API's composition root: the handler (lib/api) over its AWS clients. */
export {
  type ActionsApiDependencies,
  type ApiHandler,
  createActionsApiHandler,
} from '../lib/api/actions-api-handler.ts';

export const handler = createActionsApiHandler(awsActionsApiDependencies);
