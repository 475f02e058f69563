import * as z from 'zod';
import { ACTION_TYPES, ActionRequestSchema } from '../actions/schema.ts';
import { configured, constantTimeEqual, credential, header } from './credentials.ts';
import { SourceAuthenticationError, SourceRequestError } from './errors.ts';
import { refuseInlineRunbook } from './inline-runbooks.ts';
import { object, optionalString, validatePayload } from './payload-fields.ts';
import { notAllowed, type RequestRoutingRules, shownRequester } from './request-routing.ts';
import type { InboundDelivery, SourceDeclaration, SourceEvent, SourceSecrets } from './types.ts';

/**
 * ServiceNow: a business rule or flow posts a containment request, a body this project defines
 * (docs/sources/servicenow.md), with HTTP Basic. The target is checked against the action later,
 * by the action request schema.
 */

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

const BASIC = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i;

function checkBasicAuth(delivery: InboundDelivery, secret: SourceSecrets['servicenow']): void {
  if (!configured(secret?.username) || !configured(secret?.password)) {
    throw new SourceAuthenticationError('No ServiceNow username and password are configured');
  }
  const authorization = header(delivery, 'authorization');
  if (authorization === undefined || authorization.trim() === '') {
    throw new SourceAuthenticationError('Missing Authorization header');
  }
  if (!/^Basic(?:[ \t]|$)/i.test(authorization)) {
    throw new SourceAuthenticationError('The Authorization header is not HTTP Basic');
  }
  const encoded = BASIC.exec(authorization)?.[1];
  if (encoded === undefined) {
    throw new SourceAuthenticationError('The Basic credentials are not base64');
  }
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  // RFC 7617: the user-id cannot contain a colon, the password can.
  const colon = decoded.indexOf(':');
  if (colon < 0) {
    throw new SourceAuthenticationError('The Basic credentials have no username:password pair');
  }
  // Both halves are compared before deciding, so the time does not say which one was wrong.
  const usernameMatches = constantTimeEqual(decoded.slice(0, colon), secret.username);
  const passwordMatches = constantTimeEqual(decoded.slice(colon + 1), secret.password);
  if (!(usernameMatches && passwordMatches)) {
    throw new SourceAuthenticationError('Wrong username or password');
  }
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

/**
 * The action a ServiceNow request names, if the rules allow ServiceNow to ask for it. A runbook
 * runs by name only: a `target.definition` is refused, whatever the rules allow.
 */
export function routeServiceNowRequest(rules: RequestRoutingRules, event: SourceEvent) {
  const fields = event.fields as {
    action?: unknown;
    target?: unknown;
    options?: unknown;
    inputs?: unknown;
    reason?: unknown;
    number?: unknown;
    short_description?: unknown;
    requested_by?: unknown;
    callback?: unknown;
  };
  refuseInlineRunbook('servicenow', SERVICENOW.title, fields.target);
  const refused = notAllowed(rules, 'servicenow', 'ServiceNow', fields.action);
  if (refused !== undefined) return refused;
  const description =
    typeof fields.short_description === 'string' ? `: ${fields.short_description}` : '';
  const parsed = ActionRequestSchema.safeParse({
    action: fields.action,
    target: fields.target,
    ...(fields.options === undefined ? {} : { options: fields.options }),
    // A runbook run's inputs (`runbook.run`, when the rules allow ServiceNow to ask for it).
    ...(fields.inputs === undefined ? {} : { inputs: fields.inputs }),
    reason:
      typeof fields.reason === 'string' && fields.reason.trim() !== ''
        ? fields.reason
        : `ServiceNow ${String(fields.number ?? '')}${description}`.slice(0, 1000),
    ...(typeof fields.number === 'string' ? { ticket: fields.number } : {}),
    requestedBy: shownRequester('servicenow', fields.requested_by),
    ...(fields.callback === undefined ? {} : { callback: fields.callback }),
  });
  if (!parsed.success) {
    throw new SourceRequestError(
      'servicenow',
      'The ServiceNow request is not a valid action',
      parsed.error.issues,
    );
  }
  return { route: 'servicenow', requests: [parsed.data], rejected: [] };
}

export const SERVICENOW: SourceDeclaration<'servicenow', RequestRoutingRules> = {
  title: 'ServiceNow',
  asks: 'request',
  secret: {
    arnVariable: 'SERVICENOW_SECRET_ARN',
    schema: z.object({ username: z.string().min(1), password: credential(16) }),
    variables: { username: 'SERVICENOW_USERNAME', password: 'SERVICENOW_PASSWORD' },
    fromEnv: (env) =>
      env.SERVICENOW_USERNAME && env.SERVICENOW_PASSWORD
        ? { username: env.SERVICENOW_USERNAME, password: env.SERVICENOW_PASSWORD }
        : undefined,
  },
  authenticate: checkBasicAuth,
  payload: ServiceNowPayloadSchema,
  parse: (body) => serviceNowEvent(validatePayload('servicenow', ServiceNowPayloadSchema, body)),
  route: routeServiceNowRequest,
};
