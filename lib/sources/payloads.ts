import type * as z from 'zod';
import { SOURCE_DECLARATIONS } from './declarations.ts';
import { parseJsonBody } from './payload-fields.ts';
import type { DeliveryHeaders, SourceEvent, SourceName } from './types.ts';

/** The body each source endpoint accepts, for the OpenAPI document. */
export const SOURCE_PAYLOAD_SCHEMAS = Object.fromEntries(
  Object.entries(SOURCE_DECLARATIONS).map(([source, declaration]) => [source, declaration.payload]),
) as Record<SourceName, z.ZodType>;

/**
 * Parses and validates any source's body and says what it is about (a function parses only its
 * own sources', through lib/sources/receive.ts). Throws `SourcePayloadError` naming every invalid
 * field; nothing else, whatever the body. `headers` (lower-case names) give a Standard Webhooks
 * delivery its id.
 */
export function parseSourcePayload(
  source: SourceName,
  rawBody: string,
  headers: DeliveryHeaders = {},
): SourceEvent {
  return SOURCE_DECLARATIONS[source].parse(parseJsonBody(source, rawBody), headers);
}
