import { gunzipSync } from 'node:zlib';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import {
  ChunkedDataError,
  type ChunkLimits,
  ChunkManifestSchema,
  decodeChunks,
  encodeChunks,
} from './chunked-json.ts';
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
/**
 * The partition of the snapshots' data chunks, sorted by `<takenAt>#<chunk set id>#<index>`
 * (`<takenAt>#<index>` for snapshots saved before chunk sets had ids).
 */
export const SNAPSHOT_CHUNK_KIND = `${SNAPSHOT_KIND}#chunks`;
/**
 * What one snapshot (with its report) may take: 64 chunks of CHUNK_BYTES is 19.2 MB gzipped; a
 * tenant of 5,000 administrators with a dozen scoped policies each is under 1 MB. The JSON bound
 * keeps the report Lambda's memory in hand when it writes or reads one.
 */
export const SNAPSHOT_LIMITS: ChunkLimits = { maxChunks: 64, maxJsonBytes: 64 * 1024 * 1024 };
/** Chunk items written at once. */
const CHUNK_WRITES_IN_FLIGHT = 4;

export class SnapshotStoreError extends Error {
  override name = 'SnapshotStoreError';
}

/** Another run saved a snapshot taken at the same instant first; this one's was not kept. */
export class SnapshotConflictError extends SnapshotStoreError {
  override name = 'SnapshotConflictError';
}

/** A snapshot item as saved before access was kept: everything in one plain item. */
const LegacySnapshotSchema = AdministratorSnapshotSchema.extend({ kind: z.string() });

/** The snapshot's item (its manifest): what it holds, and whether its report was published. */
const SnapshotHeaderSchema = z.object({
  kind: z.string(),
  takenAt: z.iso.datetime(),
  chunkCount: z.number().int().min(1).max(SNAPSHOT_LIMITS.maxChunks),
  administratorCount: z.number().int(),
  hasFindings: z.boolean(),
  published: z.boolean(),
  /** The chunk set; absent on snapshots saved before chunk sets had ids (`chunkKey`). */
  chunks: ChunkManifestSchema.optional(),
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

/** The sort key prefix of a snapshot's chunks: per chunk set, or (earlier saves) per snapshot. */
const chunkPrefix = (takenAt: string, chunkSetId: string | undefined) =>
  chunkSetId === undefined ? `${takenAt}#` : `${takenAt}#${chunkSetId}#`;
const chunkKey = (prefix: string, index: number) => `${prefix}${String(index).padStart(4, '0')}`;

/**
 * Every snapshot is kept (with its report) until DynamoDB's TTL removes it.
 *
 * Size: the administrators with their access and the report are gzipped JSON, split into chunk
 * items (lib/administrators/chunked-json.ts) in their own partition, under a chunk set id fresh
 * for each save, bounded by SNAPSHOT_LIMITS (SnapshotTooLargeError before anything is written).
 * The snapshot's own item, the manifest naming the chunk set and its digest, is written after
 * every chunk and only if no snapshot was saved at that instant, so `latest()` never finds a
 * snapshot whose data is still being written, and two runs saving at once never mix their chunks:
 * the first manifest wins, the other run gets SnapshotConflictError. Chunks no manifest names (a
 * run that died or lost) expire with TTL like the rest.
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
      await this.#readPayload(header),
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
    const { manifest, chunks } = encodeChunks(
      { administrators: snapshot.administrators, report },
      SNAPSHOT_LIMITS,
      `The administrator snapshot taken at ${snapshot.takenAt}`,
    );
    const prefix = chunkPrefix(snapshot.takenAt, manifest.id);
    for (let start = 0; start < chunks.length; start += CHUNK_WRITES_IN_FLIGHT) {
      await Promise.all(
        chunks.slice(start, start + CHUNK_WRITES_IN_FLIGHT).map((data, offset) =>
          this.#documents.send(
            new PutCommand({
              TableName: this.#tableName,
              Item: {
                kind: SNAPSHOT_CHUNK_KIND,
                takenAt: chunkKey(prefix, start + offset),
                data,
                expiresAt,
              },
            }),
          ),
        ),
      );
    }
    try {
      await this.#documents.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: {
            kind: SNAPSHOT_KIND,
            takenAt: snapshot.takenAt,
            chunkCount: manifest.count,
            chunks: manifest,
            administratorCount: snapshot.administrators.length,
            hasFindings: report.hasFindings,
            published: !report.hasFindings,
            expiresAt,
          },
          ConditionExpression: 'attribute_not_exists(kind)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new SnapshotConflictError(
          `Another administrator snapshot was saved at ${snapshot.takenAt} first; this one was not kept`,
          { cause: error },
        );
      }
      throw error;
    }
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

  /** The snapshot's chunks joined and decompressed, checked to be all there, in order, intact. */
  async #readPayload(header: z.infer<typeof SnapshotHeaderSchema>): Promise<unknown> {
    const { takenAt, chunkCount } = header;
    const what = `the administrator snapshot taken at ${takenAt}`;
    const prefix = chunkPrefix(takenAt, header.chunks?.id);
    const chunks: Uint8Array[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const output = await this.#documents.send(
        new QueryCommand({
          TableName: this.#tableName,
          KeyConditionExpression: 'kind = :kind AND begins_with(takenAt, :prefix)',
          ExpressionAttributeValues: { ':kind': SNAPSHOT_CHUNK_KIND, ':prefix': prefix },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of output.Items ?? []) {
        const chunk = parseStored(ChunkSchema, item, `A chunk of ${what}`);
        if (chunk.takenAt !== chunkKey(prefix, chunks.length)) {
          throw new SnapshotStoreError(
            `${capitalized(what)} has an unexpected chunk ${chunk.takenAt}`,
          );
        }
        chunks.push(chunk.data);
        if (chunks.length > chunkCount) break;
      }
      startKey = chunks.length > chunkCount ? undefined : output.LastEvaluatedKey;
    } while (startKey !== undefined);
    try {
      if (header.chunks !== undefined) {
        return decodeChunks(header.chunks, chunks, SNAPSHOT_LIMITS, what);
      }
      // Saved before chunk sets had a manifest: the count is all there is to check.
      if (chunks.length !== chunkCount) {
        throw new ChunkedDataError(`${what} has ${chunks.length} of its ${chunkCount} chunks`);
      }
      return JSON.parse(
        gunzipSync(Buffer.concat(chunks), {
          maxOutputLength: SNAPSHOT_LIMITS.maxJsonBytes,
        }).toString('utf8'),
      );
    } catch (error) {
      throw new SnapshotStoreError(`The data of ${what} cannot be read`, { cause: error });
    }
  }
}

const capitalized = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
