import { readFileSync } from 'node:fs';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, expect, it } from 'vitest';
import { API_ROUTES, type ApiFunction, routeKey } from '../../lib/api/routes.ts';
import { idempotencyWindowSecondsFromEnv } from '../../lib/runtime/settings.ts';
import { ALERTING_SOURCES } from '../../lib/sources/types.ts';
import { WORKFLOWS } from '../../lib/workflow/definition.ts';
import {
  ALLOWLISTS,
  type Json,
  POWERTOOLS_VARIABLES,
  type Resource,
  SYNTH_TIMEOUT,
  type SynthesizedStack,
  synthesized,
  target,
  valuesOfKey,
} from './support/stack.ts';

/**
 * The HTTP edge, in the `configured` stack (IP allowlists for two sources and the API, callback
 * destinations): routes and the functions behind them, the edge checks, the stage's logging and
 * throttling, the resource policy, and what the API function is told.
 */

let stack: SynthesizedStack;
beforeAll(() => {
  stack = synthesized('configured');
}, SYNTH_TIMEOUT);

/** `/v1/actions/{actionId}` for an API Gateway resource, from its chain of parents. */
function pathOf(resourceId: Json): string {
  const ref = (resourceId as { Ref?: string }).Ref;
  if (ref === undefined) return '';
  const resource = stack.resource(ref);
  expect(resource.Type).toBe('AWS::ApiGateway::Resource');
  return `${pathOf(resource.Properties.ParentId as Json)}/${String(resource.Properties.PathPart)}`;
}

/** Every API method as `POST /v1/actions`, with the function its proxy integration invokes. */
function routes(): Record<string, { readonly functionId: string; readonly method: Resource }> {
  return Object.fromEntries(
    stack.idsOf('AWS::ApiGateway::Method').map((id) => {
      const method = stack.resource(id);
      const integration = method.Properties.Integration as { Type: string; Uri: Json };
      expect(integration.Type).toBe('AWS_PROXY');
      const invoked = valuesOfKey(integration.Uri, 'Fn::GetAtt') as [string, string][];
      expect(invoked).toHaveLength(1);
      const [[functionId = ''] = []] = invoked;
      const route = `${String(method.Properties.HttpMethod)} ${pathOf(method.Properties.ResourceId as Json)}`;
      return [route, { functionId, method }];
    }),
  );
}

it('routes the people to the API function (starting) and the records function (reading, deciding) with IAM authorization, the OpenAPI document to its own, the webhooks to the source endpoints (alerts; requests), which authenticate in the function', () => {
  const api = stack.apiFunction;
  const records = stack.recordsFunction;
  const sources = stack.sourceFunction;
  const requests = stack.requestSourceFunction;
  const document = stack.documentFunction;
  const all = routes();
  const integrated = Object.fromEntries(
    Object.entries(all).map(([route, { functionId }]) => [route, functionId]),
  );

  expect(integrated).toEqual({
    'POST /v1/actions': api,
    'GET /v1/actions': records,
    'GET /v1/actions/{actionId}': records,
    'POST /v1/actions/{actionId}/approve': records,
    'POST /v1/actions/{actionId}/reject': records,
    'GET /v1/openapi.json': document,
    'POST /v1/webhooks/{source}': sources,
    // Splunk can set no header: its secret token is the last path segment.
    'POST /v1/webhooks/splunk/{token}': sources,
    // The sources that name their action: static segments, preferred to {source}.
    'POST /v1/webhooks/servicenow': requests,
    'POST /v1/webhooks/standard': requests,
  });
  // The route table the functions dispatch on says the same, route by route.
  const functions: Record<ApiFunction, string> = {
    'actions-api': api,
    'action-records-api': records,
    'source-webhooks': sources,
    'source-requests': requests,
    'api-document': document,
  };
  expect(integrated).toEqual(
    Object.fromEntries(API_ROUTES.map((route) => [routeKey(route), functions[route.function]])),
  );
  expect(new Set([api, records, sources, requests, document]).size).toBe(5);
  // People are authenticated by API Gateway (SigV4, execute-api:Invoke) on every route of theirs;
  // the sources in the function (Basic, token, key or HMAC); the document is public.
  for (const route of API_ROUTES) {
    expect(all[routeKey(route)]?.method.Properties.AuthorizationType, routeKey(route)).toBe(
      route.auth === 'iam' ? 'AWS_IAM' : 'NONE',
    );
  }
  expect(all['GET /v1/openapi.json']?.method.Properties).not.toHaveProperty('RequestValidatorId');
  expect(all['GET /v1/openapi.json']?.method.Properties).not.toHaveProperty('RequestParameters');
  expect(all['POST /v1/webhooks/{source}']?.method.Properties.RequestParameters).toEqual({
    'method.request.path.source': true,
  });
  expect(all['POST /v1/webhooks/splunk/{token}']?.method.Properties.RequestParameters).toEqual({
    'method.request.path.token': true,
  });
  for (const route of [
    'POST /v1/actions/{actionId}/approve',
    'POST /v1/actions/{actionId}/reject',
  ]) {
    // A decision by the authenticated person; no body model at the edge.
    expect(all[route]?.method.Properties.RequestParameters, route).toEqual({
      'method.request.path.actionId': true,
    });
  }
});

it('serves exactly the operations docs/openapi.json describes', () => {
  const document = JSON.parse(
    readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'),
  ) as { paths: Record<string, Record<string, unknown>> };
  const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.keys(operations)
      .filter((method) => ['get', 'put', 'post', 'delete', 'patch'].includes(method))
      .map((method) => `${method.toUpperCase()} ${path}`),
  );
  // One API Gateway resource serves the alerting sources that authenticate by header; Splunk and
  // the requesting sources (ServiceNow, Standard Webhooks) have their own.
  const served = Object.keys(routes()).flatMap((route) =>
    route === 'POST /v1/webhooks/{source}'
      ? ALERTING_SOURCES.filter((source) => source !== 'splunk').map(
          (source) => `POST /v1/webhooks/${source}`,
        )
      : [route],
  );

  expect(documented.sort()).toEqual(served.sort());
});

it('checks the body of POST /v1/actions only, against a model requiring action, target and reason', () => {
  const all = routes();
  const withModel = Object.entries(all)
    .filter(([, { method }]) => method.Properties.RequestModels !== undefined)
    .map(([route]) => route);
  const properties = all['POST /v1/actions']?.method.Properties ?? {};
  const model = (properties.RequestModels as Record<string, { Ref: string }>)['application/json'];

  expect(withModel).toEqual(['POST /v1/actions']);
  expect(stack.resource(String(model?.Ref)).Properties.Schema).toMatchObject({
    type: 'object',
    required: ['action', 'target', 'reason'],
  });
  expect(
    stack.resource((properties.RequestValidatorId as { Ref: string }).Ref).Properties,
  ).toMatchObject({ ValidateRequestBody: true });
  // Never on the source payloads, which each source shapes its own way.
  for (const route of ['POST /v1/webhooks/{source}', 'POST /v1/webhooks/splunk/{token}']) {
    expect(all[route]?.method.Properties, route).not.toHaveProperty('RequestValidatorId');
  }
});

it('answers a body that fails the model with JSON naming what is wrong', () => {
  stack.template.resourceCountIs('AWS::ApiGateway::GatewayResponse', 1);
  stack.template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
    ResponseType: 'BAD_REQUEST_BODY',
    StatusCode: '400',
  });
  const [id] = stack.idsOf('AWS::ApiGateway::GatewayResponse');
  const template = (
    stack.resource(String(id)).Properties.ResponseTemplates as Record<string, string>
  )['application/json'];
  // With a sample validation error substituted, the template is valid JSON in the API's shape.
  const sample = template?.replace(
    /\$util\.escapeJavaScript\(\$context\.error\.validationErrorString\)\.replaceAll\("\\\\'","'"\)/,
    String.raw`[object has missing required properties ([\"reason\"])]`,
  );
  expect(JSON.parse(sample ?? '')).toEqual({
    error: {
      code: 'invalid_request',
      message: '[object has missing required properties (["reason"])]',
    },
  });
});

it('lets API Gateway invoke each function on its own routes of this stage only', () => {
  const [stage] = stack.idsOf('AWS::ApiGateway::Stage');
  const invocations = stack
    .idsOf('AWS::Lambda::Permission')
    .map((id) => stack.resource(id).Properties)
    .filter((permission) => permission.Principal === 'apigateway.amazonaws.com')
    .map((permission) => {
      expect(permission.Action).toBe('lambda:InvokeFunction');
      // The ARN ends with the stage, then /METHOD/path (path parameters as *).
      const arn = target(permission.SourceArn as Json);
      expect(arn).toContain(`/${stage}/`);
      return `${target(permission.FunctionName as Json)} ${arn.slice(arn.indexOf(`/${stage}/`) + String(stage).length + 1)}`;
    });

  expect(invocations.sort()).toEqual(
    [
      `${stack.apiFunction} /POST/v1/actions`,
      `${stack.recordsFunction} /GET/v1/actions`,
      `${stack.recordsFunction} /GET/v1/actions/*`,
      `${stack.recordsFunction} /POST/v1/actions/*/approve`,
      `${stack.recordsFunction} /POST/v1/actions/*/reject`,
      `${stack.documentFunction} /GET/v1/openapi.json`,
      `${stack.sourceFunction} /POST/v1/webhooks/*`,
      `${stack.sourceFunction} /POST/v1/webhooks/splunk/*`,
      `${stack.requestSourceFunction} /POST/v1/webhooks/servicenow`,
      `${stack.requestSourceFunction} /POST/v1/webhooks/standard`,
    ].sort(),
  );
});

it('has a throttled, traced prod stage logging errors only, with access logs that hold the route template, never the path or the Splunk token', () => {
  stack.template.resourceCountIs('AWS::ApiGateway::Stage', 1);
  stack.template.hasResourceProperties('AWS::ApiGateway::Stage', {
    StageName: 'prod',
    // The Splunk route is never sampled (stack-operations.test.ts): its URL holds the token.
    TracingEnabled: true,
    // Each route's own throttle follows the stage default (stack-operations.test.ts).
    MethodSettings: Match.arrayWith([
      Match.objectLike({
        HttpMethod: '*',
        ResourcePath: '/*',
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
        ThrottlingRateLimit: 20,
        ThrottlingBurstLimit: 40,
      }),
    ]),
  });
  const [stage] = stack.idsOf('AWS::ApiGateway::Stage');
  const format = (stack.resource(String(stage)).Properties.AccessLogSetting as { Format: string })
    .Format;
  // What $context.resourcePath logs for a Splunk delivery is the template, not the URL.
  expect(
    pathOf(routes()['POST /v1/webhooks/splunk/{token}']?.method.Properties.ResourceId as Json),
  ).toBe('/v1/webhooks/splunk/{token}');
  // Nothing in the format may carry the request line, the path or its parameters.
  expect(format).not.toMatch(
    /\$context\.(path|requestOverride|responseOverride|identity\.user\b|identity\.caller\b)|\$input|\$method\.request/,
  );
  expect(Object.values(JSON.parse(format) as Record<string, string>).sort()).toEqual(
    [
      '$context.identity.sourceIp',
      '$context.requestTime',
      '$context.httpMethod',
      '$context.resourcePath',
      '$context.status',
      '$context.protocol',
      '$context.responseLength',
      '$context.requestId',
    ].sort(),
  );
});

it("lets anyone reach the sources and the document, only this account's principals the people's routes, and denies POST to an allowlisted source or to the API from any other address", () => {
  const statement = (resources: string | string[], ranges: readonly string[]) => ({
    Action: 'execute-api:Invoke',
    Condition: { NotIpAddress: { 'aws:SourceIp': ranges } },
    Effect: 'Deny',
    Principal: { AWS: '*' },
    Resource: resources,
  });

  stack.template.hasResourceProperties('AWS::ApiGateway::RestApi', {
    Policy: {
      Version: '2012-10-17',
      Statement: [
        {
          Action: 'execute-api:Invoke',
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Resource: ['execute-api:/*/GET/v1/openapi.json', 'execute-api:/*/POST/v1/webhooks/*'],
        },
        {
          // Never `*` on IAM-authorized routes: any AWS account could grant its own users in.
          Action: 'execute-api:Invoke',
          Effect: 'Allow',
          Principal: {
            AWS: {
              'Fn::Join': [
                '',
                ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root'],
              ],
            },
          },
          Resource: ['execute-api:/*/*/v1/actions', 'execute-api:/*/*/v1/actions/*'],
        },
        statement('execute-api:/*/POST/v1/webhooks/splunk/*', ALLOWLISTS.splunk),
        statement('execute-api:/*/POST/v1/webhooks/sentinel', ALLOWLISTS.sentinel),
        statement(
          [
            'execute-api:/*/POST/v1/actions',
            'execute-api:/*/POST/v1/actions/*/approve',
            'execute-api:/*/POST/v1/actions/*/reject',
            'execute-api:/*/POST/v1/webhooks/standard',
          ],
          ALLOWLISTS.api,
        ),
      ],
    },
  });
});

it("denies exactly the allowlisted routes: two sources, and starting or deciding an action (a person's or a Standard Webhooks source's); reading stays open", () => {
  const [api] = stack.idsOf('AWS::ApiGateway::RestApi');
  const statements = (
    stack.resource(String(api)).Properties.Policy as {
      Statement: { Effect: string; Resource: string | string[] }[];
    }
  ).Statement;
  // execute-api resource patterns: `*` matches any characters, `/` included.
  const denied = (method: string, path: string) =>
    statements.some(
      (statement) =>
        statement.Effect === 'Deny' &&
        [statement.Resource].flat().some((resource) =>
          new RegExp(
            `^${resource
              .split('*')
              .map((part) => part.replace(/[.?+^$()[\]{}|\\]/g, '\\$&'))
              .join('.*')}$`,
          ).test(`execute-api:/prod/${method}/${path}`),
        ),
    );
  // Each route as a request would reach it, with its path parameters filled in.
  const requests: [string, string, boolean][] = [
    ['POST', 'v1/webhooks/splunk/0123456789abcdef0123456789abcdef', true],
    ['POST', 'v1/webhooks/sentinel', true],
    ['POST', 'v1/webhooks/servicenow', false],
    ['POST', 'v1/webhooks/pagerduty', false],
    ['POST', 'v1/webhooks/standard', true],
    ['POST', 'v1/actions', true],
    ['GET', 'v1/actions', false],
    ['GET', 'v1/actions/act_01', false],
    ['POST', 'v1/actions/act_01/approve', true],
    ['POST', 'v1/actions/act_01/reject', true],
    ['GET', 'v1/openapi.json', false],
  ];

  expect(Object.keys(routes()).sort()).toEqual([
    'GET /v1/actions',
    'GET /v1/actions/{actionId}',
    'GET /v1/openapi.json',
    'POST /v1/actions',
    'POST /v1/actions/{actionId}/approve',
    'POST /v1/actions/{actionId}/reject',
    'POST /v1/webhooks/servicenow',
    'POST /v1/webhooks/splunk/{token}',
    'POST /v1/webhooks/standard',
    'POST /v1/webhooks/{source}',
  ]);
  for (const [method, path, expected] of requests) {
    expect(denied(method, path), `${method} /${path}`).toBe(expected);
  }
});

it('tells the API function its tables, the workflows and the destination names, never their URLs, and no secret', () => {
  const environment = stack.environment(stack.apiFunction);

  expect(environment).toEqual({
    ...POWERTOOLS_VARIABLES,
    ACTIONS_TABLE_NAME: { Ref: stack.table('actions') },
    ...Object.fromEntries(
      WORKFLOWS.map((workflow) => [
        `${workflow.name.replaceAll('-', '_').toUpperCase()}_STATE_MACHINE_ARN`,
        { Ref: stack.stateMachine(workflow.name) },
      ]),
    ),
    AUDIT_TABLE_NAME: { Ref: stack.table('audit') },
    IDEMPOTENCY_TABLE_NAME: { Ref: stack.table('idempotency') },
    IDEMPOTENCY_WINDOW_SECONDS: '3600',
    // Names only, so that it can refuse an unknown one: a URL may carry the receiver's token.
    CALLBACK_DESTINATION_NAMES: 'soar,ticketing',
  });
  expect(Object.keys(environment)).toContain('SESSION_ACTION_STATE_MACHINE_ARN');
  // The function reads the window exactly as the context gave it.
  expect(idempotencyWindowSecondsFromEnv(stack.literalEnvironment(stack.apiFunction))).toBe(3600);
});

it('tells the records function its two tables only: no workflow, idempotency table, destination or secret', () => {
  expect(stack.environment(stack.recordsFunction)).toEqual({
    ...POWERTOOLS_VARIABLES,
    ACTIONS_TABLE_NAME: { Ref: stack.table('actions') },
    AUDIT_TABLE_NAME: { Ref: stack.table('audit') },
  });
  expect(stack.resource(stack.recordsFunction).Properties).toMatchObject({
    Description:
      'Action records API: lists, reports and decides actions as the IAM-authenticated person',
    Handler: 'index.handler',
    Timeout: 15,
  });
});

it('tells the API document function nothing but the settings every function has', () => {
  expect(stack.environment(stack.documentFunction)).toEqual({
    ...POWERTOOLS_VARIABLES,
  });
  expect(stack.resource(stack.documentFunction).Properties).toMatchObject({
    Description: 'API document: serves the OpenAPI document of this API',
    Handler: 'index.handler',
    Timeout: 15,
  });
});
