import * as z from 'zod';
import type { CredentialsSource } from './config.ts';
import { CitrixAuthenticationError, CitrixResponseValidationError } from './errors.ts';
import {
  citrixApiErrorFromResponse,
  fetchWithRetry,
  isSuccessStatus,
  parseJsonBody,
  type RetriedRequest,
  type TokenSource,
} from './http.ts';
import type { RetryPolicy } from './retry.ts';

export interface CitrixTokenProviderOptions {
  baseUrl: URL;
  customerId: string;
  credentials: CredentialsSource;
  timeoutMs: number;
  retry: RetryPolicy;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
  /** Refresh this long before expiry (default 60 s, as Citrix's own SDK does). */
  refreshMarginMs?: number;
}

const DEFAULT_REFRESH_MARGIN_MS = 60_000;

// The token becomes a header value: only visible ASCII, so it cannot split headers.
const TokenResponseSchema = z.object({
  token_type: z.string().optional(),
  access_token: z.string().regex(/^[\x21-\x7e]+$/, 'must be a non-empty header-safe string'),
  // Citrix sends expires_in as a string ("3600").
  expires_in: z
    .union([
      z.number(),
      z
        .string()
        .regex(/^\s*\d+\s*$/)
        .transform(Number),
    ])
    .pipe(z.number().int().positive()),
});

interface CachedToken {
  readonly token: string;
  readonly refreshAt: number;
}

/**
 * Citrix Cloud client-credentials tokens (they cannot be refreshed, only re-requested). One cached
 * token per instance; concurrent callers share one in-flight request.
 */
export class CitrixTokenProvider implements TokenSource {
  readonly #options: CitrixTokenProviderOptions;
  readonly #now: () => number;
  #cached: CachedToken | undefined;
  #inFlight: Promise<string> | undefined;

  constructor(options: CitrixTokenProviderOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  getToken(): Promise<string> {
    const cached = this.#cached;
    if (cached !== undefined && this.#now() < cached.refreshAt)
      return Promise.resolve(cached.token);
    if (this.#inFlight === undefined) {
      const request = this.#requestToken();
      this.#inFlight = request;
      // Cleared on failure too, so a failed request is never cached.
      const clear = (): void => {
        if (this.#inFlight === request) this.#inFlight = undefined;
      };
      request.then(clear, clear);
    }
    return this.#inFlight;
  }

  invalidate(token: string): void {
    if (this.#cached?.token === token) this.#cached = undefined;
  }

  async #requestToken(): Promise<string> {
    const { baseUrl, customerId } = this.#options;
    const path = `/cctrustoauth2/${encodeURIComponent(customerId)}/tokens/clients`;
    const { clientId, clientSecret } = await this.#options.credentials();
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
    }).toString();
    const requestedAt = this.#now();
    const request: RetriedRequest = {
      method: 'POST',
      path,
      url: new URL(path, baseUrl.origin),
      headers: () => ({
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
      }),
      body,
      redact: (text) => redactSecret(text, clientSecret),
    };
    const raw = await fetchWithRetry(request, this.#options);
    if (!isSuccessStatus(raw.status)) {
      const error = citrixApiErrorFromResponse(request, raw);
      if (raw.status === 400 || raw.status === 401) {
        throw new CitrixAuthenticationError(error);
      }
      throw error;
    }
    const parsed = TokenResponseSchema.safeParse(parseJsonBody('POST', path, raw.text));
    if (!parsed.success) {
      // Issues only: never the body, which may hold a token.
      throw new CitrixResponseValidationError(
        'POST',
        path,
        `token response is invalid (${parsed.error.issues.map((issue) => issue.path.join('.')).join(', ')})`,
        { cause: parsed.error },
      );
    }
    const lifetimeMs = parsed.data.expires_in * 1000;
    // A token shorter-lived than the margin is still used for half its life rather than never.
    const margin = Math.min(
      this.#options.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS,
      lifetimeMs / 2,
    );
    const token = parsed.data.access_token;
    this.#cached = { token, refreshAt: requestedAt + lifetimeMs - margin };
    return token;
  }
}

function redactSecret(text: string, secret: string): string {
  if (secret === '') return text;
  const forms = new Set([
    secret,
    encodeURIComponent(secret),
    new URLSearchParams({ s: secret }).toString().slice(2),
  ]);
  let redacted = text;
  for (const form of forms) redacted = redacted.replaceAll(form, '[REDACTED]');
  return redacted;
}
