/**
 * A value built on first use and kept for the life of the warm container (one client, one parsed
 * setting). A build that throws is not kept: the next call tries again.
 */
export function once<T>(build: () => T): () => T {
  let value: { readonly built: T } | undefined;
  return () => {
    value ??= { built: build() };
    return value.built;
  };
}
