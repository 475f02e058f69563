import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ActionIdSchema } from '../actions/schema.ts';
import type { ActionStore } from '../actions/store.ts';
import { toActionView } from '../actions/view.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { NotAPersonError, type Person, personFromIdentity } from '../identity/principal.ts';
import { logger } from '../runtime/logger.ts';
import {
  type AcceptRequestDependencies,
  acceptPersonRequest,
  IDEMPOTENCY_KEY_HEADER,
} from './accept-request.ts';
import { type ApprovalDependencies, decideOnAction } from './approvals.ts';
import { apiError, validationError } from './http-errors.ts';
import { createHttpFunction } from './http-function.ts';
import { listActions } from './list-actions.ts';
import { readRawBody, statusUrlFor } from './request.ts';
import type { ActionAccepted } from './responses.ts';
import type { ApiHandler, RouteAuth, RouteHandlers, RouteKeyOf } from './routes.ts';

export type { ApiHandler } from './routes.ts';

export interface ActionsApiDependencies extends AcceptRequestDependencies, ApprovalDependencies {
  readonly actions: Pick<ActionStore, 'get' | 'decideApproval' | 'list'>;
  readonly audit: Pick<AuditLog, 'append' | 'timeline'>;
}

export const json = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

/** An approve/reject body: empty means no comment. */
function parseBody(rawBody: string): unknown {
  if (rawBody.trim() === '') return {};
  try {
    return JSON.parse(rawBody);
  } catch {
    throw apiError(400, 'invalid_json', 'The body is not valid JSON');
  }
}

/** A route of the people's API, run for the person who signed the request. */
type PersonHandler = (
  dependencies: ActionsApiDependencies,
  event: APIGatewayProxyEvent,
  person: Person,
  context: Context,
) => Promise<APIGatewayProxyResult>;

const createAction: PersonHandler = async (dependencies, event, person, context) => {
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

const getAction: PersonHandler = async (dependencies, event) => {
  const actionId = ActionIdSchema.safeParse(event.pathParameters?.actionId);
  if (!actionId.success) throw validationError(actionId.error, 'actionId');
  logger.setCorrelationId(actionId.data);
  const record = await dependencies.actions.get(actionId.data);
  if (record === undefined) throw apiError(404, 'not_found', `No action ${actionId.data}`);
  const timeline = await dependencies.audit.timeline(actionId.data);
  return json(200, { ...toActionView(record), timeline });
};

const decide =
  (decision: 'approved' | 'rejected'): PersonHandler =>
  async (dependencies, event, person) => {
    const actionId = event.pathParameters?.actionId;
    if (ActionIdSchema.safeParse(actionId).success) logger.setCorrelationId(actionId);
    const requestId = event.requestContext.requestId;
    const decided = await decideOnAction(
      dependencies,
      actionId,
      decision,
      parseBody(readRawBody(event)),
      person,
      requestId,
    );
    logger.info('approval decided', { ...decided, decision, principal: person.key, requestId });
    return json(200, decided);
  };

/**
 * The people's API: `POST /v1/actions`, `GET /v1/actions` (a listing), `GET /v1/actions/{actionId}`
 * and its approve/reject. Every route is IAM-authenticated (API Gateway's `AWS_IAM` authorization;
 * locally SigV4 against `LOCAL_PEOPLE`), and runs as the person API Gateway authenticated: who
 * asks and who decides is never a field of the body. The public `GET /v1/openapi.json` has its
 * own function (api-document-handler.ts), which keeps the document out of this one's bundle.
 */
export function createActionsApiHandler(
  getDependencies: () => ActionsApiDependencies | Promise<ActionsApiDependencies>,
): ApiHandler {
  /** Finds the person in the request context (API Gateway authenticated it), then runs the route. */
  const asPerson =
    (route: PersonHandler): ApiHandler =>
    async (event, context) => {
      let person: Person;
      try {
        // Defence in depth: API Gateway refuses an unsigned request before the function runs.
        person = personFromIdentity(event.requestContext?.identity);
      } catch (error) {
        if (!(error instanceof NotAPersonError)) throw error;
        logger.warn('refused a request that is not from a person', { reason: error.message });
        throw apiError(403, 'not_a_person', error.message);
      }
      return route(await getDependencies(), event, person, context);
    };
  const personRoutes: Record<RouteKeyOf<'actions-api', 'iam'>, PersonHandler> = {
    'POST /v1/actions': createAction,
    'GET /v1/actions': (dependencies, event) => listActions(dependencies, event),
    'GET /v1/actions/{actionId}': getAction,
    'POST /v1/actions/{actionId}/approve': decide('approved'),
    'POST /v1/actions/{actionId}/reject': decide('rejected'),
  };
  // None: every route of this function runs as a person. A route added to the table with another
  // authentication is a type error here until it has a handler that says how it is served.
  const otherRoutes: Record<RouteKeyOf<'actions-api', Exclude<RouteAuth, 'iam'>>, ApiHandler> = {};
  const routes = {
    ...otherRoutes,
    ...Object.fromEntries(
      Object.entries(personRoutes).map(([key, route]) => [key, asPerson(route)]),
    ),
  } as RouteHandlers<'actions-api'>;
  return createHttpFunction('actions-api', routes);
}
