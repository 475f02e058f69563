import { ENDPOINT_MANAGEMENT_BASE_PATH } from '../../../local/simulator/endpoint-management.ts';
import type { DeviceView } from '../../../local/simulator/endpoint-management-state.ts';
import type { RunningSimulator } from '../../../local/simulator/server.ts';
import { TEST_CLIENT, TEST_EM_ADMIN } from '../../support/simulator-fixture.ts';

export interface EmCall {
  method?: string;
  /** Sent as JSON; a string is sent as it is. */
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
}

/** Every field any Endpoint Management response of the simulator can carry. */
export interface EmBody {
  status?: number;
  message?: string;
  auth_token?: string;
  filteredDevicesDataList?: DeviceView[];
  totalCount?: number;
  matchedRecords?: number;
  deviceActionMessages?: unknown;
  [field: string]: unknown;
}

export interface EmResult {
  status: number;
  body: EmBody;
  headers: Headers;
}

/** Calls an Endpoint Management route the way a XenMobile client does: JSON and `auth_token`. */
export async function em(
  sim: RunningSimulator,
  path: string,
  call: EmCall = {},
): Promise<EmResult> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  if (call.token !== undefined) headers.auth_token = call.token;
  const response = await fetch(`${sim.url}${ENDPOINT_MANAGEMENT_BASE_PATH}${path}`, {
    method: call.method ?? 'POST',
    headers: { ...headers, ...call.headers },
    body:
      call.body === undefined
        ? undefined
        : typeof call.body === 'string'
          ? call.body
          : JSON.stringify(call.body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text === '' ? {} : (JSON.parse(text) as EmBody),
    headers: response.headers,
  };
}

export async function emLogin(
  sim: RunningSimulator,
  admin: { login: string; password: string } = TEST_EM_ADMIN,
): Promise<string> {
  const result = await em(sim, '/authentication/login', { body: admin });
  if (result.status !== 200) throw new Error(`EM login failed: ${result.status}`);
  if (typeof result.body.auth_token !== 'string') throw new Error('EM login: no auth_token');
  return result.body.auth_token;
}

/** A Citrix Cloud bearer token from the simulator's own token endpoint. */
export async function cloudBearerToken(sim: RunningSimulator): Promise<string> {
  const response = await fetch(`${sim.url}/cctrustoauth2/test-customer/tokens/clients`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: TEST_CLIENT.clientId,
      client_secret: TEST_CLIENT.clientSecret,
    }),
  });
  if (response.status !== 200) throw new Error(`token request failed: ${response.status}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** The commands the simulator recorded on a device, as `/_simulator/state` shows them. */
export function commandsOf(sim: RunningSimulator, deviceId: string): string[] {
  const device = sim.state().endpointManagement?.devices?.find((d) => d.id === deviceId);
  if (!device) throw new Error(`no device ${deviceId} in state`);
  return (device.simulation?.commands ?? []).map((c) => c.command);
}

export const failureBody = (deviceId: string, message: string) => ({
  status: -1,
  message,
  deviceActionMessages: {
    devicesActionParameters: { description: message, messageList: [{ id: deviceId, message }] },
  },
});
