import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { signStandardWebhook } from '../../lib/webhooks/standard-webhooks.ts';

export const TEST_SIGNING_SECRET = `whsec_${Buffer.from('citrix-response test signing secret').toString('base64')}`;

/** A REST API proxy event as API Gateway sends it, signed (or not) like a source tool would. */
export function apiEvent(options: {
  method: 'GET' | 'POST';
  resource: string;
  path: string;
  body?: string;
  secret?: string | null;
  timestamp?: Date;
  headers?: Record<string, string>;
  pathParameters?: Record<string, string>;
  /** The Standard Webhooks message id (`webhook-id`); random when absent. */
  messageId?: string;
}): APIGatewayProxyEvent {
  const body = options.body ?? '';
  const signed =
    options.secret === null
      ? {}
      : signStandardWebhook(
          options.secret ?? TEST_SIGNING_SECRET,
          options.messageId ?? `msg_${randomUUID()}`,
          options.timestamp ?? new Date(),
          body,
        );
  return {
    resource: options.resource,
    path: options.path,
    httpMethod: options.method,
    headers: {
      Host: 'abc123.execute-api.eu-west-1.amazonaws.com',
      'Content-Type': 'application/json',
      ...signed,
      ...options.headers,
    },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: options.pathParameters ?? null,
    stageVariables: null,
    body: body === '' ? null : body,
    isBase64Encoded: false,
    requestContext: {
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      path: `/prod${options.path}`,
      stage: 'prod',
      requestId: randomUUID(),
    } as APIGatewayProxyEvent['requestContext'],
  };
}

export const lambdaContext = {
  awsRequestId: 'test',
  functionName: 'test',
  getRemainingTimeInMillis: () => 10_000,
} as Context;
