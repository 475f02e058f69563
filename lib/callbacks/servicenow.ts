import * as z from 'zod';
import type { ActionRecord, TargetResult } from '../actions/schema.ts';
import { toActionView } from '../actions/view.ts';
import { LOOPBACK_HOSTS } from '../citrix/config.ts';
import { CitrixApiError, CitrixTimeoutError } from '../citrix/errors.ts';
import {
  fetchWithRetry,
  isSuccessStatus,
  type RawResponse,
  type RetryingFetchOptions,
} from '../citrix/http.ts';

/** The ServiceNow instance URL is not usable (scheme, credentials, path, ...). */
export class ServiceNowConfigurationError extends Error {
  override name = 'ServiceNowConfigurationError';
}

/** A sys_id failed validation; no request was made. The message does not echo the value. */
export class InvalidServiceNowIdError extends Error {
  override name = 'InvalidServiceNowIdError';
}

/**
 * ServiceNow did not accept the request, after retries where retrying could help. The message
 * names the method, path and status only: never the password or the work note.
 */
export class ServiceNowError extends Error {
  override name = 'ServiceNowError';
  /** The last HTTP status; undefined when no response came back (timeout, network failure). */
  readonly status: number | undefined;
  readonly method: string;
  /** Path only: no host, no query. */
  readonly path: string;
  readonly attempts: number;

  constructor(
    details: { status: number | undefined; method: string; path: string; attempts: number },
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.status = details.status;
    this.method = details.method;
    this.path = details.path;
    this.attempts = details.attempts;
  }
}

/**
 * The instance origin (`https://<instance>.service-now.com`, or a customer's own host name):
 * https only, plain http only to a loopback test server, and nothing but the origin.
 */
export function parseServiceNowInstanceUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ServiceNowConfigurationError('the ServiceNow instance URL is not a valid URL');
  }
  const loopback = url.protocol === 'http:' && LOOPBACK_HOSTS.includes(url.hostname);
  if (url.protocol !== 'https:' && !loopback) {
    throw new ServiceNowConfigurationError(
      `the ServiceNow instance URL must be https (http only for a loopback test server), got ${url.protocol}//${url.host}`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new ServiceNowConfigurationError(
      `the ServiceNow instance URL for host "${url.host}" must not carry credentials`,
    );
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new ServiceNowConfigurationError(
      `the ServiceNow instance URL for host "${url.host}" must be an origin only, without a path, query or fragment`,
    );
  }
  return new URL(url.origin);
}

const SYS_ID = /^[0-9a-f]{32}$/;

export function validateServiceNowSysId(sysId: string): string {
  if (typeof sysId !== 'string' || !SYS_ID.test(sysId)) {
    throw new InvalidServiceNowIdError('a ServiceNow sys_id must be 32 lowercase hex characters');
  }
  return sysId;
}

/** Where work notes go and the account that writes them. */
export interface ServiceNowConnection {
  /** The instance origin, checked again by the client before every call. */
  readonly instanceUrl: URL;
  readonly username: string;
  readonly password: string;
}

/**
 * The ServiceNow API secret in Secrets Manager: JSON keys `instanceUrl` (an https origin only,
 * `https://<instance>.service-now.com`), `username` and `password`. A failure names the field and
 * the rule, never the value.
 */
export const ServiceNowApiSecretSchema = z.object({
  instanceUrl: z.string().transform((value, ctx): URL => {
    try {
      const url = parseServiceNowInstanceUrl(value.trim());
      if (url.protocol === 'https:') return url;
      ctx.addIssue({ code: 'custom', message: 'must be an https URL' });
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        message: error instanceof Error ? error.message : 'is not a ServiceNow instance URL',
      });
    }
    return z.NEVER;
  }),
  username: z
    .string()
    .min(1, 'must not be empty')
    .refine((value) => !value.includes(':'), 'must not contain ":" (HTTP Basic)'),
  password: z.string().min(1, 'must not be empty'),
});

export interface ServiceNowClientOptions extends RetryingFetchOptions {
  /** Resolved per call, so a rotated secret (or a moved instance) is picked up. */
  readonly connection: () => Promise<ServiceNowConnection>;
}

const MAX_DETAIL = 200;

/** ServiceNow's own error text (`{"error":{"message","detail"}}`), with secrets removed. */
function serviceNowDetail(text: string, secrets: readonly string[]): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    // Not ServiceNow's JSON (a proxy's HTML page, say): nothing worth quoting.
    return undefined;
  }
  const error = (body as { error?: { message?: unknown; detail?: unknown } } | null)?.error;
  const parts = [error?.message, error?.detail].filter(
    (part): part is string => typeof part === 'string' && part.trim() !== '',
  );
  if (parts.length === 0) return undefined;
  let detail = parts.join(': ').replace(/\s+/g, ' ').trim();
  for (const secret of secrets) {
    if (secret !== '') detail = detail.replaceAll(secret, '[redacted]');
  }
  return detail.length > MAX_DETAIL ? `${detail.slice(0, MAX_DETAIL - 1)}…` : detail;
}

/** Internal: stops fetchWithRetry from retrying a PATCH that may have been sent. */
class WorkNoteMaybeSentError extends Error {
  override name = 'WorkNoteMaybeSentError';
}

/** Errors raised before a request could leave: nothing reached ServiceNow, so a retry is safe. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Statuses whose Response must be built with a null body. */
const NULL_BODY_STATUSES = new Set([204, 205, 304]);

function neverSent(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  return typeof cause?.code === 'string' && NOT_SENT_CODES.has(cause.code);
}

/** Writes work notes on ServiceNow incidents through the Table API. */
export class ServiceNowClient {
  readonly #options: ServiceNowClientOptions;

  constructor(options: ServiceNowClientOptions) {
    this.#options = options;
  }

  /**
   * Appends `text` to the incident's work notes; retries 408/429/5xx and failures to connect, but
   * not a timeout or dropped connection once the request may have been sent.
   */
  async addWorkNote(sysId: string, text: string): Promise<{ attempts: number }> {
    const method = 'PATCH';
    const path = `/api/now/table/incident/${validateServiceNowSysId(sysId)}`;
    if (typeof text !== 'string' || text.trim() === '') {
      throw new TypeError('a work note must not be empty');
    }
    const { instanceUrl, username, password } = await this.#options.connection();
    const origin = parseServiceNowInstanceUrl(instanceUrl.href);
    if (username === '' || username.includes(':') || password === '') {
      // Basic auth cannot carry a ':' in the user name; the values are never quoted.
      throw new ServiceNowConfigurationError(
        'ServiceNow credentials need a user name without ":" and a password',
      );
    }
    const authorization = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
    const url = new URL(path, origin);
    url.searchParams.set('sysparm_fields', 'sys_id');
    let attempts = 0;
    const failure = (status: number | undefined, reason: string, options?: ErrorOptions) =>
      new ServiceNowError(
        { status, method, path, attempts },
        `ServiceNow ${method} ${path} ${reason} after ${attempts} attempt${attempts === 1 ? '' : 's'}`,
        options,
      );

    // A work note is appended, not set: once a PATCH may have reached ServiceNow (it timed out,
    // or the connection failed after it was sent, or while its answer was being read), sending it
    // again could write the note twice. Only a failure to connect at all is retried, and
    // ServiceNow's own 408/429/5xx answers.
    let maybeSent: unknown;
    const transport = this.#options;
    const fetchOnce: typeof fetch = async (input, init) => {
      let response: Response;
      try {
        response = await (transport.fetch ?? globalThis.fetch)(input, init);
      } catch (error) {
        if (!neverSent(error)) maybeSent = error;
        throw error;
      }
      // The body is read here too: headers came back, so the PATCH reached ServiceNow, and a
      // reset or timeout while reading the answer must not send it again.
      let body: string;
      try {
        body = await response.text();
      } catch (error) {
        maybeSent = error;
        throw error;
      }
      const { status, headers } = response;
      return new Response(NULL_BODY_STATUSES.has(status) ? null : body, { status, headers });
    };
    const sleepUnlessSent = async (ms: number): Promise<void> => {
      if (maybeSent !== undefined) throw new WorkNoteMaybeSentError();
      await (transport.sleep ?? ((delay) => new Promise((done) => setTimeout(done, delay))))(ms);
    };

    let raw: RawResponse;
    try {
      raw = await fetchWithRetry(
        {
          method,
          path,
          url,
          headers: () => ({
            Accept: 'application/json',
            'Content-Type': 'application/json',
            Authorization: authorization,
          }),
          body: JSON.stringify({ work_notes: text }),
          onCall: () => {
            attempts += 1;
          },
        },
        { ...transport, fetch: fetchOnce, sleep: sleepUnlessSent },
      );
    } catch (error) {
      if (error instanceof WorkNoteMaybeSentError) {
        throw failure(
          undefined,
          'timed out or lost the connection after the request was sent; not retried, so that the note is not written twice,',
          { cause: maybeSent },
        );
      }
      // fetchWithRetry speaks in Citrix errors; they are re-told here without their messages,
      // which may quote the response body.
      if (error instanceof CitrixApiError)
        throw failure(error.status, `failed with ${error.status}`);
      if (error instanceof CitrixTimeoutError) {
        // The last attempt may have been sent (no retry was left to refuse): say so.
        const reason =
          maybeSent === undefined
            ? 'timed out or failed to connect'
            : 'timed out or lost the connection after the request was sent';
        throw failure(undefined, reason, { cause: error.cause });
      }
      throw error;
    }
    if (!isSuccessStatus(raw.status)) {
      if (raw.status >= 300 && raw.status <= 399) {
        throw failure(raw.status, `answered a redirect (${raw.status}), which is not followed,`);
      }
      const detail = serviceNowDetail(raw.text, [password, text]);
      throw failure(raw.status, `failed with ${raw.status}${detail ? ` (${detail})` : ''}`);
    }
    return { attempts };
  }
}

/** ServiceNow journal fields take about 4000 characters comfortably. */
export const MAX_WORK_NOTE_LENGTH = 4000;
const MAX_LINE_LENGTH = 600;

/** One line of plain text: whitespace runs (newlines too) collapsed, control characters dropped. */
function inline(value: string): string {
  return value
    .replace(/\s+/g, ' ')
    .replace(/\p{Cc}/gu, '')
    .trim();
}

/** At most `max` UTF-16 units, never splitting a surrogate pair, with an ellipsis when cut. */
function clip(value: string, max: number): string {
  if (value.length <= max) return value;
  let end = max - 1;
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${value.slice(0, end)}…`;
}

const parenthesized = (parts: readonly (string | undefined)[]): string => {
  const present = parts.filter((part): part is string => part !== undefined && part !== '');
  return present.length === 0 ? '' : ` (${present.join(', ')})`;
};

function targetLine(result: TargetResult): string {
  const details: string[] = [];
  let label: string;
  if ('sessionId' in result) {
    const where =
      result.userName && result.machineName
        ? `${result.userName} on ${result.machineName}`
        : (result.userName ?? result.machineName);
    label = `session ${result.sessionId}${parenthesized([where])}`;
    if (result.job)
      details.push(`job ${result.job.id}${result.job.status ? ` ${result.job.status}` : ''}`);
  } else if ('deviceId' in result) {
    const model = [result.platform, result.deviceModel].filter(Boolean).join(' ');
    label = `device ${result.deviceId}${parenthesized([
      result.userName,
      model,
      result.serialNumber ? `serial ${result.serialNumber}` : undefined,
    ])}`;
    if (result.command)
      details.push(`command ${result.command.name} sent ${result.command.sentAt}`);
    if (result.readBack) {
      details.push(
        result.readBack.found
          ? `read back: ${result.readBack.managed === false ? 'unmanaged' : 'managed'}`
          : 'read back: not found',
      );
    }
  } else {
    const name = result.email ?? result.displayName ?? result.administratorId;
    label = `administrator ${name}${name === result.administratorId ? '' : ` (id ${result.administratorId})`}`;
    // The full access snapshot stays in the record; the type is what a reader needs here.
    const before = result.before?.accessType ?? result.accessType;
    if (before) details.push(`access before: ${before}`);
    if (result.change) details.push(`change: ${result.change.mode}`);
    if (result.after) {
      details.push(
        result.after.present
          ? `access after: ${result.after.accessType ?? 'unknown'}`
          : 'access after: removed',
      );
    }
    if (result.refusal) details.push(`refused: ${result.refusal}`);
  }
  if ('note' in result && result.note) details.push(`note: ${result.note}`);
  if (result.error) details.push(`error: ${result.error.name}: ${result.error.message}`);
  const line = `- ${label}: ${result.outcome}${details.length > 0 ? `; ${details.join('; ')}` : ''}`;
  return clip(inline(line), MAX_LINE_LENGTH);
}

/**
 * The work note an ITSM engineer reads on the incident: what was done, to whom, with what result,
 * and on whose request. Plain text, at most MAX_WORK_NOTE_LENGTH characters: when the targets do
 * not all fit, the last line says how many were left out and where the full record is.
 */
export function workNoteFor(record: ActionRecord): string {
  const head = [
    clip(inline(`Citrix Response ${record.actionId}: ${record.action} ${record.status}`), 200),
  ];
  if (record.dryRun) head.push('Dry run: nothing was changed.');
  if (record.summary) head.push(clip(inline(record.summary), 1000));
  if (record.error) {
    head.push(
      clip(inline(`Error: ${record.error.name}: ${record.error.message}`), MAX_LINE_LENGTH),
    );
  }

  const tail: string[] = [];
  if (record.requestedBy) tail.push(clip(inline(`Requested by: ${record.requestedBy}`), 300));
  tail.push(clip(inline(`Reason: ${record.reason}`), 1100));
  if (record.ticket) tail.push(clip(inline(`Ticket: ${record.ticket}`), 200));

  const results = toActionView(record).results;
  const targets =
    results.length === 0 ? ['No target was acted on.'] : ['Targets:', ...results.map(targetLine)];

  const length = (lines: readonly string[]) =>
    lines.reduce((sum, line) => sum + line.length + 1, 0);
  let budget = MAX_WORK_NOTE_LENGTH - length(head) - length(tail);
  if (length(targets) <= budget) return [...head, ...targets, ...tail].join('\n');

  const omittedLine = (count: number) =>
    `… ${count} more target${count === 1 ? '' : 's'} not listed; full results: GET /v1/actions/${record.actionId}`;
  // Reserve room for the line that says how many were left out (its count has at most 5 digits).
  budget -= omittedLine(99999).length + 1;
  const kept: string[] = [];
  for (const line of targets) {
    if (line.length + 1 > budget) break;
    kept.push(line);
    budget -= line.length + 1;
  }
  const omitted = results.length - kept.filter((line) => line.startsWith('- ')).length;
  const note = [...head, ...kept, omittedLine(omitted), ...tail].join('\n');
  // The head and tail are bounded per line, so this only cuts if they alone exceed the limit.
  return clip(note, MAX_WORK_NOTE_LENGTH);
}
