import type * as z from 'zod';
import type { SourceName } from './types.ts';

/**
 * What can go wrong with a delivery, apart from any one source's code: the HTTP edge
 * (lib/api/source-errors.ts) answers each of these without importing a source.
 */

/**
 * Why a delivery was not accepted as coming from the configured source. The message names the
 * failed check and never carries a credential, a token or a signature, sent or stored.
 */
export class SourceAuthenticationError extends Error {
  override name = 'SourceAuthenticationError';
}

/** One invalid field of a source payload: its dotted path and what is wrong, never its value. */
export interface SourcePayloadFieldError {
  readonly field: string;
  readonly message: string;
}

/** A source payload that is not JSON or not in the shape this project reads; names every field. */
export class SourcePayloadError extends Error {
  override name = 'SourcePayloadError';
  readonly source: SourceName;
  readonly fields: readonly SourcePayloadFieldError[];

  constructor(source: SourceName, fields: readonly SourcePayloadFieldError[]) {
    const names = [...new Set(fields.map((field) => field.field))].join(', ');
    super(`Invalid ${source} payload: ${names}`);
    this.source = source;
    this.fields = fields;
  }
}

/** A request from a source that names its action (ServiceNow, Standard Webhooks) is not valid. */
export class SourceRequestError extends Error {
  override name = 'SourceRequestError';
  readonly source: SourceName;
  readonly issues: z.core.$ZodIssue[];
  constructor(source: SourceName, message: string, issues: z.core.$ZodIssue[]) {
    super(message);
    this.source = source;
    this.issues = issues;
  }
}

/** The source has no endpoint here, or its secret cannot authenticate anything yet. */
export class SourceNotConfiguredError extends Error {
  override name = 'SourceNotConfiguredError';
}

/** The routing rules file is not valid, or a route names what the deployment does not have. */
export class RoutingRulesError extends Error {
  override name = 'RoutingRulesError';
}
