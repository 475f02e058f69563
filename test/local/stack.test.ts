import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { servedOpenApiDocument } from '../../lib/api/served-openapi.ts';
import {
  chooseCitrixMode,
  chooseEndpointManagementMode,
  type LocalStack,
  startLocalStack,
} from '../../local/stack.ts';
import { type SigV4FetchOptions, sigV4Fetch, startTestStack } from '../support/local-stack.ts';
import { TEST_PEOPLE, TEST_SIGNING_SECRET } from '../support/signed-request.ts';
import { ADMINS, DEVICES, SESSIONS } from '../support/simulator-fixture.ts';

/** End to end over real HTTP on loopback: SigV4-signed request → API → workflow → Citrix simulator. */
let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => stack.close());

beforeEach(async () => {
  await fetch(`${stack.simulator?.url}/_simulator/reset`, { method: 'POST' });
});

/** A person's request (requester@example.com unless `signing` says otherwise): POST with a body. */
function signedFetch(
  url: string,
  body: string,
  signing: SigV4FetchOptions = {},
): Promise<Response> {
  return sigV4Fetch(url, { body, ...signing });
}

async function simulatorRequests(): Promise<{ method: string; path: string; status: number }[]> {
  return (await fetch(`${stack.simulator?.url}/_simulator/requests`)).json() as never;
}

async function waitForTerminalStatus(statusUrl: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await signedFetch(statusUrl, '');
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    if (['succeeded', 'partially_succeeded', 'failed', 'planned'].includes(String(body.status)))
      return body;
    if (Date.now() > deadline) throw new Error(`still ${String(body.status)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const logoffAlice = JSON.stringify({
  action: 'session.logoff',
  target: { user: 'alice@example.com' },
  reason: 'Sentinel incident 4711: impossible travel',
});

describe('local stack over HTTP', () => {
  it('logs off every session of a user: 202, then succeeded, with exactly one $logoff per session', async () => {
    const accepted = await signedFetch(`${stack.apiUrl}/v1/actions`, logoffAlice);
    expect(accepted.status).toBe(202);
    const body = (await accepted.json()) as { actionId: string; status: string; statusUrl: string };
    expect(body.status).toBe('accepted');
    expect(body.statusUrl).toBe(`${stack.apiUrl}/v1/actions/${body.actionId}`);

    const final = await waitForTerminalStatus(body.statusUrl);
    expect(final).toMatchObject({
      actionId: body.actionId,
      status: 'succeeded',
      requestedBy: 'requester@example.com',
    });
    const results = final.results as {
      sessionId: string;
      outcome: string;
      job?: { id: string; status: string };
    }[];
    expect(results.map((r) => [r.sessionId, r.outcome, r.job?.status])).toEqual([
      [SESSIONS.alice1, 'succeeded', 'Complete'],
      [SESSIONS.alice2, 'succeeded', 'Complete'],
    ]);

    const logoffs = (await simulatorRequests()).filter((r) => r.path.endsWith('/$logoff'));
    expect(logoffs.map((r) => r.path).sort()).toEqual([
      `/cvad/manage/Sessions/${SESSIONS.alice1}/$logoff`,
      `/cvad/manage/Sessions/${SESSIONS.alice2}/$logoff`,
    ]);
    const state = (await (await fetch(`${stack.simulator?.url}/_simulator/state`)).json()) as {
      sessions: { Id: string }[];
    };
    expect(state.sessions.map((s) => s.Id)).not.toContain(SESSIONS.alice1);
  });

  it.each<[string, SigV4FetchOptions, RegExp]>([
    [
      'a tampered body',
      { sentBody: logoffAlice.replace('alice@', 'bob@') },
      // The SDK signs the body's hash (x-amz-content-sha256), checked against the body first.
      /^The provided 'x-amz-content-sha256' header does not match what was computed\.$/,
    ],
    [
      'the wrong secret key',
      {
        credentials: {
          accessKeyId: TEST_PEOPLE['requester@example.com'].accessKeyId,
          secretAccessKey: 'an attacker guessed this secret',
        },
      },
      /^The request signature we calculated does not match/,
    ],
    [
      'an unknown access key',
      { credentials: { accessKeyId: 'AKIDNOBODY0000000000', secretAccessKey: 'whatever-secret' } },
      /^The security token included in the request is invalid\.$/,
    ],
    ['a stale date', { signingDate: new Date(Date.now() - 6 * 60_000) }, /^Signature expired: /],
  ])(
    'answers 403 to %s as API Gateway does, and makes no Citrix call',
    async (_, signing, message) => {
      const response = await signedFetch(`${stack.apiUrl}/v1/actions`, logoffAlice, signing);
      expect(response.status).toBe(403);
      expect(((await response.json()) as { message: string }).message).toMatch(message);
      // Give a wrongly started workflow time to reach Citrix before asserting it did not.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await simulatorRequests()).toEqual([]);
    },
  );

  it('answers 400 naming the field, with no Citrix call', async () => {
    const body = JSON.stringify({
      action: 'session.logoff',
      target: { user: 'alice' },
      reason: 'x',
    });
    const response = await signedFetch(`${stack.apiUrl}/v1/actions`, body);
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { fields: { field: string }[] } };
    expect(error.fields.map((f) => f.field)).toEqual(['target.user']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await simulatorRequests()).toEqual([]);
  });

  it('selectively wipes a user’s devices: 202, then succeeded, with exactly the expected Endpoint Management calls', async () => {
    const request = JSON.stringify({
      action: 'device.selectiveWipe',
      target: { user: 'carol@example.com' },
      reason: 'ServiceNow INC0042: phone reported stolen',
      ticket: 'INC0042',
    });
    const accepted = await signedFetch(`${stack.apiUrl}/v1/actions`, request);
    expect(accepted.status).toBe(202);
    const { statusUrl } = (await accepted.json()) as { statusUrl: string };

    const final = await waitForTerminalStatus(statusUrl);
    expect(final).toMatchObject({
      action: 'device.selectiveWipe',
      status: 'succeeded',
      summary: '2 of 2 devices sent a selective wipe, 1 skipped (not managed)',
      ticket: 'INC0042',
    });
    const results = final.results as { deviceId: string; outcome: string }[];
    expect(results.map((r) => [r.deviceId, r.outcome])).toEqual([
      [DEVICES.carolPhone, 'succeeded'],
      [DEVICES.carolTablet, 'succeeded'],
      [DEVICES.carolOldPhone, 'skipped'],
    ]);

    const calls = (await simulatorRequests()).map((r) => `${r.method} ${r.path} ${r.status}`);
    const em = '/xenmobile/api/v1';
    const login = `POST ${em}/authentication/login/cloud 200`;
    const logout = `POST ${em}/authentication/logout 200`;
    // In order: Citrix Cloud token, Endpoint Management login, one filter page, and the resolve
    // task's log out ...
    expect(calls.slice(0, 4)).toEqual([
      'POST /cctrustoauth2/test-customer/tokens/clients 200',
      login,
      `POST ${em}/device/filter 200`,
      logout,
    ]);
    // ... one selective wipe and one read-back per managed device, in any order, in sessions
    // that each end with a log out (concurrent tasks share one here, as they share the client) ...
    const sessions = calls.slice(4);
    expect(sessions.filter((c) => c !== login && c !== logout).sort()).toEqual(
      [
        `POST ${em}/device/selectivewipe 200`,
        `POST ${em}/device/selectivewipe 200`,
        `GET ${em}/device/${DEVICES.carolPhone} 200`,
        `GET ${em}/device/${DEVICES.carolTablet} 200`,
      ].sort(),
    );
    expect(sessions[0]).toBe(login);
    expect(sessions.filter((c) => c === login).length).toBe(
      sessions.filter((c) => c === logout).length,
    );
    // ... and nothing for the unmanaged phone, nothing else at all.
    expect(calls.at(-1)).toBe(logout);
    const tokens = await fetch(`${stack.simulator?.url}/_simulator/endpoint-management/tokens`);
    expect(await tokens.json()).toEqual({ live: 0 });
    const bodies = (await simulatorRequests()).filter((r) => r.path.endsWith('/selectivewipe'));
    expect(bodies.map((r) => (r as unknown as { body: unknown }).body)).toEqual(
      expect.arrayContaining([{ deviceId: DEVICES.carolPhone }, { deviceId: DEVICES.carolTablet }]),
    );
  });

  it('revokes a compromised administrator: 202, then succeeded, with one access change', async () => {
    const request = JSON.stringify({
      action: 'admin.revoke',
      target: { admin: ADMINS.mallory.email },
      reason: 'Sentinel incident 4712: admin sign-in from a new country',
    });
    const accepted = await signedFetch(`${stack.apiUrl}/v1/actions`, request);
    expect(accepted.status).toBe(202);
    const { statusUrl } = (await accepted.json()) as { statusUrl: string };
    const final = await waitForTerminalStatus(statusUrl);
    expect(final).toMatchObject({
      action: 'admin.revoke',
      options: { mode: 'strip' },
      status: 'succeeded',
      results: [
        {
          email: ADMINS.mallory.email,
          outcome: 'succeeded',
          before: { accessType: 'Custom' },
          after: { accessType: 'Custom' },
        },
      ],
    });
    const calls = (await simulatorRequests())
      .filter((r) => r.path !== '/administrators' && !r.path.includes('/tokens/'))
      .map((r) => `${r.method} ${r.path} ${r.status}`);
    // Access read before (snapshot), again just before the change, the change, and the read-back.
    expect(calls).toEqual([
      `GET /administrators/${ADMINS.mallory.userId}/access 200`,
      `GET /administrators/${ADMINS.mallory.userId}/access 200`,
      'PUT /administrators/access 200',
      `GET /administrators/${ADMINS.mallory.userId}/access 200`,
    ]);
  });

  it('runs the administrator report on demand through the local-only route', async () => {
    const response = await fetch(`${stack.apiUrl}/_local/administrator-report`, {
      method: 'POST',
    });
    expect(response.status).toBe(200);
    const report = (await response.json()) as { administratorCount: number };
    expect(report.administratorCount).toBe(7);
  });

  it('serves the committed OpenAPI document unsigned, through the API document handler', async () => {
    const response = await fetch(`${stack.apiUrl}/v1/openapi.json`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual(servedOpenApiDocument());
  });

  it('answers 404 for routes API Gateway does not have', async () => {
    expect((await fetch(`${stack.apiUrl}/v1/nothing`)).status).toBe(404);
  });
});

describe('chooseCitrixMode', () => {
  it('uses the simulator unless all tenant variables are set, and names what is missing', () => {
    expect(chooseCitrixMode({})).toBe('simulator');
    expect(
      chooseCitrixMode({
        CITRIX_CLIENT_ID: 'id',
        CITRIX_CLIENT_SECRET: 's',
        CITRIX_CUSTOMER_ID: 'c',
      }),
    ).toBe('tenant');
    expect(() => chooseCitrixMode({ CITRIX_CLIENT_ID: 'id' })).toThrow(
      'missing CITRIX_CLIENT_SECRET, CITRIX_CUSTOMER_ID',
    );
  });

  it('refuses a real tenant with the public demo signing secret', async () => {
    await expect(
      startLocalStack({
        env: { CITRIX_CLIENT_ID: 'id', CITRIX_CLIENT_SECRET: 's', CITRIX_CUSTOMER_ID: 'c' },
      }),
    ).rejects.toThrow(/WEBHOOK_SECRET is required/);
  });

  it('refuses a real tenant with the public demo people', async () => {
    await expect(
      startLocalStack({
        env: {
          CITRIX_CLIENT_ID: 'id',
          CITRIX_CLIENT_SECRET: 's',
          CITRIX_CUSTOMER_ID: 'c',
          WEBHOOK_SECRET: TEST_SIGNING_SECRET,
        },
      }),
    ).rejects.toThrow(/LOCAL_PEOPLE is required/);
  });

  it('talks to a real Endpoint Management server only when CITRIX_EM_URL is set', () => {
    expect(chooseEndpointManagementMode({})).toBe('simulator');
    expect(chooseEndpointManagementMode({ CITRIX_EM_URL: 'https://mdm.example.com:4443' })).toBe(
      'server',
    );
  });

  it('refuses a real Endpoint Management server with the public demo signing secret', async () => {
    await expect(
      startLocalStack({
        env: { CITRIX_EM_URL: 'https://mdm.example.com:4443/xenmobile/api/v1' },
      }),
    ).rejects.toThrow(/WEBHOOK_SECRET is required/);
  });

  it('refuses the cloud login to a real server without a real Citrix Cloud client', async () => {
    await expect(
      startLocalStack({
        env: {
          WEBHOOK_SECRET: TEST_SIGNING_SECRET,
          CITRIX_EM_URL: 'https://mdm.example.com:4443/xenmobile/api/v1',
        },
      }),
    ).rejects.toThrow(/CITRIX_EM_AUTH=cloud logs in .* with a Citrix Cloud token/);
  });

  it('reports a real server with credentials login and the simulator for DaaS', async () => {
    const mixed = await startLocalStack({
      env: {
        WEBHOOK_SECRET: TEST_SIGNING_SECRET,
        CITRIX_EM_URL: 'https://mdm.example.com:4443/xenmobile/api/v1/',
        CITRIX_EM_AUTH: 'credentials',
        CITRIX_EM_USERNAME: 'api-admin',
        CITRIX_EM_PASSWORD: 'not-used-here',
        CITRIX_EM_BODY_SHAPE: 'id-array',
        LOCAL_PEOPLE: JSON.stringify(TEST_PEOPLE),
      },
    });
    try {
      expect(mixed.citrix.mode).toBe('simulator');
      expect(mixed.endpointManagement).toEqual({
        mode: 'server',
        baseUrl: 'https://mdm.example.com:4443/xenmobile/api/v1',
        auth: 'credentials',
        bodyShape: 'id-array',
      });
    } finally {
      await mixed.close();
    }
  });

  it('refuses to start with a routing rules file that does not validate, naming the route and field', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'routes-'));
    const file = join(dir, 'routes.json');
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        routes: {
          splunk: [
            {
              name: 'wipe-on-alert',
              action: 'device.wipe',
              target: { sessionId: 'result.session' },
              reason: 'x',
            },
          ],
        },
      }),
    );
    try {
      await expect(startLocalStack({ env: { ROUTES_FILE: file } })).rejects.toThrow(
        /routes\.splunk\[0\] \(route "wipe-on-alert"\)\.target\.sessionId: device\.wipe takes a target of kind deviceId or user/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
