import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { SourceName } from '../../lib/sources/types.ts';

/** The documented sample delivery of `source` (docs/sources/samples), parsed. */
export const sampleOf = (source: SourceName): unknown =>
  JSON.parse(
    readFileSync(new URL(`../../docs/sources/samples/${source}.json`, import.meta.url), 'utf8'),
  );

type JsonPath = readonly (string | number)[];

/** Every path into a JSON value: `[]`, `['result']`, `['result', 'user']`, … */
function pathsOf(value: unknown, prefix: JsonPath = []): JsonPath[] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const entries = Array.isArray(value)
    ? value.map((item, index) => [index, item] as const)
    : Object.entries(value);
  return [prefix, ...entries.flatMap(([key, item]) => pathsOf(item, [...prefix, key]))];
}

/** Sets (or, with `undefined`, deletes) the value at `path`; the root itself can be replaced. */
function mutate(root: unknown, path: JsonPath, value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (value === undefined) delete parent[last];
  else parent[last] = value;
  return copy;
}

/**
 * `sample` as JSON with one to `maxMutations` of its values (the root included) set to a
 * `replacement` (removed where that is `undefined`).
 */
export function mutatedJson(
  sample: unknown,
  replacement: fc.Arbitrary<unknown>,
  maxMutations: number,
): fc.Arbitrary<string> {
  const mutation = fc.record({ path: fc.constantFrom(...pathsOf(sample)), value: replacement });
  return fc.array(mutation, { minLength: 1, maxLength: maxMutations }).map(
    (mutations) =>
      JSON.stringify(
        mutations.reduce<unknown>((body, { path, value }) => {
          try {
            return mutate(body, path, value);
          } catch {
            // An earlier mutation removed the path's parent: keep the body as it is.
            return body;
          }
        }, sample),
      ) ?? 'null',
  );
}
