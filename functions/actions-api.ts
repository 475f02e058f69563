import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { type AcceptActionDependencies, acceptAction } from '../lib/actions/accept.ts';
import { ActionIdSchema, ActionRequestSchema } from '../lib/actions/schema.ts';
import type { ActionStore } from '../lib/actions/store.ts';
import { toActionView } from '../lib/actions/view.ts';
import { apiError, INTERNAL_ERROR_BODY, validationError } from '../lib/api/http-errors.ts';
import { readRawBody, statusUrlFor } from '../lib/api/request.ts';
import {
  awsActionStore,
  awsRetentionDays,
  awsSigningSecret,
  awsWorkflowStarter,
} from '../lib/runtime/aws.ts';
import { logger } from '../lib/runtime/logger.ts';
import { verifyStandardWebhook, WebhookSignatureError } from '../lib/webhooks/standard-webhooks.ts';

export interface ActionsApiDependencies extends AcceptActionDependencies {
  readonly actions: ActionStore;
  /** The Standard Webhooks signing secret, cached per warm container by the provider. */
  readonly signingSecret: () => Promise<string>;
}

export type ApiHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult>;

const json = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

/** `POST /v1/actions` and `GET /v1/actions/{actionId}`, both authenticated by a Standard Webhooks signature. */
export function createActionsApiHandler(
  getDependencies: () => ActionsApiDependencies | Promise<ActionsApiDependencies>,
): ApiHandler {
  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpHeaderNormalizer())
    .use(httpErrorHandler({ logger: logUnexpected, fallbackMessage: INTERNAL_ERROR_BODY }))
    .handler(async (event) => {
      const dependencies = await getDependencies();
      const rawBody = readRawBody(event);
      try {
        verifyStandardWebhook(await dependencies.signingSecret(), rawBody, event.headers);
      } catch (error) {
        if (!(error instanceof WebhookSignatureError)) throw error;
        logger.warn('rejected unsigned or badly signed request', { reason: error.message });
        throw apiError(401, 'invalid_signature', error.message);
      }
      const route = `${event.httpMethod} ${event.resource}`;
      if (route === 'POST /v1/actions') {
        const request = ActionRequestSchema.safeParse(parseJson(rawBody));
        if (!request.success) throw validationError(request.error);
        const record = await acceptAction(dependencies, request.data, new Date());
        logger.info('action accepted', { actionId: record.actionId, action: record.action });
        return json(202, {
          actionId: record.actionId,
          status: record.status,
          statusUrl: statusUrlFor(event, record.actionId),
        });
      }
      if (route === 'GET /v1/actions/{actionId}') {
        const actionId = ActionIdSchema.safeParse(event.pathParameters?.actionId);
        if (!actionId.success) throw validationError(actionId.error, 'actionId');
        const record = await dependencies.actions.get(actionId.data);
        if (record === undefined) throw apiError(404, 'not_found', `No action ${actionId.data}`);
        return json(200, toActionView(record));
      }
      throw apiError(404, 'not_found', `No route for ${event.httpMethod} ${event.path}`);
    });
  return (event, context) => handler(event, context);
}

/** 4xx answers are expected traffic; anything else is logged with its cause chain. */
function logUnexpected(error: unknown): void {
  const status = (error as { statusCode?: number }).statusCode;
  if (status === undefined || status >= 500) logger.error('request failed', error as Error);
}

function parseJson(rawBody: string): unknown {
  try {
    return JSON.parse(rawBody);
  } catch {
    throw apiError(400, 'invalid_json', 'The body is not valid JSON');
  }
}

export const handler = createActionsApiHandler(() => ({
  actions: awsActionStore(),
  workflows: awsWorkflowStarter(),
  signingSecret: awsSigningSecret,
  retentionDays: awsRetentionDays(),
}));
