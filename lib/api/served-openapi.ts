import packageJson from '../../package.json' with { type: 'json' };
import { SOURCE_PAYLOAD_SCHEMAS } from '../sources/payloads.ts';
import { buildOpenApiDocument, type OpenApiDocument } from './openapi.ts';

let document: OpenApiDocument | undefined;

/** The document `GET /v1/openapi.json` serves: the committed docs/openapi.json, built once. */
export function servedOpenApiDocument(): OpenApiDocument {
  document ??= buildOpenApiDocument({
    version: packageJson.version,
    sourcePayloads: SOURCE_PAYLOAD_SCHEMAS,
  });
  return document;
}
