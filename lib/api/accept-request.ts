import type { Context } from 'aws-lambda';
import { ActionRequestSchema } from '../actions/schema.ts';
import { acceptedEntries } from '../audit/accepted-entries.ts';
import { type AuditLog, payloadDigest } from '../audit/audit-log.ts';
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

function parseJson(rawBody: string): unknown {
  try {
    return JSON.parse(rawBody);
  } catch {
    throw apiError(400, 'invalid_json', 'The body is not valid JSON');
  }
}

/**
 * `POST /v1/actions` after its signature verified: validate the request, check its callback
 * name, and accept it once per `webhook-id` (a redelivery gets the same action).
 */
export async function acceptSignedRequest(
  dependencies: AcceptRequestDependencies,
  rawBody: string,
  webhookId: string,
  context: Context,
): Promise<Acceptance & { action: string }> {
  // Taken before the workflow starts, so the request sorts before anything the workflow records.
  const receivedAt = new Date();
  const request = ActionRequestSchema.safeParse(parseJson(rawBody));
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
      identity: `Standard Webhooks signature (webhook-id ${webhookId}), requested by ${request.data.requestedBy ?? 'unnamed'}`,
      payloadDigest: payloadDigest(rawBody),
    };
    const acceptance = await dependencies.acceptor(
      { idempotencyKey: `api:${webhookId}`, request: request.data, source: { name: 'api' } },
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
