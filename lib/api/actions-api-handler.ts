import { logger } from '../runtime/logger.ts';
import {
  type AcceptRequestDependencies,
  acceptPersonRequest,
  IDEMPOTENCY_KEY_HEADER,
} from './accept-request.ts';
import { createHttpFunction } from './http-function.ts';
import { json } from './json.ts';
import { asPerson, type PersonHandler } from './people.ts';
import { readRawBody, statusUrlFor } from './request.ts';
import type { ActionAccepted } from './responses.ts';
import type { ApiHandler, RouteHandlers } from './routes.ts';

export type { ApiHandler } from './routes.ts';

export type ActionsApiDependencies = AcceptRequestDependencies;

const createAction: PersonHandler<ActionsApiDependencies> = async (
  dependencies,
  event,
  person,
  context,
) => {
  const accepted = await acceptPersonRequest(
    dependencies,
    readRawBody(event),
    person,
    event.headers[IDEMPOTENCY_KEY_HEADER],
    context,
  );
  // The action id is the correlation id, as in every workflow task of the action.
  logger.setCorrelationId(accepted.actionId);
  logger.info('action accepted', { ...accepted, requester: person.key });
  const answer: ActionAccepted = {
    actionId: accepted.actionId,
    status: 'accepted',
    statusUrl: statusUrlFor(event, accepted.actionId),
    duplicate: accepted.duplicate,
  };
  return json(202, answer);
};

/**
 * `POST /v1/actions`: a person asks for an action, accepted once per `Idempotency-Key`. Reading,
 * listing and deciding on actions is action-records-handler.ts's function, and the public
 * `GET /v1/openapi.json` is api-document-handler.ts's: each function carries only what its
 * routes use (this one the idempotent acceptor; that one the listing and the lookalike check).
 */
export function createActionsApiHandler(
  getDependencies: () => ActionsApiDependencies | Promise<ActionsApiDependencies>,
): ApiHandler {
  const routes: RouteHandlers<'actions-api'> = {
    'POST /v1/actions': asPerson(getDependencies, createAction),
  };
  return createHttpFunction('actions-api', routes);
}
