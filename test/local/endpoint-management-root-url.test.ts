import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceTargetResult } from '../../lib/actions/schema.ts';
import { ENDPOINT_MANAGEMENT_BASE_PATH } from '../../local/simulator/endpoint-management.ts';
import { type RunningSimulator, startCitrixSimulator } from '../../local/simulator/server.ts';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { EndpointManagementOpenApi } from '../support/openapi.ts';
import { TEST_PEOPLE, TEST_SIGNING_SECRET } from '../support/signed-request.ts';
import {
  DEVICES,
  FAST_WORKFLOW,
  TEST_EM_ADMIN,
  TEST_ENV,
  testFixture,
} from '../support/simulator-fixture.ts';
import { runAction } from '../support/workflow.ts';

/** One request the contract server took, with what the OpenAPI document says of it. */
interface ContractCall {
  readonly route: string;
  readonly errors: readonly string[];
}

/**
 * An Endpoint Management server at a root URL (no `/xenmobile/api/v1`), as a reverse proxy or a
 * contract mock serves it: every request is checked against the Endpoint Management OpenAPI
 * document, then answered by the simulator's Endpoint Management under its own base path.
 */
async function startContractServer(
  backend: string,
  spec: EndpointManagementOpenApi,
): Promise<{ url: string; calls: ContractCall[]; close: () => Promise<void> }> {
  const calls: ContractCall[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const path = request.url ?? '/';
      const headers = Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [name, String(value)]),
      );
      const method = request.method ?? 'GET';
      const check = spec.validateRequest({
        method,
        path: path.split('?')[0] ?? path,
        headers,
        ...(text === '' ? {} : { body: JSON.parse(text) as unknown }),
      });
      calls.push({ route: `${method} ${path}`, errors: check.errors });
      const answer = await fetch(`${backend}${ENDPOINT_MANAGEMENT_BASE_PATH}${path}`, {
        method,
        headers: Object.fromEntries(
          Object.entries(headers).filter(([name]) => !['host', 'content-length'].includes(name)),
        ),
        ...(text === '' ? {} : { body: text }),
      });
      response.writeHead(answer.status, {
        'content-type': answer.headers.get('content-type') ?? 'application/json',
      });
      response.end(await answer.text());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('device actions against an Endpoint Management server at a root URL', () => {
  let backend: RunningSimulator;
  let contract: Awaited<ReturnType<typeof startContractServer>>;
  let stack: LocalStack;

  beforeAll(async () => {
    backend = await startCitrixSimulator({ fixture: testFixture() });
    contract = await startContractServer(backend.url, await EndpointManagementOpenApi.load());
    // CITRIX_EM_URL with no path at all: the case that once built `//device/…`.
    stack = await startLocalStack({
      env: {
        ...TEST_ENV,
        WEBHOOK_SECRET: TEST_SIGNING_SECRET,
        LOCAL_PEOPLE: JSON.stringify(TEST_PEOPLE),
        CITRIX_EM_URL: contract.url,
        CITRIX_EM_AUTH: 'credentials',
        CITRIX_EM_USERNAME: TEST_EM_ADMIN.login,
        CITRIX_EM_PASSWORD: TEST_EM_ADMIN.password,
      },
      simulatorFixture: testFixture(),
      ...FAST_WORKFLOW,
    });
  });
  afterAll(async () => {
    await stack?.close();
    await contract?.close();
    await backend?.close();
  });

  it('selectively wipes, wipes and deploys policies, every request valid and under the root', async () => {
    expect(stack.endpointManagement).toMatchObject({ mode: 'server', baseUrl: `${contract.url}/` });

    const selective = await runAction(stack, {
      action: 'device.selectiveWipe',
      target: { user: 'carol@example.com' },
    });
    const wipe = await runAction(stack, {
      action: 'device.wipe',
      target: { deviceId: DEVICES.erin1 },
    });
    const deploy = await runAction(stack, {
      action: 'device.deployPolicy',
      target: { deviceId: DEVICES.erin2 },
    });

    expect(selective.record).toMatchObject({
      status: 'succeeded',
      summary: '2 of 2 devices sent a selective wipe, 1 skipped (not managed)',
    });
    expect(wipe.record.status).toBe('succeeded');
    expect((wipe.record.results[DEVICES.erin1] as DeviceTargetResult).outcome).toBe('succeeded');
    expect(deploy.record.status).toBe('succeeded');
    const routes = contract.calls.map((call) => call.route);
    expect(routes).toEqual(
      expect.arrayContaining([
        'POST /authentication/login',
        'POST /device/selectivewipe',
        'POST /device/wipe',
        'POST /device/policy/deploy',
        'POST /authentication/logout',
      ]),
    );
    expect(routes.filter((route) => route.includes('//'))).toEqual([]);
    expect(contract.calls.filter((call) => call.errors.length > 0)).toEqual([]);
    // Every command reached the server behind the proxy exactly once.
    const commands = backend
      .requests()
      .filter((r) => /\/device\/(selectivewipe|wipe|policy\/deploy)$/.test(r.path))
      .map((r) => r.path.slice(ENDPOINT_MANAGEMENT_BASE_PATH.length));
    expect(commands.sort()).toEqual([
      '/device/policy/deploy',
      '/device/selectivewipe',
      '/device/selectivewipe',
      '/device/wipe',
    ]);
  });
});
