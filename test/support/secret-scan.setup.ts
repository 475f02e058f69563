import { afterAll } from 'vitest';
import { TEST_SECRETS } from './test-secrets.ts';

/**
 * Loaded before every test file: everything written to stdout, stderr or the console while the
 * file runs is scanned for every secret the tests use, and the file fails if one appears.
 * Together over all files, that is the whole test run.
 */
const leaks: string[] = [];

function scan(where: string, text: string): void {
  for (const [name, secret] of TEST_SECRETS) {
    if (secret.length >= 8 && text.includes(secret)) leaks.push(`${name} written to ${where}`);
  }
}

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
    scan(where, toText(chunk));
    return write(chunk, ...rest);
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
