import type { Metafile } from 'esbuild';

/** Where an input of a bundle comes from: its npm package, or the project file itself. */
export function inputOrigin(path: string): string {
  const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return match?.[1] ?? path;
}

export interface BundleWeight {
  /** The entry's outputs: the bundle and, when source maps are on, its map. */
  readonly bytes: number;
  /** Bytes each origin contributes to the bundle, largest first. */
  readonly origins: readonly { readonly origin: string; readonly bytes: number }[];
}

/** What one entry's outputs weigh (`<entry>.mjs` and `<entry>.mjs.map`), by origin. */
export function bundleWeight(metafile: Metafile, entry: string): BundleWeight {
  const outputs = Object.entries(metafile.outputs).filter(([file]) =>
    /\.mjs(\.map)?$/.test(file) ? file.replace(/\.mjs(\.map)?$/, '').endsWith(entry) : false,
  );
  if (outputs.length === 0) throw new Error(`No output for ${entry} in the metafile`);
  const byOrigin = new Map<string, number>();
  for (const [, output] of outputs) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const origin = inputOrigin(input);
      byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + bytesInOutput);
    }
  }
  return {
    bytes: outputs.reduce((sum, [, output]) => sum + output.bytes, 0),
    origins: [...byOrigin]
      .map(([origin, bytes]) => ({ origin, bytes }))
      .sort((a, b) => b.bytes - a.bytes),
  };
}

const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;

/** Undefined within the budget; otherwise a message naming the largest inputs, to cut first. */
export function overBudget(
  entry: string,
  weight: BundleWeight,
  budgetBytes: number,
  largest = 8,
): string | undefined {
  if (weight.bytes <= budgetBytes) return undefined;
  const inputs = weight.origins
    .slice(0, largest)
    .map(({ origin, bytes }) => `  ${kb(bytes).padStart(9)}  ${origin}`)
    .join('\n');
  return `${entry} is ${kb(weight.bytes)} minified, over the ${kb(budgetBytes)} budget by ${kb(weight.bytes - budgetBytes)}. Largest inputs:\n${inputs}`;
}
