import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionStoreUnavailableError } from '../../../lib/actions/store.ts';
import {
  RevokeSnapshotMovedError,
  type StripRecord,
} from '../../../lib/administrators/revoke-snapshots.ts';
import type { AdministratorAccess } from '../../../lib/citrix/administrators-schemas.ts';
import {
  DynamoRevokeSnapshotStore,
  RevokeSnapshotStoreError,
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
});
