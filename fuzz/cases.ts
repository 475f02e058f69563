import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { AUTH_VARIANTS, type AuthVariant, FUZZ_PEOPLE, type FuzzPerson } from './credentials.ts';
import { malformedBody, unusualHeaders, unusualId, unusualText } from './inputs.ts';

/** Every route the fuzz drives: each source, and the people's request, approve and reject. */
export const FUZZ_ROUTES = [
  'splunk',
  'sentinel',
  'pagerduty',
  'servicenow',
  'standard',
  'actions',
  'approve',
  'reject',
] as const;
export type FuzzRoute = (typeof FUZZ_ROUTES)[number];
export type SourceRoute = Exclude<FuzzRoute, 'actions' | 'approve' | 'reject'>;

/**
 * `unauthenticated`: a wrong or missing credential, any body. `malformed`: the right credential
 * and a body no route takes. Neither may ever start anything or reach Citrix. `plausible`: the
 * right credential and a request shaped like the real thing, with unusual ids and text: it may be
 * accepted (and then runs against the simulator) or refused, but never answered 5xx.
 */
export type Family = 'unauthenticated' | 'malformed' | 'plausible';

/** One generated request, before it is signed (signatures carry the time they are sent). */
export interface FuzzCase {
  readonly route: FuzzRoute;
  readonly family: Family;
  readonly auth: AuthVariant;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Standard Webhooks' message id; people's routes: the Idempotency-Key, when sent. */
  readonly messageId: string;
  /** Who signs a people's route. */
  readonly person: FuzzPerson;
  /** Approve and reject: an action waiting for approval, or this (odd) action id. */
  readonly actionId: 'pending' | string;
}

const sample = (name: string): Record<string, unknown> =>
  JSON.parse(
    readFileSync(new URL(`../docs/sources/samples/${name}.json`, import.meta.url), 'utf8'),
  ) as Record<string, unknown>;

const hex = (length: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });
const deliveryId = fc.oneof({ weight: 4, arbitrary: hex(24) }, { weight: 1, arbitrary: unusualId });
/** One user, or a Splunk multivalue field of several. */
const users = fc.oneof(unusualId, fc.array(unusualId, { minLength: 2, maxLength: 25 }));
const ACTIONS = [
  'session.disconnect',
  'session.logoff',
  'device.selectiveWipe',
  'device.wipe',
  'device.deployPolicy',
  'admin.revoke',
  'admin.deleteInvitation',
  'runbook.run',
  'no.such.action',
] as const;
/** A target: the kinds the actions take, with unusual values, or keys no target has. */
const target = fc.oneof(
  { weight: 6, arbitrary: fc.record({ user: unusualId }) },
  { weight: 1, arbitrary: fc.record({ users: fc.array(unusualId, { maxLength: 30 }) }) },
  { weight: 1, arbitrary: fc.record({ admin: unusualId }) },
  { weight: 1, arbitrary: fc.record({ email: unusualId }) },
  { weight: 1, arbitrary: fc.record({ machine: unusualId, clientAddress: unusualId }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      JSON.parse('{"user":"bob@example.com","__proto__":{"user":"alice@example.com"}}'),
      { runbook: 'compromised-user' },
      { definition: { name: 'x', steps: [] } },
      { user: 'bob@example.com', constructor: { prototype: {} } },
    ),
  },
);

const splunkBody = fc
  .record({
    sid: deliveryId,
    search_name: fc.constantFrom(
      'Impossible travel from an unusual country',
      'Password spray: accounts signed in',
      'Device reported lost',
      'Disk full',
    ),
    user: users,
    base: fc.constantFrom('splunk', 'splunk-users'),
  })
  .map(({ sid, search_name, user, base }) => {
    const body = sample(base);
    return { ...body, sid, search_name, result: { ...(body.result as object), user } };
  });

const sentinelBody = fc
  .record({
    name: deliveryId,
    upns: fc.array(unusualId, { minLength: 1, maxLength: 7 }),
    host: unusualId,
    address: unusualId,
    base: fc.constantFrom('sentinel', 'sentinel-host'),
  })
  .map(({ name, upns, host, address, base }) => {
    const body = sample(base) as { object: { properties: Record<string, unknown> } };
    body.object.properties.relatedEntities = [
      ...upns.map((upn) => ({ kind: 'Account', properties: { userPrincipalName: upn } })),
      { kind: 'Host', properties: { hostName: host, ntDomain: 'EXAMPLE', netBiosName: host } },
      { kind: 'Ip', properties: { address } },
    ];
    return { ...body, object: { ...body.object, id: name, name } };
  });

const pagerDutyBody = fc
  .record({
    id: deliveryId,
    user: unusualId,
    eventType: fc.oneof(
      { weight: 3, arbitrary: fc.constant('incident.triggered') },
      { weight: 1, arbitrary: fc.constantFrom('incident.acknowledged', 'pagey.ping') },
    ),
  })
  .map(({ id, user, eventType }) => {
    const body = sample('pagerduty') as { event: Record<string, unknown> };
    return {
      event: {
        ...body.event,
        id,
        event_type: eventType,
        data: { ...(body.event.data as object), title: `Compromised account: ${user}` },
      },
    };
  });

const mostlyPlainText = fc.oneof(
  { weight: 3, arbitrary: fc.lorem({ maxCount: 6 }) },
  { weight: 1, arbitrary: unusualText },
);
const serviceNowBody = fc
  .record({
    sys_id: fc.oneof({ weight: 5, arbitrary: hex(32) }, { weight: 1, arbitrary: unusualId }),
    number: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('INC0010042', 'INC0099999') },
      { weight: 1, arbitrary: unusualId },
    ),
    action: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom('session.logoff', 'session.disconnect') },
      { weight: 1, arbitrary: fc.constantFrom(...ACTIONS) },
    ),
    target: fc.oneof(
      { weight: 3, arbitrary: fc.record({ user: unusualId }) },
      { weight: 1, arbitrary: target },
    ),
    reason: fc.option(mostlyPlainText, { nil: undefined }),
    requested_by: fc.option(mostlyPlainText, { nil: undefined }),
    short_description: fc.option(mostlyPlainText, { nil: undefined }),
  })
  .map((fields) => ({ ...sample('servicenow'), ...fields }));

/**
 * An action request, as POST /v1/actions and Standard Webhooks take it: mostly a dry run the
 * source may ask for, on an unusual id; sometimes with every optional field, each odd.
 */
const plainRequest = fc.record({
  action: fc.constantFrom('session.disconnect', 'session.logoff', 'device.selectiveWipe'),
  target: fc.record({ user: unusualId }),
  reason: fc.lorem({ maxCount: 6 }).map((text) => `Fuzz: ${text}`),
  dryRun: fc.oneof(
    { weight: 4, arbitrary: fc.constant(true) },
    { weight: 1, arbitrary: fc.boolean() },
  ),
});
const wildRequest = fc.record(
  {
    action: fc.constantFrom(...ACTIONS),
    target,
    reason: unusualText,
    dryRun: fc.oneof(
      { weight: 4, arbitrary: fc.constant(true) },
      { weight: 1, arbitrary: fc.boolean() },
    ),
    ticket: unusualText,
    urgency: fc.constantFrom('normal', 'immediate', 'now'),
    requestedBy: unusualText,
    options: fc.record({ mode: fc.constantFrom('strip', 'delete', 'nuke') }),
    callback: fc.constantFrom('soc', 'Soc', '../x'),
  },
  { requiredKeys: ['action', 'target', 'reason'] },
);
const actionRequest = fc.oneof(
  { weight: 3, arbitrary: plainRequest },
  { weight: 2, arbitrary: wildRequest },
);
/** People never name a requester: a body that does is refused, so it is rarely sent. */
const personRequest = fc
  .tuple(actionRequest, fc.integer({ min: 0, max: 9 }))
  .map(([request, draw]) => {
    if (draw === 0 || !('requestedBy' in request)) return request;
    const { requestedBy: _, ...rest } = request;
    return rest;
  });
const decisionBody = fc.oneof(
  fc.record({ comment: fc.lorem({ maxCount: 6 }) }, { requiredKeys: [] }),
  fc.record({ comment: unusualText }, { requiredKeys: [] }),
);

const plausibleBody: Record<FuzzRoute, fc.Arbitrary<unknown>> = {
  splunk: splunkBody,
  sentinel: sentinelBody,
  pagerduty: pagerDutyBody,
  servicenow: serviceNowBody,
  standard: actionRequest,
  actions: personRequest,
  approve: decisionBody,
  reject: decisionBody,
};

/**
 * The routes whose credential does not cover the body (Splunk's URL token, Sentinel's API key,
 * ServiceNow's Basic credentials): a body changed on the way is still authentic there.
 */
const BODY_NOT_SIGNED: readonly FuzzRoute[] = ['splunk', 'sentinel', 'servicenow'];
const wrongAuth = (route: FuzzRoute) =>
  fc.constantFrom(
    ...AUTH_VARIANTS.filter(
      (variant) =>
        variant !== 'valid' && !(BODY_NOT_SIGNED.includes(route) && variant === 'tampered'),
    ),
  );
const person = fc.constantFrom(...(Object.keys(FUZZ_PEOPLE) as FuzzPerson[]));
const actionIdOf = fc.oneof(
  { weight: 6, arbitrary: fc.constant('pending') },
  { weight: 1, arbitrary: hex(32).map((id) => `act_${id}`) },
  { weight: 1, arbitrary: unusualId },
);

/** The cases of one route, in proportions: 30% unauthenticated, 30% malformed, 40% plausible. */
export function casesFor(route: FuzzRoute): fc.Arbitrary<FuzzCase> {
  const common = {
    headers: unusualHeaders,
    messageId: fc.oneof(
      { weight: 5, arbitrary: hex(20).map((id) => `msg_${id}`) },
      { weight: 1, arbitrary: unusualId },
    ),
    // Mostly the right person for the route: the approver decides, soc.lead asks.
    person: fc.oneof(
      {
        weight: 4,
        arbitrary: fc.constant<FuzzPerson>(
          route === 'approve' || route === 'reject'
            ? 'it.oncall@example.com'
            : 'soc.lead@example.com',
        ),
      },
      { weight: 1, arbitrary: person },
    ),
    actionId: actionIdOf,
  };
  const json = (body: fc.Arbitrary<unknown>) => body.map((value) => JSON.stringify(value));
  return fc
    .oneof(
      {
        weight: 3,
        arbitrary: fc.record({
          ...common,
          family: fc.constant<Family>('unauthenticated'),
          auth: wrongAuth(route),
          body: fc.oneof(malformedBody, json(plausibleBody[route])),
        }),
      },
      {
        weight: 3,
        arbitrary: fc.record({
          ...common,
          family: fc.constant<Family>('malformed'),
          auth: fc.constant<AuthVariant>('valid'),
          body: malformedBody,
        }),
      },
      {
        weight: 4,
        arbitrary: fc.record({
          ...common,
          family: fc.constant<Family>('plausible'),
          auth: fc.constant<AuthVariant>('valid'),
          body: json(plausibleBody[route]),
        }),
      },
    )
    .map((generated) => ({ ...generated, route }));
}
