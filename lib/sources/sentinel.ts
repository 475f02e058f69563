import * as z from 'zod';
import { type AlertRoutingRules, routeSiemEvent } from './alert-routing.ts';
import { configured, constantTimeEqual, credential, header } from './credentials.ts';
import { SourceAuthenticationError } from './errors.ts';
import { optionalString, requiredTitle, sourceId, validatePayload } from './payload-fields.ts';
import type { InboundDelivery, SourceDeclaration, SourceEvent, SourceSecrets } from './types.ts';

/**
 * Microsoft Sentinel: what a playbook's HTTP action posts after the "Microsoft Sentinel incident"
 * trigger. Entities are ARM entity resources `{kind, properties}`; only the properties read below
 * are validated, the rest pass through.
 */

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
  title: requiredTitle('the incident title'),
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
    const trigger = validatePayload('sentinel', SentinelTriggerBodySchema, body);
    properties = trigger.object.properties;
    explicitId = trigger.object.id ?? trigger.object.name;
  } else {
    const flat = validatePayload('sentinel', SentinelIncidentBodySchema, body);
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

/** The `x-api-key` header a Sentinel playbook's HTTP action sends. */
function checkApiKey(delivery: InboundDelivery, secret: SourceSecrets['sentinel']): void {
  if (!configured(secret?.apiKey)) {
    throw new SourceAuthenticationError('No Sentinel API key is configured');
  }
  const apiKey = header(delivery, 'x-api-key');
  if (apiKey === undefined || apiKey === '') {
    throw new SourceAuthenticationError('Missing x-api-key header');
  }
  if (!constantTimeEqual(apiKey, secret.apiKey)) {
    throw new SourceAuthenticationError('Wrong x-api-key');
  }
}

export const SENTINEL: SourceDeclaration<'sentinel', AlertRoutingRules> = {
  title: 'Microsoft Sentinel',
  asks: 'alert',
  secret: {
    arnVariable: 'SENTINEL_SECRET_ARN',
    schema: z.object({ apiKey: credential(24) }),
    variables: { apiKey: 'SENTINEL_API_KEY' },
    fromEnv: (env) => (env.SENTINEL_API_KEY ? { apiKey: env.SENTINEL_API_KEY } : undefined),
  },
  authenticate: checkApiKey,
  payload: SentinelPayloadSchema,
  parse: sentinelEvent,
  route: (rules, event) => routeSiemEvent(rules, 'sentinel', event),
};
