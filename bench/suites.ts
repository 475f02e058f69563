import { createHmac, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { type ActionsApiDependencies, createActionsApiHandler } from '../functions/actions-api.ts';
import { ActionRequestSchema } from '../lib/actions/schema.ts';
import { citrixConnectionFromEnv } from '../lib/citrix/config.ts';
import { DaasClient } from '../lib/citrix/daas-client.ts';
import { EndpointManagementClient } from '../lib/citrix/endpoint-management-client.ts';
import { endpointManagementConnectionFromEnv } from '../lib/citrix/endpoint-management-config.ts';
import { signStandardWebhook, verifyStandardWebhook } from '../lib/webhooks/standard-webhooks.ts';
import { demoFixture } from '../local/simulator/fixture.ts';
import { startCitrixSimulator } from '../local/simulator/server.ts';
import { compare } from './harness.ts';

/**
 * Each group times a baseline and the project's code in the same run and prints the ratio, so the
 * numbers compare on any machine. Started by `bench/run.ts`.
 */
const SECRET = `whsec_${Buffer.from('benchmark signing secret, 32 b!').toString('base64')}`;
const KEY = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
const body = JSON.stringify({
  action: 'session.logoff',
  target: { user: 'alice@example.com' },
  reason: 'Benchmark: impossible travel alert',
  requestedBy: 'bench',
});
const headers = signStandardWebhook(SECRET, 'msg_bench', new Date(), body);

// 1. Request authentication: verifyStandardWebhook (Node's HMAC with the header, timestamp and key
// checks; lib/webhooks/standard-webhooks-verify.ts) against the bare HMAC.
await compare(
  'Signature verification of a 150-byte action request',
  {
    name: 'node:crypto HMAC-SHA256 (native, no checks)',
    run: () =>
      createHmac('sha256', KEY)
        .update(`msg_bench.${headers['webhook-timestamp']}.${body}`)
        .digest('base64'),
  },
  [
    {
      name: 'verifyStandardWebhook (node:crypto, with its checks)',
      run: () => verifyStandardWebhook(SECRET, body, headers),
    },
  ],
  2_000,
);

// 2. The API handler (functions/actions-api.ts) in process, with dependencies that do nothing,
// against parsing the body alone. Acceptance itself (idempotency store, record, StartExecution)
// is I/O and measured elsewhere.
const apiDependencies: ActionsApiDependencies = {
  acceptor: async () => ({ actionId: 'act_00000000000000000000000000000000', duplicate: false }),
  callbackNames: new Set<string>(),
  audit: { append: async () => undefined },
};
const handler = createActionsApiHandler(() => apiDependencies);
// A person's request names no requester: the signer is the requester.
const { requestedBy: _requester, ...personRequest } = JSON.parse(body) as Record<string, unknown>;
const personBody = JSON.stringify(personRequest);
const event = {
  resource: '/v1/actions',
  path: '/v1/actions',
  httpMethod: 'POST',
  headers: { 'content-type': 'application/json', host: 'bench.local' },
  body: personBody,
  isBase64Encoded: false,
  // As API Gateway fills it for a request it authenticated (IAM authorization).
  requestContext: {
    path: '/v1/actions',
    domainName: 'bench.local',
    requestId: 'bench',
    identity: {
      userArn: 'arn:aws:iam::123456789012:user/bench@example.com',
      accountId: '123456789012',
    },
  },
} as unknown as APIGatewayProxyEvent;
const context = { awsRequestId: 'bench', getRemainingTimeInMillis: () => 10_000 } as Context;
await compare(
  'POST /v1/actions handler (middy, person, zod, accept)',
  {
    name: 'JSON.parse + zod parse of the body only',
    run: () => ActionRequestSchema.parse(JSON.parse(personBody)),
  },
  [{ name: 'whole Lambda handler, in process', run: () => handler({ ...event }, context) }],
  2_000,
);

// 3. The DaaS client over loopback HTTP against a bare fetch of the same endpoint.
const fixture = demoFixture();
const simulator = await startCitrixSimulator({ fixture });
const client = fixture.clients[0];
const site = fixture.sites[0];
const session = fixture.sessions[0];
if (!client || !site || !session)
  throw new Error('The demo fixture lacks a client, site or session');
const daas = new DaasClient({
  connection: citrixConnectionFromEnv({
    CITRIX_API_URL: simulator.url,
    CITRIX_CUSTOMER_ID: fixture.customerId,
    CITRIX_SITE_ID: site.id,
  }),
  credentials: async () => ({ clientId: client.clientId, clientSecret: client.clientSecret }),
});
await daas.getSession(session.Id, { transactionId: 'bench' });
const tokenResponse = await fetch(
  `${simulator.url}/cctrustoauth2/${fixture.customerId}/tokens/clients`,
  {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: client.clientSecret,
    }),
  },
);
const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
const rawHeaders = {
  authorization: `CWSAuth bearer=${token}`,
  'citrix-customerid': fixture.customerId,
  'citrix-instanceid': site.id,
  accept: 'application/json',
};
const coldClient = () =>
  new DaasClient({
    connection: citrixConnectionFromEnv({
      CITRIX_API_URL: simulator.url,
      CITRIX_CUSTOMER_ID: fixture.customerId,
      CITRIX_SITE_ID: site.id,
    }),
    credentials: async () => ({ clientId: client.clientId, clientSecret: client.clientSecret }),
  });
await compare(
  'GET /cvad/manage/Sessions/{id} against the simulator on loopback',
  {
    name: 'bare fetch with a token in hand',
    run: async () =>
      (
        await fetch(`${simulator.url}/cvad/manage/Sessions/${session.Id}`, { headers: rawHeaders })
      ).json(),
  },
  [
    {
      name: 'DaasClient.getSession, token cached (warm container)',
      run: () => daas.getSession(session.Id, { transactionId: randomUUID() }),
    },
    {
      name: 'DaasClient.getSession, new token every call (no cache)',
      run: () => coldClient().getSession(session.Id),
    },
  ],
  200,
);

// 4. The Endpoint Management client: a user's devices (filter + exact match) with the auth_token
// kept per warm container, against a bare fetch, and against logging in for every call.
const administrator = fixture.endpointManagement?.administrators?.[0];
if (!administrator) throw new Error('The demo fixture lacks an Endpoint Management administrator');
const emConnection = endpointManagementConnectionFromEnv({
  CITRIX_EM_URL: `${simulator.url}/xenmobile/api/v1`,
  CITRIX_EM_AUTH: 'credentials',
});
const emClient = () =>
  new EndpointManagementClient({
    connection: emConnection,
    login: {
      kind: 'credentials',
      credentials: async () => ({
        username: administrator.login,
        password: administrator.password,
      }),
    },
  });
const em = emClient();
await em.devicesOfUser('alice@example.com');
const login = await fetch(`${simulator.url}/xenmobile/api/v1/authentication/login`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ login: administrator.login, password: administrator.password }),
});
const { auth_token: authToken } = (await login.json()) as { auth_token: string };
const filterBody = JSON.stringify({
  start: 0,
  limit: 100,
  sortOrder: 'ASC',
  search: 'alice@example.com',
});
await compare(
  "A user's devices: POST /xenmobile/api/v1/device/filter against the simulator on loopback",
  {
    name: 'bare fetch with an auth_token in hand',
    run: async () =>
      (
        await fetch(`${simulator.url}/xenmobile/api/v1/device/filter`, {
          method: 'POST',
          headers: { auth_token: authToken, 'content-type': 'application/json' },
          body: filterBody,
        })
      ).json(),
  },
  [
    {
      name: 'devicesOfUser, auth_token kept (warm container)',
      run: () => em.devicesOfUser('alice@example.com'),
    },
    {
      name: 'devicesOfUser, log in and out every call',
      run: async () => {
        const fresh = emClient();
        await fresh.devicesOfUser('alice@example.com');
        await fresh.logout();
      },
    },
  ],
  200,
);
await simulator.close();
