import { createHmac } from 'node:crypto';
import * as z from 'zod';
import { type AlertRoutingRules, routeSiemEvent } from './alert-routing.ts';
import { configured, constantTimeEqual, credential, header } from './credentials.ts';
import { SourceAuthenticationError } from './errors.ts';
import {
  object,
  optionalString,
  optionalTitle,
  requiredString,
  requiredTitle,
  sourceId,
  validatePayload,
} from './payload-fields.ts';
import type { InboundDelivery, SourceDeclaration, SourceSecrets } from './types.ts';

/**
 * PagerDuty: a v3 webhook (developer.pagerduty.com, "Webhooks Overview"). `data` differs by event
 * type: an incident, a note, a responder, a service... and the `pagey.ping` test event's
 * `{message, type: 'ping'}`, which has no id.
 */

const PagerDutyReference = z.looseObject(
  { id: requiredString(), summary: optionalString() },
  { error: 'must be an object or null' },
);

export const PagerDutyPayloadSchema = z
  .looseObject({
    event: z.looseObject(
      {
        id: sourceId('the event id'),
        event_type: requiredTitle('an event type such as incident.triggered'),
        resource_type: requiredString(),
        occurred_at: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }),
        agent: object('an object or null').nullable().optional(),
        client: object('an object or null').nullable().optional(),
        data: z.looseObject(
          {
            id: sourceId('the resource id').optional(),
            type: requiredString(),
            html_url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
            title: optionalTitle(),
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

/**
 * `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]`, one signature per signing secret PagerDuty holds
 * (several during a rotation); we may also hold several. Any v1 match over the raw UTF-8 body is
 * enough; other versions are ignored, as PagerDuty's verification guide says.
 */
function checkPagerDutySignature(
  delivery: InboundDelivery,
  secret: SourceSecrets['pagerduty'],
): void {
  const secrets = Array.isArray(secret?.signingSecrets)
    ? secret.signingSecrets.filter(configured)
    : [];
  if (secrets.length === 0) {
    throw new SourceAuthenticationError('No PagerDuty signing secret is configured');
  }
  const signatureHeader = header(delivery, 'x-pagerduty-signature');
  if (signatureHeader === undefined || signatureHeader.trim() === '') {
    throw new SourceAuthenticationError('Missing X-PagerDuty-Signature header');
  }
  const given = signatureHeader
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.startsWith('v1='))
    .map((part) => part.slice('v1='.length).toLowerCase());
  if (given.length === 0) {
    throw new SourceAuthenticationError('X-PagerDuty-Signature has no v1 signature');
  }
  const body = typeof delivery.rawBody === 'string' ? delivery.rawBody : '';
  const expected = secrets.map((key) =>
    createHmac('sha256', key).update(body, 'utf8').digest('hex'),
  );
  // Every pair is compared, so the time does not depend on which signature matched.
  let matched = false;
  for (const signature of given) {
    for (const candidate of expected) {
      if (constantTimeEqual(signature, candidate)) matched = true;
    }
  }
  if (!matched) {
    throw new SourceAuthenticationError('No X-PagerDuty-Signature matches a signing secret');
  }
}

export const PAGERDUTY: SourceDeclaration<'pagerduty', AlertRoutingRules> = {
  title: 'PagerDuty',
  asks: 'alert',
  secret: {
    arnVariable: 'PAGERDUTY_SECRET_ARN',
    // Empty until the operator stores PagerDuty's secret: then the endpoint is not configured.
    schema: z.object({ signingSecrets: z.array(credential(16)) }),
    variables: { signingSecrets: 'PAGERDUTY_SIGNING_SECRETS' },
    // Comma-separated, several during a rotation.
    fromEnv: (env) =>
      env.PAGERDUTY_SIGNING_SECRETS
        ? {
            signingSecrets: env.PAGERDUTY_SIGNING_SECRETS.split(',')
              .map((secret) => secret.trim())
              .filter(Boolean),
          }
        : undefined,
  },
  authenticate: checkPagerDutySignature,
  payload: PagerDutyPayloadSchema,
  parse: (body) => {
    const payload = validatePayload('pagerduty', PagerDutyPayloadSchema, body);
    const { event } = payload;
    return {
      source: 'pagerduty',
      fields: payload,
      deliveryKey: event.id,
      title: `PagerDuty ${event.event_type}: ${event.data.title ?? event.data.id ?? event.id}`,
    };
  },
  route: (rules, event) => routeSiemEvent(rules, 'pagerduty', event),
};
