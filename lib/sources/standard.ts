import * as z from 'zod';
import { ACTION_TYPES, ActionRequestSchema } from '../actions/schema.ts';
import {
  isUsableSigningSecret,
  verifyStandardWebhook,
  WebhookSignatureError,
} from '../webhooks/standard-webhooks-verify.ts';
import { configured, credential } from './credentials.ts';
import { SourceAuthenticationError, SourcePayloadError, SourceRequestError } from './errors.ts';
import { refuseInlineRunbook } from './inline-runbooks.ts';
import { object, sourceId, validatePayload } from './payload-fields.ts';
import { notAllowed, type RequestRoutingRules, shownRequester } from './request-routing.ts';
import type {
  DeliveryHeaders,
  InboundDelivery,
  SourceDeclaration,
  SourceEvent,
  SourceSecrets,
} from './types.ts';

/**
 * Standard Webhooks: any tool holding the shared webhook secret signs an action request, the body
 * people send to POST /v1/actions, with `requestedBy` shown as who the tool says asked (never
 * trusted). Checked here as far as the routing needs; the action request schema checks the rest.
 */

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

/**
 * `webhook-id`, `webhook-timestamp` (at most 5 minutes off) and `webhook-signature` over the exact
 * body, under the shared webhook secret.
 */
function checkStandardWebhook(delivery: InboundDelivery, secret: SourceSecrets['standard']): void {
  if (!configured(secret?.signingSecret)) {
    throw new SourceAuthenticationError('No Standard Webhooks secret is configured');
  }
  try {
    verifyStandardWebhook(secret.signingSecret, delivery.rawBody, delivery.headers);
  } catch (error) {
    if (!(error instanceof WebhookSignatureError)) throw error;
    // The library's reasons name the failed check, never the secret or the signature.
    throw new SourceAuthenticationError(error.message, { cause: error });
  }
}

/** Its `webhook-id` (authenticated with the body) is the delivery: a redelivery repeats it. */
function standardEvent(payload: StandardPayload, headers: DeliveryHeaders): SourceEvent {
  const id = sourceId('the Standard Webhooks message id').safeParse(headers['webhook-id']);
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

/**
 * The action a Standard Webhooks request names, if the rules allow the `standard` source to ask
 * for it: the body of POST /v1/actions, with `requestedBy` shown as `standard: <name>`. A runbook
 * runs by name only: a `target.definition` is refused, whatever the rules allow.
 */
export function routeStandardRequest(rules: RequestRoutingRules, event: SourceEvent) {
  const { requestedBy, ...request } = event.fields as {
    requestedBy?: unknown;
    action?: unknown;
    target?: unknown;
  };
  refuseInlineRunbook('standard', STANDARD.title, request.target);
  const refused = notAllowed(rules, 'standard', 'A Standard Webhooks source', request.action);
  if (refused !== undefined) return refused;
  const parsed = ActionRequestSchema.safeParse({
    ...request,
    requestedBy: shownRequester('standard', requestedBy),
  });
  if (!parsed.success) {
    throw new SourceRequestError(
      'standard',
      'The Standard Webhooks request is not a valid action',
      parsed.error.issues,
    );
  }
  return { route: 'standard', requests: [parsed.data], rejected: [] };
}

export const STANDARD: SourceDeclaration<'standard', RequestRoutingRules> = {
  title: 'Standard Webhooks',
  asks: 'request',
  secret: {
    // The shared webhook secret, in the shape it has always had.
    arnVariable: 'WEBHOOK_SECRET_ARN',
    schema: z.object({
      signingSecret: credential(16).refine(
        isUsableSigningSecret,
        'must be whsec_ followed by base64, or the raw key',
      ),
    }),
    variables: { signingSecret: 'WEBHOOK_SECRET' },
    fromEnv: (env) => (env.WEBHOOK_SECRET ? { signingSecret: env.WEBHOOK_SECRET } : undefined),
  },
  authenticate: checkStandardWebhook,
  payload: StandardPayloadSchema,
  parse: (body, headers) =>
    standardEvent(validatePayload('standard', StandardPayloadSchema, body), headers),
  route: routeStandardRequest,
};
