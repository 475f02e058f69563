import { gunzipSync, gzipSync } from 'node:zlib';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import {
  type AdministratorReport,
  AdministratorReportSchema,
  type AdministratorSnapshot,
  AdministratorSnapshotSchema,
  type SavedSnapshot,
  SnapshotEntrySchema,
  type SnapshotStore,
} from './report.ts';

/** The snapshots table: partition `kind`, sort `takenAt` (ISO 8601 sorts by time). */
export const SNAPSHOT_KIND = 'cloud-administrators';
/** The partition of the snapshots' data chunks, sorted by `<takenAt>#<index>`. */
export const SNAPSHOT_CHUNK_KIND = `${SNAPSHOT_KIND}#chunks`;
/**
 * Compressed bytes per chunk item: DynamoDB items are at most 400 KB, attribute names and keys
 * included, so a chunk leaves room for those.
 */
export const SNAPSHOT_CHUNK_BYTES = 300_000;

export class SnapshotStoreError extends Error {
  override name = 'SnapshotStoreError';
}

/** A snapshot item as saved before access was kept: everything in one plain item. */
const LegacySnapshotSchema = AdministratorSnapshotSchema.extend({ kind: z.string() });

/** The snapshot's item: what it holds, and whether its report was published. */
const SnapshotHeaderSchema = z.object({
  kind: z.string(),
  takenAt: z.iso.datetime(),
  chunkCount: z.number().int().min(1),
  administratorCount: z.number().int(),
  hasFindings: z.boolean(),
  published: z.boolean(),
});

const ChunkSchema = z.object({ takenAt: z.string(), data: z.instanceof(Uint8Array) });

/** What the chunks hold, once joined and decompressed. */
const SnapshotPayloadSchema = z.object({
  administrators: z.array(SnapshotEntrySchema),
  report: AdministratorReportSchema,
});

function parseStored<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new SnapshotStoreError(`${what} does not match the schema`, { cause: parsed.error });
  }
  return parsed.data;
}

const chunkKey = (takenAt: string, index: number) => `${takenAt}#${String(index).padStart(4, '0')}`;

/**
 * Every snapshot is kept (with its report) until DynamoDB's TTL removes it.
 *
 * Size: the administrators with their access and the report are gzipped JSON, split into chunk
 * items of at most SNAPSHOT_CHUNK_BYTES in their own partition. Gzip keeps a tenant of a few
 * thousand administrators in one chunk (the JSON repeats the same policy and field names); the
 * chunks remove the 400 KB item limit for anything larger, such as a report listing everybody.
 * The snapshot's own item is written after its chunks, so `latest()` never finds a snapshot whose
 * data is still being written; chunks of a snapshot whose item was never written expire with TTL.
 */
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

  async latest(): Promise<SavedSnapshot | undefined> {
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
    if ('administrators' in item) {
      // Saved by an earlier version, which published before saving: nothing waits to be published.
      const legacy = parseStored(LegacySnapshotSchema, item, 'The latest administrator snapshot');
      return { snapshot: { takenAt: legacy.takenAt, administrators: legacy.administrators } };
    }
    const header = parseStored(SnapshotHeaderSchema, item, 'The latest administrator snapshot');
    const payload = parseStored(
      SnapshotPayloadSchema,
      await this.#readPayload(header.takenAt, header.chunkCount),
      `The data of the administrator snapshot taken at ${header.takenAt}`,
    );
    return {
      snapshot: { takenAt: header.takenAt, administrators: payload.administrators },
      ...(header.published ? {} : { unpublishedReport: payload.report }),
    };
  }

  async save(snapshot: AdministratorSnapshot, report: AdministratorReport): Promise<void> {
    const expiresAt =
      Math.floor(Date.parse(snapshot.takenAt) / 1000) + this.#retentionDays * 86_400;
    const payload = gzipSync(JSON.stringify({ administrators: snapshot.administrators, report }));
    const chunkCount = Math.max(1, Math.ceil(payload.length / SNAPSHOT_CHUNK_BYTES));
    for (let index = 0; index < chunkCount; index += 1) {
      const start = index * SNAPSHOT_CHUNK_BYTES;
      await this.#documents.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: {
            kind: SNAPSHOT_CHUNK_KIND,
            takenAt: chunkKey(snapshot.takenAt, index),
            data: payload.subarray(start, start + SNAPSHOT_CHUNK_BYTES),
            expiresAt,
          },
        }),
      );
    }
    await this.#documents.send(
      new PutCommand({
        TableName: this.#tableName,
        Item: {
          kind: SNAPSHOT_KIND,
          takenAt: snapshot.takenAt,
          chunkCount,
          administratorCount: snapshot.administrators.length,
          hasFindings: report.hasFindings,
          published: !report.hasFindings,
          expiresAt,
        },
      }),
    );
  }

  async markPublished(takenAt: string): Promise<void> {
    try {
      await this.#documents.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: { kind: SNAPSHOT_KIND, takenAt },
          UpdateExpression: 'SET published = :published',
          ConditionExpression: 'attribute_exists(kind)',
          ExpressionAttributeValues: { ':published': true },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new SnapshotStoreError(`No administrator snapshot was saved at ${takenAt}`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  /** The snapshot's chunks joined and decompressed, checked to be all there and in order. */
  async #readPayload(takenAt: string, chunkCount: number): Promise<unknown> {
    const chunks: Uint8Array[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const output = await this.#documents.send(
        new QueryCommand({
          TableName: this.#tableName,
          KeyConditionExpression: 'kind = :kind AND begins_with(takenAt, :prefix)',
          ExpressionAttributeValues: { ':kind': SNAPSHOT_CHUNK_KIND, ':prefix': `${takenAt}#` },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of output.Items ?? []) {
        const chunk = parseStored(ChunkSchema, item, `A chunk of the snapshot taken at ${takenAt}`);
        if (chunk.takenAt !== chunkKey(takenAt, chunks.length)) {
          throw new SnapshotStoreError(
            `The administrator snapshot taken at ${takenAt} has an unexpected chunk ${chunk.takenAt}`,
          );
        }
        chunks.push(chunk.data);
      }
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined);
    if (chunks.length !== chunkCount) {
      throw new SnapshotStoreError(
        `The administrator snapshot taken at ${takenAt} has ${chunks.length} of its ${chunkCount} chunks`,
      );
    }
    try {
      return JSON.parse(gunzipSync(Buffer.concat(chunks)).toString('utf8'));
    } catch (error) {
      throw new SnapshotStoreError(
        `The data of the administrator snapshot taken at ${takenAt} cannot be read`,
        { cause: error },
      );
    }
  }
}
