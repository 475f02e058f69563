import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CHUNK_BYTES,
  ChunkedDataError,
  decodeChunks,
  encodeChunks,
  SnapshotTooLargeError,
} from '../../../lib/administrators/chunked-json.ts';
import { rejection } from '../../support/rejection.ts';

const LIMITS = { maxChunks: 8, maxJsonBytes: 4 * 1024 * 1024 };
/** JSON gzip barely shrinks (to about 3/4): random base64, about `bytes` long. */
const incompressible = (bytes: number) => ({
  noise: randomBytes((bytes * 3) / 4).toString('base64'),
});

describe('encodeChunks and decodeChunks', () => {
  it('splits a value into chunks of at most CHUNK_BYTES and joins them back', () => {
    const value = incompressible(1_000_000);
    const { manifest, chunks } = encodeChunks(value, LIMITS, 'the value');
    expect(manifest.count).toBe(3);
    expect(chunks).toHaveLength(3);
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(CHUNK_BYTES);
    expect(decodeChunks(manifest, chunks, LIMITS, 'the value')).toEqual(value);
  });

  it('gives every write a chunk set of its own', () => {
    const first = encodeChunks({ a: 1 }, LIMITS, 'the value');
    const second = encodeChunks({ a: 1 }, LIMITS, 'the value');
    expect(first.manifest.id).not.toBe(second.manifest.id);
  });

  it('refuses a value above either limit, naming it, before anything is written', async () => {
    const overJson = await rejection(
      Promise.resolve().then(() =>
        encodeChunks(incompressible(5 * 1024 * 1024), LIMITS, 'The value'),
      ),
    );
    expect(overJson).toBeInstanceOf(SnapshotTooLargeError);
    expect(overJson).toMatchObject({ limit: 'maxJsonBytes', limitValue: LIMITS.maxJsonBytes });
    expect(overJson.message).toMatch(/over the limit of 4194304 \(maxJsonBytes\)/);

    const overChunks = await rejection(
      Promise.resolve().then(() =>
        encodeChunks(incompressible(1_000_000), { ...LIMITS, maxChunks: 2 }, 'The value'),
      ),
    );
    expect(overChunks).toMatchObject({ name: 'SnapshotTooLargeError', limit: 'maxChunks' });
    expect(overChunks.message).toMatch(/takes 3 chunks .* over the limit of 2 \(maxChunks\)/);
  });

  it('refuses chunks that are missing, mixed from two writes, or over the limits', () => {
    const value = incompressible(1_000_000);
    const mine = encodeChunks(value, LIMITS, 'the value');
    const theirs = encodeChunks(incompressible(1_000_000), LIMITS, 'the value');
    const decode =
      (chunks: readonly Uint8Array[], manifest = mine.manifest, limits = LIMITS) =>
      () =>
        decodeChunks(manifest, chunks, limits, 'the value');

    expect(decode(mine.chunks.slice(0, 2))).toThrow(/has 2 of its 3 chunks/);
    // Same count and sizes, one chunk from another write: the digest tells them apart.
    const mixed = [mine.chunks[0], theirs.chunks[1], mine.chunks[2]] as Uint8Array[];
    expect(decode(mixed)).toThrow(ChunkedDataError);
    expect(decode(mixed)).toThrow(/do not match its manifest/);
    expect(decode(mine.chunks, mine.manifest, { ...LIMITS, maxChunks: 2 })).toThrow(
      /names 3 chunks, over the limit of 2/,
    );
    // A manifest that lies about the size cannot make decompression produce more than allowed.
    expect(decode(mine.chunks, mine.manifest, { ...LIMITS, maxJsonBytes: 1000 })).toThrow(
      /cannot be read/,
    );
  });
});
