import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createApiDocumentHandler, handler } from '../../functions/api-document.ts';
import { INTERNAL_ERROR_BODY } from '../../lib/api/http-errors.ts';
import { apiEvent, lambdaContext } from '../support/signed-request.ts';

const documentRequest = (path = '/v1/openapi.json') =>
  apiEvent({ method: 'GET', resource: '/v1/openapi.json', path, secret: null });

describe('GET /v1/openapi.json', () => {
  it('serves the committed document without a signature', async () => {
    const response = await handler(documentRequest(), lambdaContext);

    expect(response.statusCode).toBe(200);
    expect(response.headers?.['content-type']).toBe('application/json');
    expect(JSON.parse(response.body)).toEqual(
      JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8')),
    );
  });

  it("dispatches on API Gateway's resource template, not on the path a custom domain may prefix", async () => {
    const response = await handler(
      documentRequest('/citrix-response/v1/openapi.json'),
      lambdaContext,
    );
    expect(response.statusCode).toBe(200);
  });

  it('answers an unexpected error with the standard 500 body, without its details', async () => {
    const failing = createApiDocumentHandler(() => {
      throw new Error('EACCES: /var/task/unreadable-detail');
    });
    const response = await failing(documentRequest(), lambdaContext);

    expect(response.statusCode).toBe(500);
    expect(response.body).toBe(INTERNAL_ERROR_BODY);
  });

  it('refuses with 404 a route another function serves', async () => {
    const response = await handler(
      apiEvent({ method: 'POST', resource: '/v1/actions', path: '/v1/actions', body: '{}' }),
      lambdaContext,
    );

    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'not_found' } });
  });
});
