import { describe, expect, it } from 'vitest';
import {
  administratorId,
  CloudAdministratorsClient,
} from '../../../lib/citrix/administrators-client.ts';
import {
  CitrixNotFoundError,
  CitrixResponseValidationError,
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

/** `hang`: never answer (the server drops the request when the test ends). */
type Route = (request: RecordedRequest) => { status?: number; body?: unknown; hang?: boolean };

async function fakeCloud(routes: Record<string, Route>) {
  const server = await startLoopback((request, response) => {
    const route: Route | undefined =
      request.path === TOKEN_PATH
        ? () => ({ body: { access_token: 'token-1', expires_in: '3600' } })
        : routes[`${request.method} ${request.path}`];
    const reply = route ? route(request) : { status: 404, body: { Detail: 'No such route' } };
    if (reply.hang === true) return;
    response.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
    response.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
  });
  const client = new CloudAdministratorsClient({
    connection: {
      baseUrl: server.baseUrl,
      customerId: CUSTOMER_ID,
      requestTimeoutMs: 2000,
      retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: 2 },
    },
    credentials: async () => ({ clientId: 'id', clientSecret: 'secret' }),
    sleep: async () => undefined,
  });
  const api = () => server.requests.filter((request) => request.path !== TOKEN_PATH);
  return { client, api };
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
