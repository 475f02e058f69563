import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { ActionStoreUnavailableError } from '../actions/store.ts';
import {
  ChunkedDataError,
  type ChunkLimits,
  type ChunkManifest,
  ChunkManifestSchema,
  decodeChunks,
  encodeChunks,
} from '../administrators/chunked-json.ts';
import {
  markSnapshotRestored,
  mergeStrip,
  type RevokeSnapshot,
  RevokeSnapshotSchema,
  type RevokeSnapshotStore,
  type StripRecord,
} from '../administrators/revoke-snapshots.ts';
import { isTransientDynamoDbError } from './dynamodb-errors.ts';

/**
 * Revoke snapshots live in the actions table beside the revokes that recorded them, one item per
 * administrator under `revoke-snapshot#<ucOid>`: the admin tasks already use that table, and the
 * item expires with the records (RECORD_RETENTION_DAYS) unless a later revoke or restore renews it.
 * Action ids (`act_…`) never take that form, so no record is ever read as a snapshot.
 */
export const revokeSnapshotKey = (ucOid: string): string => `revoke-snapshot#${ucOid}`;
/** A chunk of a snapshot too large for its item: keyed by its chunk set, never by an ucOid. */
export const revokeSnapshotChunkKey = (chunkSetId: string, index: number): string =>
  `revoke-snapshot-chunk#${chunkSetId}#${String(index).padStart(4, '0')}`;

/**
 * A snapshot whose JSON is above this is kept in chunks (an administrator granted thousands of
 * scopes: it holds two accesses, before and after): DynamoDB counts a map's names and values a
 * little over their JSON, and the item's limit is 400 KB.
 */
export const INLINE_SNAPSHOT_BYTES = 200_000;
/** 32 chunks is 9.6 MB gzipped; the JSON bound keeps a task's memory in hand. */
export const REVOKE_SNAPSHOT_LIMITS: ChunkLimits = {
  maxChunks: 32,
  maxJsonBytes: 32 * 1024 * 1024,
};

/** The item: the snapshot in it, or the manifest of its chunks (written before the item). */
const SnapshotItemSchema = z.object({
  version: z.number().int().min(0),
  snapshot: z.unknown().optional(),
  chunks: ChunkManifestSchema.optional(),
});

/** A snapshot item could not be read or written (not the table being unavailable). */
export class RevokeSnapshotStoreError extends Error {
  override name = 'RevokeSnapshotStoreError';
}

/** Read-modify-write attempts before a snapshot that keeps changing underneath is an error. */
const MAX_WRITE_ATTEMPTS = 5;

interface StoredSnapshot {
  readonly snapshot: RevokeSnapshot;
  readonly version: number;
}

/**
 * Every write reads the item, computes the new snapshot (lib/administrators/revoke-snapshots.ts)
 * and puts it on condition that its version is still the one read, so that two workflows
 * recording at once never lose each other's write.
 */
export class DynamoRevokeSnapshotStore implements RevokeSnapshotStore {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #retentionDays: number;
  readonly #now: () => Date;

  constructor(
    client: DynamoDBClient,
    tableName: string,
    retentionDays: number,
    now: () => Date = () => new Date(),
  ) {
    this.#documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.#tableName = tableName;
    this.#retentionDays = retentionDays;
    this.#now = now;
  }

  async latest(ucOid: string): Promise<RevokeSnapshot | undefined> {
    return (await this.#read(ucOid))?.snapshot;
  }

  recordStrip(strip: StripRecord): Promise<RevokeSnapshot> {
    return this.#update(strip.ucOid, (existing) => mergeStrip(existing, strip));
  }

  markRestored(
    ucOid: string,
    revokeActionId: string,
    restoreActionId: string,
    at: string,
  ): Promise<RevokeSnapshot> {
    return this.#update(ucOid, (existing) =>
      markSnapshotRestored(existing, revokeActionId, restoreActionId, at),
    );
  }

  async #update(
    ucOid: string,
    change: (existing: RevokeSnapshot | undefined) => RevokeSnapshot,
  ): Promise<RevokeSnapshot> {
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt += 1) {
      const stored = await this.#read(ucOid);
      const next = change(stored?.snapshot);
      if (stored !== undefined && next === stored.snapshot) return next;
      const version = stored?.version ?? 0;
      const expiresAt = Math.floor(this.#now().getTime() / 1000) + this.#retentionDays * 86_400;
      try {
        const held = await this.#hold(ucOid, next, expiresAt);
        await this.#send(ucOid, () =>
          this.#documents.send(
            new PutCommand({
              TableName: this.#tableName,
              Item: {
                actionId: revokeSnapshotKey(ucOid),
                ...held,
                version: version + 1,
                expiresAt,
              },
              ConditionExpression: 'attribute_not_exists(actionId) OR version = :version',
              ExpressionAttributeValues: { ':version': version },
            }),
          ),
        );
        return next;
      } catch (error) {
        if (!(error instanceof RevokeSnapshotStoreError)) throw error;
        if (!(error.cause instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    throw new RevokeSnapshotStoreError(
      `The revoke snapshot of ${ucOid} kept changing while it was written`,
    );
  }

  /**
   * What the item holds of `snapshot`: the snapshot itself, or, when too large, the manifest of
   * chunks written here first under a fresh chunk set id. The item then switches to them only if
   * its version is still the one read; chunks no item names (a lost race, or a later write)
   * expire with TTL.
   */
  async #hold(
    ucOid: string,
    snapshot: RevokeSnapshot,
    expiresAt: number,
  ): Promise<{ snapshot: RevokeSnapshot } | { chunks: ChunkManifest }> {
    if (Buffer.byteLength(JSON.stringify(snapshot), 'utf8') <= INLINE_SNAPSHOT_BYTES) {
      return { snapshot };
    }
    const { manifest, chunks } = encodeChunks(
      snapshot,
      REVOKE_SNAPSHOT_LIMITS,
      `The revoke snapshot of ${ucOid}`,
    );
    await Promise.all(
      chunks.map((data, index) =>
        this.#send(ucOid, () =>
          this.#documents.send(
            new PutCommand({
              TableName: this.#tableName,
              Item: { actionId: revokeSnapshotChunkKey(manifest.id, index), data, expiresAt },
            }),
          ),
        ),
      ),
    );
    return { chunks: manifest };
  }

  async #read(ucOid: string): Promise<StoredSnapshot | undefined> {
    const output = await this.#send(ucOid, () =>
      this.#documents.send(
        new GetCommand({
          TableName: this.#tableName,
          Key: { actionId: revokeSnapshotKey(ucOid) },
          ConsistentRead: true,
        }),
      ),
    );
    if (output.Item === undefined) return undefined;
    const item = SnapshotItemSchema.safeParse(output.Item);
    const held = item.success
      ? item.data.chunks === undefined
        ? item.data.snapshot
        : await this.#readChunks(ucOid, item.data.chunks)
      : undefined;
    const snapshot = RevokeSnapshotSchema.safeParse(held);
    if (!item.success || !snapshot.success) {
      // Never echo the item: it holds an administrator's access.
      throw new RevokeSnapshotStoreError(
        `The revoke snapshot of ${ucOid} does not match the schema`,
        { cause: item.success ? snapshot.error : item.error },
      );
    }
    return { snapshot: snapshot.data, version: item.data.version };
  }

  /** The chunks the item names, every one read consistently and checked against the manifest. */
  async #readChunks(ucOid: string, manifest: ChunkManifest): Promise<unknown> {
    const what = `the revoke snapshot of ${ucOid}`;
    if (manifest.count > REVOKE_SNAPSHOT_LIMITS.maxChunks) {
      throw new RevokeSnapshotStoreError(
        `${what} names ${manifest.count} chunks, over the limit of ${REVOKE_SNAPSHOT_LIMITS.maxChunks} (maxChunks)`,
      );
    }
    const chunks = await Promise.all(
      Array.from({ length: manifest.count }, async (_, index) => {
        const output = await this.#send(ucOid, () =>
          this.#documents.send(
            new GetCommand({
              TableName: this.#tableName,
              Key: { actionId: revokeSnapshotChunkKey(manifest.id, index) },
              ConsistentRead: true,
            }),
          ),
        );
        const data: unknown = output.Item?.data;
        if (!(data instanceof Uint8Array)) {
          throw new RevokeSnapshotStoreError(`Chunk ${index} of ${what} is missing`);
        }
        return data;
      }),
    );
    try {
      return decodeChunks(manifest, chunks, REVOKE_SNAPSHOT_LIMITS, what);
    } catch (error) {
      if (!(error instanceof ChunkedDataError)) throw error;
      throw new RevokeSnapshotStoreError(`The data of ${what} cannot be read`, { cause: error });
    }
  }

  async #send<Output>(ucOid: string, operation: () => Promise<Output>): Promise<Output> {
    try {
      return await operation();
    } catch (error) {
      // The snapshots are items of the actions table: the workflows retry its outages by name.
      if (isTransientDynamoDbError(error)) {
        throw new ActionStoreUnavailableError(
          `Action store unavailable for the revoke snapshot of ${ucOid}`,
          { cause: error },
        );
      }
      throw new RevokeSnapshotStoreError(`Revoke snapshot request failed for ${ucOid}`, {
        cause: error,
      });
    }
  }
}
