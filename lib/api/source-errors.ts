import {
  SourceAuthenticationError,
  SourceNotConfiguredError,
  SourcePayloadError,
  SourceRequestError,
} from '../sources/errors.ts';
import type { SourceName } from '../sources/types.ts';
import { acceptanceErrorToApiError } from './accept-request.ts';
import { apiError } from './http-errors.ts';

/** The HTTP answer for what went wrong with a source delivery; anything unexpected stays a 500. */
export function sourceErrorToApiError(error: unknown, source: SourceName): unknown {
  if (error instanceof SourceAuthenticationError) {
    // Generic on purpose: the reason is logged by the caller's warn line, not told to the sender.
    return apiError(401, 'unauthorized', `The ${source} delivery could not be authenticated`);
  }
  if (error instanceof SourcePayloadError) {
    return apiError(400, 'invalid_payload', `Invalid ${source} payload`, error.fields);
  }
  if (error instanceof SourceRequestError) {
    const fields = error.issues.map((issue) => ({
      field: issue.path.map(String).join('.') || '(body)',
      message: issue.message,
    }));
    return apiError(400, 'invalid_request', error.message, fields);
  }
  if (error instanceof SourceNotConfiguredError) {
    return apiError(404, 'not_found', `The ${source} endpoint is not configured`);
  }
  return acceptanceErrorToApiError(error);
}
