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

/** What is said of a field the schema does not take, unless the caller says more. */
const NOT_A_FIELD = 'is not a field of this request';

/**
 * A zod failure as a 400 that names every invalid field; a field the schema does not take is
 * named itself (`by`), with its message from `unknownFields` when there is one.
 */
export function validationError(
  error: z.ZodError,
  prefix = '',
  unknownFields: Readonly<Record<string, string>> = {},
): Error {
  const name = (path: readonly PropertyKey[]) =>
    [prefix, ...path.map(String)].filter(Boolean).join('.') || '(body)';
  const fields = error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          field: name([...issue.path, key]),
          message: (issue.path.length === 0 ? unknownFields[key] : undefined) ?? NOT_A_FIELD,
        }))
      : [{ field: name(issue.path), message: issue.message }],
  );
  const names = [...new Set(fields.map((f) => f.field))].join(', ');
  return apiError(400, 'invalid_request', `Invalid request: ${names}`, fields);
}

export const INTERNAL_ERROR_BODY = JSON.stringify({
  error: { code: 'internal_error', message: 'Internal error' },
});
