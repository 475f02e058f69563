import { describe, expect, it } from 'vitest';
import type {
  ActionRecord,
  AdminTargetResult,
  DeviceTargetResult,
} from '../../../lib/actions/schema.ts';
import {
  InvalidServiceNowIdError,
  MAX_WORK_NOTE_LENGTH,
  parseServiceNowInstanceUrl,
  ServiceNowApiSecretSchema,
  ServiceNowClient,
  ServiceNowConfigurationError,
  ServiceNowError,
  workNoteFor,
} from '../../../lib/callbacks/servicenow.ts';
import { DEFAULT_RETRY_POLICY } from '../../../lib/citrix/retry.ts';
import { type RecordedRequest, useLoopbackServers } from '../../support/loopback-server.ts';
import { rejection } from '../../support/rejection.ts';

const startLoopback = useLoopbackServers();

const SYS_ID = '46d44a5ddb5a1010f1e3a1b2c3d4e5f6';
const USERNAME = 'citrix.response';
const PASSWORD = 'sn-password-7e1b';
const NOTE = 'Citrix Response act_1: session.logoff succeeded';

interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** A ServiceNow Table API on loopback answering with `replies` in turn (the last one repeats). */
function fakeServiceNow(...replies: Reply[]) {
  let answered = 0;
  return startLoopback((_request, response) => {
    const reply = replies[Math.min(answered, replies.length - 1)] ?? { status: 500 };
    answered += 1;
    response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    response.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
  });
}

function client(instanceUrl: URL, overrides: { maxAttempts?: number } = {}) {
  const sleeps: number[] = [];
  const serviceNow = new ServiceNowClient({
    connection: async () => ({ instanceUrl, username: USERNAME, password: PASSWORD }),
    timeoutMs: 2000,
    retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: overrides.maxAttempts ?? 3 },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
  });
  return { serviceNow, sleeps };
}

const OK = { status: 200, body: { result: { sys_id: SYS_ID } } };

describe('ServiceNowClient.addWorkNote', () => {
  it('PATCHes the incident with the work note, Basic auth and JSON', async () => {
    const sn = await fakeServiceNow(OK);
    const { serviceNow } = client(sn.baseUrl);

    expect(await serviceNow.addWorkNote(SYS_ID, NOTE)).toEqual({ attempts: 1 });

    expect(sn.requests).toHaveLength(1);
    const request = sn.requests[0] as RecordedRequest;
    expect(request.method).toBe('PATCH');
    expect(request.path).toBe(`/api/now/table/incident/${SYS_ID}`);
    expect([...request.query]).toEqual([['sysparm_fields', 'sys_id']]);
    expect(request.headers.authorization).toBe(
      `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64')}`,
    );
    expect(request.headers.accept).toBe('application/json');
    expect(request.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request.body)).toEqual({ work_notes: NOTE });
  });

  it('retries a 503 with backoff and counts the attempts', async () => {
    const sn = await fakeServiceNow({ status: 503 }, { status: 503 }, OK);
    const { serviceNow, sleeps } = client(sn.baseUrl);

    expect(await serviceNow.addWorkNote(SYS_ID, NOTE)).toEqual({ attempts: 3 });
    expect(sn.requests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    // The same note every time: a PATCH of work_notes is only applied once per successful answer.
    expect(new Set(sn.requests.map((request) => request.body)).size).toBe(1);
  });

  it('gives up after the policy attempts with the last status, naming no secret', async () => {
    const sn = await fakeServiceNow({ status: 502 });
    const { serviceNow } = client(sn.baseUrl, { maxAttempts: 2 });

    const error = await rejection(serviceNow.addWorkNote(SYS_ID, NOTE));
    expect(error).toBeInstanceOf(ServiceNowError);
    expect(error).toMatchObject({
      name: 'ServiceNowError',
      status: 502,
      method: 'PATCH',
      path: `/api/now/table/incident/${SYS_ID}`,
      attempts: 2,
    });
    expect(sn.requests).toHaveLength(2);
  });

  it('does not retry a 401, and keeps the password and note out of the message', async () => {
    const sn = await fakeServiceNow({
      status: 401,
      // A server that echoes what it was sent must not get the secret into our error.
      body: { error: { message: 'User Not Authenticated', detail: `bad password ${PASSWORD}` } },
    });
    const { serviceNow } = client(sn.baseUrl);

    const error = await rejection(serviceNow.addWorkNote(SYS_ID, NOTE));
    expect(error).toMatchObject({ name: 'ServiceNowError', status: 401, attempts: 1 });
    expect(error.message).toContain('User Not Authenticated');
    expect(error.message).not.toContain(PASSWORD);
    expect(error.message).not.toContain(NOTE);
    expect(sn.requests).toHaveLength(1);
  });

  it.each([403, 404])('does not retry a %i', async (status) => {
    const sn = await fakeServiceNow({ status });
    const { serviceNow } = client(sn.baseUrl);
    expect(await rejection(serviceNow.addWorkNote(SYS_ID, NOTE))).toMatchObject({
      status,
      attempts: 1,
    });
    expect(sn.requests).toHaveLength(1);
  });

  it.each([
    ['upper case', SYS_ID.toUpperCase()],
    ['too short', SYS_ID.slice(1)],
    ['a path', `../${SYS_ID.slice(3)}`],
    ['a query', `${SYS_ID.slice(0, 31)}?`],
  ])('refuses a sys_id in %s before any request', async (_case, sysId) => {
    const sn = await fakeServiceNow(OK);
    const { serviceNow } = client(sn.baseUrl);
    const error = await rejection(serviceNow.addWorkNote(sysId, NOTE));
    expect(error).toBeInstanceOf(InvalidServiceNowIdError);
    expect(error.name).toBe('InvalidServiceNowIdError');
    expect(sn.requests).toHaveLength(0);
  });

  it('does not follow a redirect', async () => {
    const elsewhere = await startLoopback((_request, response) => {
      response.writeHead(200).end('{}');
    });
    const sn = await fakeServiceNow({
      status: 307,
      headers: { location: new URL('/api/now/table/incident', elsewhere.baseUrl).href },
    });
    const { serviceNow } = client(sn.baseUrl);

    const error = await rejection(serviceNow.addWorkNote(SYS_ID, NOTE));
    expect(error).toMatchObject({ name: 'ServiceNowError', status: 307, attempts: 1 });
    expect(error.message).toMatch(/redirect/);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('reports a network failure after retrying, without a status', async () => {
    const closed = await startLoopback(() => undefined);
    await closed.close();
    const { serviceNow } = client(closed.baseUrl, { maxAttempts: 2 });

    const error = await rejection(serviceNow.addWorkNote(SYS_ID, NOTE));
    expect(error).toMatchObject({ name: 'ServiceNowError', status: undefined, attempts: 2 });
    expect(error.message).toMatch(/timed out or failed to connect/);
  });

  it.each([
    ['never answers (timeout)', () => undefined],
    [
      'drops the connection after reading the request',
      (_request: RecordedRequest, response: { destroy(): void }) => response.destroy(),
    ],
  ])('does not re-send a PATCH that may have reached ServiceNow: it %s', async (_, handler) => {
    const sn = await startLoopback(handler as never);
    const serviceNow = new ServiceNowClient({
      connection: async () => ({ instanceUrl: sn.baseUrl, username: USERNAME, password: PASSWORD }),
      timeoutMs: 300,
      retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: 3 },
      sleep: async () => undefined,
    });

    const error = await rejection(serviceNow.addWorkNote(SYS_ID, NOTE));
    // A work note is appended: a second PATCH could write it twice.
    expect(sn.requests).toHaveLength(1);
    expect(error).toMatchObject({ name: 'ServiceNowError', status: undefined, attempts: 1 });
    expect(error.message).toMatch(/not retried, so that the note is not written twice/);
    expect(error.message).not.toContain(PASSWORD);
  });

  it.each([
    ['the connection is reset while the answer is read', true],
    ['the answer never finishes (timeout while reading)', false],
  ])('does not re-send a PATCH whose answer failed part-way: %s', async (_, reset) => {
    const sn = await startLoopback((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      response.write('{"result":');
      if (reset) setTimeout(() => response.socket?.destroy(), 20);
    });
    const serviceNow = new ServiceNowClient({
      connection: async () => ({ instanceUrl: sn.baseUrl, username: USERNAME, password: PASSWORD }),
      timeoutMs: 300,
      retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: 4 },
      sleep: async () => undefined,
    });

    const error = await rejection(serviceNow.addWorkNote(SYS_ID, NOTE));
    // The note reached ServiceNow with the first PATCH; a second could write it twice.
    expect(sn.requests).toHaveLength(1);
    expect(error).toMatchObject({ name: 'ServiceNowError', status: undefined, attempts: 1 });
    expect(error.message).toMatch(/not retried, so that the note is not written twice/);
    expect(error.message).not.toMatch(/failed to connect/);
  });

  it('says the request may have been sent when the only attempt failed while reading the answer', async () => {
    const sn = await startLoopback((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      response.write('{"result":');
      setTimeout(() => response.socket?.destroy(), 20);
    });
    const { serviceNow } = client(sn.baseUrl, { maxAttempts: 1 });

    const error = await rejection(serviceNow.addWorkNote(SYS_ID, NOTE));
    expect(sn.requests).toHaveLength(1);
    expect(error).toMatchObject({ name: 'ServiceNowError', status: undefined, attempts: 1 });
    expect(error.message).toMatch(/lost the connection after the request was sent/);
  });

  it('accepts a 204 answer with no body', async () => {
    const sn = await fakeServiceNow({ status: 204 });
    const { serviceNow } = client(sn.baseUrl);
    expect(await serviceNow.addWorkNote(SYS_ID, NOTE)).toEqual({ attempts: 1 });
    expect(sn.requests).toHaveLength(1);
  });
});

describe('parseServiceNowInstanceUrl', () => {
  it('accepts an https origin and a loopback http origin', () => {
    expect(parseServiceNowInstanceUrl('https://acme.service-now.com').href).toBe(
      'https://acme.service-now.com/',
    );
    expect(parseServiceNowInstanceUrl('https://acme.service-now.com/').origin).toBe(
      'https://acme.service-now.com',
    );
    expect(parseServiceNowInstanceUrl('http://127.0.0.1:8080').href).toBe('http://127.0.0.1:8080/');
  });

  it.each([
    ['not a URL', 'acme.service-now.com'],
    ['http to a remote host', 'http://acme.service-now.com'],
    ['credentials', 'https://admin:pw@acme.service-now.com'],
    ['a path', 'https://acme.service-now.com/api/now'],
    ['a query', 'https://acme.service-now.com/?x=1'],
    ['another scheme', 'ftp://acme.service-now.com'],
  ])('refuses %s', (_case, value) => {
    expect(() => parseServiceNowInstanceUrl(value)).toThrow(ServiceNowConfigurationError);
  });

  it('never quotes credentials from a bad URL', () => {
    expect(() => parseServiceNowInstanceUrl('https://admin:s3cret@acme.service-now.com')).toThrow(
      /^(?!.*s3cret)/,
    );
  });
});

describe('ServiceNowApiSecretSchema', () => {
  const SECRET = {
    instanceUrl: 'https://acme.service-now.com',
    username: USERNAME,
    password: PASSWORD,
  };
  const problems = (value: unknown) =>
    (ServiceNowApiSecretSchema.safeParse(value).error?.issues ?? []).map(
      (issue) => `${issue.path.join('.')}: ${issue.message}`,
    );

  it('reads the instance origin, user name and password from the secret', () => {
    const parsed = ServiceNowApiSecretSchema.parse({
      ...SECRET,
      instanceUrl: ' https://Acme.service-now.com/ ',
    });
    expect(parsed.instanceUrl).toBeInstanceOf(URL);
    expect(parsed.instanceUrl.href).toBe('https://acme.service-now.com/');
    expect(parsed).toMatchObject({ username: USERNAME, password: PASSWORD });
  });

  it.each([
    ['http, even to loopback', 'http://127.0.0.1:8080', /^instanceUrl: must be an https URL$/],
    ['http to a remote host', 'http://acme.service-now.com', /^instanceUrl: .*must be https/],
    ['a path', 'https://acme.service-now.com/now', /^instanceUrl: .*origin only/],
    ['not a URL', 'set-me', /^instanceUrl: .*not a valid URL/],
  ])('refuses an instance URL with %s', (_case, instanceUrl, message) => {
    const found = problems({ ...SECRET, instanceUrl });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });

  it('names each missing or unusable field, never a value', () => {
    const found = problems({
      instanceUrl: 'https://admin:s3cret-in-url@acme.service-now.com',
      username: 'svc:user',
    });
    expect(found.map((problem) => problem.split(':')[0])).toEqual([
      'instanceUrl',
      'username',
      'password',
    ]);
    expect(found.join('\n')).not.toContain('s3cret-in-url');
    expect(found.join('\n')).not.toContain('svc:user');
  });
});

describe('ServiceNowClient connection', () => {
  it('reads the connection on every call, so a moved instance or a rotated password is used at once', async () => {
    const first = await fakeServiceNow(OK);
    const second = await fakeServiceNow(OK);
    const connections = [
      { instanceUrl: first.baseUrl, username: USERNAME, password: PASSWORD },
      { instanceUrl: second.baseUrl, username: USERNAME, password: 'rotated-password-2' },
    ];
    let calls = 0;
    const serviceNow = new ServiceNowClient({
      connection: async () => connections[Math.min(calls++, 1)] as (typeof connections)[0],
      timeoutMs: 2000,
      retry: DEFAULT_RETRY_POLICY,
    });

    await serviceNow.addWorkNote(SYS_ID, NOTE);
    await serviceNow.addWorkNote(SYS_ID, NOTE);

    expect(first.requests).toHaveLength(1);
    expect(second.requests).toHaveLength(1);
    expect(second.requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from(`${USERNAME}:rotated-password-2`).toString('base64')}`,
    );
  });

  it('refuses an instance URL with a path before sending anything', async () => {
    const sn = await fakeServiceNow(OK);
    const serviceNow = new ServiceNowClient({
      connection: async () => ({
        instanceUrl: new URL('/api/now', sn.baseUrl),
        username: USERNAME,
        password: PASSWORD,
      }),
      timeoutMs: 2000,
      retry: DEFAULT_RETRY_POLICY,
    });

    await expect(serviceNow.addWorkNote(SYS_ID, NOTE)).rejects.toThrow(
      ServiceNowConfigurationError,
    );
    expect(sn.requests).toHaveLength(0);
  });
});

const AT = '2025-06-01T10:00:00.000Z';

function baseRecord(overrides: Partial<ActionRecord>): ActionRecord {
  return {
    actionId: 'act_0123456789abcdef0123456789abcdef',
    action: 'session.logoff',
    target: { user: 'CORP\\alice' },
    reason: 'Phishing: credentials entered on a fake login page',
    requestedBy: 'soc-analyst@example.com',
    ticket: 'INC0010001',
    dryRun: false,
    status: 'succeeded',
    createdAt: AT,
    updatedAt: AT,
    results: {},
    expiresAt: 1_800_000_000,
    ...overrides,
  };
}

describe('workNoteFor', () => {
  it('describes a session action: header, summary, one line per target, requester and reason', () => {
    const record = baseRecord({
      status: 'partially_succeeded',
      summary: '1 of 2 sessions logged off',
      targets: [
        { sessionId: '11111111-1111-1111-1111-111111111111' },
        { sessionId: '22222222-2222-2222-2222-222222222222' },
      ],
      results: {
        // Out of order on purpose: the note follows the resolved order.
        '22222222-2222-2222-2222-222222222222': {
          sessionId: '22222222-2222-2222-2222-222222222222',
          userName: 'CORP\\alice',
          outcome: 'failed',
          error: { name: 'LogoffJobFailedError', message: 'Job failed:\nVDA unreachable' },
          finishedAt: AT,
        },
        '11111111-1111-1111-1111-111111111111': {
          sessionId: '11111111-1111-1111-1111-111111111111',
          userName: 'CORP\\alice',
          machineName: 'VDA-01',
          outcome: 'succeeded',
          job: { id: 'job-1', status: 'Complete' },
          finishedAt: AT,
        },
      },
    });

    expect(workNoteFor(record).split('\n')).toEqual([
      'Citrix Response act_0123456789abcdef0123456789abcdef: session.logoff partially_succeeded',
      '1 of 2 sessions logged off',
      'Targets:',
      '- session 11111111-1111-1111-1111-111111111111 (CORP\\alice on VDA-01): succeeded; job job-1 Complete',
      '- session 22222222-2222-2222-2222-222222222222 (CORP\\alice): failed; error: LogoffJobFailedError: Job failed: VDA unreachable',
      'Requested by: soc-analyst@example.com',
      'Reason: Phishing: credentials entered on a fake login page',
      'Ticket: INC0010001',
    ]);
  });

  it('describes a device action with skipped and failed devices', () => {
    const wiped: DeviceTargetResult = {
      deviceId: '42',
      userName: 'alice@example.com',
      platform: 'iOS',
      deviceModel: 'iPhone 15',
      serialNumber: 'F2LX1234',
      managed: true,
      outcome: 'succeeded',
      command: { name: 'wipe', sentAt: AT },
      readBack: { found: true, managed: true },
      finishedAt: AT,
    };
    const skipped: DeviceTargetResult = {
      deviceId: '43',
      managed: false,
      outcome: 'skipped',
      note: 'not managed by Endpoint Management',
      finishedAt: AT,
    };
    const note = workNoteFor(
      baseRecord({
        action: 'device.wipe',
        target: { user: 'alice@example.com' },
        status: 'succeeded',
        requestedBy: undefined,
        ticket: undefined,
        results: { '42': wiped, '43': skipped },
      }),
    );
    expect(note.split('\n')).toEqual([
      'Citrix Response act_0123456789abcdef0123456789abcdef: device.wipe succeeded',
      'Targets:',
      '- device 42 (alice@example.com, iOS iPhone 15, serial F2LX1234): succeeded; command wipe sent 2025-06-01T10:00:00.000Z; read back: managed',
      '- device 43: skipped; note: not managed by Endpoint Management',
      'Reason: Phishing: credentials entered on a fake login page',
    ]);
  });

  it('names an administrator and its access type before, never the full access snapshot', () => {
    const revoked: AdminTargetResult = {
      administratorId: '8675309',
      ucOid: 'OID:/AzureAD/abc',
      userId: '8675309',
      email: 'mallory@example.com',
      displayName: 'Mallory',
      type: 'AdministratorUser',
      accessType: 'Full',
      pending: false,
      allowed: true,
      before: {
        accessType: 'Full',
        policies: [{ name: 'SecretPolicyName', checkable: { value: true } }],
      },
      outcome: 'succeeded',
      change: { mode: 'strip', at: AT },
      after: { present: true, accessType: 'Custom', grantedPolicies: [] },
      finishedAt: AT,
    };
    const note = workNoteFor(
      baseRecord({
        action: 'admin.revoke',
        target: { admin: 'mallory@example.com' },
        dryRun: true,
        status: 'planned',
        results: { '8675309': { ...revoked, outcome: 'planned' } },
      }),
    );
    expect(note).toContain('Dry run: nothing was changed.');
    expect(note).toContain(
      '- administrator mallory@example.com (id 8675309): planned; access before: Full; change: strip; access after: Custom',
    );
    expect(note).not.toContain('SecretPolicyName');
  });

  it('says when no target was acted on, and the action error', () => {
    const note = workNoteFor(
      baseRecord({
        status: 'failed',
        error: { name: 'CitrixAuthenticationError', message: 'Citrix API failed with 401' },
      }),
    );
    expect(note).toContain('Error: CitrixAuthenticationError: Citrix API failed with 401');
    expect(note).toContain('No target was acted on.');
  });

  it('stays within the limit, keeping the header, requester and reason, and says what was left out', () => {
    const results: Record<string, DeviceTargetResult> = {};
    for (let index = 0; index < 200; index += 1) {
      results[String(index)] = {
        deviceId: String(index),
        managed: true,
        outcome: 'failed',
        error: { name: 'CitrixUnavailableError', message: 'x'.repeat(2000) },
        finishedAt: AT,
      };
    }
    const note = workNoteFor(
      baseRecord({ action: 'device.wipe', status: 'failed', reason: 'r'.repeat(1000), results }),
    );
    const lines = note.split('\n');

    expect(note.length).toBeLessThanOrEqual(MAX_WORK_NOTE_LENGTH);
    expect(lines[0]).toBe(
      'Citrix Response act_0123456789abcdef0123456789abcdef: device.wipe failed',
    );
    const listed = lines.filter((line) => line.startsWith('- device '));
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((line) => line.length <= 600 && line.endsWith('…'))).toBe(true);
    expect(lines).toContain(
      `… ${200 - listed.length} more targets not listed; full results: GET /v1/actions/act_0123456789abcdef0123456789abcdef`,
    );
    expect(lines.slice(-3)).toEqual([
      'Requested by: soc-analyst@example.com',
      `Reason: ${'r'.repeat(1000)}`,
      'Ticket: INC0010001',
    ]);
  });
});
