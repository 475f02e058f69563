import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { type ActionRequest, ActionRequestSchema } from '../actions/schema.ts';
import { acceptedEntries } from '../audit/accepted-entries.ts';
import { type AuditLog, payloadDigest } from '../audit/audit-log.ts';
import type { Person } from '../identity/principal.ts';
import {
  type Acceptance,
  DeliveryConflictError,
  DeliveryInProgressError,
  type IdempotentAcceptor,
} from '../sources/intake.ts';
import { apiError, validationError } from './http-errors.ts';

export interface AcceptRequestDependencies {
  readonly acceptor: IdempotentAcceptor;
  readonly audit: Pick<AuditLog, 'append'>;
  /** Names of the configured callback destinations a request may ask for. */
  readonly callbackNames: ReadonlySet<string>;
}

/** The header a person's client sets so that a retry gets the same action (optional). */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const IdempotencyKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be 1-128 of A-Z, a-z, 0-9 and _ . : -');

/** What a person's body may not say about who asks, and why. */
export const REQUESTER_FIELDS = {
  requestedBy: 'is not accepted: the person who signs the request is the requester',
} as const;

/**
 * The body of `POST /v1/actions` from a person: an action request that names nobody, since the
 * requester is whoever signed it. Every invalid field is reported at once.
 */
export const PersonActionRequestSchema = z.unknown().transform((input, context): ActionRequest => {
  const named = Object.keys(REQUESTER_FIELDS).filter(
    (field) => typeof input === 'object' && input !== null && Object.hasOwn(input, field),
  ) as (keyof typeof REQUESTER_FIELDS)[];
  for (const field of named) {
    context.addIssue({ code: 'custom', path: [field], message: REQUESTER_FIELDS[field] });
  }
  const parsed = ActionRequestSchema.safeParse(input);
  for (const issue of parsed.error?.issues ?? []) {
    context.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  }
  return parsed.success && named.length === 0 ? parsed.data : z.NEVER;
});

function parseJson(rawBody: string): unknown {
  try {
    return JSON.parse(rawBody);
  } catch {
    throw apiError(400, 'invalid_json', 'The body is not valid JSON');
  }
}

/**
 * `POST /v1/actions` from an authenticated person: validate the request, check its callback name,
 * and accept it once per person and `Idempotency-Key` (a retry gets the same action; without the
 * header every request is a new action). The person is recorded as the requester.
 */
export async function acceptPersonRequest(
  dependencies: AcceptRequestDependencies,
  rawBody: string,
  person: Person,
  idempotencyKeyHeader: string | undefined,
  context: Context,
): Promise<Acceptance & { action: string }> {
  // Taken before the workflow starts, so the request sorts before anything the workflow records.
  const receivedAt = new Date();
  const idempotencyKey = IdempotencyKeySchema.optional().safeParse(idempotencyKeyHeader);
  if (!idempotencyKey.success) throw validationError(idempotencyKey.error, 'Idempotency-Key');
  const request = PersonActionRequestSchema.safeParse(parseJson(rawBody));
  if (!request.success) throw validationError(request.error);
  const callback = request.data.callback;
  if (callback !== undefined && !dependencies.callbackNames.has(callback)) {
    throw apiError(400, 'invalid_request', 'Invalid request: callback', [
      { field: 'callback', message: `no callback destination named "${callback}"` },
    ]);
  }
  try {
    const requestAudit = {
      source: 'api',
      identity: `${person.name}, authenticated as IAM principal ${person.key}${idempotencyKey.data === undefined ? '' : ` (Idempotency-Key ${idempotencyKey.data})`}`,
      payloadDigest: payloadDigest(rawBody),
    };
    const acceptance = await dependencies.acceptor(
      {
        // Per person: another person's key never answers with this person's action.
        idempotencyKey: `person:${person.key}:${idempotencyKey.data ?? randomUUID()}`,
        request: request.data,
        source: { name: 'api' },
        requester: person,
      },
      context,
      // Inside the idempotent step, before the workflow starts: a failed write fails the
      // request, and the sender's retry writes it (it is not answered as a repeat).
      (actionId) => dependencies.audit.append(acceptedEntries(actionId, requestAudit, receivedAt)),
    );
    return { ...acceptance, action: request.data.action };
  } catch (error) {
    throw acceptanceErrorToApiError(error);
  }
}

/** The HTTP answer for an acceptance that did not go through; anything unexpected stays a 500. */
export function acceptanceErrorToApiError(error: unknown): unknown {
  if (error instanceof DeliveryInProgressError) {
    return apiError(409, 'in_progress', 'The same delivery is still being accepted; retry shortly');
  }
  if (error instanceof DeliveryConflictError) {
    // Our own text (the key's meaning, never a credential): it says what to change.
    return apiError(409, 'conflict', error.message);
  }
  return error;
}
