import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSourceRequestsHandler } from '../../functions/source-requests.ts';
import { createSourceWebhooksHandler } from '../../functions/source-webhooks.ts';
import { ActionRequestSchema } from '../../lib/actions/schema.ts';
import { AUDIT_SUMMARY_MAX, type AuditEntry, AuditEntrySchema } from '../../lib/audit/audit-log.ts';
import type { AcceptanceRequest } from '../../lib/sources/intake.ts';
import type { ReceiveDependencies } from '../../lib/sources/receive.ts';
import { loadRoutingRules, type RoutingRules } from '../../lib/sources/routing.ts';
import { REQUESTING_SOURCES, SOURCES } from '../../lib/sources/types.ts';
import { signStandardWebhook } from '../../lib/webhooks/standard-webhooks.ts';
import { LOCAL_DEMO_SOURCE_SECRETS } from '../../local/defaults.ts';
import { apiEvent, lambdaContext } from '../support/signed-request.ts';
import { mutatedJson, sampleOf } from '../support/source-samples.ts';

/**
 * Whatever a source sends, correctly authenticated or not, the endpoint answers 2xx or 4xx and
 * never accepts an action from a body that is not a valid, routed request. Each source is posted
 * to its own function: the alerting sources' or the requesting sources'.
 */
const accepted: AcceptanceRequest[] = [];
/** Every audit entry appended, each checked as the audit log checks it before writing. */
const audited: AuditEntry[] = [];
const dependencies: ReceiveDependencies<RoutingRules> = {
  secrets: { read: async (source) => LOCAL_DEMO_SOURCE_SECRETS[source] as never },
  rules: loadRoutingRules(new URL('../../config/routes.json', import.meta.url)),
  acceptor: async (acceptance, _context, beforeAccept) => {
    accepted.push(acceptance);
    await beforeAccept?.('act_00000000000000000000000000000000');
    return { actionId: 'act_00000000000000000000000000000000', duplicate: false };
  },
  deliveries: { record: async () => undefined },
  audit: {
    // The schema DynamoAuditLog.append enforces: an entry it refuses is a 500 there.
    append: async (entries) => void audited.push(...entries.map((e) => AuditEntrySchema.parse(e))),
  },
};
const alerts = createSourceWebhooksHandler(() => dependencies);
const requests = createSourceRequestsHandler(() => dependencies);

const AUTH: Record<string, (body: string) => Record<string, string>> = {
  servicenow: () => ({
    authorization: `Basic ${Buffer.from(
      `${LOCAL_DEMO_SOURCE_SECRETS.servicenow.username}:${LOCAL_DEMO_SOURCE_SECRETS.servicenow.password}`,
    ).toString('base64')}`,
  }),
  sentinel: () => ({ 'x-api-key': LOCAL_DEMO_SOURCE_SECRETS.sentinel.apiKey }),
  pagerduty: (body) => ({
    'x-pagerduty-signature': `v1=${createHmac(
      'sha256',
      LOCAL_DEMO_SOURCE_SECRETS.pagerduty.signingSecrets[0] ?? '',
    )
      .update(body)
      .digest('hex')}`,
  }),
  splunk: () => ({}),
  standard: (body) =>
    signStandardWebhook(
      LOCAL_DEMO_SOURCE_SECRETS.standard.signingSecret,
      `msg_${createHmac('sha256', 'id').update(body).digest('hex').slice(0, 16)}`,
      new Date(),
      body,
    ),
};

const post = (
  source: string,
  body: string,
  authenticated: boolean,
  headers: Record<string, string> = {},
) => {
  const splunk = source === 'splunk';
  const requesting = (REQUESTING_SOURCES as readonly string[]).includes(source);
  return (requesting ? requests : alerts)(
    apiEvent({
      method: 'POST',
      resource: splunk
        ? '/v1/webhooks/splunk/{token}'
        : requesting
          ? `/v1/webhooks/${source}`
          : '/v1/webhooks/{source}',
      path: splunk ? '/v1/webhooks/splunk/t' : `/v1/webhooks/${source}`,
      body,
      secret: null,
      headers: { ...(authenticated ? (AUTH[source]?.(body) ?? {}) : {}), ...headers },
      ...(requesting
        ? {}
        : {
            pathParameters: splunk
              ? { token: authenticated ? LOCAL_DEMO_SOURCE_SECRETS.splunk.token : 'wrong' }
              : { source },
          }),
    }),
    lambdaContext,
  );
};

const bodies = fc.oneof(
  fc.string(),
  fc.json(),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  // Plausible envelopes with arbitrary contents.
  fc
    .record({ result: fc.jsonValue(), sid: fc.jsonValue(), search_name: fc.jsonValue() })
    .map((value) => JSON.stringify(value)),
  fc
    .record({
      event: fc.record({ id: fc.string(), event_type: fc.string(), data: fc.jsonValue() }),
    })
    .map((value) => JSON.stringify(value)),
);

describe('source endpoints under arbitrary input', () => {
  it.each(SOURCES)('%s never answers 5xx and never accepts an action from junk', async (source) => {
    await fc.assert(
      fc.asyncProperty(bodies, fc.boolean(), async (body, authenticated) => {
        accepted.length = 0;
        const response = await post(source, body, authenticated);
        expect(response.statusCode).toBeGreaterThanOrEqual(200);
        expect(response.statusCode).toBeLessThan(500);
        if (!authenticated) expect(response.statusCode).toBe(401);
        expect(accepted).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });
});

/** What each source may start: the actions its routes (or ServiceNow's allow list) name. */
const ALLOWED_ACTIONS: Record<string, readonly string[]> = {
  splunk: dependencies.rules.routes.splunk.map((route) => route.action),
  sentinel: dependencies.rules.routes.sentinel.map((route) => route.action),
  pagerduty: dependencies.rules.routes.pagerduty.map((route) => route.action),
  servicenow: dependencies.rules.servicenow.allowedActions,
  standard: dependencies.rules.standard.allowedActions,
};

describe('source endpoints under authenticated variations of the documented samples', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each(SOURCES)(
    '%s answers 2xx or 4xx, accepts only valid requests the rules allow, and calls out to nothing',
    async (source) => {
      const fetchSpy = vi.spyOn(globalThis, 'fetch');
      const variations = mutatedJson(
        sampleOf(source),
        fc.oneof(
          fc.constant(undefined),
          fc.jsonValue({ maxDepth: 2 }),
          fc.string(),
          fc.constantFrom('*', '', ' ', 'x'.repeat(2000), null, 0, -1, [], {}, 'soar'),
        ),
        3,
      );
      let acceptedCount = 0;
      await fc.assert(
        fc.asyncProperty(variations, async (body) => {
          accepted.length = 0;
          const response = await post(source, body, true);
          expect(response.statusCode, body.slice(0, 300)).toBeGreaterThanOrEqual(200);
          expect(response.statusCode, `${body.slice(0, 300)}: ${response.body}`).toBeLessThan(500);
          if (response.statusCode !== 202) expect(accepted).toEqual([]);
          for (const acceptance of accepted) {
            expect(ActionRequestSchema.safeParse(acceptance.request).success).toBe(true);
            expect(ALLOWED_ACTIONS[source]).toContain(acceptance.request.action);
            // A runbook runs by name: never a definition a source wrote.
            expect(acceptance.request.target).not.toHaveProperty('definition');
            // A source asks as itself, whoever it says asked.
            expect(acceptance.requester).toMatchObject({ kind: 'source', key: `source:${source}` });
          }
          acceptedCount += accepted.length;
        }),
        { numRuns: 300 },
      );
      // A mutation often leaves what routing reads intact: some variations must be accepted.
      expect(acceptedCount).toBeGreaterThan(0);
      expect(fetchSpy).not.toHaveBeenCalled();
    },
  );
});

/**
 * Text of exactly `length` UTF-16 units, no control characters: lookalikes (Cyrillic), zero-width
 * and bidirectional marks, wide and astral characters, as a hostile or careless sender writes.
 */
const maxText = (length: number) =>
  fc
    .array(
      fc.constantFrom(
        'a',
        'Z',
        '7',
        ' ',
        '-',
        '\u0430',
        '\u0435',
        '\u200b',
        '\u202e',
        '\uff21',
        '\u{1f600}',
        'é',
      ),
      { minLength: length, maxLength: length },
    )
    .map((pieces) => {
      const text = pieces.join('').slice(0, length);
      // Never end on half a surrogate pair: a header or JSON string cannot carry one.
      return /[\uD800-\uDBFF]$/.test(text) ? `${text.slice(0, -1)}x` : text;
    });

/** Every field that reaches the audit trail, at its maximum, in a delivery each route accepts. */
const LONGEST: Record<string, fc.Arbitrary<{ body: unknown; headers?: Record<string, string> }>> = {
  splunk: fc.record({ sid: maxText(512), name: maxText(1024 - 18) }).map(({ sid, name }) => ({
    body: {
      sid,
      search_name: `Impossible travel ${name}`,
      result: { user: 'bob@example.com' },
      app: 'search',
      owner: 'admin',
    },
  })),
  sentinel: fc.record({ id: maxText(512), title: maxText(1024 - 19) }).map(({ id, title }) => ({
    body: {
      id,
      title: `Account compromise ${title}`,
      severity: 'High',
      incidentNumber: Number.MAX_SAFE_INTEGER,
      relatedEntities: [
        { kind: 'Account', properties: { accountName: 'bob', upnSuffix: 'example.com' } },
      ],
    },
  })),
  pagerduty: fc.record({ id: maxText(512), title: maxText(1024 - 37) }).map(({ id, title }) => ({
    body: {
      event: {
        id,
        event_type: 'incident.triggered',
        resource_type: 'incident',
        occurred_at: '2025-03-15T14:07:30.215Z',
        data: {
          id: 'PGR0VU2',
          type: 'incident',
          title: `Compromised account: bob@example.com ${title}`,
        },
      },
    },
  })),
  servicenow: fc
    .record({ reason: maxText(1000), by: maxText(256), description: maxText(1024) })
    .map(({ reason, by, description }) => ({
      body: {
        sys_id: 'a'.repeat(32),
        number: `INC${'0'.repeat(37)}`,
        action: 'session.disconnect',
        target: { user: 'bob@example.com' },
        reason: `x${reason.slice(1)}`,
        requested_by: by,
        short_description: description,
      },
    })),
  standard: fc
    .record({ id: maxText(512), reason: maxText(1000), by: maxText(200), ticket: maxText(128) })
    .map(({ id, reason, by, ticket }) => ({
      body: {
        action: 'session.disconnect',
        target: { user: 'bob@example.com' },
        reason: `x${reason.slice(1)}`,
        ticket: `x${ticket.slice(1)}`,
        requestedBy: by,
      },
      headers: { 'webhook-id': id },
    })),
};

describe('the audit trail of a source delivery', () => {
  it.each(SOURCES)(
    '%s: an accepted delivery with every audited field at its maximum writes valid audit entries',
    async (source) => {
      await fc.assert(
        fc.asyncProperty(
          LONGEST[source] as fc.Arbitrary<{ body: unknown; headers?: Record<string, string> }>,
          async ({ body, headers }) => {
            accepted.length = 0;
            audited.length = 0;
            const raw = JSON.stringify(body);
            // A Standard Webhooks id is signed with the body; the others' headers are their own.
            const signed =
              source === 'standard'
                ? signStandardWebhook(
                    LOCAL_DEMO_SOURCE_SECRETS.standard.signingSecret,
                    headers?.['webhook-id'] ?? '',
                    new Date(),
                    raw,
                  )
                : {};
            const response = await post(source, raw, true, { ...signed });
            expect(response.statusCode, response.body).toBe(202);
            expect(accepted).toHaveLength(1);
            expect(audited.map((entry) => entry.type)).toEqual(['request', 'decision']);
            expect(audited[0]?.summary.length).toBeLessThanOrEqual(AUDIT_SUMMARY_MAX);
          },
        ),
        { numRuns: 25 },
      );
    },
  );

  const long = 'y'.repeat(1024);
  it.each([
    [
      'splunk',
      'search_name',
      { sid: 's-1', search_name: `Impossible travel ${long}`, result: { user: 'bob@example.com' } },
    ],
    [
      'sentinel',
      'title',
      { title: `Account compromise ${long}`, severity: 'High', incidentNumber: 1 },
    ],
    [
      'pagerduty',
      'event.data.title',
      {
        event: {
          id: 'e-1',
          event_type: 'incident.triggered',
          resource_type: 'incident',
          occurred_at: '2025-03-15T14:07:30.215Z',
          data: { type: 'incident', title: `Compromised account: bob@example.com ${long}` },
        },
      },
    ],
  ])(
    '%s: a title over 1024 characters is a 400 naming %s, and nothing is accepted',
    async (source, field, body) => {
      accepted.length = 0;
      const response = await post(source, JSON.stringify(body), true);
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(response.body).error.fields).toEqual([
        { field, message: 'must be at most 1024 characters' },
      ]);
      expect(accepted).toEqual([]);
    },
  );
});
