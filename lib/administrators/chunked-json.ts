import { createHash, randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import * as z from 'zod';

/**
 * A value too large for one DynamoDB item (400 KB, names and keys included), kept as gzipped JSON
 * split into chunk items. A manifest names the chunk set (a fresh id per write, so two writers
 * never share a chunk), how many there are and a digest of the whole, so that a reader follows
 * one manifest to one complete set and refuses anything torn or mixed. The stores write every
 * chunk before the manifest that names them (lib/administrators/snapshot-store.ts,
 * lib/runtime/revoke-snapshot-store.ts).
 */

/** Compressed bytes per chunk item: leaves room under 400 KB for the key and attribute names. */
export const CHUNK_BYTES = 300_000;

export interface ChunkLimits {
  /** Chunk items a value may take. */
  readonly maxChunks: number;
  /** Bytes of the value's JSON, before compression (also what decompression may produce). */
  readonly maxJsonBytes: number;
}

export const ChunkManifestSchema = z.object({
  /** The chunk set's id, fresh for each write. */
  id: z.uuid(),
  count: z.number().int().min(1),
  /** Compressed bytes, all chunks together. */
  bytes: z.number().int().min(1),
  /** SHA-256 (hex) of the compressed bytes. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ChunkManifest = z.infer<typeof ChunkManifestSchema>;

/** A value above a limit: nothing was written. `limit` names the limit, `limitValue` its value. */
export class SnapshotTooLargeError extends Error {
  override name = 'SnapshotTooLargeError';
  readonly limit: 'maxChunks' | 'maxJsonBytes';
  readonly limitValue: number;
  readonly actual: number;

  constructor(
    what: string,
    limit: 'maxChunks' | 'maxJsonBytes',
    limitValue: number,
    actual: number,
  ) {
    super(
      limit === 'maxChunks'
        ? `${what} takes ${actual} chunks of ${CHUNK_BYTES} compressed bytes, over the limit of ${limitValue} (maxChunks)`
        : `${what} is ${actual} bytes of JSON, over the limit of ${limitValue} (maxJsonBytes)`,
    );
    this.limit = limit;
    this.limitValue = limitValue;
    this.actual = actual;
  }
}

/** The chunks do not add up to what their manifest says (missing, mixed or corrupt). */
export class ChunkedDataError extends Error {
  override name = 'ChunkedDataError';
}

export interface EncodedChunks {
  readonly manifest: ChunkManifest;
  readonly chunks: readonly Uint8Array[];
}

/** `value` as JSON, gzipped and split; throws SnapshotTooLargeError before anything is written. */
export function encodeChunks(value: unknown, limits: ChunkLimits, what: string): EncodedChunks {
  const json = Buffer.from(JSON.stringify(value), 'utf8');
  if (json.length > limits.maxJsonBytes) {
    throw new SnapshotTooLargeError(what, 'maxJsonBytes', limits.maxJsonBytes, json.length);
  }
  const payload = gzipSync(json);
  const count = Math.max(1, Math.ceil(payload.length / CHUNK_BYTES));
  if (count > limits.maxChunks) {
    throw new SnapshotTooLargeError(what, 'maxChunks', limits.maxChunks, count);
  }
  const chunks = Array.from({ length: count }, (_, index) =>
    payload.subarray(index * CHUNK_BYTES, (index + 1) * CHUNK_BYTES),
  );
  return {
    manifest: {
      id: randomUUID(),
      count,
      bytes: payload.length,
      sha256: createHash('sha256').update(payload).digest('hex'),
    },
    chunks,
  };
}

/** The value the chunks hold, in order, checked against their manifest and the limits. */
export function decodeChunks(
  manifest: ChunkManifest,
  chunks: readonly Uint8Array[],
  limits: ChunkLimits,
  what: string,
): unknown {
  if (manifest.count > limits.maxChunks) {
    throw new ChunkedDataError(
      `${what} names ${manifest.count} chunks, over the limit of ${limits.maxChunks} (maxChunks)`,
    );
  }
  if (chunks.length !== manifest.count) {
    throw new ChunkedDataError(`${what} has ${chunks.length} of its ${manifest.count} chunks`);
  }
  const payload = Buffer.concat(chunks);
  const digest = createHash('sha256').update(payload).digest('hex');
  if (payload.length !== manifest.bytes || digest !== manifest.sha256) {
    throw new ChunkedDataError(`The chunks of ${what} do not match its manifest`);
  }
  try {
    return JSON.parse(
      gunzipSync(payload, { maxOutputLength: limits.maxJsonBytes }).toString('utf8'),
    );
  } catch (error) {
    throw new ChunkedDataError(`The data of ${what} cannot be read`, { cause: error });
  }
}
