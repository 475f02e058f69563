import * as z from 'zod';
import { CitrixTokenProvider } from './cloud-auth.ts';
import type { CitrixConnection, CredentialsSource } from './config.ts';
import {
  CitrixConfigurationError,
  CitrixResponseValidationError,
  InvalidCitrixIdError,
} from './errors.ts';
import { type CitrixCallRecord, CitrixHttpClient, parseCitrixBody, transportOf } from './http.ts';
import {
  formatUserIdentifier,
  jobIdFromLocation,
  type UserIdentifier,
  userMatches,
  validateJobId,
  validateSessionId,
} from './ids.ts';

// Loose objects: Citrix returns dozens of fields we do not use, and adds new ones over time.
export const DaasSessionSchema = z.looseObject({
  Id: z.string(),
  // Unknown | Connected | Active | Disconnected, but unknown future states must not break parsing.
  State: z.string(),
  User: z
    .looseObject({
      PrincipalName: z.string().nullish(),
      Name: z.string().nullish(),
      DisplayName: z.string().nullish(),
    })
    .nullish(),
  UntrustedUserName: z.string().nullish(),
  Machine: z
    .looseObject({
      Name: z.string().nullish(),
      DnsName: z.string().nullish(),
      DeliveryGroup: z.looseObject({ Name: z.string().nullish() }).nullish(),
    })
    .nullish(),
  /** Where the session was opened from. */
  Client: z
    .looseObject({
      IPAddress: z.string().nullish(),
      Name: z.string().nullish(),
    })
    .nullish(),
  StartTime: z.string().nullish(),
  /** ISO 8601, or the US form of Citrix's sample (`11/16/2020 2:02:49 PM`). */
  StateChangeTime: z.string().nullish(),
  LogoffInProgress: z.boolean().nullish(),
  SessionType: z.string().nullish(),
});

export const DaasSessionCollectionSchema = z.looseObject({
  Items: z.array(DaasSessionSchema),
  ContinuationToken: z.string().nullish(),
  TotalItems: z.number().nullish(),
});

export const JOB_STATUSES = [
  'Unknown',
  'NotStarted',
  'InProgress',
  'Complete',
  'CompleteWithWarning',
  'Failed',
  'Canceled',
  'NonTerminatingError',
] as const;

export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = [
  'Complete',
  'CompleteWithWarning',
  'Failed',
  'Canceled',
];

export const SUCCESSFUL_JOB_STATUSES: readonly JobStatus[] = ['Complete', 'CompleteWithWarning'];

export const DaasJobSchema = z.looseObject({
  Id: z.string(),
  Status: z.enum(JOB_STATUSES),
  Type: z.string().nullish(),
  OverallProgressPercent: z.number().nullish(),
  ErrorString: z.string().nullish(),
  ErrorCode: z.string().nullish(),
  ResultLocation: z.string().nullish(),
});

export const MeResponseSchema = z.looseObject({
  Customers: z.array(
    z.looseObject({
      Id: z.string(),
      Name: z.string().nullish(),
      Sites: z.array(z.looseObject({ Id: z.string(), Name: z.string().nullish() })),
    }),
  ),
});

export type DaasSession = z.infer<typeof DaasSessionSchema>;
export type DaasJob = z.infer<typeof DaasJobSchema>;

/** One `$search` filter, e.g. `{ Property: 'DeliveryGroup', Value: 'Finance', Operator: 'Equals' }`. */
export interface SessionSearchFilter {
  readonly Property:
    | 'UserPrincipalName'
    | 'CurrentUser'
    | 'SessionState'
    | 'DeliveryGroup'
    | 'MachineName'
    | 'DnsName'
    | 'ClientIP';
  readonly Value: string;
  readonly Operator: 'Equals' | 'StartsWith';
}

export interface CallContext {
  readonly transactionId?: string;
  /**
   * Caps the attempts of a session action or job read: 1 hands a 429 or a timeout straight back,
   * so that a caller sharing a throttle gate (lib/sessions/batches.ts) decides what happens next
   * and a mutating call is never sent twice by the HTTP layer.
   */
  readonly maxAttempts?: number;
}

export interface DaasClientOptions {
  connection: CitrixConnection;
  credentials: CredentialsSource;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
  onCall?: (call: CitrixCallRecord) => void;
}

export interface SessionMessage {
  title: string;
  text: string;
  style?: 'Information' | 'Exclamation' | 'Critical' | 'Question';
}

const MANAGE = '/cvad/manage';
const SEARCH_PAGE_SIZE = '1000';
const MAX_SEARCH_PAGES = 100;
// Same rule as CITRIX_SITE_ID: the discovered id becomes a header value.
const SITE_ID = /^[A-Za-z0-9-]{1,64}$/;

function sessionPath(sessionId: string, action = ''): string {
  return `${MANAGE}/Sessions/${encodeURIComponent(validateSessionId(sessionId))}${action}`;
}

/** Citrix DaaS REST API (`/cvad/manage`) client: one token provider per instance. */
export class DaasClient {
  readonly #connection: CitrixConnection;
  readonly #http: CitrixHttpClient;
  // /me must be called without Citrix-InstanceId: it is how the instance id is found.
  readonly #customerHttp: CitrixHttpClient;
  #siteId: Promise<string> | undefined;

  constructor(options: DaasClientOptions) {
    const { connection } = options;
    this.#connection = connection;
    const transport = transportOf(connection, options);
    const tokens = new CitrixTokenProvider({
      baseUrl: connection.baseUrl,
      customerId: connection.customerId,
      credentials: options.credentials,
      ...transport,
    });
    this.#http = new CitrixHttpClient({
      baseUrl: connection.baseUrl,
      tokens,
      headers: async () => ({
        'Citrix-CustomerId': connection.customerId,
        'Citrix-InstanceId': await this.getSiteId(),
      }),
      onCall: options.onCall,
      ...transport,
    });
    this.#customerHttp = new CitrixHttpClient({
      baseUrl: connection.baseUrl,
      tokens,
      headers: async () => ({ 'Citrix-CustomerId': connection.customerId }),
      onCall: options.onCall,
      ...transport,
    });
  }

  /** The configured site id, or the only site of the customer (discovered once). */
  getSiteId(): Promise<string> {
    if (this.#connection.siteId !== undefined) return Promise.resolve(this.#connection.siteId);
    if (this.#siteId === undefined) {
      const discovery = this.#discoverSiteId();
      this.#siteId = discovery;
      // A failed discovery (e.g. throttled) is retried by the next caller.
      discovery.catch(() => {
        if (this.#siteId === discovery) this.#siteId = undefined;
      });
    }
    return this.#siteId;
  }

  async #discoverSiteId(): Promise<string> {
    const path = `${MANAGE}/me`;
    const response = await this.#customerHttp.request({ method: 'GET', path });
    const me = parseCitrixBody(MeResponseSchema, response.body, 'GET', path);
    const customerId = this.#connection.customerId.toLowerCase();
    const customer = me.Customers.find((entry) => entry.Id.toLowerCase() === customerId);
    if (customer === undefined) {
      throw new CitrixConfigurationError(
        `Citrix customer "${this.#connection.customerId}" is not visible to this API client (found: ${me.Customers.map((entry) => entry.Id).join(', ') || 'none'}); check CITRIX_CUSTOMER_ID`,
      );
    }
    const [site, ...others] = customer.Sites;
    if (site === undefined || others.length > 0) {
      const sites = customer.Sites.map((entry) => `${entry.Name ?? '(unnamed)'} (${entry.Id})`);
      throw new CitrixConfigurationError(
        `Cannot choose a Citrix DaaS site: customer "${customer.Id}" has ${customer.Sites.length} sites${sites.length > 0 ? `: ${sites.join(', ')}` : ''}; set CITRIX_SITE_ID`,
      );
    }
    if (!SITE_ID.test(site.Id)) {
      throw new CitrixResponseValidationError('GET', path, 'site id is not a valid id');
    }
    return site.Id;
  }

  /** All sessions of exactly this user (search results are re-checked with userMatches). */
  async searchSessionsByUser(user: UserIdentifier, context?: CallContext): Promise<DaasSession[]> {
    const filter: SessionSearchFilter =
      user.kind === 'upn'
        ? { Property: 'UserPrincipalName', Value: user.upn, Operator: 'Equals' }
        : { Property: 'CurrentUser', Value: formatUserIdentifier(user), Operator: 'Equals' };
    const sessions = await this.searchSessions([filter], context);
    return sessions.filter((session) => userMatches(user, session));
  }

  /**
   * Every session the search filters (ANDed) select, page after page. Citrix search can be
   * fuzzy: callers re-check each result against what they asked for before acting on it.
   */
  async searchSessions(
    filters: readonly SessionSearchFilter[],
    context?: CallContext,
  ): Promise<DaasSession[]> {
    const path = `${MANAGE}/Sessions/$search`;
    const sessions: DaasSession[] = [];
    const seenTokens = new Set<string>();
    let continuationToken: string | undefined;
    for (let page = 1; ; page += 1) {
      if (page > MAX_SEARCH_PAGES) {
        throw new CitrixResponseValidationError(
          'POST',
          path,
          `more than ${MAX_SEARCH_PAGES} pages of sessions`,
        );
      }
      const response = await this.#http.request({
        method: 'POST',
        path,
        query: { limit: SEARCH_PAGE_SIZE, continuationToken },
        body: { SearchFilters: filters },
        transactionId: context?.transactionId,
      });
      const collection = parseCitrixBody(DaasSessionCollectionSchema, response.body, 'POST', path);
      sessions.push(...collection.Items);
      const next = collection.ContinuationToken;
      if (next === null || next === undefined || next === '') break;
      if (seenTokens.has(next)) {
        throw new CitrixResponseValidationError('POST', path, 'continuation token repeated');
      }
      seenTokens.add(next);
      continuationToken = next;
    }
    return sessions;
  }

  async getSession(sessionId: string, context?: CallContext): Promise<DaasSession> {
    const path = sessionPath(sessionId);
    const response = await this.#http.request({
      method: 'GET',
      path,
      transactionId: context?.transactionId,
    });
    return parseCitrixBody(DaasSessionSchema, response.body, 'GET', path);
  }

  /**
   * Disconnects a session. Returns the session as Citrix reports it, or undefined when Citrix
   * answers with an empty body (or a collection that does not contain it).
   */
  async disconnectSession(
    sessionId: string,
    context?: CallContext,
  ): Promise<DaasSession | undefined> {
    const path = sessionPath(sessionId, '/$disconnect');
    const response = await this.#http.request({
      method: 'POST',
      path,
      transactionId: context?.transactionId,
      maxAttempts: context?.maxAttempts,
    });
    if (response.body === undefined) return undefined;
    // The API reference says SessionResponseModel; the how-to shows a collection. Accept both.
    const single = DaasSessionSchema.safeParse(response.body);
    if (single.success) return single.data;
    const collection = parseCitrixBody(DaasSessionCollectionSchema, response.body, 'POST', path);
    const id = sessionId.toLowerCase();
    return collection.Items.find((session) => session.Id.toLowerCase() === id);
  }

  /**
   * Starts an asynchronous logoff. `jobId` is set when Citrix accepted it as a job (202 +
   * Location); `{}` means Citrix logged the session off synchronously.
   */
  async logoffSession(sessionId: string, context?: CallContext): Promise<{ jobId?: string }> {
    const path = sessionPath(sessionId, '/$logoff');
    const response = await this.#http.request({
      method: 'POST',
      path,
      query: { async: 'true' },
      transactionId: context?.transactionId,
      maxAttempts: context?.maxAttempts,
    });
    const location = response.headers.get('location');
    if (location === null) {
      if (response.status === 202) {
        throw new CitrixResponseValidationError('POST', path, '202 Accepted without a Location');
      }
      return {};
    }
    try {
      return { jobId: jobIdFromLocation(location) };
    } catch (error) {
      if (!(error instanceof InvalidCitrixIdError)) throw error;
      throw new CitrixResponseValidationError('POST', path, 'Location is not a job URL', {
        cause: error,
      });
    }
  }

  /** Job status, from a URL built on the configured base (never from a Location header). */
  async getJob(jobId: string, context?: CallContext): Promise<DaasJob> {
    const path = `${MANAGE}/Jobs/${encodeURIComponent(validateJobId(jobId))}`;
    const response = await this.#http.request({
      method: 'GET',
      path,
      transactionId: context?.transactionId,
      maxAttempts: context?.maxAttempts,
    });
    return parseCitrixBody(DaasJobSchema, response.body, 'GET', path);
  }

  async sendMessage(
    sessionId: string,
    message: SessionMessage,
    context?: CallContext,
  ): Promise<void> {
    const path = sessionPath(sessionId, '/$sendMessage');
    await this.#http.request({
      method: 'POST',
      path,
      body: { Style: message.style ?? 'Information', Title: message.title, Text: message.text },
      transactionId: context?.transactionId,
      maxAttempts: context?.maxAttempts,
    });
  }
}
