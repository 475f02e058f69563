import { afterAll } from 'vitest';
import { secretsIn } from './test-secrets.ts';

/**
 * Loaded before every test file: everything written to stdout, stderr or the console while the
 * file runs is scanned for every secret the tests use, and for the shapes of the tokens and
 * signatures minted during the run, and the file fails if one appears. Together over all files,
 * that is the whole test run.
 *
 * The run logs at DEBUG (vitest.config.ts), so every structured log line of the product is
 * scanned too; those lines are then dropped, to keep the output readable. Set
 * `TEST_SHOW_LOGS=1` to see them.
 */
const leaks: string[] = [];

function scan(where: string, text: string): void {
  for (const name of secretsIn(text)) leaks.push(`${name} written to ${where}`);
}

/** A Powertools Logger line: `{"level":"INFO","message":…}`, one write per line. */
const isStructuredLog = (text: string) => text.startsWith('{"level":"');
const showLogs = Boolean(process.env.TEST_SHOW_LOGS);

const toText = (chunk: unknown) =>
  typeof chunk === 'string'
    ? chunk
    : Buffer.isBuffer(chunk)
      ? chunk.toString('utf8')
      : String(chunk);

for (const stream of [process.stdout, process.stderr] as const) {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  const where = stream === process.stdout ? 'stdout' : 'stderr';
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    const text = toText(chunk);
    scan(where, text);
    if (showLogs || !isStructuredLog(text)) return write(chunk, ...rest);
    // Dropped, as if written: call the write callback (the last argument) if there is one.
    const callback = rest.at(-1);
    if (typeof callback === 'function') process.nextTick(callback as () => void);
    return true;
  }) as typeof stream.write;
}

for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  const original = console[method].bind(console);
  console[method] = (...args: unknown[]) => {
    scan(
      `console.${method}`,
      args
        .map((arg) => (typeof arg === 'string' ? arg : (JSON.stringify(arg) ?? String(arg))))
        .join(' '),
    );
    original(...args);
  };
}

afterAll(() => {
  if (leaks.length > 0)
    throw new Error(`Secrets leaked during this test file: ${[...new Set(leaks)].join('; ')}`);
});
