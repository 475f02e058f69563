import { apiError } from '../api/http-errors.ts';
import { SourceAuthenticationError } from './authenticate.ts';
import { DeliveryConflictError, DeliveryInProgressError } from './intake.ts';
import { SourcePayloadError } from './payloads.ts';
import { ServiceNowRequestError } from './routing.ts';
import { SourceNotConfiguredError } from './secrets.ts';
import type { SourceName } from './types.ts';

/** The HTTP answer for what went wrong with a delivery; anything unexpected stays a 500. */
export function sourceErrorToApiError(error: unknown, source: SourceName | 'api'): unknown {
  if (error instanceof SourceAuthenticationError) {
    // Generic on purpose: the reason is logged by the caller's warn line, not told to the sender.
    return apiError(401, 'unauthorized', `The ${source} delivery could not be authenticated`);
  }
  if (error instanceof SourcePayloadError) {
    return apiError(400, 'invalid_payload', `Invalid ${source} payload`, error.fields);
  }
  if (error instanceof ServiceNowRequestError) {
    const fields = error.issues.map((issue) => ({
      field: issue.path.map(String).join('.') || '(body)',
      message: issue.message,
    }));
    return apiError(400, 'invalid_request', 'The ServiceNow request is not a valid action', fields);
  }
  if (error instanceof DeliveryInProgressError) {
    return apiError(409, 'in_progress', 'The same delivery is still being accepted; retry shortly');
  }
  if (error instanceof DeliveryConflictError) {
    // Our own text (the key's meaning, never a credential): it says what to change.
    return apiError(409, 'conflict', error.message);
  }
  if (error instanceof SourceNotConfiguredError) {
    return apiError(404, 'not_found', `The ${source} endpoint is not configured`);
  }
  return error;
}
