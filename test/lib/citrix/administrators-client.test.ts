import { describe, expect, it } from 'vitest';
import {
  AdministratorChangeUnansweredError,
  administratorId,
  CloudAdministratorsClient,
} from '../../../lib/citrix/administrators-client.ts';
import {
  CitrixApiError,
  CitrixAuthenticationError,
  CitrixNotFoundError,
  CitrixResponseValidationError,
  CitrixThrottledError,
  CitrixTimeoutError,
  CitrixUnavailableError,
  InvalidCitrixIdError,
} from '../../../lib/citrix/errors.ts';
import { DEFAULT_RETRY_POLICY } from '../../../lib/citrix/retry.ts';
import { type RecordedRequest, useLoopbackServers } from '../../support/loopback-server.ts';
import { rejection } from '../../support/rejection.ts';

const CUSTOMER_ID = 'acme';
const TOKEN_PATH = `/cctrustoauth2/${CUSTOMER_ID}/tokens/clients`;
const startLoopback = useLoopbackServers();

/**
 * `hang`: never answer (the server drops the request when the test ends). `lateMs`: answer after
 * that long. `raw`: the body as sent, not JSON-encoded. `headers`: extra response headers.
 */
type Route = (request: RecordedRequest) => {
  status?: number;
  body?: unknown;
  raw?: string;
  hang?: boolean;
  lateMs?: number;
  headers?: Record<string, string>;
};

async function fakeCloud(
  routes: Record<string, Route>,
  { requestTimeoutMs = 2000, tokenStatus = 200 } = {},
) {
  const sleeps: number[] = [];
  const server = await startLoopback(async (request, response) => {
    const route: Route | undefined =
      request.path === TOKEN_PATH
        ? () =>
            tokenStatus === 200
              ? { body: { access_token: 'token-1', expires_in: '3600' } }
              : { status: tokenStatus, body: { error: 'invalid_client' } }
        : routes[`${request.method} ${request.path}`];
    const reply = route ? route(request) : { status: 404, body: { Detail: 'No such route' } };
    if (reply.hang === true) return;
    if (reply.lateMs !== undefined) await new Promise((r) => setTimeout(r, reply.lateMs));
    if (response.destroyed) return;
    response.writeHead(reply.status ?? 200, {
      'content-type': 'application/json',
      ...reply.headers,
    });
    response.end(reply.raw ?? (reply.body === undefined ? '' : JSON.stringify(reply.body)));
  });
  const client = new CloudAdministratorsClient({
    connection: {
      baseUrl: server.baseUrl,
      customerId: CUSTOMER_ID,
      requestTimeoutMs,
      retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: 2 },
    },
    credentials: async () => ({ clientId: 'id', clientSecret: 'secret' }),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  const api = () => server.requests.filter((request) => request.path !== TOKEN_PATH);
  const tokens = () => server.requests.filter((request) => request.path === TOKEN_PATH);
  return { client, api, tokens, sleeps };
}

const admin = (n: number, extra: Record<string, unknown> = {}) => ({
  ucOid: `OID:/citrix/${n}`,
  userId: String(n),
  type: 'AdministratorUser',
  accessType: 'Custom',
  email: `admin${n}@example.com`,
  pending: false,
  ...extra,
});

describe('CloudAdministratorsClient', () => {
  it('lists every page, sending the continuation token back as requestContinuation', async () => {
    const pages: Record<string, { items: unknown[]; continuationToken: string | null }> = {
      '': { items: [admin(1), admin(2)], continuationToken: 'page-2' },
      'page-2': { items: [admin(3)], continuationToken: 'page-3' },
      'page-3': { items: [admin(4)], continuationToken: null },
    };
    const { client, api } = await fakeCloud({
      'GET /administrators': (request) => ({
        body: pages[request.query.get('requestContinuation') ?? ''],
      }),
    });
    const all = await client.listAdministrators();
    expect(all.map((a) => a.email)).toEqual([1, 2, 3, 4].map((n) => `admin${n}@example.com`));
    expect(api().map((r) => r.url)).toEqual([
      '/administrators',
      '/administrators?requestContinuation=page-2',
      '/administrators?requestContinuation=page-3',
    ]);
    expect(api()[0]?.headers['citrix-customerid']).toBe(CUSTOMER_ID);
    expect(api()[0]?.headers.authorization).toBe('CWSAuth bearer=token-1');
  });

  it('lists with one attempt and a capped timeout when the call asks for it', async () => {
    let hang = false;
    const { client, api } = await fakeCloud({
      'GET /administrators': () => (hang ? { hang: true } : { status: 503, body: {} }),
    });
    // The connection allows 2 attempts: a plain listing retries the 503 once.
    expect(await rejection(client.listAdministrators())).toBeInstanceOf(CitrixUnavailableError);
    expect(api()).toHaveLength(2);
    expect(
      await rejection(client.listAdministrators({ maxAttempts: 1, timeoutMs: 5000 })),
    ).toBeInstanceOf(CitrixUnavailableError);
    expect(api()).toHaveLength(3);
    // The connection's 2000 ms per attempt is capped at 200 ms, and not tried again.
    hang = true;
    const started = Date.now();
    expect(
      await rejection(client.listAdministrators({ maxAttempts: 1, timeoutMs: 200 })),
    ).toBeInstanceOf(CitrixTimeoutError);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(api()).toHaveLength(4);
  });

  it('refuses a continuation token that comes back again', async () => {
    const { client } = await fakeCloud({
      'GET /administrators': () => ({ body: { items: [admin(1)], continuationToken: 'same' } }),
    });
    expect(await rejection(client.listAdministrators())).toBeInstanceOf(
      CitrixResponseValidationError,
    );
  });

  it('URL-encodes a ucOid into the path and an id into the query', async () => {
    const { client, api } = await fakeCloud({
      'GET /administrators/OID%3A%2Fazuread%2Fgroup-1/access': () => ({
        body: { accessType: 'Custom', policies: [] },
      }),
      'PUT /administrators/access': () => ({ status: 200 }),
      'DELETE /administrators/OID%3A%2Fazuread%2Fgroup-1': () => ({ status: 200 }),
    });
    await client.getAccess('OID:/azuread/group-1');
    await client.updateAccess('OID:/azuread/group-1', { accessType: 'Custom', policies: [] });
    await client.deleteAdministrator('OID:/azuread/group-1');
    expect(api().map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /administrators/OID%3A%2Fazuread%2Fgroup-1/access',
      'PUT /administrators/access?id=OID%3A%2Fazuread%2Fgroup-1',
      'DELETE /administrators/OID%3A%2Fazuread%2Fgroup-1',
    ]);
    expect(JSON.parse(api()[1]?.body ?? '')).toEqual({ accessType: 'Custom', policies: [] });
  });

  it.each(['', '../customers', 'a b', 'id?x=1', 'x'.repeat(300)])(
    'refuses administrator id %j before any request',
    async (id) => {
      const { client, api } = await fakeCloud({});
      expect(await rejection(client.getAccess(id))).toBeInstanceOf(InvalidCitrixIdError);
      expect(await rejection(client.deleteAdministrator(id))).toBeInstanceOf(InvalidCitrixIdError);
      expect(api()).toEqual([]);
    },
  );

  it('reads the boolean answer of an invitation deletion', async () => {
    const { client, api } = await fakeCloud({
      'DELETE /administrators/invitations': (request) => ({
        body: request.query.get('email') === 'invitee@example.com',
      }),
    });
    expect(await client.deleteInvitation('invitee@example.com')).toBe(true);
    expect(await client.deleteInvitation('nobody@example.com')).toBe(false);
    expect(api()[0]?.url).toBe('/administrators/invitations?email=invitee%40example.com');
  });

  it('maps 404 to CitrixNotFoundError', async () => {
    const { client } = await fakeCloud({});
    expect(await rejection(client.deleteAdministrator('42'))).toBeInstanceOf(CitrixNotFoundError);
  });

  it('uses the userId of a user and the ucOid of a group, as the API asks', () => {
    expect(administratorId(admin(7))).toBe('7');
    expect(administratorId({ type: 'AdministratorGroup', userId: null, ucOid: 'OID:/ad/g' })).toBe(
      'OID:/ad/g',
    );
    expect(administratorId({ type: 'AdministratorUser', userId: null, ucOid: 'OID:/x/1' })).toBe(
      'OID:/x/1',
    );
  });
});

/** Every change the client sends, with the route it takes in the fake Citrix Cloud. */
const CHANGES = [
  {
    name: 'PUT /administrators/access',
    route: 'PUT /administrators/access',
    send: (client: CloudAdministratorsClient) =>
      client.updateAccess('7', { accessType: 'Custom', policies: [] }),
    applied: { status: 200 },
  },
  {
    name: 'DELETE /administrators/{id}',
    route: 'DELETE /administrators/7',
    send: (client: CloudAdministratorsClient) => client.deleteAdministrator('7'),
    applied: { status: 200 },
  },
  {
    name: 'DELETE /administrators/invitations',
    route: 'DELETE /administrators/invitations',
    send: (client: CloudAdministratorsClient) => client.deleteInvitation('invitee@example.com'),
    applied: { status: 200, body: true },
  },
] as const;

describe.each(CHANGES)('CloudAdministratorsClient sends $name', ({ route, send, applied }) => {
  it('once when Citrix applies it and answers after the client gave up', async () => {
    const { client, api } = await fakeCloud(
      { [route]: () => ({ ...applied, lateMs: 400 }) },
      { requestTimeoutMs: 100 },
    );
    const error = await rejection(send(client));
    expect(error).toBeInstanceOf(AdministratorChangeUnansweredError);
    expect(error.cause).toBeInstanceOf(CitrixTimeoutError);
    expect(error.message).toMatch(/^Citrix Cloud did not answer (PUT|DELETE) \/administrators\//);
    expect(error.message).toMatch(/the change may have been applied$/);
    // Connection allows 2 attempts: the change still went out once.
    expect(api()).toHaveLength(1);
  });

  it.each([503, 500, 408])(
    'once when Citrix answers %i (it may have acted first)',
    async (status) => {
      const { client, api } = await fakeCloud({ [route]: () => ({ status, body: {} }) });
      const error = await rejection(send(client));
      expect(error).toBeInstanceOf(AdministratorChangeUnansweredError);
      expect(error.cause).toBeInstanceOf(CitrixUnavailableError);
      expect(api()).toHaveLength(1);
    },
  );

  it('again after a 429, waiting as it asks: Citrix did not act', async () => {
    let calls = 0;
    const { client, api, sleeps } = await fakeCloud({
      [route]: () => {
        calls += 1;
        return calls === 1
          ? { status: 429, body: {}, headers: { 'retry-after': '2' } }
          : { ...applied };
      },
    });
    await send(client);
    expect(api()).toHaveLength(2);
    expect(sleeps).toEqual([2000]);
  });

  it('no more than the retry policy allows while Citrix keeps throttling', async () => {
    const { client, api } = await fakeCloud({ [route]: () => ({ status: 429, body: {} }) });
    expect(await rejection(send(client))).toBeInstanceOf(CitrixThrottledError);
    expect(api()).toHaveLength(2);
  });

  it('again once with a fresh token after a 401: Citrix did not act', async () => {
    let calls = 0;
    const { client, api, tokens } = await fakeCloud({
      [route]: () => {
        calls += 1;
        return calls === 1 ? { status: 401, body: {} } : { ...applied };
      },
    });
    await send(client);
    expect(api()).toHaveLength(2);
    expect(tokens()).toHaveLength(2);
  });

  it('never when the token cannot be had, and says so as a plain authentication error', async () => {
    const { client, api } = await fakeCloud(
      { [route]: () => ({ ...applied }) },
      { tokenStatus: 401 },
    );
    expect(await rejection(send(client))).toBeInstanceOf(CitrixAuthenticationError);
    expect(api()).toEqual([]);
  });

  it('once, and throws a refusal as it came (nothing was applied)', async () => {
    const { client, api } = await fakeCloud({ [route]: () => ({ status: 400, body: {} }) });
    const error = await rejection(send(client));
    expect(error).toBeInstanceOf(CitrixApiError);
    expect(error).not.toBeInstanceOf(AdministratorChangeUnansweredError);
    expect(api()).toHaveLength(1);
  });
});

describe('CloudAdministratorsClient.deleteInvitation', () => {
  it('sends once and reports no answer when Citrix answers 2xx with a body it cannot read', async () => {
    const { client, api } = await fakeCloud({
      'DELETE /administrators/invitations': () => ({ raw: '{"deleted": tr' }),
    });
    const error = await rejection(client.deleteInvitation('invitee@example.com'));
    expect(error).toBeInstanceOf(AdministratorChangeUnansweredError);
    expect(error.cause).toBeInstanceOf(CitrixResponseValidationError);
    expect(api()).toHaveLength(1);
  });
});
