import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createReadDeviceBackHandler } from '../../functions/read-device-back.ts';
import { createResolveDeviceTargetsHandler } from '../../functions/resolve-device-targets.ts';
import { createSendDeviceCommandHandler } from '../../functions/send-device-command.ts';
import type { ResolvedDevice } from '../../lib/actions/schema.ts';
import { citrixConnectionFromEnv } from '../../lib/citrix/config.ts';
import { endpointManagementConnectionFromEnv } from '../../lib/citrix/endpoint-management-config.ts';
import { DEFAULT_DEVICE_WORKFLOW_SETTINGS } from '../../lib/devices/device-actions.ts';
import type { DeviceFindings } from '../../lib/devices/findings.ts';
import type { GuardedResolution } from '../../lib/guardrails/apply.ts';
import { guardrailsFromEnv } from '../../lib/guardrails/config.ts';
import { buildEndpointManagementClient } from '../../lib/runtime/endpoint-management.ts';
import { TASK_FINISH_MARGIN_MS, TaskDeadlineError } from '../../lib/runtime/task-handler.ts';
import { ENDPOINT_MANAGEMENT_BASE_PATH } from '../../local/simulator/endpoint-management.ts';
import { type RunningSimulator, startCitrixSimulator } from '../../local/simulator/server.ts';
import { lambdaContext } from '../../local/workflow-runner.ts';
import { type LoopbackServer, useLoopbackServers } from '../support/loopback-server.ts';
import { DEVICES, TEST_CLIENT, TEST_EM_ADMIN, testFixture } from '../support/simulator-fixture.ts';

/**
 * In AWS every task is its own Lambda with its own Endpoint Management client: nothing shared,
 * so each invocation must end the session it opened. These run the device task handlers that
 * way, each with a separate client, against the simulator, and ask it how many sessions are open.
 */
let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startCitrixSimulator({ fixture: testFixture() });
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const liveTokens = async (): Promise<number> => {
  const response = await fetch(`${sim.url}/_simulator/endpoint-management/tokens`);
  return ((await response.json()) as { live: number }).live;
};

const emRoutes = () =>
  sim
    .requests()
    .filter((r) => r.path.startsWith(ENDPOINT_MANAGEMENT_BASE_PATH))
    .map((r) => `${r.method} ${r.path.slice(ENDPOINT_MANAGEMENT_BASE_PATH.length)} ${r.status}`);

type Login = 'credentials' | 'cloud';

/** A fresh client, as a new Lambda container builds it (at `emUrl`, the simulator by default). */
function newClient(login: Login, emUrl = sim.url) {
  const env = {
    CITRIX_EM_URL: `${emUrl}${ENDPOINT_MANAGEMENT_BASE_PATH}`,
    CITRIX_EM_AUTH: login,
    CITRIX_MAX_ATTEMPTS: '2',
    CITRIX_REQUEST_TIMEOUT_MS: '2000',
  };
  const connection = endpointManagementConnectionFromEnv(env);
  if (login === 'cloud') {
    return buildEndpointManagementClient({
      connection,
      cloud: {
        connection: citrixConnectionFromEnv({
          ...env,
          CITRIX_API_URL: sim.url,
          CITRIX_CUSTOMER_ID: testFixture().customerId,
        }),
        credentials: async () => TEST_CLIENT,
      },
    });
  }
  return buildEndpointManagementClient({
    connection,
    credentials: async () => ({
      username: TEST_EM_ADMIN.login,
      password: TEST_EM_ADMIN.password,
    }),
  });
}

/** Sweep findings kept in memory: these tests resolve users, never sweeps. */
const inMemoryFindings = (): DeviceFindings => {
  const bySweep = new Map<string, Map<string, Date>>();
  return {
    async observe(sweep, deviceIds, now, save) {
      const earlier = bySweep.get(sweep) ?? new Map<string, Date>();
      const firstFound = new Map(deviceIds.map((id) => [id, earlier.get(id) ?? now] as const));
      if (save) bySweep.set(sweep, firstFound);
      return firstFound;
    },
  };
};

/** The three Endpoint Management tasks, each with a client of its own. */
function separateTasks(login: Login) {
  const resolving = newClient(login);
  const sending = newClient(login);
  const reading = newClient(login);
  return {
    resolve: createResolveDeviceTargetsHandler(() => ({
      directory: resolving,
      settings: DEFAULT_DEVICE_WORKFLOW_SETTINGS,
      guardrails: {
        settings: guardrailsFromEnv({ APPROVAL_REQUIRED: 'none' }),
        counter: { reserve: async () => ({ allowed: true, used: 0 }) },
        actions: { markRunning: async () => undefined },
      },
      findings: inMemoryFindings(),
      session: resolving,
    })),
    send: createSendDeviceCommandHandler(() => ({ commander: sending, session: sending })),
    read: createReadDeviceBackHandler(() => ({ directory: reading, session: reading })),
  };
}

describe.each<Login>(['credentials', 'cloud'])(
  'device tasks with separate clients (%s login)',
  (login) => {
    it('leave no live auth_token behind after a selective wipe of a user’s devices', async () => {
      const tasks = separateTasks(login);
      const actionId = 'act_sessions_1';
      const resolution = (await tasks.resolve(
        {
          actionId,
          action: 'device.selectiveWipe',
          target: { user: 'carol@example.com' },
          dryRun: false,
        },
        lambdaContext('resolve-device-targets'),
      )) as GuardedResolution;
      expect(await liveTokens()).toBe(0);
      const devices = (resolution.targets as ResolvedDevice[]).filter((d) => d.actionable);
      expect(devices.map((d) => d.deviceId).sort()).toEqual(
        [DEVICES.carolPhone, DEVICES.carolTablet].sort(),
      );
      for (const device of devices) {
        await tasks.send(
          { actionId, action: 'device.selectiveWipe', device },
          lambdaContext('send-device-command'),
        );
        expect(await liveTokens()).toBe(0);
        await tasks.read(
          { actionId, deviceId: device.deviceId },
          lambdaContext('read-device-back'),
        );
        expect(await liveTokens()).toBe(0);
      }
      const routes = emRoutes();
      const logins = routes.filter((r) => r.includes('/authentication/login'));
      const logouts = routes.filter((r) => r === 'POST /authentication/logout 200');
      // One session per invocation: resolve, then a send and a read-back per device.
      expect(logins).toHaveLength(5);
      expect(logouts).toHaveLength(5);
      expect(routes.at(-1)).toBe('POST /authentication/logout 200');
    });

    it('end the session when the task fails too', async () => {
      const tasks = separateTasks(login);
      const actionId = 'act_sessions_2';
      const unknown = tasks.resolve(
        {
          actionId,
          action: 'device.wipe',
          target: { deviceId: '00000000-0000-4000-8000-00000000dead' },
          dryRun: false,
        },
        lambdaContext('resolve-device-targets'),
      );
      await expect(unknown).rejects.toMatchObject({ name: 'CitrixNotFoundError' });
      expect(await liveTokens()).toBe(0);

      const rejected = tasks.send(
        {
          actionId,
          action: 'device.wipe',
          device: { deviceId: DEVICES.daveFailPhone, managed: true, actionable: true },
        },
        lambdaContext('send-device-command'),
      );
      await expect(rejected).rejects.toMatchObject({ name: 'EndpointManagementRejectedError' });
      expect(await liveTokens()).toBe(0);
      expect(emRoutes().filter((r) => r === 'POST /authentication/logout 200')).toHaveLength(2);
    });
  },
);

const startLoopback = useLoopbackServers();
const REQUEST_TIMEOUT_MS = 2000;

/**
 * A proxy in front of the simulator that forwards every request at once (the simulator applies a
 * command) and holds back the answer to each device command by `lateMs`.
 */
function lateCommandProxy(lateMs: number): Promise<LoopbackServer> {
  return startLoopback(async (request, response) => {
    const headers = new Headers();
    for (const name of ['auth_token', 'content-type', 'accept', 'authorization']) {
      const value = request.headers[name];
      if (typeof value === 'string') headers.set(name, value);
    }
    const upstream = await fetch(new URL(request.url, sim.url), {
      method: request.method,
      headers,
      ...(request.method === 'GET' ? {} : { body: request.body }),
    });
    const text = await upstream.text();
    if (/\/device\/(wipe|selectivewipe|policy\/deploy)$/.test(request.path)) {
      await new Promise((resolve) => setTimeout(resolve, lateMs));
    }
    response.writeHead(upstream.status, { 'content-type': 'application/json' });
    response.end(text);
  });
}

describe('a device task whose Lambda is about to time out', () => {
  it('stops the command in flight, logs out, and throws TaskDeadlineError', async () => {
    const proxy = await lateCommandProxy(5000);
    const sending = newClient('credentials', proxy.baseUrl.origin);
    const send = createSendDeviceCommandHandler(() => ({ commander: sending, session: sending }));
    // Time for the login and the request to go out, then the task must stop to log out.
    const workMs = 700;
    const deadline =
      Date.now() + Math.min(REQUEST_TIMEOUT_MS, 3000) + TASK_FINISH_MARGIN_MS + workMs;
    const context: Context = {
      ...lambdaContext('send-device-command'),
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    const error = await send(
      {
        actionId: 'act_deadline',
        action: 'device.wipe',
        device: { deviceId: DEVICES.bobPhone, managed: true, actionable: true },
      },
      context,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskDeadlineError);
    expect((error as Error).name).toBe('TaskDeadlineError');
    // The answer is 5 s late and the request timeout is 2 s: only the deadline ends it this way.
    const proxied = proxy.requests.map(
      (r) => `${r.method} ${r.path.slice(ENDPOINT_MANAGEMENT_BASE_PATH.length)}`,
    );
    expect(proxied).toEqual([
      'POST /authentication/login',
      'POST /device/wipe',
      'POST /authentication/logout',
    ]);
    expect(await liveTokens()).toBe(0);
  });
});
