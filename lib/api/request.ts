import type { APIGatewayProxyEvent } from 'aws-lambda';
import { apiError } from './http-errors.ts';

/** Action requests are small; anything larger is refused before its signature is computed. */
export const MAX_BODY_BYTES = 64 * 1024;

/** The body exactly as sent: the signature covers these bytes. GET requests sign an empty body. */
export function readRawBody(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>): string {
  if (event.body === null || event.body === undefined) return '';
  const raw = event.isBase64Encoded
    ? Buffer.from(event.body, 'base64').toString('utf8')
    : event.body;
  if (Buffer.byteLength(raw, 'utf8') > MAX_BODY_BYTES) {
    throw apiError(413, 'body_too_large', `The body exceeds ${MAX_BODY_BYTES} bytes`);
  }
  return raw;
}

/** Absolute URL of an action's status, on the host and stage the request came in through. */
export function statusUrlFor(
  event: Pick<APIGatewayProxyEvent, 'headers' | 'requestContext'>,
  actionId: string,
): string {
  const protocol = event.headers['x-forwarded-proto'] ?? 'https';
  const host = event.requestContext.domainName ?? event.headers.host ?? 'localhost';
  // requestContext.path carries the stage prefix (e.g. /prod/v1/actions) that event.path lacks.
  const basePath = event.requestContext.path.replace(/\/+$/, '');
  return `${protocol}://${host}${basePath}/${encodeURIComponent(actionId)}`;
}
