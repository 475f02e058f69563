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
/**
 * Names and titles a source gives its alert (a Splunk search name, an incident title): bounded,
 * since they are shown in records, logs and audit summaries. Generous: each product's own limit
 * is lower (Sentinel 256, PagerDuty 1024 characters).
 */
export const TITLE_MAX = 1024;
export const requiredTitle = (what: string) =>
  requiredString(what).max(TITLE_MAX, `must be at most ${TITLE_MAX} characters`);
export const optionalTitle = (what = 'a string') =>
  z
    .string({ error: `must be ${what}` })
    .max(TITLE_MAX, `must be at most ${TITLE_MAX} characters`)
    .optional();
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

/**
 * The body as sent, once the schema accepts it; throws `SourcePayloadError` naming every invalid
 * field. Never zod's copy: copying a JSON object assigns an own `__proto__` key (which JSON.parse
 * keeps as data) to the copy's prototype, hiding it from the action's strict target, which every
 * path (`POST /v1/actions` too) refuses it by. The schemas have no transforms or defaults, so the
 * copy would hold the same data otherwise.
 */
export function validatePayload<T>(source: SourceName, schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return body as T;
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
