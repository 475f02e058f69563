import type { RunningSimulator, SimulatorFixture } from '../../../local/simulator/server.ts';

export const CUSTOMER_ID = 'test-customer';
export const SITE_ID = '3b1f6c2e-8d4a-4e0f-9a7b-2c5d6e7f8a90';
export const CLIENT_A = { clientId: 'client-a', clientSecret: 'secret-a-Zx81Qp' };
export const CLIENT_B = { clientId: 'client-b', clientSecret: 'secret-b-Lm42Rt' };

export const IDS = {
  alice1: '11111111-1111-4111-8111-111111111111',
  alice2: '11111111-1111-4111-8111-222222222222',
  bob: '22222222-2222-4222-8222-111111111111',
  bobby: '22222222-2222-4222-8222-222222222222',
  carol: '33333333-3333-4333-8333-111111111111',
  dave: '44444444-4444-4444-8444-111111111111',
  erin1: '55555555-5555-4555-8555-111111111111',
  erin2: '55555555-5555-4555-8555-222222222222',
  erin3: '55555555-5555-4555-8555-333333333333',
  hidden: '66666666-6666-4666-8666-111111111111',
} as const;

type SessionInput = SimulatorFixture['sessions'][number];

function session(
  id: string,
  user: string,
  machine: string,
  extra: Partial<SessionInput> = {},
): SessionInput {
  return {
    Id: id,
    State: 'Active',
    SessionType: 'Desktop',
    StartTime: '2025-06-02T08:00:00Z',
    User: {
      PrincipalName: `${user}@example.com`,
      Name: `EXAMPLE\\${user}`,
      DisplayName: user,
    },
    UntrustedUserName: `EXAMPLE\\${user}`,
    Machine: {
      Name: `EXAMPLE\\${machine}`,
      DnsName: `${machine.toLowerCase()}.example.com`,
      DeliveryGroup: { Name: 'Finance' },
    },
    Client: { Name: `${user.toUpperCase()}-PC`, IPAddress: '10.0.0.5' },
    ...extra,
  };
}

/** A small fixture with fast log off timings and two API clients. */
export function testFixture(): SimulatorFixture {
  return {
    customerId: CUSTOMER_ID,
    sites: [{ id: SITE_ID, name: 'Test Site' }],
    clients: [CLIENT_A, CLIENT_B],
    settings: { tokenLifetimeSeconds: 3600, logoff: { notStartedMs: 50, inProgressMs: 100 } },
    sessions: [
      session(IDS.alice1, 'alice', 'VDA-01'),
      session(IDS.alice2, 'alice', 'APP-03', { SessionType: 'Application', State: 'Disconnected' }),
      session(IDS.bob, 'bob', 'VDA-02'),
      session(IDS.bobby, 'bobby', 'APP-01', { SessionType: 'Application' }),
      session(IDS.carol, 'carol', 'VDA-05', {
        simulation: {
          logoff: 'fail',
          errorString: 'The VDA did not respond to the log off request',
        },
      }),
      session(IDS.dave, 'dave', 'VDA-07', { State: 'Connected', simulation: { logoff: 'never' } }),
      session(IDS.erin1, 'erin', 'VDA-03'),
      session(IDS.erin2, 'erin', 'APP-02', { SessionType: 'Application' }),
      session(IDS.erin3, 'erin', 'APP-04', { State: 'Disconnected' }),
      session(IDS.hidden, 'hank', 'VDA-09', { IsHidden: true }),
    ],
  };
}

type ApiClient = { clientId: string; clientSecret: string };

/** Asks the token endpoint at `url` for a client-credentials token, the way Citrix clients do. */
export function requestClientToken(
  url: string,
  customer: string = CUSTOMER_ID,
  client: ApiClient = CLIENT_A,
): Promise<Response> {
  return fetch(`${url}/cctrustoauth2/${customer}/tokens/clients`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: client.clientSecret,
    }),
  });
}

export async function getToken(
  sim: RunningSimulator,
  client: ApiClient = CLIENT_A,
): Promise<string> {
  const response = await requestClientToken(sim.url, CUSTOMER_ID, client);
  if (response.status !== 200) throw new Error(`token request failed: ${response.status}`);
  const body = (await response.json()) as { access_token: string };
  return body.access_token;
}

export interface ApiCall {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Leave out the Citrix-CustomerId / Citrix-InstanceId headers. */
  omit?: ('customer' | 'instance')[];
}

/** Calls a DaaS route with the headers a real Citrix client sends. */
export async function api(
  sim: RunningSimulator,
  token: string,
  path: string,
  call: ApiCall = {},
): Promise<Response> {
  const headers: Record<string, string> = {
    accept: 'application/json',
    authorization: `CWSAuth bearer=${token}`,
  };
  if (!call.omit?.includes('customer')) headers['citrix-customerid'] = CUSTOMER_ID;
  if (!call.omit?.includes('instance')) headers['citrix-instanceid'] = SITE_ID;
  if (call.body !== undefined) headers['content-type'] = 'application/json; charset=utf-8';
  return fetch(`${sim.url}/cvad/manage${path}`, {
    method: call.method ?? 'GET',
    headers: { ...headers, ...call.headers },
    body: call.body === undefined ? undefined : JSON.stringify(call.body),
  });
}

export interface SessionItem {
  Id: string;
  State: string;
  LogoffInProgress: boolean;
  User: { PrincipalName: string; Name: string };
  simulation?: unknown;
}

export interface SearchResult {
  Items: SessionItem[];
  ContinuationToken: string | null;
  TotalItems: number;
}

export interface Filter {
  Property: string;
  Value: string;
  Operator: string;
}

export async function search(
  sim: RunningSimulator,
  token: string,
  filters: Filter[],
  query = '',
): Promise<SearchResult> {
  const response = await api(sim, token, `/Sessions/$search${query}`, {
    method: 'POST',
    body: { SearchFilters: filters },
  });
  if (response.status !== 200) {
    throw new Error(`search failed: ${response.status} ${await response.text()}`);
  }
  return (await response.json()) as SearchResult;
}

export interface JobBody {
  Id: string;
  Type: string;
  Status: string;
  OverallProgressPercent: number;
  ErrorString: string | null;
  CreationTime: string;
  StartTime: string | null;
  EndTime: string | null;
  Parameters: { Name: string; Value: string }[];
}

/** Starts a log off and returns the job URL from the Location header. */
export async function logoff(sim: RunningSimulator, token: string, sessionId: string) {
  const response = await api(sim, token, `/Sessions/${sessionId}/$logoff?async=true`, {
    method: 'POST',
  });
  if (response.status !== 202) throw new Error(`logoff failed: ${response.status}`);
  const location = response.headers.get('location');
  if (!location) throw new Error('logoff response has no Location header');
  return { response, location };
}

export async function getJob(token: string, location: string): Promise<Response> {
  return fetch(location, {
    headers: {
      authorization: `CWSAuth bearer=${token}`,
      'citrix-customerid': CUSTOMER_ID,
      'citrix-instanceid': SITE_ID,
    },
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
