import { createHash } from 'node:crypto';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AUDIT_EVENT_TYPES,
  type AuditEntry,
  AuditEntrySchema,
  AuditLogCorruptError,
  AuditLogError,
  AuditLogUnavailableError,
  DynamoAuditLog,
  InvalidAuditEntryError,
  payloadDigest,
  sanitizeAuditDetails,
} from '../../../lib/audit/audit-log.ts';
import { createAuditTable } from '../../../lib/audit/local-table.ts';
import { type LocalDynamo, startLocalDynamo } from '../../../local/dynamodb.ts';

const TABLE = 'audit-log-test';
const BASE = Date.parse('2026-11-23T03:00:00.000Z');
let dynamo: LocalDynamo;
let log: DynamoAuditLog;
let counter = 0;

const newActionId = (): string => {
  counter += 1;
  return `act_${counter.toString(16).padStart(32, '0')}`;
};

const entry = (actionId: string, offsetMs: number, summary: string): AuditEntry => ({
  actionId,
  at: new Date(BASE + offsetMs).toISOString(),
  type: 'citrix_call',
  summary,
  details: { method: 'GET', path: `/cvad/manage/Sessions/${summary}`, durationMs: 5, attempt: 1 },
});

async function rawItems(actionId: string): Promise<Record<string, unknown>[]> {
  const output = await DynamoDBDocumentClient.from(dynamo.client).send(
    new QueryCommand({
      TableName: TABLE,
      KeyConditionExpression: 'actionId = :id',
      ExpressionAttributeValues: { ':id': actionId },
      ConsistentRead: true,
    }),
  );
  return output.Items ?? [];
}

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  await createAuditTable(dynamo.client, TABLE);
  log = new DynamoAuditLog(dynamo.client, TABLE);
});

afterAll(async () => {
  await dynamo.close();
});

describe('sanitizeAuditDetails', () => {
  const secretKeys = [
    'token',
    'Token',
    'taskToken',
    'TaskToken',
    'task_token',
    'password',
    'PASSWORD',
    'secret',
    'authorization',
    'Authorization',
    'apikey',
    'apiKey',
    'api_key',
    'API-KEY',
    'x-api-key',
    'signature',
    'webhook-signature',
    'bearertoken',
    'bearerToken',
    'bearer_token',
    'authtoken',
    'authToken',
    'auth-token',
    'clientsecret',
    'clientSecret',
    'client_secret',
    'Client-Secret',
    'access_token',
    'refreshToken',
    'cookie',
    'privateKey',
  ];

  it.each(secretKeys)('redacts the value under %s', (key) => {
    expect(sanitizeAuditDetails({ [key]: 'hunter2', keep: 'visible' })).toEqual({
      [key]: '[redacted]',
      keep: 'visible',
    });
  });

  it('redacts whatever the value is, at any depth and inside arrays', () => {
    const details = {
      request: {
        headers: { Authorization: 'CWSAuth bearer=abc', Accept: 'application/json' },
        credentials: { user: 'svc', password: 'p' },
      },
      attempts: [
        { status: 401, token: { value: 'nested-object-secret' } },
        { status: 200, client_secret: ['a', 'b'] },
      ],
      clientSecret: 42,
    };
    const sanitized = sanitizeAuditDetails(details);
    expect(sanitized).toEqual({
      request: {
        headers: { Authorization: '[redacted]', Accept: 'application/json' },
        credentials: '[redacted]',
      },
      attempts: [
        { status: 401, token: '[redacted]' },
        { status: 200, client_secret: '[redacted]' },
      ],
      clientSecret: '[redacted]',
    });
    expect(JSON.stringify(sanitized)).not.toMatch(/nested-object-secret|abc|"p"/);
  });

  it('keeps the documented detail fields of every event type', () => {
    const documented = {
      source: 'servicenow',
      identity: 'key-1',
      payloadDigest: 'sha256:00',
      decision: 'accepted',
      by: 'alice@example.com',
      reasons: ['Impossible travel'],
      method: 'POST',
      status: 202,
      transactionId: 'tx-1',
      durationMs: 12,
      attempt: 2,
      error: 'timeout',
      target: { sessionId: 's-1' },
      outcome: 'succeeded',
      channel: 'callback',
    };
    expect(sanitizeAuditDetails(documented)).toEqual(documented);
  });

  it('strips query strings and fragments from paths and URLs, at any depth', () => {
    expect(
      sanitizeAuditDetails({
        path: '/a/b?x=1',
        call: { path: '/cvad/manage/Sessions?$filter=User eq "x"#frag', Path: '/c?d' },
        calls: [{ path: '/one?token=abc' }, { path: '/two' }],
        url: 'https://user:pw@hooks.example.com/cb?sig=abc',
        destination: 'https://hooks.example.com/cb?token=abc',
        note: 'a question? stays',
      }),
    ).toEqual({
      path: '/a/b',
      call: { path: '/cvad/manage/Sessions', Path: '/c' },
      calls: [{ path: '/one' }, { path: '/two' }],
      url: 'https://hooks.example.com/cb',
      destination: 'https://hooks.example.com/cb',
      note: 'a question? stays',
    });
  });

  it('redacts bearer tokens and JWTs inside free text', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVl';
    const sanitized = sanitizeAuditDetails({
      error:
        'rejected header Authorization: CWSAuth bearer=0123456789abcdefXYZ and Bearer 0123456789abcdefghij',
      note: `token was ${jwt}`,
      plain: 'a basic check passed',
    });
    expect(sanitized).toEqual({
      error: 'rejected header Authorization: CWSAuth bearer=[redacted] and Bearer [redacted]',
      note: 'token was [redacted]',
      plain: 'a basic check passed',
    });
  });

  it('truncates long strings to 2000 characters', () => {
    const sanitized = sanitizeAuditDetails({ long: 'x'.repeat(5000), short: 'y'.repeat(2000) });
    expect((sanitized.long as string).length).toBe(2000);
    expect(sanitized.long).toMatch(/^x+…$/);
    expect(sanitized.short).toBe('y'.repeat(2000));
  });

  it('limits depth, array length and key count, and survives cycles', () => {
    const deep = { a: { b: { c: { d: { e: { f: { g: 'too deep' } } } } } } };
    expect(sanitizeAuditDetails(deep)).toEqual({
      // Six levels of objects, counting details itself; anything deeper is cut.
      a: { b: { c: { d: { e: { f: '[truncated]' } } } } },
    });
    const many = sanitizeAuditDetails({
      list: Array.from({ length: 250 }, (_, i) => i),
      map: Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`k${i}`, i])),
    });
    expect(many.list).toHaveLength(101);
    expect((many.list as unknown[])[100]).toBe('[truncated] 150 more');
    expect(Object.keys(many.map as object)).toHaveLength(101);
    expect((many.map as Record<string, unknown>)['[truncated]']).toBe('50 more keys');

    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(sanitizeAuditDetails(cyclic)).toEqual({ name: 'loop', self: '[circular]' });
  });

  it('turns values DynamoDB cannot store into plain data', () => {
    expect(
      sanitizeAuditDetails({
        when: new Date('2026-01-02T03:04:05.000Z'),
        big: 10n,
        nan: Number.NaN,
        fn: () => 1,
        missing: undefined,
        list: [undefined, () => 1, 1],
        err: new Error('failed with bearer=0123456789abcdefXYZ'),
        bytes: new Uint8Array(4),
      }),
    ).toEqual({
      when: '2026-01-02T03:04:05.000Z',
      big: '10',
      nan: 'NaN',
      list: [null, null, 1],
      err: { name: 'Error', message: 'failed with bearer=[redacted]' },
      bytes: '[binary 4 bytes]',
    });
  });

  it('is idempotent and leaves its input untouched', () => {
    const input = {
      path: '/a?b',
      token: 't',
      list: Array.from({ length: 150 }, (_, i) => ({ i })),
      long: 'z'.repeat(3000),
    };
    const copy = structuredClone(input);
    const once = sanitizeAuditDetails(input);
    expect(sanitizeAuditDetails(once)).toEqual(once);
    expect(input).toEqual(copy);
  });

  it('replaces details too large for one item with a marker', () => {
    const huge = Object.fromEntries(
      Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v'.repeat(1500)]),
    );
    expect(sanitizeAuditDetails(huge)).toEqual({
      '[truncated]': 'details exceeded 32000 characters',
    });
  });
});

describe('AuditEntrySchema and payloadDigest', () => {
  it('accepts each event type and rejects bad entries', () => {
    for (const type of AUDIT_EVENT_TYPES) {
      expect(AuditEntrySchema.safeParse({ ...entry('act_1', 0, 'ok'), type }).success).toBe(true);
    }
    const good = entry('act_1', 0, 'ok');
    expect(AuditEntrySchema.safeParse({ ...good, type: 'other' }).success).toBe(false);
    expect(AuditEntrySchema.safeParse({ ...good, summary: 'x'.repeat(501) }).success).toBe(false);
    expect(AuditEntrySchema.safeParse({ ...good, summary: 'x'.repeat(500) }).success).toBe(true);
    expect(AuditEntrySchema.safeParse({ ...good, at: '2026-11-23T03:00:00+01:00' }).success).toBe(
      false,
    );
    expect(AuditEntrySchema.safeParse({ ...good, extra: 1 }).success).toBe(false);
  });

  it('digests the raw body as sha256:<hex>', () => {
    expect(payloadDigest('abc')).toBe(
      'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    const body = '{"user":"héllo"}';
    expect(payloadDigest(body)).toBe(
      `sha256:${createHash('sha256').update(Buffer.from(body, 'utf8')).digest('hex')}`,
    );
  });
});

describe('DynamoAuditLog against a DynamoDB-compatible engine', () => {
  it('appends 60 entries in one call and reads them back in time order', async () => {
    const actionId = newActionId();
    const entries = Array.from({ length: 60 }, (_, i) => entry(actionId, i * 1000, `e${i}`));
    // Handed over out of order: the timeline sorts by time.
    await log.append([...entries.slice(30), ...entries.slice(0, 30)]);
    expect(await log.timeline(actionId)).toEqual(entries);
  });

  it('keeps the append order of entries from the same millisecond', async () => {
    const actionId = newActionId();
    const entries = Array.from({ length: 40 }, (_, i) => entry(actionId, 0, `same-${i}`));
    const later = entry(actionId, 1, 'later');
    const earlier = entry(actionId, -1, 'earlier');
    await log.append([...entries, later, earlier]);
    const timeline = await log.timeline(actionId);
    expect(timeline.map((e) => e.summary)).toEqual([
      'earlier',
      ...entries.map((e) => e.summary),
      'later',
    ]);
  });

  it('never overwrites identical entries appended twice in the same millisecond', async () => {
    const actionId = newActionId();
    const same = entry(actionId, 0, 'twice');
    await log.append([same]);
    await log.append([same]);
    expect(await log.timeline(actionId)).toEqual([same, same]);
  });

  it('orders entries by time whatever precision their timestamps were written with', async () => {
    const actionId = newActionId();
    const whole = { ...entry(actionId, 0, 'whole-second'), at: '2026-11-23T03:00:00Z' };
    const micro = { ...entry(actionId, 0, 'micro'), at: '2026-11-23T03:00:00.000500Z' };
    const half = { ...entry(actionId, 0, 'half'), at: '2026-11-23T03:00:00.5Z' };
    await log.append([half, whole]);
    await log.append([micro]);
    const summaries = (await log.timeline(actionId)).map((e) => e.summary);
    expect(summaries.indexOf('half')).toBe(2);
    expect(summaries.slice(0, 2).sort()).toEqual(['micro', 'whole-second']);
  });

  it('returns at most `limit` entries, oldest first, across query pages', async () => {
    const actionId = newActionId();
    const entries = Array.from({ length: 60 }, (_, i) => entry(actionId, i, `p${i}`));
    await log.append(entries);
    expect(await log.timeline(actionId, 10)).toEqual(entries.slice(0, 10));

    const paged = new DynamoAuditLog(dynamo.client, TABLE, 400, { pageSize: 7 });
    expect(await paged.timeline(actionId)).toEqual(entries);
    expect(await paged.timeline(actionId, 20)).toEqual(entries.slice(0, 20));
    expect(await log.timeline(newActionId())).toEqual([]);
    await expect(log.timeline(actionId, 0)).rejects.toThrow(RangeError);
  });

  it('keeps the actions apart', async () => {
    const first = newActionId();
    const second = newActionId();
    await log.append([entry(first, 0, 'a'), entry(second, 1, 'b'), entry(first, 2, 'c')]);
    expect((await log.timeline(first)).map((e) => e.summary)).toEqual(['a', 'c']);
    expect((await log.timeline(second)).map((e) => e.summary)).toEqual(['b']);
  });

  it('stores the sort key and a TTL of `at` plus the retention period', async () => {
    const actionId = newActionId();
    const at = entry(actionId, 0, 'ttl');
    await log.append([at]);
    const shortLived = new DynamoAuditLog(dynamo.client, TABLE, 30);
    await shortLived.append([entry(actionId, 1000, 'ttl-30')]);

    const items = await rawItems(actionId);
    expect(items).toHaveLength(2);
    const [first, second] = items;
    expect(first?.sortKey).toMatch(/^2026-11-23T03:00:00\.000Z#000000#[0-9a-f]{6}$/);
    expect(first?.expiresAt).toBe(BASE / 1000 + 400 * 86_400);
    expect(second?.sortKey).toMatch(/^2026-11-23T03:00:01\.000Z#000000#[0-9a-f]{6}$/);
    expect(second?.expiresAt).toBe(BASE / 1000 + 1 + 30 * 86_400);
  });

  it('sanitizes details and summaries before they are stored', async () => {
    const actionId = newActionId();
    await log.append([
      {
        actionId,
        at: new Date(BASE).toISOString(),
        type: 'request',
        summary: 'Received with Authorization: Bearer 0123456789abcdefghijkl',
        details: {
          source: 'splunk',
          identity: 'key-1',
          payloadDigest: payloadDigest('{}'),
          taskToken: 'AAAA-task-token',
          path: '/v1/sources/splunk?token=zzz',
        },
      },
    ]);
    const [item] = await rawItems(actionId);
    expect(JSON.stringify(item)).not.toMatch(/AAAA-task-token|zzz|0123456789abcdef/);
    expect(item?.details).toEqual({
      source: 'splunk',
      identity: 'key-1',
      payloadDigest: payloadDigest('{}'),
      taskToken: '[redacted]',
      path: '/v1/sources/splunk',
    });
    expect(item?.summary).toBe('Received with Authorization: Bearer [redacted]');
  });

  it('writes nothing when any entry of the call is invalid', async () => {
    const actionId = newActionId();
    const bad = { ...entry(actionId, 1, 'bad'), type: 'gossip' } as unknown as AuditEntry;
    const error = await log
      .append([entry(actionId, 0, 'good'), bad, entry(actionId, 2, 'good')])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidAuditEntryError);
    expect((error as Error).name).toBe('InvalidAuditEntryError');
    expect((error as Error).message).toMatch(/entry 1.*type/);
    expect(await log.timeline(actionId)).toEqual([]);
  });

  it('reports a stored entry that no longer matches the schema without echoing it', async () => {
    const actionId = newActionId();
    await log.append([entry(actionId, 0, 'fine')]);
    await dynamo.client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: {
          actionId: { S: actionId },
          sortKey: { S: '2026-11-23T03:00:01.000Z#000000#abcdef' },
          at: { S: '2026-11-23T03:00:01.000Z' },
          type: { S: 'gossip' },
          summary: { S: 'PLANTED-SECRET-VALUE' },
        },
      }),
    );
    const error = await log.timeline(actionId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuditLogCorruptError);
    expect((error as Error).name).toBe('AuditLogCorruptError');
    expect((error as Error).message).toContain('type');
    expect(JSON.stringify(error)).not.toContain('PLANTED');
    expect(String((error as Error).message)).not.toContain('PLANTED');
    expect((error as Error).cause).toBeUndefined();
  });
});

describe('DynamoAuditLog batching and error mapping', () => {
  const client = new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  // Patches every DocumentClient, so it exists only while each of these tests runs.
  let mock: ReturnType<typeof mockClient>;
  beforeEach(() => {
    mock = mockClient(DynamoDBDocumentClient);
  });
  afterEach(() => {
    mock.restore();
  });

  const entries = (count: number): AuditEntry[] =>
    Array.from({ length: count }, (_, i) => entry('act_batch', i, `b${i}`));

  const batchSizes = (): number[] =>
    mock
      .commandCalls(BatchWriteCommand)
      .map((call) => call.args[0].input.RequestItems?.mock?.length ?? 0);

  it('writes in chunks of 25', async () => {
    mock.on(BatchWriteCommand).resolves({});
    await new DynamoAuditLog(client, 'mock').append(entries(60));
    expect(batchSizes()).toEqual([25, 25, 10]);
    await new DynamoAuditLog(client, 'mock').append([]);
    expect(batchSizes()).toHaveLength(3);
  });

  it('re-sends unprocessed items with growing backoff until they are written', async () => {
    const sleeps: number[] = [];
    const sent = entries(3);
    mock.on(BatchWriteCommand).callsFake((input: { RequestItems: Record<string, unknown[]> }) => {
      const requests = input.RequestItems.mock ?? [];
      // Leaves the last item unprocessed until only it is sent, twice.
      const calls = mock.commandCalls(BatchWriteCommand).length;
      return calls <= 2 ? { UnprocessedItems: { mock: requests.slice(-1) } } : {};
    });
    const log = new DynamoAuditLog(client, 'mock', 400, {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 1,
    });
    await log.append(sent);
    expect(batchSizes()).toEqual([3, 1, 1]);
    type Put = { PutRequest: { Item: { sortKey: string } } };
    const sentIn = (call: number): Put[] =>
      (mock.commandCalls(BatchWriteCommand)[call]?.args[0].input.RequestItems?.mock ?? []) as Put[];
    // The same item (same sort key) is re-sent, so a retry cannot duplicate it.
    expect(sentIn(2).map((put) => put.PutRequest.Item.sortKey)).toEqual([
      sentIn(0)[2]?.PutRequest.Item.sortKey,
    ]);
    expect(sleeps).toEqual([50, 100]);
  });

  it('gives up on items that stay unprocessed with AuditLogUnavailableError', async () => {
    mock.on(BatchWriteCommand).callsFake((input: { RequestItems: Record<string, unknown[]> }) => ({
      UnprocessedItems: input.RequestItems,
    }));
    const log = new DynamoAuditLog(client, 'mock', 400, {
      maxBatchAttempts: 4,
      sleep: async () => {},
    });
    const error = await log.append(entries(2)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuditLogUnavailableError);
    expect((error as Error).name).toBe('AuditLogUnavailableError');
    expect(batchSizes()).toEqual([2, 2, 2, 2]);
  });

  it('turns throttling into AuditLogUnavailableError and other failures into AuditLogError', async () => {
    mock
      .onAnyCommand()
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const log = new DynamoAuditLog(client, 'mock');
    await expect(log.timeline('act_1')).rejects.toThrow(AuditLogUnavailableError);
    await expect(log.append(entries(1))).rejects.toThrow(AuditLogUnavailableError);

    mock.reset();
    mock
      .onAnyCommand()
      .rejects(Object.assign(new Error('Item too large'), { name: 'ValidationException' }));
    const error = await log.append(entries(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuditLogError);
    expect(error).not.toBeInstanceOf(AuditLogUnavailableError);
    expect((error as Error).name).toBe('AuditLogError');
  });

  it('refuses a retention that is not a positive number of days', () => {
    expect(() => new DynamoAuditLog(client, 'mock', 0)).toThrow(RangeError);
  });
});
