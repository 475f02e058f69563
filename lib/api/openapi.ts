import * as z from 'zod';
import {
  ACTION_REQUEST_VARIANTS,
  ActionIdSchema,
  DeleteInvitationRequestSchema,
  DeviceActionRequestSchema,
  DeviceTargetSchema,
  RevokeRequestSchema,
  SessionActionRequestSchema,
  SessionTargetSchema,
} from '../actions/schema.ts';
import { ActionViewSchema } from '../actions/view.ts';
import { UserIdentifierSchema } from '../citrix/ids.ts';
import { SOURCES, type SourceName } from '../sources/types.ts';
import { ApprovalRequestSchema } from './approvals.ts';
import {
  ActionAcceptedSchema,
  ApprovalDecisionSchema,
  ErrorResponseSchema,
  WebhookAcceptedSchema,
  WebhookIgnoredSchema,
} from './responses.ts';

/**
 * The project's OpenAPI 3.1 document, generated from the zod schemas the handlers validate and
 * answer with, so no shape is written twice. Request bodies are rendered as zod's input (what a
 * caller may send), response bodies as its output (what the API sends back).
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export interface OpenApiDocument {
  readonly openapi: '3.1.0';
  readonly jsonSchemaDialect: string;
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  readonly servers?: readonly { readonly url: string }[];
  readonly tags: readonly { readonly name: string; readonly description: string }[];
  readonly paths: Readonly<Record<string, JsonObject>>;
  readonly components: {
    readonly schemas: Readonly<Record<string, JsonObject>>;
    readonly securitySchemes: Readonly<Record<string, JsonObject>>;
  };
}

export interface OpenApiInput {
  /** The API's version (`info.version`): the package version. */
  readonly version: string;
  /** The body each source endpoint accepts (`SOURCE_PAYLOAD_SCHEMAS`). */
  readonly sourcePayloads: Readonly<Record<SourceName, z.ZodType>>;
  /** The API's base URL, stage included; without it the document names no server. */
  readonly serverUrl?: string;
}

export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';
const SCHEMA_REF = '#/components/schemas/';
// Where zod puts a schema with an id of its own that the conversion was not told to name.
const SHARED_DEFS_REF = `${SCHEMA_REF}__shared#/$defs/`;
const COMPONENT_NAME = /^[A-Za-z0-9._-]+$/;

/** Security scheme names, as operations refer to them. */
export const SECURITY_SCHEMES = {
  webhookId: 'StandardWebhookId',
  webhookTimestamp: 'StandardWebhookTimestamp',
  webhookSignature: 'StandardWebhookSignature',
  serviceNow: 'ServiceNowBasic',
  sentinel: 'SentinelApiKey',
  pagerDuty: 'PagerDutySignature',
} as const;

const ref = (name: string): JsonObject => ({ $ref: `${SCHEMA_REF}${name}` });

const REQUEST_VARIANT_COMPONENTS = new Map<z.ZodType, { id: string; description: string }>([
  [
    SessionActionRequestSchema,
    {
      id: 'SessionActionRequest',
      description: 'Log off or disconnect a Citrix DaaS session, or every session of a user.',
    },
  ],
  [
    DeviceActionRequestSchema,
    {
      id: 'DeviceActionRequest',
      description:
        'Wipe, selectively wipe or deploy policies to an Endpoint Management device, or to every device of a user.',
    },
  ],
  [
    RevokeRequestSchema,
    {
      id: 'AdminRevokeRequest',
      description:
        "Revoke a Citrix Cloud administrator's access (`strip`, the default) or delete the administrator (`delete`).",
    },
  ],
  [
    DeleteInvitationRequestSchema,
    {
      id: 'AdminDeleteInvitationRequest',
      description: 'Delete a pending Citrix Cloud administrator invitation.',
    },
  ],
]);

interface SourceEndpoint {
  readonly path: string;
  readonly component: string;
  readonly summary: string;
  readonly description: string;
  readonly security: readonly JsonObject[];
  readonly parameters?: readonly JsonObject[];
}

const SOURCE_ENDPOINTS: Readonly<Record<SourceName, SourceEndpoint>> = {
  servicenow: {
    path: '/v1/webhooks/servicenow',
    component: 'ServiceNowPayload',
    summary: 'Containment request from a ServiceNow outbound REST message',
    description:
      'The request names its action and target itself; the routing rules say which actions ServiceNow may ask for. The outcome is written back to the incident as a work note.',
    security: [{ [SECURITY_SCHEMES.serviceNow]: [] }],
  },
  sentinel: {
    path: '/v1/webhooks/sentinel',
    component: 'SentinelPayload',
    summary: 'Incident from a Microsoft Sentinel playbook HTTP action',
    description:
      'Either the whole incident trigger body or only its `object.properties`; the routing rules decide the action and where its targets come from.',
    security: [{ [SECURITY_SCHEMES.sentinel]: [] }],
  },
  pagerduty: {
    path: '/v1/webhooks/pagerduty',
    component: 'PagerDutyPayload',
    summary: 'PagerDuty v3 webhook event',
    description:
      'Signed with the subscription secret (`x-pagerduty-signature`); the routing rules decide the action and where its targets come from.',
    security: [{ [SECURITY_SCHEMES.pagerDuty]: [] }],
  },
  splunk: {
    path: '/v1/webhooks/splunk/{token}',
    component: 'SplunkPayload',
    summary: 'Splunk webhook alert action',
    description:
      'Splunk can set no header, so the secret is the `{token}` path segment of the webhook URL (compared in constant time, never logged); the operation therefore declares no security scheme. The routing rules decide the action and where its targets come from.',
    security: [],
    parameters: [
      {
        name: 'token',
        in: 'path',
        required: true,
        description: 'The secret token configured for Splunk: it authenticates the delivery.',
        schema: { type: 'string', minLength: 1 },
      },
    ],
  },
};

/**
 * Rules the target schemas check in code (`refine`) that JSON Schema can still say: a strict
 * object with two optional keys and "exactly one of them" has exactly one property.
 */
const EXACTLY_ONE_KEY = new Map<unknown, string>([
  [SessionTargetSchema, 'Exactly one of `sessionId` or `user` (every session of that user).'],
  [
    DeviceTargetSchema,
    'Exactly one of `deviceId` or `user` (every device enrolled by that user name, matched exactly and case-insensitively).',
  ],
]);
/** Refinements JSON Schema cannot express, said in words instead. */
const DESCRIBED_RULES = new Map<unknown, string>([
  [UserIdentifierSchema, 'A UPN (`user@example.com`) or `DOMAIN\\user`.'],
]);

function describeRefinements(context: {
  zodSchema: unknown;
  jsonSchema: Record<string, unknown>;
}): void {
  const exactlyOne = EXACTLY_ONE_KEY.get(context.zodSchema);
  if (exactlyOne !== undefined) {
    context.jsonSchema.minProperties = 1;
    context.jsonSchema.maxProperties = 1;
    context.jsonSchema.description ??= exactlyOne;
  }
  const rule = DESCRIBED_RULES.get(context.zodSchema);
  if (rule !== undefined) context.jsonSchema.description ??= rule;
}

interface NamedSchema {
  readonly schema: z.ZodType;
  /** The component name, unless the schema carries an `id` of its own (`.meta({ id })`). */
  readonly name: string;
  readonly description?: string;
}

const componentName = (named: NamedSchema): string => {
  const id: unknown = z.globalRegistry.get(named.schema)?.id;
  return typeof id === 'string' ? id : named.name;
};

/** Response bodies, each named by its own `.meta({ id })`. */
const RESPONSE_SCHEMAS: readonly z.ZodType[] = [
  ActionViewSchema,
  ErrorResponseSchema,
  ActionAcceptedSchema,
  ApprovalDecisionSchema,
  WebhookAcceptedSchema,
  WebhookIgnoredSchema,
];

function ownId(schema: z.ZodType): NamedSchema {
  const name = componentName({ schema, name: '' });
  if (name === '') throw new Error('A response schema has no .meta({ id })');
  return { schema, name };
}

/**
 * Renders schemas as components in one conversion, so a schema they share with an `id` is one
 * component they all refer to. `io` picks the side of transforms and defaults.
 */
function renderComponents(
  named: readonly NamedSchema[],
  io: 'input' | 'output',
): Record<string, JsonObject> {
  const registry = z.registry<{ id: string }>();
  const schemasByName = new Map<string, z.ZodType>();
  for (const entry of named) {
    const name = componentName(entry);
    if ((schemasByName.get(name) ?? entry.schema) !== entry.schema) {
      throw new Error(`Two schemas are named ${name} in the OpenAPI document`);
    }
    schemasByName.set(name, entry.schema);
    registry.add(entry.schema, { id: name });
  }
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    uri: (id) => `${SCHEMA_REF}${id}`,
    override: describeRefinements,
  });
  const rendered = rewriteSharedRefs(JSON.parse(JSON.stringify(schemas)) as JsonObject);
  const components: Record<string, JsonObject> = {};
  const shared = (rendered.__shared as JsonObject | undefined)?.$defs as JsonObject | undefined;
  for (const [name, schema] of [
    ...Object.entries(rendered).filter(([name]) => name !== '__shared'),
    ...Object.entries(shared ?? {}),
  ]) {
    if (!COMPONENT_NAME.test(name) || Object.hasOwn(components, name)) {
      throw new Error(`${name} is not a valid component name, or names two schemas`);
    }
    components[name] = withoutRootKeywords(schema as JsonObject);
  }
  for (const entry of named) {
    const component = components[componentName(entry)];
    if (component !== undefined && entry.description !== undefined) {
      component.description ??= entry.description;
    }
  }
  return components;
}

/** `$schema`, `$id` (a fragment URI, which 2020-12 forbids) and zod's `id` tag are not components'. */
function withoutRootKeywords(schema: JsonObject): JsonObject {
  const { $schema: _schema, $id: _id, id: _zodId, ...rest } = schema;
  return rest;
}

function rewriteSharedRefs<T extends JsonValue>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => rewriteSharedRefs(item)) as T;
  if (value === null || typeof value !== 'object') return value;
  const rewritten: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    rewritten[key] =
      key === '$ref' && typeof item === 'string' && item.startsWith(SHARED_DEFS_REF)
        ? `${SCHEMA_REF}${decodePointerSegment(item.slice(SHARED_DEFS_REF.length))}`
        : rewriteSharedRefs(item);
  }
  return rewritten as T;
}

const decodePointerSegment = (segment: string) =>
  segment.replaceAll('~1', '/').replaceAll('~0', '~');

function mergeComponents(
  ...groups: readonly Record<string, JsonObject>[]
): Record<string, JsonObject> {
  const merged: Record<string, JsonObject> = {};
  for (const group of groups) {
    for (const [name, schema] of Object.entries(group)) {
      const existing = merged[name];
      if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(schema)) {
        // A schema whose request and response renderings differ needs two names.
        throw new Error(`Component ${name} differs between its renderings`);
      }
      merged[name] = schema;
    }
  }
  return merged;
}

/**
 * A `oneOf` of named components, with a discriminator when every member fixes the property to
 * values no other member takes (OpenAPI allows one only then).
 */
function discriminatedOneOf(
  propertyName: string,
  members: readonly string[],
  components: Readonly<Record<string, JsonObject>>,
  description: string,
): JsonObject {
  const mapping: JsonObject = {};
  let discriminates = true;
  for (const member of members) {
    const schema = components[member];
    const property = (schema?.properties as JsonObject | undefined)?.[propertyName] as
      | JsonObject
      | undefined;
    const required = Array.isArray(schema?.required) && schema.required.includes(propertyName);
    const values = Array.isArray(property?.enum)
      ? property.enum
      : property?.const !== undefined
        ? [property.const]
        : [];
    if (!required || values.length === 0) discriminates = false;
    for (const value of values) {
      if (typeof value !== 'string' || Object.hasOwn(mapping, value)) discriminates = false;
      else mapping[value] = `${SCHEMA_REF}${member}`;
    }
  }
  return {
    description,
    oneOf: members.map(ref),
    ...(discriminates ? { discriminator: { propertyName, mapping } } : {}),
  };
}

const jsonContent = (schema: JsonObject): JsonObject => ({
  'application/json': { schema },
});

const errorResponse = (description: string): JsonObject => ({
  description,
  content: jsonContent(ref('ErrorResponse')),
});

const INTERNAL_ERROR = errorResponse('Unexpected failure; the body says only "Internal error".');
const TOO_LARGE = errorResponse('The body exceeds 64 KiB (`body_too_large`).');

const securitySchemes: Record<string, JsonObject> = {
  [SECURITY_SCHEMES.webhookId]: {
    type: 'apiKey',
    in: 'header',
    name: 'webhook-id',
    description:
      'Standard Webhooks (standardwebhooks.com) message id. Required with `webhook-timestamp` and `webhook-signature`: the three headers authenticate a request together.',
  },
  [SECURITY_SCHEMES.webhookTimestamp]: {
    type: 'apiKey',
    in: 'header',
    name: 'webhook-timestamp',
    description:
      'Standard Webhooks timestamp, in Unix seconds; it must be within 5 minutes of the server clock.',
  },
  [SECURITY_SCHEMES.webhookSignature]: {
    type: 'apiKey',
    in: 'header',
    name: 'webhook-signature',
    description:
      'Standard Webhooks signature: `v1,` + base64 HMAC-SHA256, under the shared secret, of `{webhook-id}.{webhook-timestamp}.{body}` over the exact body bytes (an empty body for GET). Several space-separated signatures are accepted during a secret rotation.',
  },
  [SECURITY_SCHEMES.serviceNow]: {
    type: 'http',
    scheme: 'basic',
    description: "HTTP Basic, as ServiceNow's outbound REST message sends it.",
  },
  [SECURITY_SCHEMES.sentinel]: {
    type: 'apiKey',
    in: 'header',
    name: 'x-api-key',
    description: "The API key a Microsoft Sentinel playbook's HTTP action sends.",
  },
  [SECURITY_SCHEMES.pagerDuty]: {
    type: 'apiKey',
    in: 'header',
    name: 'x-pagerduty-signature',
    description:
      'PagerDuty v3 webhook signature: `v1=` + hex HMAC-SHA256 of the body under the subscription secret (several, comma-separated, during a rotation).',
  },
};

const STANDARD_WEBHOOKS_SECURITY: readonly JsonObject[] = [
  {
    [SECURITY_SCHEMES.webhookId]: [],
    [SECURITY_SCHEMES.webhookTimestamp]: [],
    [SECURITY_SCHEMES.webhookSignature]: [],
  },
];

function actionsPaths(): Record<string, JsonObject> {
  const actionIdPattern = (z.toJSONSchema(ActionIdSchema) as { pattern?: string }).pattern;
  if (actionIdPattern === undefined) throw new Error('ActionIdSchema has no pattern');
  const unsigned = errorResponse(
    'Missing or invalid Standard Webhooks signature (`invalid_signature`).',
  );
  const actionIdParameter: JsonObject = {
    name: 'actionId',
    in: 'path',
    required: true,
    description: 'The id POST /v1/actions (or a source endpoint) returned.',
    schema: { type: 'string', pattern: actionIdPattern },
  };
  // API Gateway answers a denied address itself, with its own body, before the function runs.
  const ipDenied: JsonObject = {
    description:
      "The caller's source IP address is not in the `api` allowlist (API Gateway's own answer, not an ErrorResponse).",
  };
  const decide = (decision: 'approve' | 'reject'): JsonObject => ({
    post: {
      operationId: `${decision}Action`,
      tags: ['actions'],
      summary:
        decision === 'approve'
          ? 'Approve an action held for approval'
          : 'Reject an action held for approval',
      description:
        decision === 'approve'
          ? 'Resumes the workflow waiting on the approval, which then acts. The signature authenticates the calling tool; `by` names the person, who must not be the requester. Decided once: the same approval by the same approver, repeated, is answered from the action as it stands then: 200 while the approved action is running (the approval is resent if the workflow may not have received it), 409 `expired` if the wait ended before the approval reached it, 409 `not_awaiting_approval` once the action has ended otherwise.'
          : 'Ends the workflow waiting on the approval without acting; the action becomes `rejected`. The requester may reject their own action. Decided once: the same rejection by the same approver, repeated, is answered from the action as it stands then: 200 while it is `rejected` (the rejection is resent if the workflow may not have received it), 409 `expired` if the wait ended before the rejection reached it.',
      security: [...STANDARD_WEBHOOKS_SECURITY],
      parameters: [actionIdParameter],
      requestBody: { required: true, content: jsonContent(ref('ApprovalRequest')) },
      responses: {
        '200': {
          description:
            decision === 'approve'
              ? 'Approved: the workflow resumes.'
              : 'Rejected: nothing is done.',
          content: jsonContent(ref('ApprovalDecision')),
        },
        '400': errorResponse(
          'Not an action id, a body that is not JSON (`invalid_json`) or not a valid decision (`invalid_request`, every invalid field named).',
        ),
        '401': unsigned,
        '403':
          decision === 'approve'
            ? errorResponse(
                "The approver is the requester (`self_approval`), or the action names no requester and can only be rejected (`requester_unknown`). A caller outside the `api` allowlist gets API Gateway's own 403.",
              )
            : ipDenied,
        '404': errorResponse('No such action (`not_found`).'),
        '409': errorResponse(
          'The action is not awaiting approval, was decided meanwhile, or (a repeat) has ended since (`not_awaiting_approval`); or the approval window closed before the decision reached the workflow (`expired`: nothing was done).',
        ),
        '413': TOO_LARGE,
        '500': INTERNAL_ERROR,
      },
    },
  });
  return {
    '/v1/actions': {
      post: {
        operationId: 'createAction',
        tags: ['actions'],
        summary: 'Start an action',
        description:
          'Validates the request, records the action and starts its workflow. The target is acted on only after the guards in the workflow allow it; `dryRun` plans without changing anything.',
        security: [...STANDARD_WEBHOOKS_SECURITY],
        requestBody: { required: true, content: jsonContent(ref('ActionRequest')) },
        responses: {
          '202': {
            description: 'Accepted: the workflow runs; poll `statusUrl`.',
            content: jsonContent(ref('ActionAccepted')),
          },
          '400': errorResponse(
            'The body is not JSON (`invalid_json`) or not a valid request (`invalid_request`, every invalid field named).',
          ),
          '401': unsigned,
          '403': ipDenied,
          '413': TOO_LARGE,
          '500': INTERNAL_ERROR,
        },
      },
    },
    '/v1/actions/{actionId}': {
      get: {
        operationId: 'getAction',
        tags: ['actions'],
        summary: 'Read an action and its per-target results',
        description: 'Signed like any request, over an empty body.',
        security: [...STANDARD_WEBHOOKS_SECURITY],
        parameters: [actionIdParameter],
        responses: {
          '200': { description: 'The action.', content: jsonContent(ref('ActionView')) },
          '400': errorResponse('Not an action id (`invalid_request`).'),
          '401': unsigned,
          '404': errorResponse('No such action (`not_found`); records expire after retention.'),
          '500': INTERNAL_ERROR,
        },
      },
    },
    '/v1/actions/{actionId}/approve': decide('approve'),
    '/v1/actions/{actionId}/reject': decide('reject'),
  };
}

function sourcePaths(): Record<string, JsonObject> {
  const paths: Record<string, JsonObject> = {};
  for (const source of SOURCES) {
    const endpoint = SOURCE_ENDPOINTS[source];
    paths[endpoint.path] = {
      post: {
        operationId: `receive${endpoint.component.replace(/Payload$/, '')}Webhook`,
        tags: ['webhooks'],
        summary: endpoint.summary,
        description: endpoint.description,
        security: [...endpoint.security],
        ...(endpoint.parameters ? { parameters: [...endpoint.parameters] } : {}),
        requestBody: { required: true, content: jsonContent(ref(endpoint.component)) },
        responses: {
          '202': {
            description:
              'Authenticated and recorded: either the actions it started (a repeated delivery answers with the same actions, `duplicate: true`) or why it asks for nothing.',
            content: jsonContent(ref('WebhookResponse')),
          },
          '400': errorResponse(
            'The payload is not JSON or not in the expected shape (`invalid_payload`), or a ServiceNow request is not a valid action (`invalid_request`); every invalid field named.',
          ),
          '401': errorResponse(
            'The delivery could not be authenticated (`unauthorized`); the reason is logged, not told.',
          ),
          '403': errorResponse("The caller's source IP address is not allowed for this source."),
          '404': errorResponse('This source is not configured (`not_found`).'),
          '409': errorResponse(
            'The same delivery is still being accepted (`in_progress`: retry shortly), or its id was already used for a different request (`conflict`).',
          ),
          '413': TOO_LARGE,
          '500': INTERNAL_ERROR,
        },
      },
    };
  }
  return paths;
}

const OPENAPI_PATH: JsonObject = {
  get: {
    operationId: 'getOpenApiDocument',
    tags: ['meta'],
    summary: 'This document',
    security: [],
    responses: {
      '200': {
        description: 'The OpenAPI 3.1 document of this API.',
        content: jsonContent({ type: 'object' }),
      },
    },
  },
};

const sortedByName = <T>(record: Readonly<Record<string, T>>): Record<string, T> =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * The whole document. Deterministic: the same schemas give the same JSON, key order included, so
 * a committed copy can be compared with a fresh one.
 */
export function buildOpenApiDocument(input: OpenApiInput): OpenApiDocument {
  const variants = ACTION_REQUEST_VARIANTS.map((schema): NamedSchema => {
    const named = REQUEST_VARIANT_COMPONENTS.get(schema);
    if (named === undefined) throw new Error('An action request variant has no component name');
    return { schema, name: named.id, description: named.description };
  });
  const payloads = SOURCES.map(
    (source): NamedSchema => ({
      schema: input.sourcePayloads[source],
      name: SOURCE_ENDPOINTS[source].component,
      description: `The body ${SOURCE_ENDPOINTS[source].path} accepts.`,
    }),
  );
  const approvalRequest: NamedSchema = {
    schema: ApprovalRequestSchema,
    name: 'ApprovalRequest',
    description:
      'Who decides (`POST /v1/actions/{actionId}/approve` and `/reject`): `by` names the person, `comment` says why.',
  };
  const requests = renderComponents([...variants, ...payloads, approvalRequest], 'input');
  const responses = renderComponents(RESPONSE_SCHEMAS.map(ownId), 'output');
  const rendered = mergeComponents(requests, responses);
  const actionRequest = discriminatedOneOf(
    'action',
    variants.map(componentName),
    rendered,
    'A request to act on a target (`POST /v1/actions`); `action` decides the shape of `target` and `options`.',
  );
  const webhookResponse = discriminatedOneOf(
    'status',
    [WebhookAcceptedSchema, WebhookIgnoredSchema].map((schema) => ownId(schema).name),
    rendered,
    'What a source endpoint did with a delivery.',
  );
  const schemas = mergeComponents(rendered, {
    ActionRequest: actionRequest,
    WebhookResponse: webhookResponse,
  });
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: JSON_SCHEMA_DIALECT,
    info: {
      title: 'Citrix Response',
      version: input.version,
      description:
        'Incident containment for Citrix: signed requests and alerts from ITSM and SIEM tools start workflows that act on Citrix DaaS sessions, Endpoint Management devices and Citrix Cloud administrators. Every error body is an ErrorResponse.',
    },
    ...(input.serverUrl === undefined ? {} : { servers: [{ url: input.serverUrl }] }),
    tags: [
      { name: 'actions', description: 'Start actions and read their results.' },
      { name: 'webhooks', description: 'Alerts and requests from source tools.' },
      { name: 'meta', description: 'About this API.' },
    ],
    paths: { ...actionsPaths(), ...sourcePaths(), '/v1/openapi.json': OPENAPI_PATH },
    components: { schemas: sortedByName(schemas), securitySchemes },
  };
}
