import { createInterface } from 'node:readline';
import type { CliIo } from './io.ts';

/** Asks a yes/no question on stderr and reads the answer from stdin; only `y`/`yes` is a yes. */
export async function confirm(io: CliIo, question: string): Promise<boolean> {
  io.stderr.write(`${question} [y/N] `);
  const lines = createInterface({ input: io.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) return /^\s*y(es)?\s*$/i.test(line);
    // stdin ended without an answer: no.
    return false;
  } finally {
    lines.close();
  }
}
