import type { APIGatewayProxyResult } from 'aws-lambda';

/** A JSON answer that no cache keeps: every answer of this API is about a live action. */
export const json = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});
