import * as z from 'zod';
import {
  type AdministratorAccess,
  AdministratorAccessSchema,
  AdministratorPageSchema,
  type CloudAdministrator,
} from './administrators-schemas.ts';
import { CitrixTokenProvider } from './cloud-auth.ts';
import type { CitrixConnection, CredentialsSource } from './config.ts';
import { CitrixResponseValidationError, InvalidCitrixIdError } from './errors.ts';
import { type CitrixCallRecord, CitrixHttpClient, parseCitrixBody, transportOf } from './http.ts';

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

/** Citrix Cloud administrators API (`https://api.cloud.com/administrators`). */
export class CloudAdministratorsClient {
  readonly #http: CitrixHttpClient;
  readonly #maxPages: number;

  constructor(options: CloudAdministratorsClientOptions) {
    const { connection } = options;
    const transport = transportOf(connection, options);
    this.#maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
    this.#http = new CitrixHttpClient({
      baseUrl: connection.baseUrl,
      tokens: new CitrixTokenProvider({
        baseUrl: connection.baseUrl,
        customerId: connection.customerId,
        credentials: options.credentials,
        ...transport,
      }),
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

  async updateAccess(id: string, access: AdministratorAccess): Promise<void> {
    await this.#http.request({
      method: 'PUT',
      path: `${ADMINISTRATORS}/access`,
      query: { id: validateAdministratorId(id) },
      body: access,
    });
  }

  async deleteAdministrator(id: string): Promise<void> {
    await this.#http.request({
      method: 'DELETE',
      path: `${ADMINISTRATORS}/${encodeURIComponent(validateAdministratorId(id))}`,
    });
  }

  /** Deletes a pending invitation; false when Citrix had none to delete. */
  async deleteInvitation(email: string): Promise<boolean> {
    const path = `${ADMINISTRATORS}/invitations`;
    const response = await this.#http.request({ method: 'DELETE', path, query: { email } });
    return parseCitrixBody(z.boolean(), response.body, 'DELETE', path);
  }
}
