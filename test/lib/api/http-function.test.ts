import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { apiError } from '../../../lib/api/http-errors.ts';
import { createHttpFunction } from '../../../lib/api/http-function.ts';

/** `afterInvocation` runs once after every invocation: answered, refused (4xx) or failed (500). */
const context = { awsRequestId: 'r', functionName: 'api-document' } as Context;
const request = {
  resource: '/v1/openapi.json',
  path: '/v1/openapi.json',
  httpMethod: 'GET',
  pathParameters: null,
  headers: {},
  body: null,
  isBase64Encoded: false,
} as unknown as APIGatewayProxyEvent;

function apiDocumentFunction(answer: () => Promise<{ statusCode: number; body: string }>) {
  const events: string[] = [];
  const handler = createHttpFunction(
    'api-document',
    {
      'GET /v1/openapi.json': async () => {
        events.push('handled');
        return answer();
      },
    },
    'request failed',
    { afterInvocation: () => events.push('after') },
  );
  return { handler, events };
}

describe('an HTTP function with afterInvocation', () => {
  it.each([
    ['answered', async () => ({ statusCode: 200, body: '{}' }), 200],
    [
      'refused',
      async () => {
        throw apiError(404, 'not_found', 'nothing here');
      },
      404,
    ],
    [
      'failed',
      async () => {
        throw new Error('boom');
      },
      500,
    ],
  ])('runs it once after the request is %s', async (_case, answer, status) => {
    const { handler, events } = apiDocumentFunction(answer);

    const response = await handler(request, context);

    expect(response.statusCode).toBe(status);
    expect(events).toEqual(['handled', 'after']);
  });
});
