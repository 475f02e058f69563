import { createActionRecordsApiHandler } from '../lib/api/action-records-handler.ts';
import { awsActionRecordsApiDependencies } from '../lib/runtime/clients/action-records-api.ts';

/** The composition root of the people's reading and deciding routes: the handler over AWS clients. */
export {
  type ActionRecordsApiDependencies,
  createActionRecordsApiHandler,
} from '../lib/api/action-records-handler.ts';

export const handler = createActionRecordsApiHandler(awsActionRecordsApiDependencies);
