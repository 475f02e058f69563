import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSourceRequestsHandler } from '../../functions/source-requests.ts';
import { createSourceWebhooksHandler } from '../../functions/source-webhooks.ts';
import { ActionRequestSchema } from '../../lib/actions/schema.ts';
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
const dependencies: ReceiveDependencies<RoutingRules> = {
  secrets: { read: async (source) => LOCAL_DEMO_SOURCE_SECRETS[source] as never },
  rules: loadRoutingRules(new URL('../../config/routes.json', import.meta.url)),
  acceptor: async (acceptance, _context, beforeAccept) => {
    accepted.push(acceptance);
    await beforeAccept?.('act_00000000000000000000000000000000');
    return { actionId: 'act_00000000000000000000000000000000', duplicate: false };
  },
  deliveries: { record: async () => undefined },
  audit: { append: async () => undefined },
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

const post = (source: string, body: string, authenticated: boolean) => {
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
      headers: authenticated ? (AUTH[source]?.(body) ?? {}) : {},
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
