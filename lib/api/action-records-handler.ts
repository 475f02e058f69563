import { ActionIdSchema } from '../actions/schema.ts';
import type { ActionStore } from '../actions/store.ts';
import { toActionView } from '../actions/view.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { logger } from '../runtime/logger.ts';
import { publishMetrics } from '../runtime/metrics.ts';
import { type ApprovalDependencies, decideOnAction } from './approvals.ts';
import { apiError, validationError } from './http-errors.ts';
import { createHttpFunction } from './http-function.ts';
import { json } from './json.ts';
import { type ListActionsDependencies, listActions } from './list-actions.ts';
import { asPerson, type PersonHandler } from './people.ts';
import { readRawBody } from './request.ts';
import type { ApiHandler, RouteHandlers } from './routes.ts';

export interface ActionRecordsApiDependencies
  extends ApprovalDependencies,
    ListActionsDependencies {
  readonly actions: Pick<ActionStore, 'get' | 'decideApproval'>;
  readonly audit: Pick<AuditLog, 'append' | 'timeline'>;
}

type RecordsHandler = PersonHandler<ActionRecordsApiDependencies>;

/** An approve/reject body: empty means no comment. */
function parseBody(rawBody: string): unknown {
  if (rawBody.trim() === '') return {};
  try {
    return JSON.parse(rawBody);
  } catch {
    throw apiError(400, 'invalid_json', 'The body is not valid JSON');
  }
}

const getAction: RecordsHandler = async (dependencies, event) => {
  const actionId = ActionIdSchema.safeParse(event.pathParameters?.actionId);
  if (!actionId.success) throw validationError(actionId.error, 'actionId');
  logger.setCorrelationId(actionId.data);
  const record = await dependencies.actions.get(actionId.data);
  if (record === undefined) throw apiError(404, 'not_found', `No action ${actionId.data}`);
  const timeline = await dependencies.audit.timeline(actionId.data);
  return json(200, { ...toActionView(record), timeline });
};

const decide =
  (decision: 'approved' | 'rejected'): RecordsHandler =>
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
 * `GET /v1/actions` (a listing), `GET /v1/actions/{actionId}` and its approve/reject: the people's
 * routes that read the records and decide on them, each run as the person API Gateway
 * authenticated. Starting an action is actions-api-handler.ts's function.
 */
export function createActionRecordsApiHandler(
  getDependencies: () => ActionRecordsApiDependencies | Promise<ActionRecordsApiDependencies>,
): ApiHandler {
  const routes: RouteHandlers<'action-records-api'> = {
    'GET /v1/actions': asPerson(getDependencies, (dependencies, event) =>
      listActions(dependencies, event),
    ),
    'GET /v1/actions/{actionId}': asPerson(getDependencies, getAction),
    'POST /v1/actions/{actionId}/approve': asPerson(getDependencies, decide('approved')),
    'POST /v1/actions/{actionId}/reject': asPerson(getDependencies, decide('rejected')),
  };
  // Approval decisions record how long they waited (ApprovalWaitSeconds).
  return createHttpFunction('action-records-api', routes, 'request failed', {
    afterInvocation: publishMetrics,
  });
}
