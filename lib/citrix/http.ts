import * as z from 'zod';
import {
  CitrixApiError,
  type CitrixApiErrorDetails,
  CitrixAuthenticationError,
  CitrixForbiddenError,
  CitrixNotFoundError,
  CitrixResponseValidationError,
  CitrixThrottledError,
  CitrixTimeoutError,
  CitrixUnavailableError,
} from './errors.ts';
import { backoffDelayMs, isRetryableStatus, parseRetryAfterMs, type RetryPolicy } from './retry.ts';

export interface TokenSource {
  getToken(): Promise<string>;
  /** Drops the cached token if it is still `token` (it was rejected with 401). */
  invalidate(token: string): void;
}

export interface CitrixRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Starts with '/'; ids already encoded. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  /** JSON-serialised when defined. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly transactionId?: string;
  /** Caps the client's per-attempt timeout for this call (a check that must stay short). */
  readonly timeoutMs?: number;
  /** Caps the client's attempts for this call; 1 means no retries and no Retry-After waits. */
  readonly maxAttempts?: number;
}

export interface CitrixResponse {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON, or undefined for an empty body. */
  readonly body: unknown;
}

/** The Citrix API a call goes to (the token endpoint counts apart from the API it is for). */
export type CitrixProduct = 'daas' | 'endpoint-management' | 'cloud-administrators' | 'cloud-auth';

/** One HTTP attempt, for audit and metrics. `path` never carries query values. */
export interface CitrixCallRecord {
  method: string;
  path: string;
  status?: number;
  attempt: number;
  durationMs: number;
  transactionId?: string;
  error?: string;
  /**
   * Whether the retry policy sends the request again after this attempt (a 401 token refresh is
   * not a retry). Set by `fetchWithRetry`; records built elsewhere may leave it out.
   */
  retried?: boolean;
}

export interface CitrixHttpOptions {
  baseUrl: URL;
  tokens: TokenSource;
  /** Extra headers for every request (customer/instance ids). */
  headers: () => Promise<Record<string, string>>;
  timeoutMs: number;
  retry: RetryPolicy;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
  onCall?: (call: CitrixCallRecord) => void;
  /** The headers that carry the token; default `Authorization: CWSAuth bearer=<token>`. */
  authorization?: (token: string) => Record<string, string>;
}

const cwsAuthorization = (token: string): Record<string, string> => ({
  Authorization: `CWSAuth bearer=${token}`,
});

/** Timing and transport settings shared by every retrying Citrix call. */
export interface RetryingFetchOptions {
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  /** Resolved per call so that tests can stub the global fetch. */
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
}

export interface RetriedRequest {
  readonly method: string;
  /** For errors and call records: path only. */
  readonly path: string;
  readonly url: URL;
  /** Built per attempt, because a 401 refresh changes the token. */
  readonly headers: () => Record<string, string>;
  readonly body?: string;
  readonly transactionId?: string;
  /** Called at most once on a 401; the request is then re-sent without using up an attempt. */
  readonly onUnauthorized?: () => Promise<void>;
  readonly onCall?: (call: CitrixCallRecord) => void;
  /** Removes secrets from response text before it can reach an error message. */
  readonly redact?: (text: string) => string;
}

/** The transport settings of a client, from its connection and its test seams. */
export function transportOf(
  connection: { readonly requestTimeoutMs: number; readonly retry: RetryPolicy },
  seams: Pick<RetryingFetchOptions, 'fetch' | 'sleep' | 'random' | 'now'>,
): RetryingFetchOptions {
  return {
    timeoutMs: connection.requestTimeoutMs,
    retry: connection.retry,
    fetch: seams.fetch,
    sleep: seams.sleep,
    random: seams.random,
    now: seams.now,
  };
}

/** A complete HTTP response with its body read (the body read is covered by the timeout too). */
export interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

/**
 * Sends a request, retrying 408/429/5xx and network failures per the policy. Returns the first
 * non-retryable response (including non-2xx: the caller maps those); throws CitrixThrottledError,
 * CitrixUnavailableError or CitrixTimeoutError when retrying does not help.
 */
export async function fetchWithRetry(
  request: RetriedRequest,
  options: RetryingFetchOptions,
): Promise<RawResponse> {
  const policy = options.retry;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const maxAttempts = Math.max(1, policy.maxAttempts);
  let attempt = 1;
  let sent = 0;
  let refreshed = false;

  const record = (call: Omit<CitrixCallRecord, 'method' | 'path' | 'attempt'>): void => {
    if (!request.onCall) return;
    try {
      request.onCall({ method: request.method, path: request.path, attempt: sent, ...call });
    } catch {
      // An audit hook must never change the outcome of (or re-send) a Citrix action.
    }
  };

  for (;;) {
    const headers = request.headers();
    // Validates header values before the try below, so a malformed header is a bug, not a retry.
    new Headers(headers);
    sent += 1;
    const started = now();
    let raw: RawResponse;
    try {
      const fetchImpl = options.fetch ?? globalThis.fetch;
      const response = await fetchImpl(request.url, {
        method: request.method,
        headers,
        body: request.body,
        // Never follow redirects: they could carry the token or the client secret elsewhere.
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      raw = { status: response.status, headers: response.headers, text: await response.text() };
    } catch (error) {
      record({
        durationMs: now() - started,
        transactionId: request.transactionId,
        error: describeNetworkError(error),
        retried: attempt < maxAttempts,
      });
      if (attempt >= maxAttempts) {
        throw new CitrixTimeoutError(
          request.method,
          request.path,
          `Citrix API ${request.method} ${request.path} timed out or failed to connect after ${attempt} attempts`,
          { cause: error },
        );
      }
      await sleep(backoffDelayMs(attempt, policy, random));
      attempt += 1;
      continue;
    }

    const durationMs = now() - started;
    const retryable = isRetryableStatus(raw.status);
    const retryAfterMs = retryable
      ? parseRetryAfterMs(raw.headers.get('retry-after'), now())
      : undefined;
    const waitTooLong = retryAfterMs !== undefined && retryAfterMs > policy.maxRetryAfterMs;
    record({
      status: raw.status,
      durationMs,
      transactionId: responseTransactionId(raw.headers) ?? request.transactionId,
      retried: retryable && !waitTooLong && attempt < maxAttempts,
    });

    if (raw.status === 401 && request.onUnauthorized && !refreshed) {
      refreshed = true;
      await request.onUnauthorized();
      continue;
    }
    if (!retryable) return raw;
    if (waitTooLong) {
      throw new CitrixThrottledError({
        ...errorDetails(request, raw),
        retryAfterMs,
      });
    }
    if (attempt >= maxAttempts) throw citrixApiErrorFromResponse(request, raw, retryAfterMs);
    await sleep(retryAfterMs ?? backoffDelayMs(attempt, policy, random));
    attempt += 1;
  }
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timeout';
    const code = (error.cause as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string') return `network error: ${code}`;
    return `network error: ${error.name}`;
  }
  return 'network error';
}

function responseTransactionId(headers: Headers): string | undefined {
  return headers.get('citrix-transactionid') ?? headers.get('x-cws-transactionid') ?? undefined;
}

// Citrix errors are {Type, Detail, Parameters}; the OAuth token endpoint uses {error, error_description}.
const ErrorBodySchema = z.object({
  Type: z.string().optional().catch(undefined),
  Detail: z.string().optional().catch(undefined),
  Message: z.string().optional().catch(undefined),
  // Endpoint Management errors are {status: -1, message}.
  message: z.string().optional().catch(undefined),
  Parameters: z.array(z.unknown()).optional().catch(undefined),
  error: z.string().optional().catch(undefined),
  error_description: z.string().optional().catch(undefined),
});

const MAX_EXCERPT = 200;

function excerpt(text: string): string | undefined {
  const compact = text.replace(/\s+/g, ' ').trim();
  if (compact === '') return undefined;
  return compact.length > MAX_EXCERPT ? `${compact.slice(0, MAX_EXCERPT - 1)}…` : compact;
}

function errorDetails(
  request: Pick<RetriedRequest, 'method' | 'path' | 'redact'>,
  raw: RawResponse,
): CitrixApiErrorDetails {
  const text = request.redact ? request.redact(raw.text) : raw.text;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = ErrorBodySchema.safeParse(json);
  const body = parsed.success ? parsed.data : undefined;
  const detail =
    body?.Detail ?? body?.error_description ?? body?.Message ?? body?.message ?? excerpt(text);
  return {
    status: raw.status,
    method: request.method,
    path: request.path,
    errorType: body?.Type ?? body?.error,
    detail: detail === undefined ? undefined : (excerpt(detail) ?? undefined),
    parameters: body?.Parameters,
    transactionId: responseTransactionId(raw.headers),
  };
}

/** Maps a non-2xx response to the most specific CitrixApiError. */
export function citrixApiErrorFromResponse(
  request: Pick<RetriedRequest, 'method' | 'path' | 'redact'>,
  raw: RawResponse,
  retryAfterMs?: number,
): CitrixApiError {
  const details = errorDetails(request, raw);
  const status = raw.status;
  if (status === 401) return new CitrixAuthenticationError(details);
  if (status === 403) return new CitrixForbiddenError(details);
  if (status === 404) return new CitrixNotFoundError(details);
  if (status === 429) return new CitrixThrottledError({ ...details, retryAfterMs });
  if (status === 408 || (status >= 500 && status <= 599))
    return new CitrixUnavailableError(details);
  return new CitrixApiError(details);
}

export function isSuccessStatus(status: number): boolean {
  return status >= 200 && status <= 299;
}

/** Parses a 2xx body: JSON when non-empty, undefined otherwise. */
export function parseJsonBody(method: string, path: string, text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    // The SyntaxError is not kept as cause: its message quotes the body.
    throw new CitrixResponseValidationError(method, path, 'body is not valid JSON');
  }
}

/** Parses a Citrix response body with zod; the error names fields, never quotes the body. */
export function parseCitrixBody<T>(
  schema: z.ZodType<T>,
  body: unknown,
  method: string,
  path: string,
): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const summary = parsed.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
  throw new CitrixResponseValidationError(method, path, summary, { cause: parsed.error });
}

/** A path that resolves on the configured origin only (no '//host', no query or fragment). */
function assertSafePath(path: string): void {
  if (!path.startsWith('/') || path.startsWith('//') || /[?#\\\s]/.test(path)) {
    throw new TypeError('Citrix request path must be an absolute path without query or fragment');
  }
}

/** The client's transport with this call's caps on timeout and attempts applied. */
function callTransport(
  options: RetryingFetchOptions,
  request: Pick<CitrixRequest, 'timeoutMs' | 'maxAttempts'>,
): RetryingFetchOptions {
  const { timeoutMs, maxAttempts } = request;
  if (timeoutMs === undefined && maxAttempts === undefined) return options;
  return {
    ...options,
    timeoutMs: Math.min(options.timeoutMs, timeoutMs ?? options.timeoutMs),
    retry: {
      ...options.retry,
      maxAttempts: Math.min(options.retry.maxAttempts, maxAttempts ?? options.retry.maxAttempts),
    },
  };
}

// Header values are sent verbatim; reject anything that could split or smuggle headers.
const HEADER_TOKEN = /^[\x21-\x7e]{1,200}$/;

export class CitrixHttpClient {
  readonly #options: CitrixHttpOptions;

  constructor(options: CitrixHttpOptions) {
    this.#options = options;
  }

  async request(request: CitrixRequest): Promise<CitrixResponse> {
    assertSafePath(request.path);
    const { transactionId } = request;
    if (transactionId !== undefined && !HEADER_TOKEN.test(transactionId)) {
      throw new TypeError('Citrix transaction id must be 1-200 visible ASCII characters');
    }
    const url = new URL(request.path, this.#options.baseUrl.origin);
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, value);
    }
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const extraHeaders = await this.#options.headers();
    const tokens = this.#options.tokens;
    let token = await tokens.getToken();

    const headers = (): Record<string, string> => {
      const merged = new Headers({ Accept: 'application/json' });
      if (body !== undefined) merged.set('Content-Type', 'application/json; charset=utf-8');
      for (const [name, value] of Object.entries(extraHeaders)) merged.set(name, value);
      for (const [name, value] of Object.entries(request.headers ?? {})) merged.set(name, value);
      const authorization = this.#options.authorization ?? cwsAuthorization;
      for (const [name, value] of Object.entries(authorization(token))) merged.set(name, value);
      if (transactionId !== undefined) merged.set('Citrix-TransactionId', transactionId);
      return Object.fromEntries(merged.entries());
    };

    const retried: RetriedRequest = {
      method: request.method,
      path: request.path,
      url,
      headers,
      body,
      transactionId,
      onCall: this.#options.onCall,
      onUnauthorized: async () => {
        tokens.invalidate(token);
        token = await tokens.getToken();
      },
    };
    const raw = await fetchWithRetry(retried, callTransport(this.#options, request));
    if (!isSuccessStatus(raw.status)) throw citrixApiErrorFromResponse(retried, raw);
    return {
      status: raw.status,
      headers: raw.headers,
      body: parseJsonBody(request.method, request.path, raw.text),
    };
  }
}
