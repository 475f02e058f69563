import * as z from 'zod';
import { ACTION_TYPES } from '../actions/schema.ts';
import type { SourceEvent, SourceName } from './types.ts';

/** One invalid field of a source payload: its dotted path and what is wrong, never its value. */
export interface SourcePayloadFieldError {
  readonly field: string;
  readonly message: string;
}

/** A source payload that is not JSON or not in the shape this project reads; names every field. */
export class SourcePayloadError extends Error {
  override name = 'SourcePayloadError';
  readonly source: SourceName;
  readonly fields: readonly SourcePayloadFieldError[];

  constructor(source: SourceName, fields: readonly SourcePayloadFieldError[]) {
    const names = [...new Set(fields.map((field) => field.field))].join(', ');
    super(`Invalid ${source} payload: ${names}`);
    this.source = source;
    this.fields = fields;
  }
}

// Schemas below hold no transforms, so `z.toJSONSchema` can render every one of them for the
// OpenAPI document; normalisation happens after validation, in code.

const requiredString = (what = 'a string') =>
  z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : `must be ${what}`) })
    .min(1, 'must not be empty');
const optionalString = (what = 'a string') => z.string({ error: `must be ${what}` }).optional();
const object = (what = 'an object') =>
  z.looseObject(
    {},
    { error: (issue) => (issue.input === undefined ? 'is required' : `must be ${what}`) },
  );
/** Ids become idempotency keys: bounded, and free of control characters. */
const sourceId = (what: string) =>
  requiredString(what)
    .max(512, 'must be at most 512 characters')
    .regex(/^[^\p{Cc}]+$/u, 'must not contain control characters');

// ---------------------------------------------------------------------------------------------
// Splunk: the webhook alert action's fixed body (Splunk docs, "Use a webhook alert action").

const SplunkScalar = z.union([z.string(), z.number(), z.null()]);
const SplunkValue = z.union([SplunkScalar, z.array(SplunkScalar)], {
  error: 'must be a string, a number, null or an array of them',
});

export const SplunkPayloadSchema = z
  .looseObject({
    /** The first row of the triggering search's results; multivalue fields are arrays. */
    result: z.record(z.string(), SplunkValue, {
      error: (issue) => (issue.input === undefined ? 'is required' : 'must be an object'),
    }),
    sid: sourceId('a Splunk search id'),
    search_name: requiredString('the name of the alert'),
    results_link: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    app: optionalString(),
    owner: optionalString(),
  })
  .meta({ title: 'SplunkWebhookAlert' });
export type SplunkPayload = z.infer<typeof SplunkPayloadSchema>;

// ---------------------------------------------------------------------------------------------
// Microsoft Sentinel: what a playbook's HTTP action posts after the "Microsoft Sentinel incident"
// trigger. Entities are ARM entity resources `{kind, properties}`; only the properties read below
// are validated, the rest pass through.

export const SENTINEL_SEVERITIES = ['High', 'Medium', 'Low', 'Informational'] as const;

const SentinelEntitySchema = z.looseObject({
  kind: optionalString(),
  properties: z
    .looseObject(
      {
        accountName: optionalString(),
        upnSuffix: optionalString(),
        aadUserId: optionalString(),
        userPrincipalName: optionalString(),
        additionalData: z
          .looseObject({ UserPrincipalName: optionalString() }, { error: 'must be an object' })
          .optional(),
        /** Account: the NetBIOS domain; Host: the NT domain it belongs to. */
        ntDomain: optionalString(),
        hostName: optionalString(),
        /** Host: the pre-Windows 2000 name, the one Citrix shows as `DOMAIN\NAME`. */
        netBiosName: optionalString(),
        dnsDomain: optionalString(),
        /** Ip: the address. */
        address: optionalString(),
      },
      { error: 'must be an object' },
    )
    .optional(),
});
const SentinelEntitiesSchema = z.array(SentinelEntitySchema, { error: 'must be an array' });

/** The incident's `properties`, as the trigger delivers them under `object.properties`. */
export const SentinelIncidentPropertiesSchema = z.looseObject({
  title: requiredString('the incident title'),
  severity: z.enum(SENTINEL_SEVERITIES, {
    error: (issue) =>
      issue.input === undefined
        ? 'is required'
        : `must be one of ${SENTINEL_SEVERITIES.join(', ')}`,
  }),
  incidentNumber: z
    .number({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a number') })
    .int('must be a whole number')
    .nonnegative('must not be negative'),
  status: z.string({ error: 'must be a string' }).nullish(),
  description: z.string({ error: 'must be a string' }).nullish(),
  incidentUrl: z.string({ error: 'must be a string' }).nullish(),
  /** The trigger's name for the incident's entities. */
  relatedEntities: SentinelEntitiesSchema.optional(),
  /** The designer's label for the same list, for bodies written by hand. */
  Entities: SentinelEntitiesSchema.optional(),
});

/** The whole trigger body: `@{triggerBody()}`. */
export const SentinelTriggerBodySchema = z
  .looseObject({
    object: z.looseObject(
      {
        id: sourceId('the incident ARM id').optional(),
        name: sourceId('the incident name').optional(),
        properties: SentinelIncidentPropertiesSchema,
      },
      { error: 'must be an object' },
    ),
  })
  .meta({ title: 'SentinelIncidentTriggerBody' });

/** Only the incident's properties: `@{triggerBody()?['object']?['properties']}`, optionally with `id`. */
export const SentinelIncidentBodySchema = SentinelIncidentPropertiesSchema.extend({
  id: sourceId('the incident ARM id').optional(),
  name: sourceId('the incident name').optional(),
}).meta({ title: 'SentinelIncidentProperties' });

export const SentinelPayloadSchema = z.union([
  SentinelTriggerBodySchema,
  SentinelIncidentBodySchema,
]);

// ---------------------------------------------------------------------------------------------
// ServiceNow: a body this project defines (docs/sources/servicenow.md). The target is checked
// against the action later, by the action request schema.

export const ServiceNowPayloadSchema = z
  .looseObject({
    sys_id: z
      .string({
        error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string'),
      })
      .regex(/^[0-9a-f]{32}$/, 'must be a ServiceNow sys_id (32 lowercase hex characters)'),
    number: z
      .string({
        error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string'),
      })
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/, 'must be a ticket number such as INC0010001'),
    action: z.enum(ACTION_TYPES, {
      error: (issue) =>
        issue.input === undefined ? 'is required' : `must be one of ${ACTION_TYPES.join(', ')}`,
    }),
    target: object(),
    options: object().optional(),
    reason: z
      .string({ error: 'must be a string' })
      .max(1000, 'must be at most 1000 characters')
      .optional(),
    short_description: optionalString(),
    requested_by: z
      .string({ error: 'must be a string' })
      .max(256, 'must be at most 256 characters')
      .optional(),
    /** A configured signed-callback destination, by name, told when the action ends. */
    callback: z
      .string({ error: 'must be a string' })
      .regex(/^[a-z0-9-]{1,40}$/, 'must be the name of a configured callback destination')
      .optional(),
  })
  .meta({ title: 'ServiceNowContainmentRequest' });
export type ServiceNowPayload = z.infer<typeof ServiceNowPayloadSchema>;

// ---------------------------------------------------------------------------------------------
// PagerDuty: a v3 webhook (developer.pagerduty.com, "Webhooks Overview"). `data` differs by event
// type: an incident, a note, a responder, a service... and the `pagey.ping` test event's
// `{message, type: 'ping'}`, which has no id.

const PagerDutyReference = z.looseObject(
  { id: requiredString(), summary: optionalString() },
  { error: 'must be an object or null' },
);

export const PagerDutyPayloadSchema = z
  .looseObject({
    event: z.looseObject(
      {
        id: sourceId('the event id'),
        event_type: requiredString('an event type such as incident.triggered'),
        resource_type: requiredString(),
        occurred_at: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }),
        agent: object('an object or null').nullable().optional(),
        client: object('an object or null').nullable().optional(),
        data: z.looseObject(
          {
            id: requiredString().optional(),
            type: requiredString(),
            html_url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
            title: optionalString(),
            number: z
              .number({ error: 'must be a number' })
              .int('must be a whole number')
              .optional(),
            status: optionalString(),
            urgency: optionalString(),
            priority: PagerDutyReference.nullable().optional(),
            service: PagerDutyReference.nullable().optional(),
            assignees: z
              .array(z.looseObject({ id: optionalString(), summary: optionalString() }), {
                error: 'must be an array',
              })
              .optional(),
          },
          { error: (issue) => (issue.input === undefined ? 'is required' : 'must be an object') },
        ),
      },
      { error: (issue) => (issue.input === undefined ? 'is required' : 'must be an object') },
    ),
  })
  .meta({ title: 'PagerDutyV3Webhook' });
export type PagerDutyPayload = z.infer<typeof PagerDutyPayloadSchema>;

// ---------------------------------------------------------------------------------------------
// Standard Webhooks: any tool holding the shared webhook secret signs an action request, the body
// people send to POST /v1/actions, with `requestedBy` shown as who the tool says asked (never
// trusted). Checked here as far as the routing needs; the action request schema checks the rest.

export const StandardPayloadSchema = z
  .looseObject({
    action: z.enum(ACTION_TYPES, {
      error: (issue) =>
        issue.input === undefined ? 'is required' : `must be one of ${ACTION_TYPES.join(', ')}`,
    }),
    target: object(),
    requestedBy: z
      .string({ error: 'must be a string' })
      .max(200, 'must be at most 200 characters')
      .optional(),
  })
  .meta({
    title: 'StandardWebhooksActionRequest',
    description:
      "An action request, as POST /v1/actions takes it (ActionRequest: `action`, `target`, `reason`, and the action's own fields), plus `requestedBy`: who the tool says asked, shown with the source's name and never trusted.",
  });
export type StandardPayload = z.infer<typeof StandardPayloadSchema>;

/** The body each source endpoint accepts, for the OpenAPI document. */
export const SOURCE_PAYLOAD_SCHEMAS: Record<SourceName, z.ZodType> = {
  servicenow: ServiceNowPayloadSchema,
  splunk: SplunkPayloadSchema,
  sentinel: SentinelPayloadSchema,
  pagerduty: PagerDutyPayloadSchema,
  standard: StandardPayloadSchema,
};

// ---------------------------------------------------------------------------------------------

/**
 * A Sentinel Account entity, reduced to what containment needs. `user` is the name Citrix finds
 * the user by: the UPN when the entity has one, else `NTDOMAIN\accountName`.
 */
export interface SentinelAccount {
  readonly user?: string;
  readonly upn?: string;
  readonly name?: string;
  readonly upnSuffix?: string;
  readonly ntDomain?: string;
  readonly aadUserId?: string;
}
/**
 * A Sentinel Host entity. `machine` is the name Citrix knows the machine by: `NTDOMAIN\NAME`
 * (`Machine.Name`) when the entity has its NT domain, else the DNS name (`Machine.DnsName`).
 */
export interface SentinelHost {
  readonly machine?: string;
  readonly hostName?: string;
  readonly netBiosName?: string;
  readonly ntDomain?: string;
  readonly dnsDomain?: string;
}
/** A Sentinel Ip entity: `address` is what a session's client address is compared with. */
export interface SentinelIp {
  readonly address?: string;
}

/**
 * Parses and validates a source's body and says what it is about. Throws `SourcePayloadError`
 * naming every invalid field; nothing else, whatever the body. `headers` (lower-case names) give
 * a Standard Webhooks delivery its id.
 */
export function parseSourcePayload(
  source: SourceName,
  rawBody: string,
  headers: Readonly<Record<string, string | undefined>> = {},
): SourceEvent {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    // The parser's message quotes the body; only say that it is not JSON.
    throw new SourcePayloadError(source, [{ field: '(body)', message: 'must be JSON' }]);
  }
  switch (source) {
    case 'splunk':
      return splunkEvent(validate(source, SplunkPayloadSchema, body));
    case 'sentinel':
      return sentinelEvent(body);
    case 'servicenow':
      return serviceNowEvent(validate(source, ServiceNowPayloadSchema, body));
    case 'pagerduty':
      return pagerDutyEvent(validate(source, PagerDutyPayloadSchema, body));
    case 'standard':
      return standardEvent(validate(source, StandardPayloadSchema, body), headers['webhook-id']);
    default: {
      // Every source has its case: a new one without a parser is a type error here.
      const unknown: never = source;
      throw new SourcePayloadError(unknown, [{ field: '(source)', message: 'is not a source' }]);
    }
  }
}

function validate<T>(source: SourceName, schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw new SourcePayloadError(
    source,
    parsed.error.issues.map((issue) => ({
      field: issue.path.map(String).join('.') || '(body)',
      message:
        issue.path.length === 0 && issue.code === 'invalid_type'
          ? 'must be a JSON object'
          : issue.message,
    })),
  );
}

function splunkEvent(payload: SplunkPayload): SourceEvent {
  return {
    source: 'splunk',
    fields: payload,
    deliveryKey: payload.sid,
    title: payload.search_name,
  };
}

function serviceNowEvent(payload: ServiceNowPayload): SourceEvent {
  return {
    source: 'servicenow',
    fields: payload,
    deliveryKey: `${payload.sys_id}:${payload.action}`,
    title: `ServiceNow ${payload.number}`,
    serviceNowIncident: { sysId: payload.sys_id, number: payload.number },
  };
}

function pagerDutyEvent(payload: PagerDutyPayload): SourceEvent {
  const { event } = payload;
  return {
    source: 'pagerduty',
    fields: payload,
    deliveryKey: event.id,
    title: `PagerDuty ${event.event_type}: ${event.data.title ?? event.data.id ?? event.id}`,
  };
}

/** Its `webhook-id` (authenticated with the body) is the delivery: a redelivery repeats it. */
function standardEvent(payload: StandardPayload, webhookId: string | undefined): SourceEvent {
  const id = sourceId('the Standard Webhooks message id').safeParse(webhookId);
  if (!id.success) {
    throw new SourcePayloadError('standard', [
      { field: '(header webhook-id)', message: id.error.issues[0]?.message ?? 'is required' },
    ]);
  }
  return {
    source: 'standard',
    fields: payload,
    deliveryKey: id.data,
    title: `Standard Webhooks request for ${payload.action}`,
  };
}

type SentinelProperties = z.infer<typeof SentinelIncidentPropertiesSchema>;
type SentinelEntity = z.infer<typeof SentinelEntitySchema>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Either the whole trigger body (it has `object`) or the incident's properties alone; `fields` is
 * the incident's properties either way, so routing rules read the same paths.
 */
function sentinelEvent(body: unknown): SourceEvent {
  let properties: SentinelProperties;
  let explicitId: string | undefined;
  if (isObject(body) && 'object' in body) {
    const trigger = validate('sentinel', SentinelTriggerBodySchema, body);
    properties = trigger.object.properties;
    explicitId = trigger.object.id ?? trigger.object.name;
  } else {
    const flat = validate('sentinel', SentinelIncidentBodySchema, body);
    properties = flat;
    explicitId = flat.id ?? flat.name;
  }
  const incidentId =
    explicitId ??
    armIdFromIncidentUrl(properties.incidentUrl) ??
    `incident-${properties.incidentNumber}`;
  const entities = [...(properties.relatedEntities ?? []), ...(properties.Entities ?? [])];
  const fields: Record<string, unknown> = {
    ...properties,
    incidentId,
    incidentNumber: properties.incidentNumber,
    title: properties.title,
    severity: properties.severity,
    ...entityLists(entities),
  };
  if (typeof properties.status === 'string') fields.status = properties.status;
  if (typeof properties.description === 'string') fields.description = properties.description;
  return {
    source: 'sentinel',
    fields,
    deliveryKey: incidentId,
    title: `Sentinel incident ${properties.incidentNumber}: ${properties.title}`,
  };
}

/**
 * The properties alone carry no ARM id, but `incidentUrl` ends in it:
 * `https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident/subscriptions/…`.
 */
function armIdFromIncidentUrl(url: string | null | undefined): string | undefined {
  const marker = '/Incident/subscriptions/';
  const at = url?.indexOf(marker) ?? -1;
  if (url === null || url === undefined || at < 0) return undefined;
  const id = url.slice(at + '/Incident'.length);
  return id.length <= 512 && /^[^\p{Cc}]+$/u.test(id) ? id : undefined;
}

/**
 * The entity kinds routing rules read, each once: the list it becomes in `fields` (`accounts`,
 * `hosts`, `ips`), the entity `kind` it holds (compared case-insensitively) and what is kept of
 * each entity. A rule picks a kind by its path: `accounts[*].user`, `hosts[*].machine`,
 * `ips[*].address`. Entities of other kinds stay in `relatedEntities` as sent.
 */
export const SENTINEL_ENTITY_LISTS = {
  accounts: { kind: 'Account', read: accountOf },
  hosts: { kind: 'Host', read: hostOf },
  ips: { kind: 'Ip', read: ipOf },
} as const satisfies Record<string, { kind: string; read: (entity: SentinelEntity) => object }>;

type EntityLists = {
  -readonly [List in keyof typeof SENTINEL_ENTITY_LISTS]: ReturnType<
    (typeof SENTINEL_ENTITY_LISTS)[List]['read']
  >[];
};

function entityLists(entities: readonly SentinelEntity[]): EntityLists {
  return Object.fromEntries(
    Object.entries(SENTINEL_ENTITY_LISTS).map(([list, { kind, read }]) => [
      list,
      entities
        .filter((entity) => entity.kind?.toLowerCase() === kind.toLowerCase())
        .map((entity) => read(entity)),
    ]),
  ) as EntityLists;
}

function accountOf(entity: SentinelEntity): SentinelAccount {
  const properties = entity.properties ?? {};
  const { accountName, upnSuffix, ntDomain, aadUserId } = properties;
  // A full UPN, when the entity carries one, beats one rebuilt from name and suffix.
  const explicitUpn = [properties.userPrincipalName, properties.additionalData?.UserPrincipalName]
    .concat(accountName)
    .find((value) => value?.includes('@'));
  const upn = explicitUpn ?? (accountName && upnSuffix ? `${accountName}@${upnSuffix}` : undefined);
  // Without a UPN, an on-premises account is `DOMAIN\name`, which DaaS searches by too.
  const domainName = accountName?.includes('\\')
    ? accountName
    : accountName && ntDomain
      ? `${ntDomain}\\${accountName}`
      : undefined;
  return withoutUndefined({
    user: upn ?? domainName,
    upn,
    name: accountName,
    upnSuffix,
    ntDomain,
    aadUserId,
  });
}

/** NetBIOS names are at most 15 characters; a longer host name is not the one Citrix shows. */
const NETBIOS_NAME = /^[^.\\]{1,15}$/;

function hostOf(entity: SentinelEntity): SentinelHost {
  const properties = entity.properties ?? {};
  const { hostName, netBiosName, ntDomain, dnsDomain } = properties;
  const netBios = netBiosName ?? (hostName && NETBIOS_NAME.test(hostName) ? hostName : undefined);
  // `hostName` is documented without its domain, but some providers send the FQDN in it.
  const fqdn = hostName?.includes('.')
    ? hostName
    : hostName && dnsDomain
      ? `${hostName}.${dnsDomain}`
      : undefined;
  // A bare host name is a weak identifier (the same name can exist in two domains): no machine.
  const machine = ntDomain && netBios ? `${ntDomain}\\${netBios}` : fqdn;
  return withoutUndefined({ machine, hostName, netBiosName, ntDomain, dnsDomain });
}

function ipOf(entity: SentinelEntity): SentinelIp {
  return withoutUndefined({ address: entity.properties?.address });
}

/** Fields end up in DynamoDB records and JSON: absent values are left out, not `undefined`. */
function withoutUndefined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(
    Object.entries(value).filter(([, entry]) => entry !== undefined && entry !== ''),
  ) as T;
}
