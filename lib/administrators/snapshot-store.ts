import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import {
  type AdministratorReport,
  type AdministratorSnapshot,
  AdministratorSnapshotSchema,
  type SnapshotStore,
} from './report.ts';

/** The snapshots table: partition `kind`, sort `takenAt` (ISO 8601 sorts by time). */
export const SNAPSHOT_KIND = 'cloud-administrators';

export class SnapshotStoreError extends Error {
  override name = 'SnapshotStoreError';
}

const StoredSnapshotSchema = AdministratorSnapshotSchema.extend({ kind: z.string() });

/** Every snapshot is kept (with its report) until DynamoDB's TTL removes it. */
export class DynamoSnapshotStore implements SnapshotStore {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #retentionDays: number;

  constructor(client: DynamoDBClient, tableName: string, retentionDays: number) {
    this.#documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.#tableName = tableName;
    this.#retentionDays = retentionDays;
  }

  async latest(): Promise<AdministratorSnapshot | undefined> {
    const output = await this.#documents.send(
      new QueryCommand({
        TableName: this.#tableName,
        KeyConditionExpression: 'kind = :kind',
        ExpressionAttributeValues: { ':kind': SNAPSHOT_KIND },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = output.Items?.[0];
    if (item === undefined) return undefined;
    const parsed = StoredSnapshotSchema.safeParse(item);
    if (!parsed.success) {
      throw new SnapshotStoreError('The latest administrator snapshot does not match the schema', {
        cause: parsed.error,
      });
    }
    return { takenAt: parsed.data.takenAt, administrators: parsed.data.administrators };
  }

  async save(snapshot: AdministratorSnapshot, report: AdministratorReport): Promise<void> {
    const expiresAt =
      Math.floor(Date.parse(snapshot.takenAt) / 1000) + this.#retentionDays * 86_400;
    await this.#documents.send(
      new PutCommand({
        TableName: this.#tableName,
        Item: { kind: SNAPSHOT_KIND, ...snapshot, report, expiresAt },
      }),
    );
  }
}
