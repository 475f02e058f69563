import { AsyncLocalStorage } from 'node:async_hooks';
import * as z from 'zod';
import type {
  EmBodyShape,
  EndpointManagementConnection,
  EndpointManagementCredentials,
} from './endpoint-management-config.ts';
import {
  CitrixAuthenticationError,
  CitrixError,
  CitrixResponseValidationError,
  CitrixThrottledError,
  requestMayHaveApplied,
} from './errors.ts';
import {
  type CitrixCallRecord,
  CitrixHttpClient,
  citrixApiErrorFromResponse,
  fetchWithRetry,
  isSuccessStatus,
  parseCitrixBody,
  parseJsonBody,
  type RetriedRequest,
  type TokenSource,
} from './http.ts';
import { deviceIdJson, validateDeviceId } from './ids.ts';
import { backoffDelayMs } from './retry.ts';

/** Endpoint Management device as the filter and get calls return it; ids normalised to strings. */
export const EmDeviceSchema = z.looseObject({
  // A GUID in the cloud service, an integer on XenMobile Server.
  id: z.union([z.string(), z.number().int().nonnegative()]).transform(String),
  userName: z.string().nullish(),
  serialNumber: z.string().nullish(),
  deviceModel: z.string().nullish(),
  platform: z.string().nullish(),
  osVersion: z.string().nullish(),
  lastAccess: z.union([z.string(), z.number()]).nullish(),
  managed: z.boolean().nullish(),
  jailbroken: z.boolean().nullish(),
  compliant: z.boolean().nullish(),
});
export type EmDevice = z.infer<typeof EmDeviceSchema>;

const FilterResponseSchema = z.looseObject({
  filteredDevicesDataList: z.array(EmDeviceSchema).nullish(),
  totalCount: z.number().nullish(),
  matchedRecords: z.number().nullish(),
});

// The OpenAPI document returns the device itself; XenMobile Server wraps it as {device}.
const WrappedDeviceSchema = z.looseObject({ device: EmDeviceSchema });

const LoginResponseSchema = z.looseObject({
  // Sent back as a header value: visible ASCII only, so it cannot split headers.
  auth_token: z.string().regex(/^[\x21-\x7e]{1,4096}$/, 'must be a header-safe string'),
});

/** Endpoint Management answered 200 with `"status": -1` (or another non-zero status). */
export class EndpointManagementRejectedError extends CitrixError {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** The server's own messages, in order. */
  readonly messages: readonly string[];

  constructor(method: string, path: string, status: number, messages: readonly string[]) {
    const detail = messages.length > 0 ? messages.join('; ') : 'no message';
    super(`Endpoint Management ${method} ${path} returned status ${status}: ${detail}`);
    this.name = 'EndpointManagementRejectedError';
    this.method = method;
    this.path = path;
    this.status = status;
    this.messages = messages;
  }
}

export type DeviceCommand = 'wipe' | 'selectiveWipe' | 'deployPolicy';

/**
 * A device command went out and no answer came back (a timeout, a reset connection, a 5xx or 408,
 * a 2xx whose body could not be read): Endpoint Management may have applied it. It is never sent
 * again by the client; the caller records it as unanswered and reads the device.
 */
export class DeviceCommandUnansweredError extends CitrixError {
  readonly command: DeviceCommand;
  readonly path: string;

  constructor(command: DeviceCommand, path: string, options: ErrorOptions & { cause: unknown }) {
    const cause = options.cause;
    const why = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(
      `Endpoint Management did not answer POST ${path} (${why.slice(0, 300)}); the ${command} may have been applied`,
      options,
    );
    this.name = 'DeviceCommandUnansweredError';
    this.command = command;
    this.path = path;
  }
}

/**
 * Whether a failed device command POST may have been applied by Endpoint Management: never after
 * `status: -1` (refused), otherwise as for any Citrix change (`requestMayHaveApplied`).
 */
export function commandMayHaveApplied(error: unknown, path: string): boolean {
  return !(error instanceof EndpointManagementRejectedError) && requestMayHaveApplied(error, path);
}

/**
 * Each command's request in both body shapes (see EM_BODY_SHAPES): the `id-array` path, and the
 * `object` path with whether its body takes one `deviceId` or a `deviceIds` list. One table, so a
 * command without its requests is a type error, never another command's request.
 */
const DEVICE_COMMAND_REQUESTS: Readonly<
  Record<
    DeviceCommand,
    { readonly idArray: string; readonly object: string; readonly many: boolean }
  >
> = {
  wipe: { idArray: '/device/wipe', object: '/device/wipe', many: false },
  selectiveWipe: { idArray: '/device/selwipe', object: '/device/selectivewipe', many: false },
  deployPolicy: { idArray: '/device/refresh', object: '/device/policy/deploy', many: true },
};

/** How long a 429 asks to wait (0: it did not say, so back off as the policy does). */
function throttledWait(error: CitrixThrottledError): number {
  return error.retryAfterMs ?? 0;
}

/** Path and body of a device command for each body shape (see EM_BODY_SHAPES). */
export function deviceCommandRequest(
  command: DeviceCommand,
  deviceIds: readonly string[],
  shape: EmBodyShape,
): { path: string; body: unknown } {
  // A declaration can name a command before its code exists: nothing is sent then.
  const request = Object.hasOwn(DEVICE_COMMAND_REQUESTS, command)
    ? DEVICE_COMMAND_REQUESTS[command]
    : undefined;
  if (request === undefined) {
    throw new TypeError(`No Endpoint Management request for ${JSON.stringify(command)}`);
  }
  const ids = deviceIds.map(validateDeviceId);
  if (shape === 'id-array') return { path: request.idArray, body: ids.map(deviceIdJson) };
  if (request.many) return { path: request.object, body: { deviceIds: ids } };
  const [deviceId, ...others] = ids;
  if (deviceId === undefined || others.length > 0) {
    throw new TypeError(`${command} takes exactly one device id per request`);
  }
  return { path: request.object, body: { deviceId } };
}

/** How the client gets its `auth_token`. */
export type EndpointManagementLogin =
  | {
      readonly kind: 'cloud';
      /** The Citrix Cloud token client (shared with DaaS): current bearer token, and drop it on 401. */
      readonly bearerTokens: TokenSource;
    }
  | {
      readonly kind: 'credentials';
      readonly credentials: () => Promise<EndpointManagementCredentials>;
    };

export interface EndpointManagementClientOptions {
  readonly connection: EndpointManagementConnection;
  readonly login: EndpointManagementLogin;
  /** Devices per filter page (the API allows at most 100). */
  readonly pageSize?: number;
  /** Filter pages read at most for one search, before the search is refused as too broad. */
  readonly maxPages?: number;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
  readonly onCall?: (call: CitrixCallRecord) => void;
}

const MAX_PAGE_SIZE = 100;
/** Longest a logout may take: it spends the task's Lambda budget after the work is done. */
export const LOGOUT_TIMEOUT_MS = 3000;
const DEFAULT_MAX_PAGES = 50;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const nonEmptyText = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/**
 * The body's `status` as a number: Endpoint Management sends a number, some versions a numeric
 * string (`"-1"`). Anything else is no status at all.
 */
function statusOf(body: Record<string, unknown>): number | undefined {
  const { status } = body;
  if (typeof status === 'number' && Number.isFinite(status)) return status;
  if (typeof status === 'string' && /^\s*[+-]?\d+\s*$/.test(status)) return Number(status);
  return undefined;
}

/**
 * The server's own words about a failure, read field by field: a malformed field is skipped, it
 * never hides the failure. Per-device messages first, then their description, then `message`.
 */
function statusMessages(body: Record<string, unknown>): string[] {
  const messages: string[] = [];
  const actionMessages = body.deviceActionMessages;
  const parameters = isRecord(actionMessages) ? actionMessages.devicesActionParameters : undefined;
  if (isRecord(parameters)) {
    const list = Array.isArray(parameters.messageList) ? parameters.messageList : [];
    for (const entry of list) {
      const message = isRecord(entry) ? nonEmptyText(entry.message) : undefined;
      if (message !== undefined) messages.push(message);
    }
    const description = nonEmptyText(parameters.description);
    if (messages.length === 0 && description !== undefined) messages.push(description);
  }
  const message = nonEmptyText(body.message);
  if (messages.length === 0 && message !== undefined) messages.push(message);
  return messages.map((text) => text.slice(0, 300));
}

/**
 * Every Endpoint Management answer may carry `{status, message}`; a status other than 0 is a
 * failure even with HTTP 200 (Citrix's own scripts check `status -ne 0`), whatever shape the
 * rest of the body has. Throws EndpointManagementRejectedError with the server's messages.
 */
function assertStatusOk(body: unknown, method: string, path: string): void {
  if (!isRecord(body)) return;
  const status = statusOf(body);
  if (status === undefined || status === 0) return;
  throw new EndpointManagementRejectedError(method, path, status, statusMessages(body));
}

const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

/** Rejects with the signal's reason once it aborts (never resolves). */
function whenAborted(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/**
 * Fetch and sleep that stop when the run's signal aborts (`withSession`'s signal, carried by
 * `scope`), so that a task stopped at its deadline leaves no request running and no retry
 * waiting: a frozen Lambda would otherwise resume them in its next invocation.
 */
function abortableTransport(
  scope: AsyncLocalStorage<AbortSignal>,
  seams: Pick<EndpointManagementClientOptions, 'fetch' | 'sleep'>,
): { fetch: typeof fetch; sleep: (ms: number) => Promise<void> } {
  return {
    fetch: (input, init) => {
      // Resolved per call so that tests can stub the global fetch.
      const fetchImpl = seams.fetch ?? globalThis.fetch;
      const signal = scope.getStore();
      if (signal === undefined) return fetchImpl(input, init);
      const own = init?.signal ?? undefined;
      return fetchImpl(input, {
        ...init,
        signal: own === undefined ? signal : AbortSignal.any([own, signal]),
      });
    },
    sleep: (ms) => {
      const sleep = seams.sleep ?? defaultSleep;
      const signal = scope.getStore();
      if (signal === undefined) return sleep(ms);
      if (signal.aborted) return Promise.reject(signal.reason);
      return Promise.race([sleep(ms), whenAborted(signal)]);
    },
  };
}

/**
 * The `auth_token` session: one login shared by concurrent callers, logged in again once when a
 * call gets 401, and ended by `logout()` (which `withSession` calls as each task finishes).
 */
class EndpointManagementSession implements TokenSource {
  readonly #options: EndpointManagementClientOptions;
  #token: string | undefined;
  #login: Promise<string> | undefined;

  constructor(options: EndpointManagementClientOptions) {
    this.#options = options;
  }

  get current(): string | undefined {
    return this.#token;
  }

  getToken(): Promise<string> {
    if (this.#token !== undefined) return Promise.resolve(this.#token);
    if (this.#login === undefined) {
      const login = this.#logIn();
      this.#login = login;
      const clear = (): void => {
        if (this.#login === login) this.#login = undefined;
      };
      login.then((token) => {
        this.#token = token;
        clear();
      }, clear);
    }
    return this.#login;
  }

  invalidate(token: string): void {
    if (this.#token === token) this.#token = undefined;
  }

  forget(): void {
    this.#token = undefined;
  }

  async #logIn(): Promise<string> {
    const { connection, login } = this.#options;
    let path: string;
    let body: Record<string, string>;
    let secret: string;
    let onUnauthorized: (() => Promise<void>) | undefined;
    if (login.kind === 'cloud') {
      path = '/authentication/login/cloud';
      let bearerToken = await login.bearerTokens.getToken();
      body = { bearerToken };
      secret = bearerToken;
      // A Citrix Cloud token revoked early is dropped and requested again, once.
      onUnauthorized = async () => {
        login.bearerTokens.invalidate(bearerToken);
        bearerToken = await login.bearerTokens.getToken();
        body = { bearerToken };
        secret = bearerToken;
      };
    } else {
      const credentials = await login.credentials();
      path = '/authentication/login';
      body = { login: credentials.username, password: credentials.password };
      secret = credentials.password;
    }
    const fullPath = underBase(connection.baseUrl, path);
    const request: RetriedRequest = {
      method: 'POST',
      path: fullPath,
      url: new URL(fullPath, connection.baseUrl.origin),
      headers: () => ({ 'Content-Type': 'application/json', Accept: 'application/json' }),
      // A getter: a 401 retry of the cloud login re-sends the body with the new bearer token.
      get body() {
        return JSON.stringify(body);
      },
      onCall: this.#options.onCall,
      ...(onUnauthorized ? { onUnauthorized } : {}),
      redact: (text) => (secret === '' ? text : text.replaceAll(secret, '[REDACTED]')),
    };
    const raw = await fetchWithRetry(request, this.#transport());
    if (!isSuccessStatus(raw.status)) {
      const error = citrixApiErrorFromResponse(request, raw);
      if (raw.status === 400 || raw.status === 401 || raw.status === 403) {
        throw new CitrixAuthenticationError(error);
      }
      throw error;
    }
    const parsed = parseJsonBody('POST', fullPath, raw.text);
    assertStatusOk(parsed, 'POST', fullPath);
    const result = LoginResponseSchema.safeParse(parsed);
    if (!result.success) {
      // Field names only: never the body, which holds a token.
      throw new CitrixResponseValidationError(
        'POST',
        fullPath,
        'login response has no valid auth_token',
      );
    }
    return result.data.auth_token;
  }

  #transport() {
    const { connection } = this.#options;
    return {
      timeoutMs: connection.requestTimeoutMs,
      retry: connection.retry,
      fetch: this.#options.fetch,
      sleep: this.#options.sleep,
      random: this.#options.random,
      now: this.#options.now,
    };
  }
}

/**
 * An API path under the configured base URL: `/xenmobile/api/v1` + `/device/wipe`, or just
 * `/device/wipe` for a server (or proxy) at the root, whose URL path is `/` (never `//device/…`).
 */
export function underBase(baseUrl: URL, path: string): string {
  return `${baseUrl.pathname.replace(/\/+$/, '')}${path}`;
}

/** Citrix Endpoint Management REST API client (`/xenmobile/api/v1`). */
export class EndpointManagementClient {
  readonly #connection: EndpointManagementConnection;
  readonly #session: EndpointManagementSession;
  readonly #http: CitrixHttpClient;
  readonly #pageSize: number;
  readonly #maxPages: number;
  readonly #options: EndpointManagementClientOptions;
  /** Runs inside `withSession` now; the last one to finish logs out. */
  #sessionUsers = 0;
  /** The abort signal of the run a call belongs to (`withSession`'s), if it has one. */
  readonly #runSignal = new AsyncLocalStorage<AbortSignal>();
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: EndpointManagementClientOptions) {
    this.#options = options;
    this.#connection = options.connection;
    this.#pageSize = Math.min(options.pageSize ?? MAX_PAGE_SIZE, MAX_PAGE_SIZE);
    this.#maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
    // Every call but the logout stops when its run's signal aborts; the logout must still go out.
    const transport = abortableTransport(this.#runSignal, options);
    this.#sleep = transport.sleep;
    this.#session = new EndpointManagementSession({ ...options, ...transport });
    this.#http = new CitrixHttpClient({
      baseUrl: options.connection.baseUrl,
      tokens: this.#session,
      headers: async () => ({}),
      authorization: (token) => ({ auth_token: token }),
      timeoutMs: options.connection.requestTimeoutMs,
      retry: options.connection.retry,
      fetch: transport.fetch,
      sleep: transport.sleep,
      random: options.random,
      now: options.now,
      onCall: options.onCall,
    });
  }

  get bodyShape(): EmBodyShape {
    return this.#connection.bodyShape;
  }

  /** The longest `logout()` takes: what a task keeps before its deadline to end the session. */
  get logoutTimeoutMs(): number {
    return Math.min(this.#connection.requestTimeoutMs, LOGOUT_TIMEOUT_MS);
  }

  #path(path: string): string {
    return underBase(this.#connection.baseUrl, path);
  }

  async #post(path: string, body: unknown): Promise<unknown> {
    const fullPath = this.#path(path);
    const response = await this.#http.request({ method: 'POST', path: fullPath, body });
    assertStatusOk(response.body, 'POST', fullPath);
    return response.body;
  }

  /** Every device the filter's `search` returns, reading page after page. */
  async filterDevices(search: string): Promise<EmDevice[]> {
    const path = this.#path('/device/filter');
    const devices: EmDevice[] = [];
    const seen = new Set<string>();
    for (let page = 0, start = 0; ; page += 1) {
      if (page >= this.#maxPages) {
        throw new CitrixResponseValidationError(
          'POST',
          path,
          `the search matched more than ${this.#maxPages * this.#pageSize} devices`,
        );
      }
      const body = await this.#post('/device/filter', {
        start,
        limit: this.#pageSize,
        sortOrder: 'ASC',
        search,
      });
      const result = parseCitrixBody(FilterResponseSchema, body, 'POST', path);
      const list = result.filteredDevicesDataList ?? [];
      const fresh = list.filter((device) => !seen.has(device.id));
      // A server that ignores `start` would return the first page forever.
      if (list.length > 0 && fresh.length === 0) {
        throw new CitrixResponseValidationError('POST', path, 'a page repeated earlier devices');
      }
      for (const device of fresh) seen.add(device.id);
      devices.push(...fresh);
      start += list.length;
      const matched = result.matchedRecords ?? undefined;
      // A server may cap pages below `limit`: with matchedRecords, read until every match is in.
      if (matched === undefined ? list.length < this.#pageSize : start >= matched) break;
      if (list.length === 0) {
        throw new CitrixResponseValidationError(
          'POST',
          path,
          `an empty page at ${start} of ${matched} matched devices`,
        );
      }
    }
    return devices;
  }

  /** The devices enrolled by exactly this user (case-insensitive): search is fuzzy, this is not. */
  async devicesOfUser(userName: string): Promise<EmDevice[]> {
    const wanted = userName.toLowerCase();
    const devices = await this.filterDevices(userName);
    return devices.filter((device) => device.userName?.toLowerCase() === wanted);
  }

  /** Every device, page after page (a filter with an empty search). */
  listDevices(): Promise<EmDevice[]> {
    return this.filterDevices('');
  }

  async getDevice(deviceId: string): Promise<EmDevice> {
    const path = this.#path(`/device/${encodeURIComponent(validateDeviceId(deviceId))}`);
    const response = await this.#http.request({ method: 'GET', path });
    assertStatusOk(response.body, 'GET', path);
    const wrapped = WrappedDeviceSchema.safeParse(response.body);
    if (wrapped.success) return wrapped.data.device;
    return parseCitrixBody(EmDeviceSchema, response.body, 'GET', path);
  }

  /**
   * Sends a device command once. It is never sent again after a failure that may follow an
   * applied command (see `commandMayHaveApplied`): that throws DeviceCommandUnansweredError. Only
   * a 429 is sent again (Endpoint Management did not act), waiting as it asks, within the retry
   * policy's attempts; a 401 is sent again after logging in afresh (it did not act either).
   */
  async sendDeviceCommand(command: DeviceCommand, deviceIds: readonly string[]): Promise<void> {
    const request = deviceCommandRequest(command, deviceIds, this.#connection.bodyShape);
    const path = this.#path(request.path);
    const { retry } = this.#connection;
    // Logged in first: a login that fails is a command never sent, whatever the error.
    await this.#session.getToken();
    for (let attempt = 1; ; attempt += 1) {
      try {
        const response = await this.#http.request({
          method: 'POST',
          path,
          body: request.body,
          maxAttempts: 1,
        });
        assertStatusOk(response.body, 'POST', path);
        return;
      } catch (error) {
        if (commandMayHaveApplied(error, path)) {
          throw new DeviceCommandUnansweredError(command, path, { cause: error });
        }
        const waitMs = error instanceof CitrixThrottledError ? throttledWait(error) : undefined;
        if (waitMs === undefined || waitMs > retry.maxRetryAfterMs) throw error;
        if (attempt >= retry.maxAttempts) throw error;
        await this.#sleep(
          waitMs > 0 ? waitMs : backoffDelayMs(attempt, retry, this.#options.random ?? Math.random),
        );
      }
    }
  }

  wipeDevice(deviceId: string): Promise<void> {
    return this.sendDeviceCommand('wipe', [deviceId]);
  }

  selectiveWipeDevice(deviceId: string): Promise<void> {
    return this.sendDeviceCommand('selectiveWipe', [deviceId]);
  }

  deployPolicies(deviceIds: readonly string[]): Promise<void> {
    return this.sendDeviceCommand('deployPolicy', deviceIds);
  }

  /**
   * Runs one task's calls, then ends the session, whether `work` succeeded or threw: a Lambda
   * invocation leaves no live `auth_token` behind. Runs sharing this client at the same time
   * share the session and the last to finish logs out. A failed logout goes to `onLogoutError`
   * and never replaces `work`'s own result or error.
   */
  async withSession<T>(
    work: () => Promise<T>,
    onLogoutError: (error: unknown) => void,
    signal?: AbortSignal,
  ): Promise<T> {
    this.#sessionUsers += 1;
    try {
      // With a signal, every call `work` makes (but the logout below) stops when it aborts.
      return await (signal === undefined ? work() : this.#runSignal.run(signal, work));
    } finally {
      this.#sessionUsers -= 1;
      if (this.#sessionUsers === 0) {
        try {
          await this.logout();
        } catch (error) {
          try {
            onLogoutError(error);
          } catch {
            // Reporting a failed logout must never replace the work's own result or error.
          }
        }
      }
    }
  }

  /**
   * Ends the session this container holds, if any. Returns whether a session was ended. The token
   * is forgotten first, so a concurrent call logs in afresh instead of using a dying token.
   *
   * One attempt with a short timeout (at most LOGOUT_TIMEOUT_MS), no retries and no Retry-After
   * waits: it runs after the task's work, inside the same Lambda budget, and a session it fails
   * to end simply lasts until the server times it out. Throws on failure (`withSession` passes
   * the error to its `onLogoutError` and never throws it).
   */
  async logout(): Promise<boolean> {
    const token = this.#session.current;
    if (token === undefined) return false;
    this.#session.forget();
    const path = this.#path('/authentication/logout');
    const request: RetriedRequest = {
      method: 'POST',
      path,
      url: new URL(path, this.#connection.baseUrl.origin),
      headers: () => ({ Accept: 'application/json', auth_token: token }),
      onCall: this.#options.onCall,
      redact: (text) => text.replaceAll(token, '[REDACTED]'),
    };
    const raw = await fetchWithRetry(request, {
      timeoutMs: Math.min(this.#connection.requestTimeoutMs, LOGOUT_TIMEOUT_MS),
      retry: { ...this.#connection.retry, maxAttempts: 1 },
      fetch: this.#options.fetch,
      sleep: this.#options.sleep,
      random: this.#options.random,
      now: this.#options.now,
    });
    // 401: the session had already expired, which is what logging out wanted.
    if (raw.status === 401) return false;
    if (!isSuccessStatus(raw.status)) throw citrixApiErrorFromResponse(request, raw);
    return true;
  }
}
