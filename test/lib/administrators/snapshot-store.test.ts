import { randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CHUNK_BYTES } from '../../../lib/administrators/chunked-json.ts';
import { ConsoleReportPublisher } from '../../../lib/administrators/publishers.ts';
import {
  type AdministratorSnapshot,
  compareSnapshots,
  readAccess,
  runAdministratorReport,
  type SnapshotEntry,
  snapshotOf,
} from '../../../lib/administrators/report.ts';
import {
  DynamoSnapshotStore,
  SNAPSHOT_CHUNK_KIND,
  SNAPSHOT_KIND,
  SNAPSHOT_LIMITS,
  SnapshotConflictError,
  SnapshotStoreError,
} from '../../../lib/administrators/snapshot-store.ts';
import type { AdministratorAccess } from '../../../lib/citrix/administrators-client.ts';
import { CitrixNotFoundError } from '../../../lib/citrix/errors.ts';
import {
  createSnapshotsTable,
  type LocalDynamo,
  startLocalDynamo,
} from '../../../local/dynamodb.ts';
import type { AdminPolicy, FixtureAdministrator } from '../../../local/simulator/fixture.ts';
import { type RunningSimulator, startCitrixSimulator } from '../../../local/simulator/server.ts';
import { rejection } from '../../support/rejection.ts';
import {
  administratorsClientFor,
  FINANCE_DELIVERY_GROUP_POLICY,
  testFixture,
} from '../../support/simulator-fixture.ts';

const MONDAY = new Date('2026-11-23T06:00:00Z');
const TUESDAY = new Date('2026-11-24T06:00:00Z');
const DYNAMO_ITEM_LIMIT = 400 * 1024;

let dynamo: LocalDynamo;
let table = 0;
let tableName: string;
let store: DynamoSnapshotStore;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(async () => dynamo.close());
beforeEach(async () => {
  table += 1;
  tableName = `snapshots-${table}`;
  await createSnapshotsTable(dynamo.client, tableName);
  store = new DynamoSnapshotStore(dynamo.client, tableName, 30);
});

const documents = () => DynamoDBDocumentClient.from(dynamo.client);

/** The raw chunk items in the table, as DynamoDB holds them. */
async function chunkItems() {
  const output = await dynamo.client.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'kind = :kind',
      ExpressionAttributeValues: { ':kind': { S: SNAPSHOT_CHUNK_KIND } },
    }),
  );
  return output.Items ?? [];
}

const platform = (name: string): AdminPolicy => ({
  name,
  serviceName: 'Platform',
  checkable: { value: true, canChangeValue: true },
});

/** A Custom administrator of a large tenant, with one to three policies (some scoped). */
function tenantAdmin(n: number): FixtureAdministrator {
  const id = String(2_000_000_000_000_000_000n + BigInt(n));
  const policies = [platform(['notifications', 'licensing', 'domains'][n % 3] as string)];
  if (n % 4 === 0) policies.push(platform('secureClients'));
  if (n % 5 === 0) {
    policies.push(FINANCE_DELIVERY_GROUP_POLICY);
  }
  return {
    ucOid: `OID:/citrix/${id}`,
    userId: id,
    type: 'AdministratorUser',
    accessType: n % 50 === 0 ? 'Full' : 'Custom',
    email: `administrator.${n}.${randomBytes(4).toString('hex')}@example.com`,
    firstName: `First${n}`,
    lastName: `Last${n}`,
    displayName: `First${n} Last${n}`,
    providerType: 'CitrixSts',
    createdDate: new Date(Date.UTC(2024, 0, 1) + n * 3_600_000).toISOString(),
    ...(n % 50 === 0 ? {} : { access: { policies } }),
  };
}

describe('a tenant with 2000 administrators and their access', () => {
  let simulator: RunningSimulator;
  beforeAll(async () => {
    const fixture = testFixture();
    fixture.cloudAdministrators = {
      pageSize: 1000,
      administrators: Array.from({ length: 2000 }, (_, n) => tenantAdmin(n + 1)),
    };
    simulator = await startCitrixSimulator({ fixture });
  });
  afterAll(async () => simulator.close());

  const client = () => administratorsClientFor(simulator.url);

  it('saves a snapshot larger than one item as plain JSON, and reads it back unchanged', async () => {
    const administrators = await client().listAdministrators();
    const access = await readAccess(client(), administrators);
    const snapshot = snapshotOf(administrators, MONDAY, access);
    const report = compareSnapshots(undefined, snapshot, 14);
    expect(snapshot.administrators).toHaveLength(2000);
    expect(access.size).toBe(2000);
    // What one item held before: more than DynamoDB takes.
    expect(Buffer.byteLength(JSON.stringify({ ...snapshot, report }))).toBeGreaterThan(
      DYNAMO_ITEM_LIMIT,
    );

    await store.save(snapshot, report);

    expect(await store.latest()).toEqual({ snapshot });
    // Compressed, it is one chunk: one write besides the snapshot's own item.
    const chunks = await chunkItems();
    expect(chunks).toHaveLength(1);
  });

  it('runs the whole report twice on it: the second run compares with the first', async () => {
    const publisher = new ConsoleReportPublisher(() => {});
    const dependencies = {
      directory: client(),
      snapshots: store,
      publisher,
      pendingInvitationMaxDays: 14,
    };
    const first = await runAdministratorReport(dependencies, MONDAY);
    const second = await runAdministratorReport(dependencies, TUESDAY);

    expect(first.administratorCount).toBe(2000);
    expect(second).toMatchObject({ previousTakenAt: MONDAY.toISOString(), hasFindings: false });
    expect(publisher.published).toEqual([]);
    const latest = await store.latest();
    expect(latest?.snapshot.administrators).toHaveLength(2000);
    expect(latest?.snapshot.administrators.filter((entry) => entry.access)).toHaveLength(2000);
  });
});

/** A snapshot that gzip cannot shrink below one chunk: random display names. */
function incompressibleSnapshot(count: number, takenAt: Date): AdministratorSnapshot {
  return {
    takenAt: takenAt.toISOString(),
    administrators: Array.from({ length: count }, (_, n) => ({
      ucOid: `OID:/citrix/${n}`,
      administratorId: String(n),
      type: 'AdministratorUser',
      displayName: randomBytes(300).toString('base64'),
      pending: false,
      access: { accessType: 'Custom', policies: [{ name: 'notifications' }] },
    })),
  };
}

describe('DynamoSnapshotStore', () => {
  it('splits a large snapshot into chunks below the item limit, and joins them back', async () => {
    const snapshot = incompressibleSnapshot(2000, MONDAY);
    const report = compareSnapshots(undefined, snapshot, 14);

    await store.save(snapshot, report);

    expect(await store.latest()).toEqual({ snapshot });
    const chunks = await chunkItems();
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) {
      expect(chunk.data?.B?.length).toBeLessThanOrEqual(300_000);
    }
  });

  it('keeps a report with findings unpublished until it is marked published', async () => {
    const before = snapshotOf([], MONDAY);
    const after = incompressibleSnapshot(3, TUESDAY);
    const report = compareSnapshots(before, after, 14);
    expect(report.hasFindings).toBe(true);

    await store.save(before, compareSnapshots(undefined, before, 14));
    expect(await store.latest()).toEqual({ snapshot: before });
    await store.save(after, report);
    expect(await store.latest()).toEqual({ snapshot: after, unpublishedReport: report });
    await store.markPublished(after.takenAt);
    expect(await store.latest()).toEqual({ snapshot: after });
  });

  it('refuses to mark a snapshot it never saved', async () => {
    const error = await rejection(store.markPublished(MONDAY.toISOString()));
    expect(error).toBeInstanceOf(SnapshotStoreError);
    expect(await store.latest()).toBeUndefined();
  });

  it('refuses a snapshot with a missing chunk rather than compare with part of it', async () => {
    const snapshot = incompressibleSnapshot(2000, MONDAY);
    await store.save(snapshot, compareSnapshots(undefined, snapshot, 14));
    const second = (await chunkItems())[1]?.takenAt?.S;
    expect(second).toMatch(/#0001$/);
    await documents().send(
      new DeleteCommand({
        TableName: tableName,
        Key: { kind: SNAPSHOT_CHUNK_KIND, takenAt: second },
      }),
    );

    const error = await rejection(store.latest());
    expect(error).toBeInstanceOf(SnapshotStoreError);
    expect(String(error.cause ?? error)).toMatch(/has \d+ of its \d+ chunks|unexpected chunk/);
  });

  it('reads a snapshot saved in one item by the earlier version, as published', async () => {
    const legacy = snapshotOf(
      [{ ucOid: 'OID:/citrix/1', userId: '1', type: 'AdministratorUser', accessType: 'Full' }],
      MONDAY,
    );
    await documents().send(
      new PutCommand({
        TableName: tableName,
        Item: {
          kind: SNAPSHOT_KIND,
          ...legacy,
          report: { hasFindings: true },
          expiresAt: 1,
        },
      }),
    );

    expect(await store.latest()).toEqual({ snapshot: legacy });
  });
});

/**
 * An administrator of a large tenant as a snapshot keeps it: a dozen delivery-group policies,
 * each scoped to a few of the tenant's scopes (GUIDs, as Citrix names them).
 */
function scopedEntry(n: number): SnapshotEntry {
  return {
    ucOid: `OID:/citrix/${randomUUID()}`,
    administratorId: String(3_000_000_000 + n),
    type: 'AdministratorUser',
    email: `administrator.${n}@example.com`,
    displayName: `Administrator ${n}`,
    accessType: 'Custom',
    pending: false,
    createdDate: new Date(Date.UTC(2024, 0, 1) + n * 60_000).toISOString(),
    access: {
      accessType: 'Custom',
      policies: Array.from({ length: 12 }, (_, p) => ({
        name: `DeliveryGroupPolicy${p}`,
        serviceName: 'XenDesktop',
        scopes: Array.from({ length: 4 }, () => ({ name: randomUUID() })),
      })),
    },
  };
}

describe('a large tenant: 5,000 administrators with their scoped access', () => {
  const snapshot: AdministratorSnapshot = {
    takenAt: MONDAY.toISOString(),
    administrators: Array.from({ length: 5000 }, (_, n) => scopedEntry(n)),
  };

  it('runs against a local DynamoDB that refuses an item over 400 KB, as DynamoDB does', async () => {
    const put = (bytes: number) =>
      documents().send(
        new PutCommand({
          TableName: tableName,
          Item: { kind: 'limit-check', takenAt: String(bytes), data: new Uint8Array(bytes) },
        }),
      );
    await put(DYNAMO_ITEM_LIMIT - 1024);
    expect(await rejection(put(DYNAMO_ITEM_LIMIT + 1))).toMatchObject({
      name: 'ValidationException',
      message: expect.stringMatching(/Item size has exceeded the maximum allowed size/),
    });
  });

  it('round-trips a snapshot of many megabytes through chunk items below the limit', async () => {
    const report = compareSnapshots(undefined, snapshot, 14);
    const json = Buffer.byteLength(JSON.stringify({ ...snapshot, report }));
    expect(json).toBeGreaterThan(20 * DYNAMO_ITEM_LIMIT);

    await store.save(snapshot, report);

    expect(await store.latest()).toEqual({ snapshot });
    const chunks = await chunkItems();
    // Scope GUIDs do not compress away: the data needs several items, each under the limit.
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.length).toBeLessThanOrEqual(SNAPSHOT_LIMITS.maxChunks);
    for (const chunk of chunks) {
      expect(chunk.data?.B?.length).toBeLessThanOrEqual(CHUNK_BYTES);
    }
  });

  it('never leaves a torn snapshot when another run saves at the same instant', async () => {
    const theirs: AdministratorSnapshot = {
      takenAt: snapshot.takenAt,
      administrators: snapshot.administrators
        .slice(0, 4000)
        .map((entry) => scopedEntry(Number(entry.administratorId) - 3_000_000_000)),
    };
    // The other run saves all of its snapshot while this one is between two of its chunks.
    const racing = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    let chunkPuts = 0;
    let raced = false;
    racing.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutItemCommand') chunkPuts += 1;
        if (!raced && chunkPuts === 2) {
          raced = true;
          await store.save(theirs, compareSnapshots(undefined, theirs, 14));
        }
        return next(args);
      },
      { step: 'initialize' },
    );
    const mine = new DynamoSnapshotStore(racing, tableName, 30);

    const error = await rejection(mine.save(snapshot, compareSnapshots(undefined, snapshot, 14)));
    racing.destroy();

    expect(raced).toBe(true);
    expect(error).toBeInstanceOf(SnapshotConflictError);
    expect(error.name).toBe('SnapshotConflictError');
    // The reader finds the snapshot that won, whole, never a mix of the two.
    expect(await store.latest()).toEqual({ snapshot: theirs });
  });

  it('reads a chunked snapshot saved before chunk sets had ids', async () => {
    const report = compareSnapshots(undefined, snapshot, 14);
    const payload = gzipSync(JSON.stringify({ administrators: snapshot.administrators, report }));
    const count = Math.ceil(payload.length / 300_000);
    for (let index = 0; index < count; index += 1) {
      await documents().send(
        new PutCommand({
          TableName: tableName,
          Item: {
            kind: SNAPSHOT_CHUNK_KIND,
            takenAt: `${snapshot.takenAt}#${String(index).padStart(4, '0')}`,
            data: payload.subarray(index * 300_000, (index + 1) * 300_000),
            expiresAt: 1,
          },
        }),
      );
    }
    await documents().send(
      new PutCommand({
        TableName: tableName,
        Item: {
          kind: SNAPSHOT_KIND,
          takenAt: snapshot.takenAt,
          chunkCount: count,
          administratorCount: 5000,
          hasFindings: report.hasFindings,
          published: true,
          expiresAt: 1,
        },
      }),
    );

    expect(await store.latest()).toEqual({ snapshot });
  });
});

describe('readAccess', () => {
  const admins = Array.from({ length: 23 }, (_, n) => ({
    ucOid: `OID:/citrix/${n}`,
    userId: String(n),
    type: 'AdministratorUser',
    accessType: 'Custom',
    pending: n === 22,
  }));

  it('reads active administrators at most 5 at a time, and skips one removed meanwhile', async () => {
    let inFlight = 0;
    let most = 0;
    const asked: string[] = [];
    const directory = {
      getAccess: async (id: string): Promise<AdministratorAccess> => {
        asked.push(id);
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight -= 1;
        if (id === '7') {
          throw new CitrixNotFoundError({ method: 'GET', path: '/x', status: 404 });
        }
        return { accessType: 'Custom', policies: [] };
      },
    };

    const access = await readAccess(directory, admins);

    expect(most).toBe(5);
    expect(asked.sort()).toEqual(Array.from({ length: 22 }, (_, n) => String(n)).sort());
    expect([...access.keys()].sort()).toEqual(
      admins
        .slice(0, 22)
        .map((admin) => admin.ucOid)
        .filter((ucOid) => ucOid !== 'OID:/citrix/7')
        .sort(),
    );
  });

  it('fails on any other error, and stops reading', async () => {
    let asked = 0;
    const directory = {
      getAccess: async (id: string): Promise<AdministratorAccess> => {
        asked += 1;
        if (id === '3') throw new Error('Citrix unavailable');
        await new Promise((resolve) => setTimeout(resolve, 2));
        return { accessType: 'Custom', policies: [] };
      },
    };

    await expect(readAccess(directory, admins)).rejects.toThrow('Citrix unavailable');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(asked).toBeLessThan(10);
  });
});
