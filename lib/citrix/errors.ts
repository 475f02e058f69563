/**
 * Errors raised by the Citrix Cloud clients. Step Functions Retry/Catch match on `name`, so every
 * class sets it explicitly (class names can be mangled by bundlers).
 */

export class CitrixError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CitrixError';
  }
}

/** The Citrix connection is misconfigured (base URL not allowed, site cannot be discovered, ...). */
export class CitrixConfigurationError extends CitrixError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CitrixConfigurationError';
  }
}

export type CitrixIdKind = 'session' | 'job' | 'user' | 'device' | 'administrator';

/** An id failed validation before any request was made. */
export class InvalidCitrixIdError extends CitrixError {
  readonly kind: CitrixIdKind;

  constructor(kind: CitrixIdKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidCitrixIdError';
    this.kind = kind;
  }
}

export interface CitrixApiErrorDetails {
  readonly status: number;
  readonly method: string;
  /** Path only: no host, no query string. */
  readonly path: string;
  readonly errorType?: string;
  readonly detail?: string;
  readonly parameters?: unknown[];
  readonly transactionId?: string;
}

/** Citrix answered with an HTTP error status. */
export class CitrixApiError extends CitrixError {
  readonly status: number;
  readonly method: string;
  readonly path: string;
  readonly errorType?: string;
  readonly detail?: string;
  readonly parameters?: unknown[];
  readonly transactionId?: string;

  constructor(details: CitrixApiErrorDetails, options?: ErrorOptions) {
    super(apiErrorMessage(details), options);
    this.name = 'CitrixApiError';
    this.status = details.status;
    this.method = details.method;
    this.path = details.path;
    this.errorType = details.errorType;
    this.detail = details.detail;
    this.parameters = details.parameters;
    this.transactionId = details.transactionId;
  }
}

function apiErrorMessage(details: CitrixApiErrorDetails): string {
  const base = `Citrix API ${details.method} ${details.path} failed with ${details.status}`;
  return details.detail ? `${base}: ${details.detail}` : base;
}

/** 401 that persisted after a token refresh, or the token endpoint rejected the credentials. */
export class CitrixAuthenticationError extends CitrixApiError {
  constructor(details: CitrixApiErrorDetails, options?: ErrorOptions) {
    super(details, options);
    this.name = 'CitrixAuthenticationError';
  }
}

export class CitrixForbiddenError extends CitrixApiError {
  constructor(details: CitrixApiErrorDetails, options?: ErrorOptions) {
    super(details, options);
    this.name = 'CitrixForbiddenError';
  }
}

export class CitrixNotFoundError extends CitrixApiError {
  constructor(details: CitrixApiErrorDetails, options?: ErrorOptions) {
    super(details, options);
    this.name = 'CitrixNotFoundError';
  }
}

/** Rate limited: retries exhausted, or Citrix asked us to wait longer than the policy allows. */
export class CitrixThrottledError extends CitrixApiError {
  readonly retryAfterMs?: number;

  constructor(
    details: CitrixApiErrorDetails & { readonly retryAfterMs?: number },
    options?: ErrorOptions,
  ) {
    super(details, options);
    this.name = 'CitrixThrottledError';
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** 5xx or 408 after retries. */
export class CitrixUnavailableError extends CitrixApiError {
  constructor(details: CitrixApiErrorDetails, options?: ErrorOptions) {
    super(details, options);
    this.name = 'CitrixUnavailableError';
  }
}

/** The request timed out or failed at the network level, after retries. */
export class CitrixTimeoutError extends CitrixError {
  readonly method: string;
  readonly path: string;

  constructor(method: string, path: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CitrixTimeoutError';
    this.method = method;
    this.path = path;
  }
}

/** A Citrix response did not have the expected shape. The message never contains the body. */
export class CitrixResponseValidationError extends CitrixError {
  readonly method: string;
  readonly path: string;

  constructor(method: string, path: string, problem: string, options?: ErrorOptions) {
    super(`Citrix API ${method} ${path} returned an unexpected response: ${problem}`, options);
    this.name = 'CitrixResponseValidationError';
    this.method = method;
    this.path = path;
  }
}

/**
 * Whether a mutating request to `path` that failed may still have been applied by Citrix, from
 * what the client saw. 429 (throttled before acting) and any other 4xx but 408 (refused) are
 * definite answers. A 5xx or 408, a timeout or a lost connection, or an unreadable 2xx may come
 * after Citrix acted. An error of another request (the token or login a 401 fetches afresh) means
 * the request itself was not accepted. Every product client that must never send a change twice
 * decides with this.
 */
export function requestMayHaveApplied(error: unknown, path: string): boolean {
  if (error instanceof CitrixThrottledError) return false;
  if (error instanceof CitrixUnavailableError) return error.path === path;
  if (error instanceof CitrixApiError) return false;
  if (error instanceof CitrixTimeoutError || error instanceof CitrixResponseValidationError) {
    return error.path === path;
  }
  // Anything else came from somewhere unexpected while the request was under way.
  return true;
}

/**
 * The Citrix errors a client's change throws only when the change was not sent or not acted on:
 * a bad id or configuration, the token or login before it failed, or Citrix answered that it did
 * not act (`requestMayHaveApplied` turns every other failure of the change itself into an
 * "unanswered" result). A product adds its own refusals and the task's to its list.
 */
export const CITRIX_CHANGE_NOT_SENT_ERRORS = [
  'InvalidCitrixIdError',
  'CitrixConfigurationError',
  'CitrixApiError',
  'CitrixAuthenticationError',
  'CitrixForbiddenError',
  'CitrixNotFoundError',
  'CitrixThrottledError',
  'CitrixUnavailableError',
  'CitrixTimeoutError',
  'CitrixResponseValidationError',
] as const;
