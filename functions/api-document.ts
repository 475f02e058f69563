import { createApiDocumentHandler } from '../lib/api/api-document-handler.ts';
import { servedOpenApiDocument } from '../lib/api/served-openapi.ts';

/** The API document's composition root: the handler (lib/api) over the committed document. */
export { createApiDocumentHandler } from '../lib/api/api-document-handler.ts';

export const handler = createApiDocumentHandler(servedOpenApiDocument);
