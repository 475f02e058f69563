import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ActionStoreUnavailableError } from '../actions/store.ts';
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
      try {
        await this.#send(ucOid, () =>
          this.#documents.send(
            new PutCommand({
              TableName: this.#tableName,
              Item: {
                actionId: revokeSnapshotKey(ucOid),
                snapshot: next,
                version: version + 1,
                expiresAt: Math.floor(this.#now().getTime() / 1000) + this.#retentionDays * 86_400,
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
    const snapshot = RevokeSnapshotSchema.safeParse(output.Item.snapshot);
    const version = output.Item.version;
    if (!snapshot.success || typeof version !== 'number') {
      // Never echo the item: it holds an administrator's access.
      throw new RevokeSnapshotStoreError(
        `The revoke snapshot of ${ucOid} does not match the schema`,
        { cause: snapshot.error },
      );
    }
    return { snapshot: snapshot.data, version };
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
