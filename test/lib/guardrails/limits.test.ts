import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createLimitsTable,
  DynamoHourlyLimitCounter,
  GuardrailCounterCorruptError,
  GuardrailStoreError,
  GuardrailStoreUnavailableError,
  HOUR_MS,
} from '../../../lib/guardrails/limits.ts';
import { type LocalDynamo, startLocalDynamo } from '../../../local/dynamodb.ts';

const NOW = new Date('2026-11-23T03:00:00.000Z');
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);
const id = (n: number) => `act_${n.toString(16).padStart(32, '0')}`;

let dynamo: LocalDynamo;
let tables = 0;

/** A counter on a table of its own, so every test starts from an empty hour. */
async function freshCounter(): Promise<{ counter: DynamoHourlyLimitCounter; table: string }> {
  tables += 1;
  const table = `guardrail-limits-${tables}`;
  await createLimitsTable(dynamo.client, table);
  return { counter: new DynamoHourlyLimitCounter(dynamo.client, table), table };
}

async function storedItem(table: string, counterKey: string) {
  const documents = DynamoDBDocumentClient.from(dynamo.client);
  const output = await documents.send(
    new GetCommand({ TableName: table, Key: { counter: counterKey }, ConsistentRead: true }),
  );
  return output.Item;
}

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});

afterAll(async () => {
  await dynamo.close();
});

describe('DynamoHourlyLimitCounter against a DynamoDB-compatible engine', () => {
  it('allows reservations up to the limit, then refuses without writing', async () => {
    const { counter, table } = await freshCounter();
    expect(await counter.reserve('device.wipe', 4, 10, id(1), NOW)).toEqual({
      allowed: true,
      used: 0,
    });
    expect(await counter.reserve('device.wipe', 6, 10, id(2), at(1000))).toEqual({
      allowed: true,
      used: 4,
    });
    expect(await counter.reserve('device.wipe', 1, 10, id(3), at(2000))).toEqual({
      allowed: false,
      used: 10,
    });
    const item = await storedItem(table, 'device.wipe');
    expect(item).toEqual({
      counter: 'device.wipe',
      version: 2,
      entries: [
        { at: NOW.getTime(), count: 4, actionId: id(1) },
        { at: NOW.getTime() + 1000, count: 6, actionId: id(2) },
      ],
    });
  });

  it('refuses a single reservation larger than the remaining room, and still fits a smaller one', async () => {
    const { counter } = await freshCounter();
    await counter.reserve('session.logoff', 7, 10, id(1), NOW);
    expect(await counter.reserve('session.logoff', 4, 10, id(2), NOW)).toEqual({
      allowed: false,
      used: 7,
    });
    expect(await counter.reserve('session.logoff', 3, 10, id(3), NOW)).toEqual({
      allowed: true,
      used: 7,
    });
  });

  it('counts each action type separately', async () => {
    const { counter } = await freshCounter();
    await counter.reserve('device.wipe', 10, 10, id(1), NOW);
    expect((await counter.reserve('device.wipe', 1, 10, id(2), NOW)).allowed).toBe(false);
    expect(await counter.reserve('device.selectiveWipe', 10, 10, id(3), NOW)).toEqual({
      allowed: true,
      used: 0,
    });
  });

  it('drops entries older than an hour and keeps the rest', async () => {
    const { counter, table } = await freshCounter();
    await counter.reserve('admin.revoke', 2, 3, id(1), NOW);
    await counter.reserve('admin.revoke', 1, 3, id(2), at(30 * 60_000));
    // Exactly an hour after the first reservation it no longer counts; the second still does.
    expect(await counter.reserve('admin.revoke', 2, 3, id(3), at(HOUR_MS))).toEqual({
      allowed: true,
      used: 1,
    });
    const item = await storedItem(table, 'admin.revoke');
    expect(item?.entries).toEqual([
      { at: NOW.getTime() + 30 * 60_000, count: 1, actionId: id(2) },
      { at: NOW.getTime() + HOUR_MS, count: 2, actionId: id(3) },
    ]);
    expect(await counter.reserve('admin.revoke', 1, 3, id(4), at(HOUR_MS + 1))).toEqual({
      allowed: false,
      used: 3,
    });
  });

  it('counts a retried reservation of the same action id once', async () => {
    const { counter, table } = await freshCounter();
    expect(await counter.reserve('device.wipe', 5, 10, id(1), NOW)).toEqual({
      allowed: true,
      used: 0,
    });
    // A retry is allowed and adds nothing, whatever count it asks for.
    expect(await counter.reserve('device.wipe', 5, 10, id(1), at(5000))).toEqual({
      allowed: true,
      used: 0,
    });
    expect(await counter.reserve('device.wipe', 8, 10, id(1), at(6000))).toEqual({
      allowed: true,
      used: 0,
    });
    expect(await counter.reserve('device.wipe', 5, 10, id(2), at(7000))).toEqual({
      allowed: true,
      used: 5,
    });
    expect(await counter.reserve('device.wipe', 5, 10, id(1), at(8000))).toEqual({
      allowed: true,
      used: 5,
    });
    const item = await storedItem(table, 'device.wipe');
    expect(item?.entries).toHaveLength(2);
    expect(item?.version).toBe(2);
  });

  it('reserves over the limit when asked (a held action), still saying it did not fit', async () => {
    const { counter, table } = await freshCounter();
    await counter.reserve('device.wipe', 1, 2, id(1), NOW);
    expect(
      await counter.reserve('device.wipe', 2, 2, id(2), at(1000), { evenOverLimit: true }),
    ).toEqual({ allowed: false, used: 1 });
    // Counted: the hour is now over its limit, so the next one does not fit.
    expect(await counter.reserve('device.wipe', 1, 2, id(3), at(2000))).toEqual({
      allowed: false,
      used: 3,
    });
    // A retry of the held one adds nothing and still answers that it did not fit.
    expect(await counter.reserve('device.wipe', 2, 2, id(2), at(3000))).toEqual({
      allowed: false,
      used: 1,
    });
    expect(
      await counter.reserve('device.wipe', 2, 2, id(2), at(3000), { evenOverLimit: true }),
    ).toEqual({ allowed: false, used: 1 });
    // Within the limit, evenOverLimit reserves as usual.
    expect(
      await counter.reserve('device.selectiveWipe', 1, 2, id(4), NOW, { evenOverLimit: true }),
    ).toEqual({ allowed: true, used: 0 });
    expect((await storedItem(table, 'device.wipe'))?.entries).toEqual([
      { at: NOW.getTime(), count: 1, actionId: id(1) },
      { at: NOW.getTime() + 1000, count: 2, actionId: id(2), overLimit: true },
    ]);
  });

  it('releases an action’s reservation once, leaving the others', async () => {
    const { counter, table } = await freshCounter();
    await counter.reserve('device.wipe', 1, 2, id(1), NOW);
    await counter.reserve('device.wipe', 2, 2, id(2), NOW, { evenOverLimit: true });
    expect(await counter.release('device.wipe', id(2))).toBe(true);
    // Idempotent: nothing left to release, nothing written.
    expect(await counter.release('device.wipe', id(2))).toBe(false);
    expect(await counter.release('device.wipe', id(9))).toBe(false);
    expect(await counter.release('session.logoff', id(1))).toBe(false);
    expect(await storedItem(table, 'device.wipe')).toEqual({
      counter: 'device.wipe',
      version: 3,
      entries: [{ at: NOW.getTime(), count: 1, actionId: id(1) }],
    });
    expect(await counter.reserve('device.wipe', 1, 2, id(3), NOW)).toEqual({
      allowed: true,
      used: 1,
    });
  });

  it('gives back all but the targets kept, never raising a reservation', async () => {
    const { counter, table } = await freshCounter();
    await counter.reserve('device.wipe', 3, 5, id(1), NOW);
    await counter.reserve('device.wipe', 1, 5, id(2), NOW);
    // Three reserved, one acted on: two go back.
    expect(await counter.release('device.wipe', id(1), { keep: 1 })).toBe(true);
    // Idempotent, and never raised: keeping as many or more writes nothing.
    expect(await counter.release('device.wipe', id(1), { keep: 1 })).toBe(false);
    expect(await counter.release('device.wipe', id(1), { keep: 3 })).toBe(false);
    expect(await storedItem(table, 'device.wipe')).toEqual({
      counter: 'device.wipe',
      version: 3,
      entries: [
        { at: NOW.getTime(), count: 1, actionId: id(1) },
        { at: NOW.getTime(), count: 1, actionId: id(2) },
      ],
    });
    // The hour now holds 2 of 5: three more fit, four do not.
    expect(await counter.reserve('device.wipe', 4, 5, id(3), NOW)).toEqual({
      allowed: false,
      used: 2,
    });
    expect(await counter.reserve('device.wipe', 3, 5, id(4), NOW)).toEqual({
      allowed: true,
      used: 2,
    });
    await expect(counter.release('device.wipe', id(1), { keep: -1 })).rejects.toThrow(RangeError);
  });

  it('releases without losing a reservation made concurrently', async () => {
    for (let round = 0; round < 3; round += 1) {
      const { counter, table } = await freshCounter();
      await counter.reserve('device.wipe', 1, 100, id(1), NOW);
      await Promise.all([
        counter.release('device.wipe', id(1)),
        ...[2, 3, 4, 5].map((n) => counter.reserve('device.wipe', 1, 100, id(n), NOW)),
      ]);
      const item = await storedItem(table, 'device.wipe');
      expect(item?.entries.map((entry: { actionId: string }) => entry.actionId).sort()).toEqual(
        [2, 3, 4, 5].map(id),
      );
    }
  });

  it('rejects a count that is not a positive integer', async () => {
    const { counter } = await freshCounter();
    await expect(counter.reserve('device.wipe', 0, 10, id(1), NOW)).rejects.toThrow(RangeError);
    await expect(counter.reserve('device.wipe', 1.5, 10, id(1), NOW)).rejects.toThrow(RangeError);
  });

  it('reports a stored counter that no longer matches the schema', async () => {
    const { counter, table } = await freshCounter();
    await dynamo.client.send(
      new PutItemCommand({
        TableName: table,
        Item: { counter: { S: 'device.wipe' }, version: { S: 'one' } },
      }),
    );
    await expect(counter.reserve('device.wipe', 1, 10, id(1), NOW)).rejects.toThrow(
      GuardrailCounterCorruptError,
    );
  });
});

describe('DynamoHourlyLimitCounter under concurrent reservations', () => {
  it('allows exactly one of two concurrent reservations that together exceed the limit', async () => {
    for (let round = 0; round < 5; round += 1) {
      const { counter, table } = await freshCounter();
      const results = await Promise.all([
        counter.reserve('device.wipe', 6, 10, id(1), NOW),
        counter.reserve('device.wipe', 6, 10, id(2), NOW),
      ]);
      expect(results.filter((r) => r.allowed)).toHaveLength(1);
      expect(results.find((r) => !r.allowed)).toEqual({ allowed: false, used: 6 });
      const item = await storedItem(table, 'device.wipe');
      expect(item?.entries).toHaveLength(1);
      expect(item?.version).toBe(1);
    }
  });

  it('allows exactly the ones that fit of ten concurrent reservations', async () => {
    for (let round = 0; round < 5; round += 1) {
      const { counter, table } = await freshCounter();
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, n) => counter.reserve('session.logoff', 3, 10, id(n), NOW)),
      );
      const allowed = results.filter((r) => r.allowed);
      expect(allowed).toHaveLength(3);
      // Each allowed reservation saw the others that won before it.
      expect(allowed.map((r) => r.used).sort((a, b) => a - b)).toEqual([0, 3, 6]);
      for (const refused of results.filter((r) => !r.allowed)) expect(refused.used).toBe(9);
      const item = await storedItem(table, 'session.logoff');
      const entries = item?.entries as { count: number; actionId: string }[];
      expect(entries.reduce((total, entry) => total + entry.count, 0)).toBe(9);
      expect(new Set(entries.map((entry) => entry.actionId)).size).toBe(3);
      expect(item?.version).toBe(3);
    }
  });

  it('never lets concurrent reservations of mixed sizes exceed the limit', async () => {
    const { counter, table } = await freshCounter();
    const sizes = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5];
    const results = await Promise.all(
      sizes.map((size, n) => counter.reserve('device.deployPolicy', size, 12, id(n), NOW)),
    );
    const allowedTotal = sizes.reduce(
      (total, size, n) => total + (results[n]?.allowed ? size : 0),
      0,
    );
    expect(allowedTotal).toBeLessThanOrEqual(12);
    // Whatever was refused really did not fit next to what was allowed.
    for (const [n, result] of results.entries()) {
      if (!result.allowed) expect(result.used + (sizes[n] ?? 0)).toBeGreaterThan(12);
    }
    const entries = (await storedItem(table, 'device.deployPolicy'))?.entries as {
      count: number;
    }[];
    expect(entries.reduce((total, entry) => total + entry.count, 0)).toBe(allowedTotal);
  });

  it('counts one action id once when its retries race each other', async () => {
    const { counter, table } = await freshCounter();
    const results = await Promise.all(
      Array.from({ length: 5 }, () => counter.reserve('device.wipe', 4, 10, id(1), NOW)),
    );
    expect(results.every((r) => r.allowed && r.used === 0)).toBe(true);
    expect((await storedItem(table, 'device.wipe'))?.entries).toEqual([
      { at: NOW.getTime(), count: 4, actionId: id(1) },
    ]);
  });
});

describe('DynamoHourlyLimitCounter error mapping', () => {
  const client = new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  // Mocking the document client patches every instance, so only while these tests run.
  let mock: AwsClientStub<DynamoDBDocumentClient>;
  beforeEach(() => {
    mock = mockClient(DynamoDBDocumentClient);
  });
  afterEach(() => {
    mock.restore();
  });

  it('turns throttling into GuardrailStoreUnavailableError, which a workflow can retry', async () => {
    mock
      .onAnyCommand()
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const error = await new DynamoHourlyLimitCounter(client, 'limits')
      .reserve('device.wipe', 1, 10, id(1), NOW)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GuardrailStoreUnavailableError);
    expect((error as Error).name).toBe('GuardrailStoreUnavailableError');
  });

  it('turns other failures into GuardrailStoreError', async () => {
    mock
      .onAnyCommand()
      .rejects(Object.assign(new Error('No such table'), { name: 'ResourceNotFoundException' }));
    const error = await new DynamoHourlyLimitCounter(client, 'limits')
      .reserve('device.wipe', 1, 10, id(1), NOW)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GuardrailStoreError);
    expect(error).not.toBeInstanceOf(GuardrailStoreUnavailableError);
    expect((error as Error).name).toBe('GuardrailStoreError');
  });

  it('gives up after a bounded number of lost races, as unavailable', async () => {
    mock.on(GetCommand).resolves({});
    mock
      .on(PutCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'lost', $metadata: {} }));
    const waits: number[] = [];
    const counter = new DynamoHourlyLimitCounter(client, 'limits', {
      maxAttempts: 4,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    const error = await counter.reserve('device.wipe', 1, 10, id(1), NOW).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GuardrailStoreUnavailableError);
    expect((error as Error).message).toContain('after 4 attempts');
    expect(mock.commandCalls(PutCommand)).toHaveLength(4);
    expect(waits).toHaveLength(3);
  });

  it('retries a lost race on the version it read and reserves on the next read', async () => {
    mock
      .on(GetCommand)
      .resolvesOnce({})
      .resolves({
        Item: {
          counter: 'device.wipe',
          version: 1,
          entries: [{ at: NOW.getTime(), count: 2, actionId: id(9) }],
        },
      });
    mock
      .on(PutCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'lost', $metadata: {} }))
      .resolves({});
    const counter = new DynamoHourlyLimitCounter(client, 'limits', { sleep: async () => {} });
    expect(await counter.reserve('device.wipe', 3, 10, id(1), NOW)).toEqual({
      allowed: true,
      used: 2,
    });
    const puts = mock.commandCalls(PutCommand).map((call) => call.args[0].input);
    expect(puts.map((put) => put.ExpressionAttributeValues)).toEqual([
      { ':version': 0 },
      { ':version': 1 },
    ]);
    expect(puts[1]?.Item).toEqual({
      counter: 'device.wipe',
      version: 2,
      entries: [
        { at: NOW.getTime(), count: 2, actionId: id(9) },
        { at: NOW.getTime(), count: 3, actionId: id(1) },
      ],
    });
    expect(mock.commandCalls(GetCommand)[0]?.args[0].input.ConsistentRead).toBe(true);
  });
});
