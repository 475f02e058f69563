import type { Readable } from 'node:stream';

/** Where the CLI writes: a stream of text, and whether a person watches it in a terminal. */
export interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean | undefined;
}

/**
 * Everything the CLI touches outside itself, so that `main` runs in tests without a process:
 * the bin passes the process's streams and environment; tests pass their own.
 */
export interface CliIo {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly stdin: Readable & { readonly isTTY?: boolean | undefined };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The global fetch unless given. */
  readonly fetch?: typeof fetch;
  /** How the CLI waits between polls; a timer unless given. */
  readonly sleep?: (milliseconds: number) => Promise<void>;
}

/** The process's own streams and environment, for bin/citrix-response.js. */
export function processIo(): CliIo {
  for (const stream of [process.stdout, process.stderr]) {
    // A reader that went away (`citrix-response list | head`) ends the command quietly.
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      process.exit(process.exitCode ?? 0);
    });
  }
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}
