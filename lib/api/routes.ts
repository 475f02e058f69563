import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { apiError } from './http-errors.ts';

/** The Lambda function API Gateway integrates a route with (infra/actions-api.ts). */
export type ApiFunction =
  | 'actions-api'
  | 'action-records-api'
  | 'source-webhooks'
  | 'source-requests'
  | 'api-document';

/**
 * How a route's caller is authenticated:
 * - `iam`: a person, by IAM (SigV4; API Gateway's `AWS_IAM` authorization, locally `LOCAL_PEOPLE`),
 *   who acts and approves as the authenticated principal;
 * - `source`: a machine, in the function, by the credential of its source endpoint;
 * - `public`: nobody (the API's own description).
 */
export const ROUTE_AUTH = ['iam', 'source', 'public'] as const;
export type RouteAuth = (typeof ROUTE_AUTH)[number];

export interface ApiRoute {
  readonly method: 'GET' | 'POST';
  /** API Gateway's resource template: `{name}` is a path parameter. */
  readonly path: string;
  readonly function: ApiFunction;
  readonly auth: RouteAuth;
}

/**
 * Every route of the HTTP API, once. The functions dispatch on it, the local API server matches
 * requests with it, and the OpenAPI document has one operation per route (the stack test checks
 * that API Gateway serves exactly those).
 */
export const API_ROUTES = [
  // People act, read and decide as themselves: the routes sources can never reach.
  { method: 'POST', path: '/v1/actions', function: 'actions-api', auth: 'iam' },
  // Reading and deciding: a function of their own, without the acceptor's idempotency layer.
  { method: 'GET', path: '/v1/actions', function: 'action-records-api', auth: 'iam' },
  { method: 'GET', path: '/v1/actions/{actionId}', function: 'action-records-api', auth: 'iam' },
  {
    method: 'POST',
    path: '/v1/actions/{actionId}/approve',
    function: 'action-records-api',
    auth: 'iam',
  },
  {
    method: 'POST',
    path: '/v1/actions/{actionId}/reject',
    function: 'action-records-api',
    auth: 'iam',
  },
  // The API's description is public, like any API's documentation. Its own small function: the
  // document is most of a bundle, and no other route needs it.
  { method: 'GET', path: '/v1/openapi.json', function: 'api-document', auth: 'public' },
  // Each source authenticates in the function its own way; Splunk by the token in its path.
  {
    method: 'POST',
    path: '/v1/webhooks/splunk/{token}',
    function: 'source-webhooks',
    auth: 'source',
  },
  { method: 'POST', path: '/v1/webhooks/{source}', function: 'source-webhooks', auth: 'source' },
  // The sources that name their action (within allowedActions) have a function of their own: a
  // static segment wins over {source}, in API Gateway as in the router below.
  {
    method: 'POST',
    path: '/v1/webhooks/servicenow',
    function: 'source-requests',
    auth: 'source',
  },
  { method: 'POST', path: '/v1/webhooks/standard', function: 'source-requests', auth: 'source' },
] as const satisfies readonly ApiRoute[];

type Route = (typeof API_ROUTES)[number];
type KeyOf<R> = R extends { method: infer M extends string; path: infer P extends string }
  ? `${M} ${P}`
  : never;
/** A route as `METHOD /path`, e.g. `GET /v1/actions/{actionId}`. */
export type RouteKey = KeyOf<Route>;
/** The routes one function serves; with `A`, only those authenticated that way. */
export type RouteKeyOf<F extends ApiFunction, A extends RouteAuth = RouteAuth> = KeyOf<
  Extract<Route, { function: F; auth: A }>
>;

export const routeKey = (route: ApiRoute) => `${route.method} ${route.path}` as RouteKey;

export type ApiHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult>;

/** One handler per route a function serves: a route without one is a type error. */
export type RouteHandlers<F extends ApiFunction> = Readonly<Record<RouteKeyOf<F>, ApiHandler>>;

/** The routes people use (IAM-authenticated), as `METHOD /path`. */
export const PEOPLE_ROUTES: readonly RouteKey[] = API_ROUTES.filter(
  (route) => route.auth === 'iam',
).map(routeKey);

export interface RouteMatch {
  readonly route: Route;
  readonly key: RouteKey;
  /** The path parameters' raw (still percent-encoded) values. */
  readonly pathParameters: Readonly<Record<string, string>>;
}

// The router's handlers only say which route matched. Built on first use: the functions dispatch
// on the resource template without it (routeRequests), so their bundles leave the router out.
let router: ReturnType<typeof httpRouterHandler<APIGatewayProxyEvent, APIGatewayProxyResult>>;
const routerOfRoutes = () =>
  httpRouterHandler<APIGatewayProxyEvent, APIGatewayProxyResult>({
    routes: API_ROUTES.map((route) => ({
      method: route.method,
      path: route.path,
      handler: ((event: APIGatewayProxyEvent) => ({
        route,
        key: routeKey(route),
        pathParameters: { ...event.pathParameters },
      })) as never,
    })),
    notFoundResponse: () => undefined,
  });

/**
 * The route a request's method and path take, as `@middy/http-router` matches them (a static
 * segment wins over a path parameter, as in API Gateway), or undefined.
 */
export function matchRoute(method: string, path: string): RouteMatch | undefined {
  const event = { httpMethod: method, path, pathParameters: null } as APIGatewayProxyEvent;
  router ??= routerOfRoutes();
  return router(event, {} as Context) as unknown as RouteMatch | undefined;
}

/**
 * A function's handler over the routes it serves. It dispatches on API Gateway's resource template
 * (`event.resource`), which is a route's path as written: API Gateway has matched the request
 * against the same routes already (a static segment before a path parameter), and a custom
 * domain's base path, which `event.path` carries, does not change the template.
 */
export function routeRequests<F extends ApiFunction>(
  fn: F,
  handlers: RouteHandlers<F>,
): ApiHandler {
  const served = new Set<string>(API_ROUTES.filter((route) => route.function === fn).map(routeKey));
  return async (event, context) => {
    const key = `${event.httpMethod} ${event.resource}`;
    const handler = served.has(key) ? handlers[key as RouteKeyOf<F>] : undefined;
    if (handler === undefined) {
      throw apiError(404, 'not_found', `No route for ${event.httpMethod} ${event.path}`);
    }
    return handler(event, context);
  };
}
