import { describe, expect, it } from 'vitest';
import {
  API_ROUTES,
  type ApiHandler,
  matchRoute,
  PEOPLE_ROUTES,
  routeRequests,
} from '../../../lib/api/routes.ts';
import { apiEvent, lambdaContext } from '../../support/signed-request.ts';

describe('the route table', () => {
  it.each([
    ['POST', '/v1/actions', 'POST /v1/actions', {}],
    ['GET', '/v1/actions', 'GET /v1/actions', {}],
    [
      'GET',
      '/v1/actions/act_0123456789abcdef0123456789abcdef',
      'GET /v1/actions/{actionId}',
      { actionId: 'act_0123456789abcdef0123456789abcdef' },
    ],
    ['POST', '/v1/actions/a1/approve', 'POST /v1/actions/{actionId}/approve', { actionId: 'a1' }],
    ['POST', '/v1/actions/a1/reject', 'POST /v1/actions/{actionId}/reject', { actionId: 'a1' }],
    ['GET', '/v1/openapi.json', 'GET /v1/openapi.json', {}],
    // A static segment wins over a path parameter, as in API Gateway.
    ['POST', '/v1/webhooks/splunk/t0k3n', 'POST /v1/webhooks/splunk/{token}', { token: 't0k3n' }],
    ['POST', '/v1/webhooks/sentinel', 'POST /v1/webhooks/{source}', { source: 'sentinel' }],
    ['POST', '/v1/webhooks/standard', 'POST /v1/webhooks/standard', {}],
    ['POST', '/v1/webhooks/servicenow', 'POST /v1/webhooks/servicenow', {}],
    // Values stay as sent; API Gateway (and the local server) decode them.
    ['GET', '/v1/actions/..%2Fetc', 'GET /v1/actions/{actionId}', { actionId: '..%2Fetc' }],
  ])('matches %s %s to %s', (method, path, key, pathParameters) => {
    expect(matchRoute(method, path)).toMatchObject({ key, pathParameters });
  });

  it.each([
    ['PUT', '/v1/actions'],
    ['DELETE', '/v1/actions/a1'],
    ['POST', '/v1/actions/a1/cancel'],
    ['POST', '/v1/webhooks/splunk/a/b'],
    ['GET', '/'],
  ])('matches no route for %s %s', (method, path) => {
    expect(matchRoute(method, path)).toBeUndefined();
  });

  it('authenticates every actions API route as a person; sources their own way; the document nobody', () => {
    expect(PEOPLE_ROUTES).toEqual([
      'POST /v1/actions',
      'GET /v1/actions',
      'GET /v1/actions/{actionId}',
      'POST /v1/actions/{actionId}/approve',
      'POST /v1/actions/{actionId}/reject',
    ]);
    expect(
      API_ROUTES.filter((route) => route.function === 'actions-api').map((r) => r.auth),
    ).toEqual(['iam']);
    expect(
      API_ROUTES.filter((route) => route.function === 'action-records-api').map((r) => r.auth),
    ).toEqual(['iam', 'iam', 'iam', 'iam']);
    expect(
      API_ROUTES.filter((route) => route.function === 'source-webhooks').map((r) => r.auth),
    ).toEqual(['source', 'source']);
    expect(
      API_ROUTES.filter((route) => route.function === 'source-requests').map((r) => r.auth),
    ).toEqual(['source', 'source']);
  });

  it('starts actions from one function and reads and decides on them from another', () => {
    const routesOf = (fn: string) =>
      API_ROUTES.filter((route) => route.function === fn).map((r) => `${r.method} ${r.path}`);

    expect(routesOf('actions-api')).toEqual(['POST /v1/actions']);
    expect(routesOf('action-records-api')).toEqual([
      'GET /v1/actions',
      'GET /v1/actions/{actionId}',
      'POST /v1/actions/{actionId}/approve',
      'POST /v1/actions/{actionId}/reject',
    ]);
  });

  it('serves the public document from a function of its own, which serves nothing else', () => {
    expect(API_ROUTES.filter((route) => route.function === 'api-document')).toEqual([
      { method: 'GET', path: '/v1/openapi.json', function: 'api-document', auth: 'public' },
    ]);
  });
});

describe('routeRequests', () => {
  const answer =
    (name: string): ApiHandler =>
    async () => ({ statusCode: 200, body: name });
  const handler = routeRequests('source-webhooks', {
    'POST /v1/webhooks/{source}': answer('source'),
    'POST /v1/webhooks/splunk/{token}': answer('splunk'),
  });

  it("dispatches on API Gateway's resource template, not on the path a custom domain may prefix", async () => {
    const event = apiEvent({
      method: 'POST',
      resource: '/v1/webhooks/splunk/{token}',
      path: '/citrix-response/v1/webhooks/splunk/t0k3n',
      secret: null,
    });
    expect((await handler(event, lambdaContext)).body).toBe('splunk');
  });

  it('refuses with 404 a route another function serves', async () => {
    const event = apiEvent({
      method: 'POST',
      resource: '/v1/actions',
      path: '/v1/actions',
      secret: null,
    });
    const error = await handler(event, lambdaContext).catch((e: unknown) => e);
    expect(error).toMatchObject({ statusCode: 404 });
    expect(JSON.parse((error as Error).message)).toMatchObject({ error: { code: 'not_found' } });
  });
});
