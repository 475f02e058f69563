import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type {
  ActionRecord,
  DeviceActionType,
  DeviceTarget,
  DeviceTargetResult,
} from '../../lib/actions/schema.ts';
import {
  COMMAND_NOT_SENT_ERRORS,
  UNCONFIRMED_COMMAND_OUTCOME,
} from '../../lib/devices/device-actions.ts';
import { DEVICE_ACTION } from '../../lib/workflow/asl/device-action.ts';
import type { RecordedRequest } from '../../local/simulator/server.ts';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../local/stack.ts';
import type { WorkflowEvent } from '../../local/workflow-runner.ts';
import { sigV4Fetch } from '../support/local-stack.ts';
import { type LoopbackServer, startLoopbackServer } from '../support/loopback-server.ts';
import { TEST_PEOPLE, TEST_SIGNING_SECRET } from '../support/signed-request.ts';
import {
  DEVICE_BUSY,
  DEVICES,
  FAST_WORKFLOW,
  TEST_EM_ADMIN,
  TEST_ENV,
  testFixture,
} from '../support/simulator-fixture.ts';
import { runAction } from '../support/workflow.ts';

/**
 * The device workflow's `.asl.json`, run by aws-local-stepfunctions with the real task handlers,
 * against the simulator's Endpoint Management and a DynamoDB-compatible engine.
 */
const EM = '/xenmobile/api/v1';
const DEVICE_RETRY_OVERRIDES = {
  ...FAST_WORKFLOW.retryIntervalOverrides,
  SendCommand: 10,
  ReadDeviceBack: 10,
  RecordDeviceResult: 10,
};

async function startStack(
  env: Record<string, string> = {},
  onEvent?: (event: WorkflowEvent) => void,
): Promise<LocalStack> {
  const options: LocalStackOptions = {
    env: { ...TEST_ENV, ...env },
    simulatorFixture: testFixture(),
    ...FAST_WORKFLOW,
    retryIntervalOverrides: DEVICE_RETRY_OVERRIDES,
    endpointManagementPageSize: 2,
    onWorkflowEvent: (_, event) => onEvent?.(event),
  };
  return startLocalStack(options);
}

const run = (
  stack: LocalStack,
  request: { action: DeviceActionType; target: DeviceTarget; dryRun?: boolean },
) => runAction(stack, request);

const emCalls = (stack: LocalStack): RecordedRequest[] =>
  (stack.simulator?.requests() ?? []).filter((r) => r.path.startsWith(EM));
const route = (r: RecordedRequest) => `${r.method} ${r.path.slice(EM.length)} ${r.status}`;
const deviceResult = (record: ActionRecord, id: string) =>
  record.results[id] as DeviceTargetResult | undefined;
/**
 * Watches the Endpoint Management answers the task handlers get (they run in this process and
 * call the global fetch): `onAnswer` sees each one's path and JSON body.
 */
function watchAnswers(onAnswer: (path: string, body: unknown) => void): void {
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const response = await realFetch(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.pathname.startsWith(EM)) {
      const text = await response.clone().text();
      onAnswer(url.pathname.slice(EM.length), text === '' ? undefined : JSON.parse(text));
    }
    return response;
  });
}

const commandsOf = (stack: LocalStack, id: string) =>
  stack.simulator
    ?.state()
    .endpointManagement?.devices?.find((d) => d.id === id)
    ?.simulation?.commands?.map((c) => c.command) ?? [];

describe('device workflow (cloud login, OpenAPI bodies)', () => {
  let stack: LocalStack;
  let onEvent: ((event: WorkflowEvent) => void) | undefined;

  beforeAll(async () => {
    stack = await startStack({}, (event) => onEvent?.(event));
  });
  afterAll(async () => stack.close());
  beforeEach(() => {
    stack.simulator?.reset();
    onEvent = undefined;
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('selectively wipes a user’s two managed devices and skips the unmanaged one', async () => {
    const { record, status } = await run(stack, {
      action: 'device.selectiveWipe',
      target: { user: 'carol@example.com' },
    });
    expect(status).toBe('SUCCEEDED');
    expect(record.status).toBe('succeeded');
    expect(record.summary).toBe('2 of 2 devices sent a selective wipe, 1 skipped (not managed)');
    for (const id of [DEVICES.carolPhone, DEVICES.carolTablet]) {
      expect(deviceResult(record, id)).toMatchObject({
        outcome: 'succeeded',
        managed: true,
        userName: 'carol@example.com',
        command: { name: 'selectiveWipe', sentAt: expect.any(String) },
        readBack: { found: true, managed: true },
      });
      expect(commandsOf(stack, id)).toEqual(['selectiveWipe']);
    }
    expect(deviceResult(record, DEVICES.carolOldPhone)).toMatchObject({
      outcome: 'skipped',
      managed: false,
      note: expect.stringContaining('Not managed'),
    });
    expect(deviceResult(record, DEVICES.carolOldPhone)?.command).toBeUndefined();
    expect(commandsOf(stack, DEVICES.carolOldPhone)).toEqual([]);
    // Never a command for the unmanaged device, and every task ends its session with a log out.
    const calls = emCalls(stack);
    expect(calls.some((r) => JSON.stringify(r.body).includes(DEVICES.carolOldPhone))).toBe(false);
    expect(route(calls.at(-1) as RecordedRequest)).toBe('POST /authentication/logout 200');
  });

  it('acts only on devices enrolled by exactly that user name (bob, not bobby)', async () => {
    const { record } = await run(stack, { action: 'device.wipe', target: { user: 'BOB' } });
    expect(record.status).toBe('succeeded');
    expect(Object.keys(record.results)).toEqual([DEVICES.bobPhone]);
    expect(commandsOf(stack, DEVICES.bobPhone)).toEqual(['wipe']);
    expect(commandsOf(stack, DEVICES.bobbyPhone)).toEqual([]);
  });

  it('filters out bobby’s phone, which the search for bob returned, before any command', async () => {
    const listed: string[] = [];
    watchAnswers((path, body) => {
      if (path !== '/device/filter') return;
      const page = (body as { filteredDevicesDataList?: { id: string }[] }).filteredDevicesDataList;
      listed.push(...(page ?? []).map((device) => device.id));
    });
    const { record } = await run(stack, { action: 'device.wipe', target: { user: 'bob' } });
    // The simulator's substring search answered with bobby's phone too ...
    expect(listed).toContain(DEVICES.bobbyPhone);
    expect(listed).toContain(DEVICES.bobPhone);
    // ... and the exact user name match left it out of the action.
    expect(Object.keys(record.results)).toEqual([DEVICES.bobPhone]);
    expect(commandsOf(stack, DEVICES.bobbyPhone)).toEqual([]);
    expect(emCalls(stack).some((r) => JSON.stringify(r.body).includes(DEVICES.bobbyPhone))).toBe(
      false,
    );
  });

  it('records a device whose wipe Endpoint Management rejects with status -1', async () => {
    const { record } = await run(stack, {
      action: 'device.wipe',
      target: { user: 'dave@example.com' },
    });
    expect(record.status).toBe('failed');
    expect(record.summary).toBe('0 of 1 device sent a full wipe, 1 failed');
    expect(deviceResult(record, DEVICES.daveFailPhone)).toMatchObject({
      outcome: 'failed',
      error: {
        name: 'EndpointManagementRejectedError',
        message: expect.stringContaining(DEVICE_BUSY),
      },
    });
    // A rejection is an answer, not a transient failure: sent once, not retried.
    expect(
      emCalls(stack)
        .filter((r) => r.path === `${EM}/device/wipe`)
        .map((r) => r.status),
    ).toEqual([200]);
  });

  it('logs in again when the auth_token expires mid-task, and finishes', async () => {
    // Each task logs out when it ends, so a token can only expire inside one: expire every token
    // (Citrix Cloud and Endpoint Management) once the first filter page has been answered.
    let expired = false;
    watchAnswers((path) => {
      if (path === '/device/filter' && !expired) {
        expired = true;
        stack.simulator?.expireTokens();
      }
    });
    const { record } = await run(stack, {
      action: 'device.selectiveWipe',
      target: { user: 'carol@example.com' },
    });
    expect(record.status).toBe('succeeded');
    const calls = emCalls(stack).map(route);
    const pages = calls.filter((c) => c.startsWith('POST /device/filter'));
    // The second page is refused, then a new login, then it goes through.
    expect(pages).toEqual([
      'POST /device/filter 200',
      'POST /device/filter 401',
      'POST /device/filter 200',
    ]);
    const refused = calls.indexOf('POST /device/filter 401');
    expect(
      calls.slice(refused).some((c) => c.startsWith('POST /authentication/login/cloud 200')),
    ).toBe(true);
    expect(calls.filter((c) => c === 'POST /device/selectivewipe 200')).toHaveLength(2);
    expect(commandsOf(stack, DEVICES.carolPhone)).toEqual(['selectiveWipe']);
  });

  it('deploys policies to one device by id', async () => {
    const { record } = await run(stack, {
      action: 'device.deployPolicy',
      target: { deviceId: DEVICES.erin2 },
    });
    expect(record.status).toBe('succeeded');
    expect(record.summary).toBe('1 of 1 device sent a policy deploy');
    const deploy = emCalls(stack).find((r) => r.path === `${EM}/device/policy/deploy`);
    expect(deploy?.body).toEqual({ deviceIds: [DEVICES.erin2] });
  });

  it('reads every filter page of a user with more devices than a page', async () => {
    const { record } = await run(stack, {
      action: 'device.selectiveWipe',
      target: { user: 'erin@example.com' },
    });
    expect(record.summary).toBe('3 of 3 devices sent a selective wipe');
    const pages = emCalls(stack).filter((r) => r.path === `${EM}/device/filter`);
    expect(pages.map((r) => (r.body as { start: number }).start)).toEqual([0, 2]);
  });

  it('rides out 503s from Endpoint Management', async () => {
    stack.simulator?.setFaults({ serverErrors: { count: 3, status: 503 } });
    const { record } = await run(stack, {
      action: 'device.wipe',
      target: { deviceId: DEVICES.bobPhone },
    });
    expect(record.status).toBe('succeeded');
    expect(emCalls(stack).filter((r) => r.status === 503)).toHaveLength(3);
    expect(commandsOf(stack, DEVICES.bobPhone)).toEqual(['wipe']);
  });

  it('plans a dry run, showing what would be skipped, without sending any command', async () => {
    const { record } = await run(stack, {
      action: 'device.wipe',
      target: { user: 'carol@example.com' },
      dryRun: true,
    });
    expect(record.status).toBe('planned');
    expect(record.summary).toBe(
      'Dry run: would send a full wipe to 2 devices and skip 1 (not managed)',
    );
    expect(
      Object.values(record.results)
        .map((r) => r.outcome)
        .sort(),
    ).toEqual(['planned', 'planned', 'skipped']);
    const commands = emCalls(stack).filter(
      (r) => r.method === 'POST' && /\/device\/(wipe|selectivewipe|policy)/.test(r.path),
    );
    expect(commands).toEqual([]);
  });

  it('fails the action as a whole for an unknown device, and still logs out', async () => {
    const { record, status } = await run(stack, {
      action: 'device.wipe',
      target: { deviceId: '00000000-0000-4000-8000-00000000dead' },
    });
    expect(status).toBe('FAILED');
    expect(record.status).toBe('failed');
    expect(record.error?.name).toBe('CitrixNotFoundError');
    expect(route(emCalls(stack).at(-1) as RecordedRequest)).toBe('POST /authentication/logout 200');
  });

  it('succeeds with nothing to do for a user without devices', async () => {
    const { record } = await run(stack, {
      action: 'device.wipe',
      target: { user: 'nobody@example.com' },
    });
    expect(record.status).toBe('succeeded');
    expect(record.summary).toBe('No devices matched the target; no wipe was sent');
  });
});

describe('device workflow (administrator login, JSON array bodies)', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startStack({ CITRIX_EM_AUTH: 'credentials', CITRIX_EM_BODY_SHAPE: 'id-array' });
  });
  afterAll(async () => stack.close());

  it('logs in with the administrator and sends arrays of ids to the public REST API paths', async () => {
    expect(stack.endpointManagement).toMatchObject({ auth: 'credentials', bodyShape: 'id-array' });
    const { record } = await run(stack, {
      action: 'device.selectiveWipe',
      target: { user: 'carol@example.com' },
    });
    expect(record.status).toBe('succeeded');
    const calls = emCalls(stack);
    expect(calls[0]).toMatchObject({
      path: `${EM}/authentication/login`,
      body: { login: 'test-em-admin', password: '***' },
      status: 200,
    });
    const wipes = calls.filter((r) => r.path === `${EM}/device/selwipe`);
    expect(wipes.map((r) => r.body)).toEqual(
      expect.arrayContaining([[DEVICES.carolPhone], [DEVICES.carolTablet]]),
    );
    expect(wipes).toHaveLength(2);
  });
});

describe('device workflow with a protected device (PROTECTED_DEVICES)', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startStack({ PROTECTED_DEVICES: DEVICES.carolTablet });
  });
  afterAll(async () => stack.close());

  it('skips the protected device with its reason and never sends it a wipe', async () => {
    const { record } = await run(stack, {
      action: 'device.wipe',
      target: { user: 'carol@example.com' },
    });
    expect(record.status).toBe('succeeded');
    expect(deviceResult(record, DEVICES.carolTablet)).toMatchObject({
      outcome: 'skipped',
      managed: true,
      actionable: false,
      note: `device ${DEVICES.carolTablet} is protected`,
    });
    expect(deviceResult(record, DEVICES.carolTablet)?.error).toBeUndefined();
    expect(deviceResult(record, DEVICES.carolPhone)).toMatchObject({ outcome: 'succeeded' });
    expect(commandsOf(stack, DEVICES.carolTablet)).toEqual([]);
    // What the simulator was sent, read through its control API.
    const sent = (await (
      await fetch(`${stack.simulator?.url}/_simulator/requests`)
    ).json()) as RecordedRequest[];
    const wipes = sent.filter((r) => r.path === `${EM}/device/wipe`);
    expect(wipes.map((r) => r.body)).toEqual([{ deviceId: DEVICES.carolPhone }]);
    expect(sent.some((r) => JSON.stringify(r.body).includes(DEVICES.carolTablet))).toBe(false);
  });
});

/** Longer than the client's request timeout (TEST_ENV: 2 s): the answer arrives too late. */
const LATE_ANSWER_MS = 3000;

/**
 * A proxy in front of the simulator's Endpoint Management: every request goes through at once
 * (so the simulator applies a wipe), and the answer to each wipe is held back past the client's
 * timeout, as when Endpoint Management acts and its reply is lost.
 */
async function lateWipeAnswers(upstream: () => string): Promise<LoopbackServer> {
  return startLoopbackServer(async (request, response) => {
    const headers = new Headers();
    for (const name of ['auth_token', 'content-type', 'accept']) {
      const value = request.headers[name];
      if (typeof value === 'string') headers.set(name, value);
    }
    const answer = await fetch(new URL(request.url, upstream()), {
      method: request.method,
      headers,
      ...(request.method === 'GET' ? {} : { body: request.body }),
    });
    const text = await answer.text();
    if (request.path === `${EM}/device/wipe`) {
      await new Promise((resolve) => setTimeout(resolve, LATE_ANSWER_MS));
    }
    if (response.destroyed) return;
    response.writeHead(answer.status, { 'content-type': 'application/json' });
    response.end(text);
  });
}

describe('device workflow when Endpoint Management applies a wipe and its answer is lost', () => {
  let stack: LocalStack;
  let proxy: LoopbackServer;

  beforeAll(async () => {
    let simulatorUrl = '';
    proxy = await lateWipeAnswers(() => simulatorUrl);
    stack = await startStack({
      CITRIX_EM_URL: `${proxy.baseUrl.origin}${EM}`,
      CITRIX_EM_AUTH: 'credentials',
      CITRIX_EM_USERNAME: TEST_EM_ADMIN.login,
      CITRIX_EM_PASSWORD: TEST_EM_ADMIN.password,
      WEBHOOK_SECRET: TEST_SIGNING_SECRET,
      LOCAL_PEOPLE: JSON.stringify(TEST_PEOPLE),
    });
    simulatorUrl = stack.simulator?.url ?? '';
  });
  afterAll(async () => {
    await stack.close();
    await proxy.close();
  });

  it('sends the wipe exactly once and records it as sent, not confirmed, in the view and the timeline', async () => {
    const { record, status } = await run(stack, {
      action: 'device.wipe',
      target: { deviceId: DEVICES.bobPhone },
    });
    expect(status).toBe('SUCCEEDED');
    const wipes = (stack.simulator?.requests() ?? []).filter(
      (r) => r.method === 'POST' && r.path === `${EM}/device/wipe`,
    );
    expect(wipes).toHaveLength(1);
    expect(commandsOf(stack, DEVICES.bobPhone)).toEqual(['wipe']);
    const result = deviceResult(record, DEVICES.bobPhone);
    expect(result).toMatchObject({
      outcome: UNCONFIRMED_COMMAND_OUTCOME,
      command: { name: 'wipe', sentAt: expect.any(String) },
      // Read before anything else could be sent: the device is still there and managed.
      readBack: { found: true, managed: true },
      error: { name: 'DeviceCommandUnconfirmedError' },
    });
    expect(result?.error?.message).toMatch(
      /^Sent, not confirmed: Endpoint Management did not answer POST \/xenmobile\/api\/v1\/device\/wipe \(CitrixTimeoutError: .*\); the wipe may have been applied; the device is still listed and managed\. It was not sent again: check the device in Endpoint Management before sending the wipe again$/,
    );
    expect(record.status).toBe('failed');

    const view = await sigV4Fetch(`${stack.apiUrl}/v1/actions/${record.actionId}`);
    expect(view.status).toBe(200);
    const body = (await view.json()) as {
      results: DeviceTargetResult[];
      timeline: { type: string; summary: string; details?: Record<string, unknown> }[];
    };
    expect(JSON.stringify(body.results)).toContain('DeviceCommandUnconfirmedError');
    const outcome = body.timeline.find((entry) => entry.type === 'target_outcome');
    expect(outcome?.summary).toMatch(
      new RegExp(`^${DEVICES.bobPhone} ${UNCONFIRMED_COMMAND_OUTCOME}: Sent, not confirmed: `),
    );
    expect(outcome?.details).toMatchObject({
      error: expect.stringMatching(/^DeviceCommandUnconfirmedError: Sent, not confirmed/),
    });

    // Long after the held answer came back, still the one wipe.
    await new Promise((resolve) => setTimeout(resolve, LATE_ANSWER_MS));
    expect(commandsOf(stack, DEVICES.bobPhone)).toEqual(['wipe']);
  });
});

describe('the device workflow never sends a command twice', () => {
  const states = (
    DEVICE_ACTION.States.ActOnEachDevice as unknown as {
      ItemProcessor: {
        States: Record<
          string,
          { Retry?: { ErrorEquals: string[] }[]; Catch?: { ErrorEquals: string[]; Next: string }[] }
        >;
      };
    }
  ).ItemProcessor.States;

  it('retries the send step only on errors it throws before its command could go out', () => {
    const retried = (states.SendCommand?.Retry ?? []).flatMap((retrier) => retrier.ErrorEquals);
    expect(retried.length).toBeGreaterThan(0);
    // Never a Lambda timeout, crash or service error, nor TaskDeadlineError: those may follow a sent command.
    for (const name of retried) expect(COMMAND_NOT_SENT_ERRORS).toContain(name);
    expect(retried).not.toContain('TaskDeadlineError');
  });

  it('reads the device back after any failure of the send step, before recording it', () => {
    expect(states.SendCommand?.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'ReadDeviceBack' },
    ]);
  });
});
