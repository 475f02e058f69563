import * as z from 'zod';
import { SourcePayloadError } from './errors.ts';
import type { SourceName } from './types.ts';

/**
 * The fields every source's payload schema is built from, and its validation. Schemas hold no
 * transforms, so `z.toJSONSchema` can render every one of them for the OpenAPI document;
 * normalisation happens after validation, in code.
 */

export const requiredString = (what = 'a string') =>
  z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : `must be ${what}`) })
    .min(1, 'must not be empty');
export const optionalString = (what = 'a string') =>
  z.string({ error: `must be ${what}` }).optional();
export const object = (what = 'an object') =>
  z.looseObject(
    {},
    { error: (issue) => (issue.input === undefined ? 'is required' : `must be ${what}`) },
  );
/** Ids become idempotency keys: bounded, and free of control characters. */
export const sourceId = (what: string) =>
  requiredString(what)
    .max(512, 'must be at most 512 characters')
    .regex(/^[^\p{Cc}]+$/u, 'must not contain control characters');

/** The body as JSON; throws `SourcePayloadError` (never quoting the body) when it is not. */
export function parseJsonBody(source: SourceName, rawBody: string): unknown {
  try {
    return JSON.parse(rawBody);
  } catch {
    // The parser's message quotes the body; only say that it is not JSON.
    throw new SourcePayloadError(source, [{ field: '(body)', message: 'must be JSON' }]);
  }
}

/** The body in the schema's shape; throws `SourcePayloadError` naming every invalid field. */
export function validatePayload<T>(source: SourceName, schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw new SourcePayloadError(
    source,
    parsed.error.issues.map((issue) => ({
      field: issue.path.map(String).join('.') || '(body)',
      message:
        issue.path.length === 0 && issue.code === 'invalid_type'
          ? 'must be a JSON object'
          : issue.message,
    })),
  );
}
