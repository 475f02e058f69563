import { Validator } from '@seriousme/openapi-schema-validator';
import type { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import { type Document, OpenAPIBackend } from 'openapi-backend';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as z from 'zod';
import {
  ACTION_TYPES,
  ActionRecordSchema,
  ActionRequestSchema,
} from '../../../lib/actions/schema.ts';
import { toActionView } from '../../../lib/actions/view.ts';
import { PersonActionRequestSchema } from '../../../lib/api/accept-request.ts';
import { ApprovalRequestSchema } from '../../../lib/api/approvals.ts';
import {
  buildOpenApiDocument,
  type JsonObject,
  LICENSE,
  type OpenApiDocument,
  SECURITY_SCHEMES,
} from '../../../lib/api/openapi.ts';
import { API_ROUTES, PEOPLE_ROUTES } from '../../../lib/api/routes.ts';
import { SOURCE_PAYLOAD_SCHEMAS } from '../../../lib/sources/payloads.ts';
import packageJson from '../../../package.json' with { type: 'json' };

// ajv-formats is CommonJS: its function is the module itself under Node's ESM interop.
const addFormats = ajvFormats as unknown as (ajv: Ajv) => Ajv;

const SESSION_ID = '41ba32e9-d12b-485c-afd2-c4d0d047cd8b';
const ACTION_ID = 'act_0123456789abcdef0123456789abcdef';

const build = (): OpenApiDocument =>
  buildOpenApiDocument({ version: '1.2.3', sourcePayloads: SOURCE_PAYLOAD_SCHEMAS });

/** Ajv (draft 2020-12, formats checked) over the document's components. */
function componentValidator(document: OpenApiDocument) {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv as unknown as Ajv);
  // OpenAPI's own keyword: Ajv supports discriminator only without `mapping`, and oneOf decides alone.
  ajv.addKeyword('discriminator');
  ajv.addKeyword('components');
  const id = 'https://citrix-response.invalid/openapi.json';
  ajv.addSchema({ $id: id, components: document.components });
  return (name: string) => {
    const validate = ajv.getSchema(`${id}#/components/schemas/${name}`);
    if (validate === undefined) throw new Error(`no component ${name}`);
    return (value: unknown) => ({
      valid: validate(value) === true,
      errors: (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`),
    });
  };
}

const operation = (document: OpenApiDocument, path: string, method: string) =>
  (document.paths[path] as Record<string, JsonObject | undefined> | undefined)?.[method];

describe('buildOpenApiDocument', () => {
  let document: OpenApiDocument;
  let component: ReturnType<typeof componentValidator>;

  beforeAll(() => {
    document = build();
    component = componentValidator(document);
  });

  it('is a valid OpenAPI 3.1 document with the 2020-12 dialect', async () => {
    const result = await new Validator().validate(
      structuredClone(document) as unknown as Record<string, unknown>,
    );
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe('3.1.0');
    expect(document.jsonSchemaDialect).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(document.info.version).toBe('1.2.3');
  });

  it('names where it answers (the local stack and a deployment), its contact and its licence', () => {
    expect(document.servers.map((server) => server.url)).toEqual([
      'http://127.0.0.1:3000',
      'https://{restApiId}.execute-api.{region}.amazonaws.com/prod',
    ]);
    // Every variable of a templated URL is declared, with a default.
    for (const server of document.servers) {
      const variables = (server.variables ?? {}) as Record<string, JsonObject>;
      const used = [...String(server.url).matchAll(/\{([^}]+)\}/g)].map(([, name]) => name);
      expect(Object.keys(variables).sort()).toEqual(used.sort());
      for (const variable of Object.values(variables)) expect(variable.default).toBeTruthy();
    }
    expect(document.info.contact).toEqual({ name: expect.any(String) });
    expect(document.info.license).toEqual(LICENSE);
    expect(LICENSE.name).toBe(packageJson.license);
  });

  it('is deterministic whatever order the source payloads come in', () => {
    const reversed = Object.fromEntries(Object.entries(SOURCE_PAYLOAD_SCHEMAS).reverse()) as Record<
      keyof typeof SOURCE_PAYLOAD_SCHEMAS,
      z.ZodType
    >;
    const again = buildOpenApiDocument({ version: '1.2.3', sourcePayloads: reversed });
    expect(JSON.stringify(again)).toBe(JSON.stringify(document));
    const names = Object.keys(document.components.schemas);
    expect(names).toEqual([...names].sort());
  });

  it('names every request, response and payload schema as a component, without $schema or $id', () => {
    const { schemas } = document.components;
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining([
        'ActionRequest',
        'ActionView',
        'ActionTarget',
        'ActionAccepted',
        'ActionSource',
        'ApprovalRequest',
        'ApprovalDecision',
        'ErrorResponse',
        'WebhookAccepted',
        'WebhookIgnored',
        'WebhookResponse',
        'ServiceNowPayload',
        'SentinelPayload',
        'PagerDutyPayload',
        'SplunkPayload',
        'StandardPayload',
        'ActionList',
        'Requester',
      ]),
    );
    const text = JSON.stringify(document);
    expect(text).not.toContain('"$schema"');
    expect(text).not.toContain('"$id"');
    expect(text).not.toContain('__shared');
    for (const [, reference] of text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) {
      expect(schemas, reference).toHaveProperty(reference as string);
    }
  });

  it('discriminates action requests by action, one named request shape per action', () => {
    const actionRequest = document.components.schemas.ActionRequest as JsonObject;
    const discriminator = actionRequest.discriminator as {
      propertyName: string;
      mapping: Record<string, string>;
    };
    expect(discriminator.propertyName).toBe('action');
    expect(Object.keys(discriminator.mapping).sort()).toEqual([...ACTION_TYPES].sort());
    const members = (actionRequest.oneOf as { $ref: string }[]).map((member) => member.$ref);
    for (const [action, reference] of Object.entries(discriminator.mapping)) {
      expect(members, action).toContain(reference);
      const name = reference.replace('#/components/schemas/', '');
      const shape = document.components.schemas[name] as { properties: Record<string, JsonObject> };
      const { enum: actions, const: only } = shape.properties.action as JsonObject;
      expect(Array.isArray(actions) ? actions : [only], action).toContain(action);
      // Each request shape says what its action does (the catalog's or the generator's words).
      expect(shape, action).toHaveProperty('description');
    }
    expect((document.components.schemas.WebhookResponse as JsonObject).discriminator).toEqual({
      propertyName: 'status',
      mapping: {
        accepted: '#/components/schemas/WebhookAccepted',
        ignored: '#/components/schemas/WebhookIgnored',
      },
    });
  });

  const standardWebhooks = {
    [SECURITY_SCHEMES.webhookId]: [],
    [SECURITY_SCHEMES.webhookTimestamp]: [],
    [SECURITY_SCHEMES.webhookSignature]: [],
  };
  const sigV4 = { [SECURITY_SCHEMES.sigV4]: [] };
  // 429: the stage's throttle, API Gateway's own answer on every route.
  const webhookStatuses = ['202', '400', '401', '403', '404', '409', '413', '429', '500'];
  // People are authenticated by API Gateway (IAM): refused with 403, never 401.
  const decisionStatuses = ['200', '400', '403', '404', '409', '413', '429', '500'];
  it.each([
    ['/v1/actions', 'post', [sigV4], ['202', '400', '403', '409', '413', '429', '500']],
    ['/v1/actions', 'get', [sigV4], ['200', '400', '403', '429', '500']],
    ['/v1/actions/{actionId}', 'get', [sigV4], ['200', '400', '403', '404', '429', '500']],
    ['/v1/actions/{actionId}/approve', 'post', [sigV4], decisionStatuses],
    ['/v1/actions/{actionId}/reject', 'post', [sigV4], decisionStatuses],
    ['/v1/webhooks/standard', 'post', [standardWebhooks], webhookStatuses],
    ['/v1/webhooks/servicenow', 'post', [{ [SECURITY_SCHEMES.serviceNow]: [] }], webhookStatuses],
    ['/v1/webhooks/sentinel', 'post', [{ [SECURITY_SCHEMES.sentinel]: [] }], webhookStatuses],
    ['/v1/webhooks/pagerduty', 'post', [{ [SECURITY_SCHEMES.pagerDuty]: [] }], webhookStatuses],
    ['/v1/webhooks/splunk/{token}', 'post', [], webhookStatuses],
    ['/v1/openapi.json', 'get', [], ['200', '429', '500']],
  ])('%s %s has its security and answers', (path, method, security, statuses) => {
    const described = operation(document, path, method);
    expect(described?.security).toEqual(security);
    expect(Object.keys(described?.responses as JsonObject).sort()).toEqual(statuses);
  });

  it('declares each security scheme as the sources authenticate', () => {
    expect(document.components.securitySchemes).toMatchObject({
      [SECURITY_SCHEMES.sigV4]: {
        type: 'apiKey',
        in: 'header',
        name: 'Authorization',
        'x-amazon-apigateway-authtype': 'awsSigv4',
      },
      [SECURITY_SCHEMES.webhookId]: { type: 'apiKey', in: 'header', name: 'webhook-id' },
      [SECURITY_SCHEMES.webhookTimestamp]: {
        type: 'apiKey',
        in: 'header',
        name: 'webhook-timestamp',
      },
      [SECURITY_SCHEMES.webhookSignature]: {
        type: 'apiKey',
        in: 'header',
        name: 'webhook-signature',
      },
      [SECURITY_SCHEMES.serviceNow]: { type: 'http', scheme: 'basic' },
      [SECURITY_SCHEMES.sentinel]: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      [SECURITY_SCHEMES.pagerDuty]: {
        type: 'apiKey',
        in: 'header',
        name: 'x-pagerduty-signature',
      },
    });
    const splunk = operation(document, '/v1/webhooks/splunk/{token}', 'post');
    expect(splunk?.description).toContain('`{token}` path segment');
    expect(splunk?.parameters).toEqual([
      expect.objectContaining({ name: 'token', in: 'path', required: true }),
    ]);
  });

  it('describes every route of the route table, and nothing else', () => {
    expect(PEOPLE_ROUTES.length).toBeGreaterThanOrEqual(5);
    for (const route of API_ROUTES) {
      if (route.path === '/v1/webhooks/{source}') continue; // one path per source, below
      const described = operation(document, route.path, route.method.toLowerCase());
      expect(described, `${route.method} ${route.path}`).toBeDefined();
      expect(described?.security, route.path).toEqual(
        route.auth === 'iam' ? [sigV4] : expect.anything(),
      );
    }
    const described = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    // The sources {source} serves; ServiceNow and Standard Webhooks have routes of their own.
    const sources = ['sentinel', 'pagerduty'].map((s) => `POST /v1/webhooks/${s}`);
    expect(described.sort()).toEqual(
      [
        ...API_ROUTES.filter((route) => route.path !== '/v1/webhooks/{source}').map(
          (route) => `${route.method} ${route.path}`,
        ),
        ...sources,
      ].sort(),
    );
  });

  it('gives every operation an id, a summary, a description and a 4xx answer', () => {
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, described] of Object.entries(operations as Record<string, JsonObject>)) {
        expect(described, `${method} ${path}`).toMatchObject({
          operationId: expect.any(String),
          summary: expect.any(String),
          description: expect.any(String),
        });
        const statuses = Object.keys(described.responses as JsonObject);
        expect(
          statuses.some((status) => status.startsWith('4')),
          `${method} ${path}`,
        ).toBe(true);
      }
    }
  });

  it.each([
    ['/v1/actions/{actionId}', 'get'],
    ['/v1/actions/{actionId}/approve', 'post'],
    ['/v1/actions/{actionId}/reject', 'post'],
  ])('takes the action id pattern of %s %s from ActionIdSchema', (path, method) => {
    const parameters = operation(document, path, method)?.parameters;
    expect(parameters).toEqual([
      expect.objectContaining({
        name: 'actionId',
        in: 'path',
        required: true,
        schema: { type: 'string', pattern: '^act_[0-9a-f]{32}$' },
      }),
    ]);
  });

  it('describes approve and reject: the decision body, the answer, and why approving can be refused', () => {
    for (const decision of ['approve', 'reject']) {
      const described = operation(document, `/v1/actions/{actionId}/${decision}`, 'post');
      expect(described?.operationId).toBe(`${decision}Action`);
      // No body is a decision without a comment.
      expect(described?.requestBody).toEqual({
        required: false,
        content: {
          'application/json': { schema: { $ref: '#/components/schemas/ApprovalRequest' } },
        },
      });
      expect((described?.responses as JsonObject | undefined)?.['200']).toMatchObject({
        content: {
          'application/json': { schema: { $ref: '#/components/schemas/ApprovalDecision' } },
        },
      });
    }
    const approve = operation(document, '/v1/actions/{actionId}/approve', 'post');
    const refusals = JSON.stringify((approve?.responses as JsonObject | undefined)?.['403']);
    for (const code of [
      'self_approval',
      'lookalike_approver',
      'requester_unknown',
      'not_a_person',
    ]) {
      expect(refusals).toContain(code);
    }

    for (const body of [{ comment: 'Confirmed with the SOC lead' }, {}]) {
      expect(ApprovalRequestSchema.safeParse(body).success).toBe(true);
      expect(component('ApprovalRequest')(body)).toEqual({ valid: true, errors: [] });
    }
    // Nobody names the decider: it is whoever signed the request.
    for (const invalid of [{ by: 'approver@example.com' }, { extra: true }, { comment: 7 }]) {
      expect(ApprovalRequestSchema.safeParse(invalid).success, JSON.stringify(invalid)).toBe(false);
      expect(component('ApprovalRequest')(invalid).valid, JSON.stringify(invalid)).toBe(false);
    }
    expect(
      component('ApprovalDecision')({
        actionId: ACTION_ID,
        status: 'running',
        decidedBy: 'approver@example.com',
      }),
    ).toEqual({ valid: true, errors: [] });
    expect(
      component('ApprovalDecision')({ actionId: ACTION_ID, status: 'approved', decidedBy: 'a' })
        .valid,
    ).toBe(false);
  });

  const validRequests = [
    {
      action: 'session.logoff',
      target: { user: 'alice@example.com' },
      reason: 'Impossible travel alert 4711',
    },
    { action: 'session.disconnect', target: { sessionId: SESSION_ID }, reason: 'r', dryRun: true },
    {
      action: 'device.wipe',
      target: { deviceId: '7d3f6c1e-2b4a-4f7e-9c0d-1a2b3c4d5e6f' },
      reason: 'Lost laptop',
      ticket: 'INC0010001',
    },
    { action: 'device.selectiveWipe', target: { user: 'EXAMPLE\\bob' }, reason: 'r' },
    {
      action: 'admin.revoke',
      target: { admin: 'mallory@example.com' },
      options: { mode: 'delete' },
      reason: 'r',
    },
    { action: 'admin.deleteInvitation', target: { email: 'invitee@example.com' }, reason: 'r' },
  ];
  it.each(validRequests)('describes the accepted request $action', (request) => {
    expect(PersonActionRequestSchema.safeParse(request).success).toBe(true);
    expect(component('ActionRequest')(request)).toEqual({ valid: true, errors: [] });
  });

  it('describes a request naming its requester as invalid, as the API does', () => {
    const request = { ...validRequests[0], requestedBy: 'someone@example.com' };
    expect(PersonActionRequestSchema.safeParse(request).success).toBe(false);
    expect(component('ActionRequest')(request).valid).toBe(false);
    expect(JSON.stringify(document.components.schemas)).toMatch(/StandardPayload.*requestedBy/s);
  });

  const invalidRequests = [
    ['an unknown action', { action: 'device.brick', target: { deviceId: '1' }, reason: 'r' }],
    ['no reason', { action: 'session.logoff', target: { user: 'a@b.co' } }],
    [
      'an unknown field',
      { action: 'session.logoff', target: { user: 'a@b.co' }, reason: 'r', x: 1 },
    ],
    [
      'two target kinds',
      { action: 'device.wipe', target: { deviceId: '1', user: 'b' }, reason: 'r' },
    ],
    ['no target kind', { action: 'session.logoff', target: {}, reason: 'r' }],
    [
      'a session id that is no GUID',
      { action: 'session.logoff', target: { sessionId: '../x' }, reason: 'r' },
    ],
    [
      'a device target for a session action',
      { action: 'session.logoff', target: { deviceId: '1' }, reason: 'r' },
    ],
    [
      'an unknown revoke mode',
      { action: 'admin.revoke', target: { admin: 'a' }, options: { mode: 'nuke' }, reason: 'r' },
    ],
    [
      'options on an invitation',
      {
        action: 'admin.deleteInvitation',
        target: { email: 'i@example.com' },
        options: { mode: 'delete' },
        reason: 'r',
      },
    ],
    [
      'an invitation without an email',
      { action: 'admin.deleteInvitation', target: { email: 'not-an-email' }, reason: 'r' },
    ],
  ] as const;
  it.each(invalidRequests)(
    'describes a request with %s as invalid, as the API does',
    (_, request) => {
      expect(ActionRequestSchema.safeParse(request).success).toBe(false);
      expect(component('ActionRequest')(request).valid).toBe(false);
    },
  );

  it('describes what POST /v1/actions accepts, as openapi-backend matches and validates it', async () => {
    const api = new OpenAPIBackend({
      definition: structuredClone(document) as unknown as Document,
      // Its definition check knows OpenAPI 3.0 only; the Validator test above checks 3.1.
      quick: true,
      ajvOpts: { allErrors: true, strict: false },
      customizeAjv: (ajv) => addFormats(ajv as unknown as Ajv) as never,
    });
    await api.init();
    const check = (path: string, body: unknown) => {
      const request = { method: 'POST', path, headers: {}, body: body as never };
      const matched = api.matchOperation(request);
      return { operationId: matched?.operationId, valid: api.validateRequest(request).valid };
    };
    expect(check('/v1/actions', validRequests[4])).toEqual({
      operationId: 'createAction',
      valid: true,
    });
    expect(check('/v1/actions', invalidRequests[0][1])).toEqual({
      operationId: 'createAction',
      valid: false,
    });
    expect(check(`/v1/actions/${ACTION_ID}/approve`, { comment: 'Confirmed' })).toEqual({
      operationId: 'approveAction',
      valid: true,
    });
    expect(check(`/v1/actions/${ACTION_ID}/reject`, { by: 'approver@example.com' })).toEqual({
      operationId: 'rejectAction',
      valid: false,
    });
    expect(check('/v1/actions/not-an-id/approve', {})).toEqual({
      operationId: 'approveAction',
      valid: false,
    });
    expect(
      check('/v1/webhooks/splunk/s3cr3t', {
        sid: 'scheduler__admin__search__RMD5_at_1700000000_42',
        search_name: 'Impossible travel',
        result: { user: 'alice@example.com', count: 3, hosts: ['a', 'b'] },
      }),
    ).toEqual({ operationId: 'receiveSplunkWebhook', valid: true });
    expect(check('/v1/webhooks/splunk/s3cr3t', { search_name: 'no sid', result: {} })).toEqual({
      operationId: 'receiveSplunkWebhook',
      valid: false,
    });
  });

  it('describes the response bodies the API sends', () => {
    const record = ActionRecordSchema.parse({
      actionId: ACTION_ID,
      action: 'device.selectiveWipe',
      target: { user: 'bob' },
      reason: 'Lost phone',
      ticket: 'INC0010002',
      dryRun: false,
      status: 'partially_succeeded',
      createdAt: '2025-01-01T00:00:00.000Z',
      updatedAt: '2025-01-01T00:01:00.000Z',
      targets: [
        { deviceId: '1042', userName: 'bob', platform: 'iOS', managed: true },
        { deviceId: '1043', userName: 'bob', managed: false },
      ],
      results: {
        '1043': {
          deviceId: '1043',
          userName: 'bob',
          managed: false,
          outcome: 'skipped',
          note: 'Not managed',
          finishedAt: '2025-01-01T00:00:30.000Z',
        },
        '1042': {
          deviceId: '1042',
          userName: 'bob',
          platform: 'iOS',
          managed: true,
          outcome: 'succeeded',
          command: { name: 'selectiveWipe', sentAt: '2025-01-01T00:00:10.000Z' },
          readBack: { found: true, managed: true },
          finishedAt: '2025-01-01T00:00:40.000Z',
        },
      },
      summary: '1 of 2 devices wiped, 1 skipped',
      expiresAt: 1_767_225_600,
      source: {
        name: 'servicenow',
        deliveryId: 'dlv_0123456789abcdef0123456789abcdef',
        title: 'ServiceNow INC0010002',
        serviceNowIncident: { sysId: '9d385017c611228701d22104cc95c371', number: 'INC0010002' },
      },
      callback: 'soar',
    });
    const view = toActionView(record);
    expect(view.source?.name).toBe('servicenow');
    expect(view.results.map((result) => ('deviceId' in result ? result.deviceId : ''))).toEqual([
      '1042',
      '1043',
    ]);
    expect(component('ActionView')(view)).toEqual({ valid: true, errors: [] });
    expect(component('ActionView')({ ...view, results: [{ deviceId: '1' }] }).valid).toBe(false);
    expect(component('ActionView')({ ...view, source: { deliveryId: 'x' } }).valid).toBe(false);
    expect(component('ActionView')({ ...view, callback: 'https://soar.example.com' }).valid).toBe(
      false,
    );

    const accepted202 = {
      actionId: ACTION_ID,
      status: 'accepted',
      statusUrl: `https://api.example.com/prod/v1/actions/${ACTION_ID}`,
      duplicate: false,
    };
    expect(component('ActionAccepted')(accepted202)).toEqual({ valid: true, errors: [] });
    // What POST /v1/actions answers always says whether the Idempotency-Key was seen before.
    const { duplicate: _duplicate, ...withoutDuplicate } = accepted202;
    expect(component('ActionAccepted')(withoutDuplicate).valid).toBe(false);
    expect(
      component('ErrorResponse')({
        error: {
          code: 'invalid_request',
          message: 'Invalid request: reason',
          fields: [{ field: 'reason', message: 'must not be empty' }],
        },
      }).valid,
    ).toBe(true);
    expect(component('ErrorResponse')({ message: 'Not Found' }).valid).toBe(false);
    const accepted = {
      status: 'accepted',
      deliveryId: 'dlv_0123456789abcdef0123456789abcdef',
      actions: [
        {
          actionId: ACTION_ID,
          action: 'session.logoff',
          target: { user: 'alice@example.com' },
          duplicate: false,
          statusUrl: `https://api.example.com/prod/v1/actions/${ACTION_ID}`,
        },
      ],
    };
    expect(component('WebhookResponse')(accepted)).toEqual({ valid: true, errors: [] });
    expect(
      component('WebhookResponse')({
        status: 'ignored',
        deliveryId: 'dlv_0123456789abcdef0123456789abcdef',
        reason: 'No route matched',
      }).valid,
    ).toBe(true);
    expect(component('WebhookResponse')({ ...accepted, status: 'ignored' }).valid).toBe(false);
  });
});
