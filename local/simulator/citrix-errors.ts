import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * Citrix Cloud error bodies: `{ Type, Detail, Parameters }`, where Type is
 * `https://errors-api.cloud.com/{service}/{error}` (Citrix's "common API error codes" page).
 */
export const CITRIX_ERROR_TYPES = {
  missing: 'https://errors-api.cloud.com/common/missing',
  invalidJson: 'https://errors-api.cloud.com/common/invalidJson',
  invalidEnum: 'https://errors-api.cloud.com/common/invalidEnum',
  invalidString: 'https://errors-api.cloud.com/common/invalidString',
  outOfRange: 'https://errors-api.cloud.com/common/outOfRange',
  notImplemented: 'https://errors-api.cloud.com/common/notImplemented',
  authentication: 'https://errors-api.cloud.com/common/authentication',
  authorization: 'https://errors-api.cloud.com/common/authorization',
  notFound: 'https://errors-api.cloud.com/common/notFound',
  rateLimitExceeded: 'https://errors-api.cloud.com/common/rateLimitExceeded',
  internalServerError: 'https://errors-api.cloud.com/common/internalServerError',
  badGateway: 'https://errors-api.cloud.com/common/badGateway',
  serviceUnavailable: 'https://errors-api.cloud.com/common/serviceUnavailable',
  gatewayTimeout: 'https://errors-api.cloud.com/common/gatewayTimeout',
} as const;

export type CitrixErrorType = (typeof CITRIX_ERROR_TYPES)[keyof typeof CITRIX_ERROR_TYPES];

export interface CitrixErrorBody {
  Type: CitrixErrorType;
  Detail: string;
  Parameters: { Name: string; Value: string }[];
}

export function citrixErrorBody(
  type: CitrixErrorType,
  detail: string,
  parameters: Record<string, string> = {},
): CitrixErrorBody {
  return {
    Type: type,
    Detail: detail,
    Parameters: Object.entries(parameters).map(([Name, Value]) => ({ Name, Value })),
  };
}

export function citrixError(
  c: Context,
  status: ContentfulStatusCode,
  type: CitrixErrorType,
  detail: string,
  parameters?: Record<string, string>,
): Response {
  return c.json(citrixErrorBody(type, detail, parameters), status);
}

export function badRequest(
  c: Context,
  detail: string,
  type: CitrixErrorType = CITRIX_ERROR_TYPES.invalidString,
  parameters?: Record<string, string>,
): Response {
  return citrixError(c, 400, type, detail, parameters);
}

export function notFound(c: Context, entityType: string, id: string): Response {
  return citrixError(c, 404, CITRIX_ERROR_TYPES.notFound, `${entityType} not found`, {
    entityType: `https://identifiers-api.cloud.com/cvad/${entityType.toLowerCase()}`,
    id,
  });
}

/** Reads a JSON request body; an empty body counts as `{}`. */
export async function readJsonBody(
  c: Context,
): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }> {
  const text = await c.req.text();
  if (text.trim() === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return {
      ok: false,
      response: badRequest(c, 'The request body is not valid JSON', CITRIX_ERROR_TYPES.invalidJson),
    };
  }
}
