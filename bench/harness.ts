import { performance } from 'node:perf_hooks';

export interface Case {
  readonly name: string;
  readonly run: () => unknown | Promise<unknown>;
}

export interface Measurement {
  readonly name: string;
  readonly medianMicros: number;
}

/** Median time per call over several timed rounds, after a warm-up round. */
export async function measure(bench: Case, iterations: number, rounds = 7): Promise<Measurement> {
  for (let i = 0; i < Math.max(10, iterations / 10); i++) await bench.run();
  const perCall: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) await bench.run();
    perCall.push(((performance.now() - start) * 1000) / iterations);
  }
  perCall.sort((a, b) => a - b);
  return { name: bench.name, medianMicros: perCall[Math.floor(perCall.length / 2)] ?? Number.NaN };
}

/** Measures a baseline and its contenders in the same run and prints each as a ratio to it. */
export async function compare(
  title: string,
  baseline: Case,
  contenders: Case[],
  iterations: number,
) {
  const base = await measure(baseline, iterations);
  const rows = [base, ...(await sequential(contenders, (c) => measure(c, iterations)))];
  console.log(`\n${title}`);
  for (const row of rows) {
    const ratio = row.medianMicros / base.medianMicros;
    const label = row === base ? 'baseline' : `${ratio.toFixed(2)}x baseline`;
    console.log(
      `  ${row.name.padEnd(58)} ${row.medianMicros.toFixed(1).padStart(9)} µs/call  ${label}`,
    );
  }
  return rows;
}

async function sequential<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (const item of items) results.push(await fn(item));
  return results;
}
