import { createHttpFunction } from './http-function.ts';
import type { OpenApiDocument } from './openapi.ts';
import type { ApiHandler, RouteHandlers } from './routes.ts';

/**
 * The public `GET /v1/openapi.json`: the API's description, without a signature, like any API's
 * documentation. Its own function, so that the document weighs on no other function's bundle.
 */
export function createApiDocumentHandler(getDocument: () => OpenApiDocument): ApiHandler {
  const routes: RouteHandlers<'api-document'> = {
    'GET /v1/openapi.json': async () => ({
      statusCode: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: JSON.stringify(getDocument()),
    }),
  };
  return createHttpFunction('api-document', routes);
}
