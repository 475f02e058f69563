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

/**
 * Absolute URL of an action's status, on the host and stage the request came in through. Built
 * from the stage prefix only, never from the request path (a Splunk path carries its token).
 */
export function statusUrlFor(
  event: Pick<APIGatewayProxyEvent, 'headers' | 'requestContext' | 'path'>,
  actionId: string,
): string {
  // Set by API Gateway; locally a client could send anything, which is never echoed back.
  const forwarded = event.headers['x-forwarded-proto'];
  const protocol = forwarded === 'http' || forwarded === 'https' ? forwarded : 'https';
  const host = event.requestContext.domainName ?? event.headers.host ?? 'localhost';
  // requestContext.path is the stage prefix (e.g. /prod) followed by event.path.
  const fullPath = event.requestContext.path;
  const stagePrefix = fullPath.endsWith(event.path)
    ? fullPath.slice(0, fullPath.length - event.path.length)
    : '';
  return `${protocol}://${host}${stagePrefix.replace(/\/+$/, '')}/v1/actions/${encodeURIComponent(actionId)}`;
}
