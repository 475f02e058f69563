import { createError } from '@middy/util';
import type * as z from 'zod';

/** An API error as JSON: `{"error": {"code", "message", "fields"?}}`; only 4xx are exposed. */
export function apiError(
  statusCode: number,
  code: string,
  message: string,
  fields?: readonly { field: string; message: string }[],
): Error {
  const body = JSON.stringify({ error: { code, message, ...(fields ? { fields } : {}) } });
  return createError(statusCode, body, { expose: statusCode < 500 });
}

/** A zod failure as a 400 that names every invalid field. */
export function validationError(error: z.ZodError, prefix = ''): Error {
  const fields = error.issues.map((issue) => ({
    field: [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || '(body)',
    message: issue.message,
  }));
  const names = [...new Set(fields.map((f) => f.field))].join(', ');
  return apiError(400, 'invalid_request', `Invalid request: ${names}`, fields);
}

export const INTERNAL_ERROR_BODY = JSON.stringify({
  error: { code: 'internal_error', message: 'Internal error' },
});
