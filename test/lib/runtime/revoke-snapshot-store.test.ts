import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionStoreUnavailableError } from '../../../lib/actions/store.ts';
import { CHUNK_BYTES } from '../../../lib/administrators/chunked-json.ts';
import {
  RevokeSnapshotMovedError,
  type StripRecord,
} from '../../../lib/administrators/revoke-snapshots.ts';
import type { AdministratorAccess } from '../../../lib/citrix/administrators-schemas.ts';
import {
  DynamoRevokeSnapshotStore,
  REVOKE_SNAPSHOT_LIMITS,
  RevokeSnapshotStoreError,
  revokeSnapshotChunkKey,
  revokeSnapshotKey,
} from '../../../lib/runtime/revoke-snapshot-store.ts';
import { createActionsTable, type LocalDynamo, startLocalDynamo } from '../../../local/dynamodb.ts';
import { rejection } from '../../support/rejection.ts';

const TABLE = 'actions';
const NOW = new Date('2026-11-23T03:00:00Z');
let dynamo: LocalDynamo;
let store: DynamoRevokeSnapshotStore;
let ucOids = 0;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  await createActionsTable(dynamo.client, TABLE);
  store = new DynamoRevokeSnapshotStore(dynamo.client, TABLE, 30, () => NOW);
});
afterAll(() => dynamo.close());

const actionId = (n: number) => `act_${String(n).padStart(32, '0')}`;
const access = (...granted: string[]): AdministratorAccess => ({
  accessType: 'Custom',
  policies: ['notifications', 'licensing'].map((name) => ({
    name,
    checkable: { value: granted.includes(name), canChangeValue: true },
  })),
});
const ORIGINAL = access('notifications', 'licensing');
const STRIPPED = access();

/** A strip of an administrator of its own, so that the tests never share an item. */
const stripOf = (ucOid: string, n: number, replaced = ORIGINAL): StripRecord => ({
  ucOid,
  administratorId: ucOid.slice(-4),
  revokeActionId: actionId(n),
  revokedAt: new Date(Date.UTC(2026, 10, 23, n)).toISOString(),
  replaced,
  left: STRIPPED,
});
const freshAdmin = () => {
  ucOids += 1;
  return `OID:/citrix/${1000 + ucOids}`;
};
const item = async (ucOid: string) =>
  (
    await DynamoDBDocumentClient.from(dynamo.client).send(
      new GetCommand({ TableName: TABLE, Key: { actionId: revokeSnapshotKey(ucOid) } }),
    )
  ).Item;

describe('DynamoRevokeSnapshotStore', () => {
  it('keeps one snapshot per administrator in the actions table, expiring with the records', async () => {
    const ucOid = freshAdmin();
    expect(await store.latest(ucOid)).toBeUndefined();
    await store.recordStrip(stripOf(ucOid, 1));
    expect(await store.latest(ucOid)).toMatchObject({
      revokeActionIds: [actionId(1)],
      replaced: ORIGINAL,
      left: STRIPPED,
    });
    const stored = await item(ucOid);
    expect(stored).toMatchObject({ version: 1, expiresAt: NOW.getTime() / 1000 + 30 * 86_400 });
    // Never an action record: no `createdAt` or `ticket` puts it in a listing's index.
    expect(Object.keys(stored ?? {}).sort()).toEqual([
      'actionId',
      'expiresAt',
      'snapshot',
      'version',
    ]);
  });

  it('extends the snapshot with a second strip and records a restore once', async () => {
    const ucOid = freshAdmin();
    await store.recordStrip(stripOf(ucOid, 1));
    await store.recordStrip(stripOf(ucOid, 2, STRIPPED));
    // The same revoke recorded again (a retried task) writes nothing.
    await store.recordStrip(stripOf(ucOid, 2, STRIPPED));
    expect((await item(ucOid))?.version).toBe(2);

    const at = NOW.toISOString();
    const restored = await store.markRestored(ucOid, actionId(2), actionId(9), at);
    expect(restored).toMatchObject({
      revokeActionIds: [actionId(1), actionId(2)],
      replaced: ORIGINAL,
      restored: { actionId: actionId(9), at },
    });
    expect(await store.markRestored(ucOid, actionId(2), actionId(9), at)).toEqual(restored);
    expect(
      await rejection(store.markRestored(ucOid, actionId(2), actionId(10), at)),
    ).toBeInstanceOf(RevokeSnapshotMovedError);
  });

  it('loses no write to another one made between its read and its put', async () => {
    const ucOid = freshAdmin();
    const racing = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    let raced = false;
    racing.middlewareStack.add(
      (next, context) => async (args) => {
        if (!raced && context.commandName === 'PutItemCommand') {
          raced = true;
          await store.recordStrip(stripOf(ucOid, 1));
        }
        return next(args);
      },
      { step: 'initialize' },
    );
    const contender = new DynamoRevokeSnapshotStore(racing, TABLE, 30, () => NOW);
    const merged = await contender.recordStrip(stripOf(ucOid, 2, STRIPPED));
    racing.destroy();
    expect(raced).toBe(true);
    // Its first put was refused; the second merged over the strip that won the race.
    expect(merged).toMatchObject({
      revokeActionIds: [actionId(1), actionId(2)],
      replaced: ORIGINAL,
    });
    expect((await item(ucOid))?.version).toBe(2);
  });

  it('refuses an item that does not match the schema, without echoing it', async () => {
    const ucOid = freshAdmin();
    await DynamoDBDocumentClient.from(dynamo.client).send(
      new PutCommand({
        TableName: TABLE,
        Item: { actionId: revokeSnapshotKey(ucOid), snapshot: { secret: 'x' }, version: 1 },
      }),
    );
    const error = await rejection(store.latest(ucOid));
    expect(error).toBeInstanceOf(RevokeSnapshotStoreError);
    expect(error.message).not.toMatch(/secret/);
  });

  it('reports the table unreachable as the actions table unavailable, for the workflows to retry', async () => {
    const unreachable = new DynamoDBClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    const offline = new DynamoRevokeSnapshotStore(unreachable, TABLE, 30);
    const error = await rejection(offline.latest('OID:/citrix/1'));
    unreachable.destroy();
    expect(error).toBeInstanceOf(ActionStoreUnavailableError);
    expect(error.cause).toBeDefined();
  });

  describe('an administrator granted thousands of scopes', () => {
    /** Five delivery-group policies listing 1,500 scopes each (GUIDs), `granted` of them checked. */
    const scopes = Array.from({ length: 5 }, () =>
      Array.from({ length: 1500 }, () => randomUUID()),
    );
    const scoped = (granted: boolean): AdministratorAccess => ({
      accessType: 'Custom',
      policies: scopes.map((names, p) => ({
        name: `DeliveryGroupPolicy${p}`,
        serviceName: 'XenDesktop',
        checkable: { value: granted, canChangeValue: true },
        scopeChoices: {
          allScopesSelected: false,
          choices: names.map((name) => ({
            name,
            checkable: { value: granted, canChangeValue: true },
          })),
        },
      })),
    });
    const LARGE = scoped(true);
    const LARGE_STRIPPED = scoped(false);
    const largeStrip = (ucOid: string, n: number, replaced = LARGE): StripRecord => ({
      ...stripOf(ucOid, n, replaced),
      left: LARGE_STRIPPED,
    });
    const chunkItem = (key: string) =>
      DynamoDBDocumentClient.from(dynamo.client).send(
        new GetCommand({ TableName: TABLE, Key: { actionId: key } }),
      );

    it('keeps a snapshot over the 400 KB item limit in chunk items its item names', async () => {
      const ucOid = freshAdmin();
      const strip = largeStrip(ucOid, 1);
      expect(Buffer.byteLength(JSON.stringify(strip))).toBeGreaterThan(2 * 400 * 1024);

      await store.recordStrip(strip);

      expect(await store.latest(ucOid)).toMatchObject({
        revokeActionIds: [actionId(1)],
        replaced: LARGE,
        left: LARGE_STRIPPED,
      });
      const stored = await item(ucOid);
      expect(stored?.snapshot).toBeUndefined();
      const manifest = stored?.chunks as { id: string; count: number };
      expect(manifest.count).toBeGreaterThan(1);
      expect(manifest.count).toBeLessThanOrEqual(REVOKE_SNAPSHOT_LIMITS.maxChunks);
      for (let index = 0; index < manifest.count; index += 1) {
        const chunk = (await chunkItem(revokeSnapshotChunkKey(manifest.id, index))).Item;
        expect((chunk?.data as Uint8Array | undefined)?.length).toBeLessThanOrEqual(CHUNK_BYTES);
        // A chunk expires with its snapshot and is never an action record.
        expect(Object.keys(chunk ?? {}).sort()).toEqual(['actionId', 'data', 'expiresAt']);
      }

      // Extended and restored like any other: each write a new chunk set, switched to by version.
      await store.recordStrip(largeStrip(ucOid, 2, LARGE_STRIPPED));
      const at = NOW.toISOString();
      expect(await store.markRestored(ucOid, actionId(2), actionId(9), at)).toMatchObject({
        revokeActionIds: [actionId(1), actionId(2)],
        replaced: LARGE,
        restored: { actionId: actionId(9), at },
      });
      const restored = await item(ucOid);
      expect(restored?.version).toBe(3);
      expect((restored?.chunks as { id: string } | undefined)?.id).not.toBe(manifest.id);
      expect(await store.latest(ucOid)).toMatchObject({ replaced: LARGE, left: LARGE_STRIPPED });
    });

    it("loses no write to a racing one, and never reads the loser's chunks", async () => {
      const ucOid = freshAdmin();
      const racing = new DynamoDBClient({
        endpoint: dynamo.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      let raced = false;
      racing.middlewareStack.add(
        (next, context) => async (args) => {
          // Between this writer's chunks and its item, the other records the first strip.
          // The item's key, as the document client hands it over (plain) or once marshalled.
          const actionKey: unknown = (args.input as { Item?: { actionId?: unknown } }).Item
            ?.actionId;
          const key = typeof actionKey === 'string' ? actionKey : (actionKey as { S?: string })?.S;
          if (
            !raced &&
            context.commandName === 'PutItemCommand' &&
            key === revokeSnapshotKey(ucOid)
          ) {
            raced = true;
            await store.recordStrip(largeStrip(ucOid, 1));
          }
          return next(args);
        },
        { step: 'initialize' },
      );
      const contender = new DynamoRevokeSnapshotStore(racing, TABLE, 30, () => NOW);
      const merged = await contender.recordStrip(largeStrip(ucOid, 2, LARGE_STRIPPED));
      racing.destroy();
      expect(raced).toBe(true);
      expect(merged).toMatchObject({
        revokeActionIds: [actionId(1), actionId(2)],
        replaced: LARGE,
      });
      expect(await store.latest(ucOid)).toEqual(merged);
      expect((await item(ucOid))?.version).toBe(2);
    });

    it('refuses a snapshot whose chunk is missing or replaced, without echoing it', async () => {
      const ucOid = freshAdmin();
      await store.recordStrip(largeStrip(ucOid, 1));
      const manifest = (await item(ucOid))?.chunks as { id: string };
      const other = freshAdmin();
      await store.recordStrip(largeStrip(other, 1));
      const otherManifest = (await item(other))?.chunks as { id: string };
      // Chunk 1 swapped for another snapshot's: same size, another digest.
      const foreign = (await chunkItem(revokeSnapshotChunkKey(otherManifest.id, 1))).Item;
      await DynamoDBDocumentClient.from(dynamo.client).send(
        new PutCommand({
          TableName: TABLE,
          Item: { ...foreign, actionId: revokeSnapshotChunkKey(manifest.id, 1) },
        }),
      );
      const mixed = await rejection(store.latest(ucOid));
      expect(mixed).toBeInstanceOf(RevokeSnapshotStoreError);
      expect(mixed.message).toMatch(/cannot be read/);
      expect(mixed.message).not.toMatch(/DeliveryGroupPolicy/);

      await DynamoDBDocumentClient.from(dynamo.client).send(
        new DeleteCommand({
          TableName: TABLE,
          Key: { actionId: revokeSnapshotChunkKey(manifest.id, 1) },
        }),
      );
      const missing = await rejection(store.latest(ucOid));
      expect(missing).toBeInstanceOf(RevokeSnapshotStoreError);
      expect(missing.message).toMatch(/Chunk 1 of .* is missing/);
    });
  });
});
