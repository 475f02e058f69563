import document from '../../docs/openapi.json' with { type: 'json' };
import type { OpenApiDocument } from './openapi.ts';

/**
 * The document `GET /v1/openapi.json` serves: the committed docs/openapi.json, which a test keeps
 * equal to what lib/api/openapi.ts generates from the zod schemas. Serving the file keeps the
 * generator (and zod-openapi) out of the function's bundle.
 */
export function servedOpenApiDocument(): OpenApiDocument {
  return document as unknown as OpenApiDocument;
}
