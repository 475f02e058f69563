import * as z from 'zod';
import {
  type AdministratorAccess,
  AdministratorAccessSchema,
  AdministratorPageSchema,
  type CloudAdministrator,
} from './administrators-schemas.ts';
import { CitrixTokenProvider } from './cloud-auth.ts';
import type { CitrixConnection, CredentialsSource } from './config.ts';
import {
  CitrixError,
  CitrixResponseValidationError,
  CitrixThrottledError,
  InvalidCitrixIdError,
  requestMayHaveApplied,
} from './errors.ts';
import {
  type CitrixCallRecord,
  CitrixHttpClient,
  type CitrixRequest,
  type CitrixResponse,
  parseCitrixBody,
  type RetryingFetchOptions,
  transportOf,
} from './http.ts';
import { backoffDelayMs } from './retry.ts';

export {
  ADMINISTRATOR_TYPES,
  type AdministratorAccess,
  AdministratorAccessSchema,
  type AdministratorPolicy,
  AdministratorPolicySchema,
  type CloudAdministrator,
  CloudAdministratorSchema,
} from './administrators-schemas.ts';

export interface CloudAdministratorsClientOptions {
  readonly connection: CitrixConnection;
  readonly credentials: CredentialsSource;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
  readonly onCall?: (call: CitrixCallRecord) => void;
  /** Pages read at most before a listing is refused (a paging loop is a server fault). */
  readonly maxPages?: number;
}

/** Per-call caps on the client's transport, for a check that must stay short. */
export interface AdministratorCallOptions {
  /** At most this per-attempt timeout (each page of a listing is one request). */
  readonly timeoutMs?: number;
  /** At most this many attempts per request; 1 means no retries and no Retry-After waits. */
  readonly maxAttempts?: number;
}

const ADMINISTRATORS = '/administrators';
const DEFAULT_MAX_PAGES = 100;
// userIds are digits, ucOids `OID:/<provider>/<id>`; both are URL-encoded into the path.
const ADMINISTRATOR_ID = /^[A-Za-z0-9:/._@+=-]{1,256}$/;

export function validateAdministratorId(id: string): string {
  if (typeof id !== 'string' || !ADMINISTRATOR_ID.test(id) || id.includes('..')) {
    throw new InvalidCitrixIdError(
      'administrator',
      'Invalid Citrix Cloud administrator id: expected a userId or ucOid',
    );
  }
  return id;
}

/**
 * The id the administrators API takes for this administrator: the userId of a user, the ucOid of
 * a group (or of anything without a userId), as the API's getting-started page says.
 */
export function administratorId(admin: Pick<CloudAdministrator, 'type' | 'userId' | 'ucOid'>) {
  return admin.type !== 'AdministratorGroup' && admin.userId ? admin.userId : admin.ucOid;
}

/**
 * A change to administrators went out and no answer came back (a timeout, a lost connection, a
 * 5xx or 408, a 2xx whose body could not be read): Citrix Cloud may have applied it. The client
 * never sends it again; the caller reads the administrator back to learn whether it took effect.
 */
export class AdministratorChangeUnansweredError extends CitrixError {
  readonly method: CitrixRequest['method'];
  readonly path: string;

  constructor(
    method: CitrixRequest['method'],
    path: string,
    options: ErrorOptions & { cause: unknown },
  ) {
    const cause = options.cause;
    const why = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(
      `Citrix Cloud did not answer ${method} ${path} (${why.slice(0, 300)}); the change may have been applied`,
      options,
    );
    this.name = 'AdministratorChangeUnansweredError';
    this.method = method;
    this.path = path;
  }
}

/** Citrix Cloud administrators API (`https://api.cloud.com/administrators`). */
export class CloudAdministratorsClient {
  readonly #http: CitrixHttpClient;
  readonly #tokens: CitrixTokenProvider;
  readonly #transport: RetryingFetchOptions;
  readonly #maxPages: number;

  constructor(options: CloudAdministratorsClientOptions) {
    const { connection } = options;
    const transport = transportOf(connection, options);
    this.#transport = transport;
    this.#maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
    this.#tokens = new CitrixTokenProvider({
      baseUrl: connection.baseUrl,
      customerId: connection.customerId,
      credentials: options.credentials,
      ...transport,
    });
    this.#http = new CitrixHttpClient({
      baseUrl: connection.baseUrl,
      tokens: this.#tokens,
      headers: async () => ({ 'Citrix-CustomerId': connection.customerId }),
      onCall: options.onCall,
      ...transport,
    });
  }

  /** Every administrator and pending invitation, following `continuationToken` to the end. */
  async listAdministrators(options: AdministratorCallOptions = {}): Promise<CloudAdministrator[]> {
    const administrators: CloudAdministrator[] = [];
    const seen = new Set<string>();
    let continuation: string | undefined;
    for (let page = 1; ; page += 1) {
      if (page > this.#maxPages) {
        throw new CitrixResponseValidationError(
          'GET',
          ADMINISTRATORS,
          `more than ${this.#maxPages} pages of administrators`,
        );
      }
      const response = await this.#http.request({
        method: 'GET',
        path: ADMINISTRATORS,
        query: { requestContinuation: continuation },
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
      });
      const body = parseCitrixBody(AdministratorPageSchema, response.body, 'GET', ADMINISTRATORS);
      administrators.push(...body.items);
      const next = body.continuationToken;
      if (next === null || next === undefined || next === '') return administrators;
      if (seen.has(next)) {
        throw new CitrixResponseValidationError(
          'GET',
          ADMINISTRATORS,
          'continuation token repeated',
        );
      }
      seen.add(next);
      continuation = next;
    }
  }

  async getAccess(id: string): Promise<AdministratorAccess> {
    const path = `${ADMINISTRATORS}/${encodeURIComponent(validateAdministratorId(id))}/access`;
    const response = await this.#http.request({ method: 'GET', path });
    return parseCitrixBody(AdministratorAccessSchema, response.body, 'GET', path);
  }

  /** Sets an administrator's access, once (see `#change`). */
  async updateAccess(id: string, access: AdministratorAccess): Promise<void> {
    const query = { id: validateAdministratorId(id) };
    const path = `${ADMINISTRATORS}/access`;
    await this.#change({ method: 'PUT', path, query, body: access }, () => undefined);
  }

  /** Deletes an administrator, once (see `#change`). */
  async deleteAdministrator(id: string): Promise<void> {
    const path = `${ADMINISTRATORS}/${encodeURIComponent(validateAdministratorId(id))}`;
    await this.#change({ method: 'DELETE', path }, () => undefined);
  }

  /** Deletes a pending invitation, once (see `#change`); false when Citrix had none to delete. */
  async deleteInvitation(email: string): Promise<boolean> {
    const path = `${ADMINISTRATORS}/invitations`;
    return this.#change({ method: 'DELETE', path, query: { email } }, (response) =>
      parseCitrixBody(z.boolean(), response.body, 'DELETE', path),
    );
  }

  /**
   * Sends a change once and reads its answer with `read`. It is never sent again after a failure
   * that may follow an applied change (see `requestMayHaveApplied`): that throws
   * AdministratorChangeUnansweredError. Only a 429 is sent again (Citrix did not act), waiting as
   * it asks, within the retry policy's attempts; a 401 is sent again once with a fresh token (the
   * HTTP client does that, even with one attempt).
   */
  async #change<T>(
    request: CitrixRequest & { readonly method: 'PUT' | 'DELETE' },
    read: (response: CitrixResponse) => T,
  ): Promise<T> {
    const { retry } = this.#transport;
    const sleep = this.#transport.sleep ?? defaultSleep;
    // The token first: a token request that fails is a change never sent, whatever the error.
    await this.#tokens.getToken();
    for (let attempt = 1; ; attempt += 1) {
      try {
        return read(await this.#http.request({ ...request, maxAttempts: 1 }));
      } catch (error) {
        if (requestMayHaveApplied(error, request.path)) {
          throw new AdministratorChangeUnansweredError(request.method, request.path, {
            cause: error,
          });
        }
        if (!(error instanceof CitrixThrottledError)) throw error;
        const waitMs = error.retryAfterMs ?? 0;
        if (waitMs > retry.maxRetryAfterMs || attempt >= retry.maxAttempts) throw error;
        const random = this.#transport.random ?? Math.random;
        await sleep(waitMs > 0 ? waitMs : backoffDelayMs(attempt, retry, random));
      }
    }
  }
}

const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });
