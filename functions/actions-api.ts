import { createActionsApiHandler } from '../lib/api/actions-api-handler.ts';
import { awsActionsApiDependencies } from '../lib/runtime/clients/actions-api.ts';

/** The composition root of `POST /v1/actions`: the handler (lib/api) over its AWS clients. */
export {
  type ActionsApiDependencies,
  type ApiHandler,
  createActionsApiHandler,
} from '../lib/api/actions-api-handler.ts';

export const handler = createActionsApiHandler(awsActionsApiDependencies);
