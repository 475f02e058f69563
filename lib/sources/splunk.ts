import * as z from 'zod';
import { type AlertRoutingRules, routeSiemEvent } from './alert-routing.ts';
import { configured, constantTimeEqual, credential } from './credentials.ts';
import { SourceAuthenticationError } from './errors.ts';
import { optionalString, requiredTitle, sourceId, validatePayload } from './payload-fields.ts';
import type { InboundDelivery, SourceDeclaration, SourceSecrets } from './types.ts';

/** Splunk: the webhook alert action's fixed body (Splunk docs, "Use a webhook alert action"). */

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
    search_name: requiredTitle('the name of the alert'),
    results_link: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    app: optionalString(),
    owner: optionalString(),
  })
  .meta({ title: 'SplunkWebhookAlert' });
export type SplunkPayload = z.infer<typeof SplunkPayloadSchema>;

/** Splunk's webhook action can set no header: the secret is the last segment of the URL. */
function checkPathToken(delivery: InboundDelivery, secret: SourceSecrets['splunk']): void {
  if (!configured(secret?.token)) {
    throw new SourceAuthenticationError('No Splunk webhook token is configured');
  }
  const token = delivery.pathToken;
  if (typeof token !== 'string' || token === '') {
    throw new SourceAuthenticationError('Missing token in the webhook URL');
  }
  if (!constantTimeEqual(token, secret.token)) {
    throw new SourceAuthenticationError('Wrong webhook token in the URL');
  }
}

export const SPLUNK: SourceDeclaration<'splunk', AlertRoutingRules> = {
  title: 'Splunk',
  asks: 'alert',
  secret: {
    arnVariable: 'SPLUNK_SECRET_ARN',
    schema: z.object({ token: credential(24) }),
    variables: { token: 'SPLUNK_TOKEN' },
    fromEnv: (env) => (env.SPLUNK_TOKEN ? { token: env.SPLUNK_TOKEN } : undefined),
  },
  authenticate: checkPathToken,
  payload: SplunkPayloadSchema,
  parse: (body) => {
    const payload = validatePayload('splunk', SplunkPayloadSchema, body);
    return {
      source: 'splunk',
      fields: payload,
      deliveryKey: payload.sid,
      title: payload.search_name,
    };
  },
  route: (rules, event) => routeSiemEvent(rules, 'splunk', event),
};
