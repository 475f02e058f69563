import { describe, expect, it } from 'vitest';
import type { CitrixConnection } from '../../../lib/citrix/config.ts';
import { DaasClient, type DaasClientOptions } from '../../../lib/citrix/daas-client.ts';
import {
  CitrixConfigurationError,
  CitrixResponseValidationError,
  InvalidCitrixIdError,
} from '../../../lib/citrix/errors.ts';
import type { CitrixCallRecord } from '../../../lib/citrix/http.ts';
import { parseUserIdentifier } from '../../../lib/citrix/ids.ts';
import { DEFAULT_RETRY_POLICY } from '../../../lib/citrix/retry.ts';
import {
  type LoopbackServer,
  type RecordedRequest,
  useLoopbackServers,
} from '../../support/loopback-server.ts';
import { rejection } from '../../support/rejection.ts';

const CUSTOMER_ID = 'loy6oujtu6a4';
const SITE_ID = '22ded57c-0306-47e4-b6e8-fed6252759e1';
const SESSION_ID = '41ba32e9-d12b-485c-afd2-c4d0d047cd8b';
const JOB_ID = '81c05d9f-1a2b-4c3d-8e4f-5a6b7c8d9e0f';
const TOKEN_PATH = `/cctrustoauth2/${CUSTOMER_ID}/tokens/clients`;

interface Reply {
  readonly status?: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

type Route = (request: RecordedRequest) => Reply | Promise<Reply>;

interface FakeCitrix extends LoopbackServer {
  /** Requests other than the token endpoint. */
  api(): RecordedRequest[];
}

const startLoopback = useLoopbackServers();

/** A loopback stand-in for Citrix Cloud: token endpoint plus the routes given, by "METHOD /path". */
async function startCitrix(routes: Record<string, Route>): Promise<FakeCitrix> {
  const server = await startLoopback(async (request, response) => {
    const route =
      request.path === TOKEN_PATH
        ? () => ({ body: { token_type: 'bearer', access_token: 'token-1', expires_in: '3600' } })
        : routes[`${request.method} ${request.path}`];
    const reply: Reply = route
      ? await route(request)
      : { status: 404, body: { Detail: 'no route' } };
    response.writeHead(reply.status ?? 200, {
      ...(reply.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...reply.headers,
    });
    response.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
  });
  return {
    ...server,
    api: () => server.requests.filter((request) => request.path !== TOKEN_PATH),
  };
}

function makeClient(
  citrix: FakeCitrix,
  connection: Partial<CitrixConnection> = { siteId: SITE_ID },
  options: Partial<DaasClientOptions> = {},
) {
  const calls: CitrixCallRecord[] = [];
  const client = new DaasClient({
    connection: {
      baseUrl: citrix.baseUrl,
      customerId: CUSTOMER_ID,
      requestTimeoutMs: 2000,
      retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: 2 },
      ...connection,
    },
    credentials: async () => ({ clientId: 'client-1', clientSecret: 'secret-1' }),
    sleep: async () => {},
    random: () => 0,
    onCall: (call) => calls.push(call),
    ...options,
  });
  return { client, calls };
}

function session(id: string, upn: string, sam: string, extra: Record<string, unknown> = {}) {
  return {
    Id: id,
    State: 'Active',
    User: { PrincipalName: upn, Name: sam, DisplayName: 'x', Sid: 'S-1-5-21' },
    UntrustedUserName: sam,
    Machine: { Name: 'CORP\\VDA01', DnsName: 'vda01.corp.example.com' },
    ...extra,
  };
}

function guid(n: number): string {
  return `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
}

const meWithSites =
  (sites: { Id: string; Name: string }[]): Route =>
  () => ({
    body: {
      UserId: 'u',
      Customers: [
        { Id: 'other-customer', Name: 'Other', Sites: [{ Id: 'aaaa', Name: 'Other site' }] },
        { Id: CUSTOMER_ID.toUpperCase(), Name: 'Acme', Sites: sites },
      ],
    },
  });

describe('DaasClient site discovery', () => {
  it('discovers the only site once, shared by concurrent callers', async () => {
    const citrix = await startCitrix({
      'GET /cvad/manage/me': meWithSites([{ Id: SITE_ID, Name: 'Acme site' }]),
      [`GET /cvad/manage/Sessions/${SESSION_ID}`]: () => ({
        body: session(SESSION_ID, 'bob@example.com', 'CORP\\bob'),
      }),
    });
    const { client } = makeClient(citrix, {});

    const [siteA, siteB, found] = await Promise.all([
      client.getSiteId(),
      client.getSiteId(),
      client.getSession(SESSION_ID),
    ]);
    await client.getSession(SESSION_ID);

    expect(siteA).toBe(SITE_ID);
    expect(siteB).toBe(SITE_ID);
    expect(found.Id).toBe(SESSION_ID);
    const me = citrix.requests.filter((request) => request.path === '/cvad/manage/me');
    expect(me).toHaveLength(1);
    expect(me[0]?.headers['citrix-customerid']).toBe(CUSTOMER_ID);
    expect(me[0]?.headers['citrix-instanceid']).toBeUndefined();
    expect(me[0]?.headers.authorization).toBe('CWSAuth bearer=token-1');
    const sessionRequests = citrix.api().filter((request) => request.path !== '/cvad/manage/me');
    expect(sessionRequests.map((request) => request.headers['citrix-instanceid'])).toEqual([
      SITE_ID,
      SITE_ID,
    ]);
    expect(citrix.requests.filter((request) => request.path === TOKEN_PATH)).toHaveLength(1);
  });

  it('uses the configured site id without calling /me', async () => {
    const citrix = await startCitrix({});
    const { client } = makeClient(citrix, { siteId: 'configured-site' });

    expect(await client.getSiteId()).toBe('configured-site');
    expect(citrix.requests).toHaveLength(0);
  });

  it('asks for CITRIX_SITE_ID when the customer has several sites', async () => {
    const citrix = await startCitrix({
      'GET /cvad/manage/me': meWithSites([
        { Id: 'site-a', Name: 'Production' },
        { Id: 'site-b', Name: 'Staging' },
      ]),
    });
    const { client } = makeClient(citrix, {});

    const error = await rejection(client.getSiteId());

    expect(error).toBeInstanceOf(CitrixConfigurationError);
    expect(error.name).toBe('CitrixConfigurationError');
    expect(error.message).toContain('CITRIX_SITE_ID');
    expect(error.message).toContain('Production (site-a)');
    expect(error.message).toContain('Staging (site-b)');
  });

  it('fails clearly when the customer has no site', async () => {
    const citrix = await startCitrix({ 'GET /cvad/manage/me': meWithSites([]) });
    const { client } = makeClient(citrix, {});

    await expect(client.getSiteId()).rejects.toThrow(/0 sites; set CITRIX_SITE_ID/);
  });

  it('retries discovery after a failure instead of caching it', async () => {
    let calls = 0;
    const citrix = await startCitrix({
      'GET /cvad/manage/me': (request) => {
        calls += 1;
        return calls === 1
          ? { status: 403, body: { Detail: 'forbidden' } }
          : meWithSites([{ Id: SITE_ID, Name: 's' }])(request);
      },
    });
    const { client } = makeClient(citrix, {});

    await expect(client.getSiteId()).rejects.toThrow(/403/);
    expect(await client.getSiteId()).toBe(SITE_ID);
  });
});

describe('DaasClient.searchSessionsByUser', () => {
  it('follows continuation tokens and keeps only exact matches of the user', async () => {
    const citrix = await startCitrix({
      'POST /cvad/manage/Sessions/$search': (request) =>
        request.query.get('continuationToken') === null
          ? {
              body: {
                Items: [
                  session(guid(1), 'bob@example.com', 'CORP\\bob'),
                  session(guid(2), 'bobby@example.com', 'CORP\\bobby'),
                ],
                ContinuationToken: 'page-2',
                TotalItems: 3,
              },
            }
          : {
              body: {
                Items: [session(guid(3), 'BOB@Example.COM', 'CORP\\BOB')],
                ContinuationToken: null,
              },
            },
    });
    const { client } = makeClient(citrix);

    const sessions = await client.searchSessionsByUser(parseUserIdentifier('bob@example.com'), {
      transactionId: 'tx-search',
    });

    expect(sessions.map((found) => found.Id)).toEqual([guid(1), guid(3)]);
    const searches = citrix.api();
    expect(searches).toHaveLength(2);
    expect(searches.map((request) => Object.fromEntries(request.query))).toEqual([
      { limit: '1000' },
      { limit: '1000', continuationToken: 'page-2' },
    ]);
    for (const request of searches) {
      expect(JSON.parse(request.body)).toEqual({
        SearchFilters: [
          { Property: 'UserPrincipalName', Value: 'bob@example.com', Operator: 'Equals' },
        ],
      });
      expect(request.headers['citrix-transactionid']).toBe('tx-search');
      expect(request.headers['citrix-instanceid']).toBe(SITE_ID);
      expect(request.headers['citrix-customerid']).toBe(CUSTOMER_ID);
    }
  });

  it('searches DOMAIN\\name by CurrentUser', async () => {
    const citrix = await startCitrix({
      'POST /cvad/manage/Sessions/$search': () => ({
        body: { Items: [session(guid(1), 'other@example.com', 'CORP\\bob')] },
      }),
    });
    const { client } = makeClient(citrix);

    const sessions = await client.searchSessionsByUser(parseUserIdentifier('CORP\\bob'));

    expect(sessions).toHaveLength(1);
    expect(JSON.parse(citrix.api()[0]?.body ?? '')).toEqual({
      SearchFilters: [{ Property: 'CurrentUser', Value: 'CORP\\bob', Operator: 'Equals' }],
    });
  });

  it('stops when Citrix repeats a continuation token', async () => {
    const citrix = await startCitrix({
      'POST /cvad/manage/Sessions/$search': () => ({
        body: { Items: [], ContinuationToken: 'same' },
      }),
    });
    const { client } = makeClient(citrix);

    const error = await rejection(
      client.searchSessionsByUser(parseUserIdentifier('a@example.com')),
    );

    expect(error).toBeInstanceOf(CitrixResponseValidationError);
    expect(error.message).toContain('repeated');
    expect(citrix.api()).toHaveLength(2);
  });

  it('stops after 100 pages', async () => {
    let page = 0;
    const citrix = await startCitrix({
      'POST /cvad/manage/Sessions/$search': () => {
        page += 1;
        return { body: { Items: [], ContinuationToken: `page-${page}` } };
      },
    });
    const { client } = makeClient(citrix);

    await expect(
      client.searchSessionsByUser(parseUserIdentifier('a@example.com')),
    ).rejects.toBeInstanceOf(CitrixResponseValidationError);
    expect(citrix.api()).toHaveLength(100);
  });
});

describe('DaasClient session actions', () => {
  it('logs off asynchronously and returns the job id from Location', async () => {
    const citrix = await startCitrix({
      [`POST /cvad/manage/Sessions/${SESSION_ID}/$logoff`]: () => ({
        status: 202,
        headers: { location: `https://api.cloud.com/cvad/manage/Jobs/${JOB_ID}` },
      }),
    });
    const { client, calls } = makeClient(citrix);

    await expect(client.logoffSession(SESSION_ID, { transactionId: 'tx-1' })).resolves.toEqual({
      jobId: JOB_ID,
    });
    const [request] = citrix.api();
    expect(request?.path).toBe(`/cvad/manage/Sessions/${SESSION_ID}/$logoff`);
    expect(request?.query.get('async')).toBe('true');
    expect(request?.headers['citrix-transactionid']).toBe('tx-1');
    expect(calls.at(-1)).toMatchObject({
      method: 'POST',
      path: `/cvad/manage/Sessions/${SESSION_ID}/$logoff`,
      status: 202,
    });
  });

  it('returns {} for a synchronous logoff (200 without Location)', async () => {
    const citrix = await startCitrix({
      [`POST /cvad/manage/Sessions/${SESSION_ID}/$logoff`]: () => ({ status: 200 }),
    });
    const { client } = makeClient(citrix);

    await expect(client.logoffSession(SESSION_ID)).resolves.toEqual({});
  });

  it.each([
    ['202 without Location', { status: 202 }],
    [
      'a Location that is not a job',
      { status: 202, headers: { location: '/cvad/manage/Sessions/x' } },
    ],
  ])('rejects %s', async (_label, reply) => {
    const citrix = await startCitrix({
      [`POST /cvad/manage/Sessions/${SESSION_ID}/$logoff`]: () => reply,
    });
    const { client } = makeClient(citrix);

    await expect(client.logoffSession(SESSION_ID)).rejects.toBeInstanceOf(
      CitrixResponseValidationError,
    );
  });

  it('disconnects and returns the session, or undefined for an empty body', async () => {
    let empty = false;
    const citrix = await startCitrix({
      [`POST /cvad/manage/Sessions/${SESSION_ID}/$disconnect`]: () =>
        empty
          ? { status: 200 }
          : {
              body: session(SESSION_ID, 'bob@example.com', 'CORP\\bob', { State: 'Disconnected' }),
            },
    });
    const { client } = makeClient(citrix);

    expect((await client.disconnectSession(SESSION_ID))?.State).toBe('Disconnected');
    empty = true;
    expect(await client.disconnectSession(SESSION_ID)).toBeUndefined();
  });

  it('accepts the collection shape shown in the disconnect how-to', async () => {
    const citrix = await startCitrix({
      [`POST /cvad/manage/Sessions/${SESSION_ID}/$disconnect`]: () => ({
        body: {
          Items: [
            session(SESSION_ID.toUpperCase(), 'bob@example.com', 'CORP\\bob', {
              State: 'Disconnected',
            }),
          ],
          ContinuationToken: null,
          TotalItems: 1,
        },
      }),
    });
    const { client } = makeClient(citrix);

    const result = await client.disconnectSession(SESSION_ID);

    expect(result?.Id).toBe(SESSION_ID.toUpperCase());
    expect(result?.State).toBe('Disconnected');
    expect(result?.Machine?.DnsName).toBe('vda01.corp.example.com');
  });

  it('sends a message with the default style', async () => {
    const citrix = await startCitrix({
      [`POST /cvad/manage/Sessions/${SESSION_ID}/$sendMessage`]: () => ({ status: 204 }),
    });
    const { client } = makeClient(citrix);

    await client.sendMessage(SESSION_ID, { title: 'Security', text: 'Save your work' });

    const [request] = citrix.api();
    expect(request?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(request?.body ?? '')).toEqual({
      Style: 'Information',
      Title: 'Security',
      Text: 'Save your work',
    });
  });

  it('gets a job from a URL built on the configured base', async () => {
    const citrix = await startCitrix({
      [`GET /cvad/manage/Jobs/${JOB_ID}`]: () => ({
        body: { Id: JOB_ID, Status: 'InProgress', OverallProgressPercent: 50, SubJobs: [] },
      }),
    });
    const { client } = makeClient(citrix);

    const job = await client.getJob(JOB_ID);

    expect(job.Status).toBe('InProgress');
    expect(job.OverallProgressPercent).toBe(50);
    expect(job.SubJobs).toEqual([]);
  });
});

describe('DaasClient validation', () => {
  it.each([
    ['getSession', (client: DaasClient) => client.getSession('../Machines')],
    ['disconnectSession', (client: DaasClient) => client.disconnectSession('a/b')],
    ['logoffSession', (client: DaasClient) => client.logoffSession('')],
    ['sendMessage', (client: DaasClient) => client.sendMessage('x?y', { title: 't', text: 't' })],
    ['getJob', (client: DaasClient) => client.getJob(`${JOB_ID}/../x`)],
  ])('%s rejects an invalid id without any HTTP request', async (_name, action) => {
    const citrix = await startCitrix({});
    const { client } = makeClient(citrix, {});

    await expect(action(client)).rejects.toBeInstanceOf(InvalidCitrixIdError);
    expect(citrix.requests).toHaveLength(0);
  });

  it('rejects a session that does not match the schema without quoting the body', async () => {
    const citrix = await startCitrix({
      [`GET /cvad/manage/Sessions/${SESSION_ID}`]: () => ({
        body: { Id: 42, State: 'Active', Secretish: 'do-not-echo' },
      }),
    });
    const { client } = makeClient(citrix);

    const error = await rejection(client.getSession(SESSION_ID));

    expect(error).toBeInstanceOf(CitrixResponseValidationError);
    expect(error.message).toContain('Id');
    expect(error.message).not.toContain('do-not-echo');
    expect((error as CitrixResponseValidationError).path).toBe(
      `/cvad/manage/Sessions/${SESSION_ID}`,
    );
    expect(error.cause).toBeDefined();
  });

  it('rejects a job with an unknown status', async () => {
    const citrix = await startCitrix({
      [`GET /cvad/manage/Jobs/${JOB_ID}`]: () => ({ body: { Id: JOB_ID, Status: 'Exploded' } }),
    });
    const { client } = makeClient(citrix);

    await expect(client.getJob(JOB_ID)).rejects.toBeInstanceOf(CitrixResponseValidationError);
  });
});
