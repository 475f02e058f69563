import type { Command } from 'commander';
import { ApiClient } from './api-client.ts';
import { readSavedConfig, resolveEndpoint } from './config.ts';
import { isLoopbackApi, personCredentials } from './credentials.ts';
import { barProgress, lineProgress, type ProgressReporter } from './follow.ts';
import type { CliIo, Output } from './io.ts';
import { type Colors, colorsFor } from './output.ts';

/** The options every command takes (declared once, on the program). */
export interface GlobalOptions {
  readonly api?: string;
  readonly profile?: string;
  readonly region?: string;
  readonly json?: boolean;
  readonly color: boolean;
}

/** What a command works with: the signed API, where to write, and how. */
export interface CommandContext {
  readonly io: CliIo;
  readonly api: ApiClient;
  /** `--json`: stdout gets one JSON document and nothing else. */
  readonly json: boolean;
  /** Where the lines for a person go: stdout, or stderr when stdout is kept for --json. */
  readonly human: Output;
  readonly colors: Colors;
  readonly errorColors: Colors;
  readonly sleep: (milliseconds: number) => Promise<void>;
  /** A progress display for one follow: bars on a terminal, else a line per change. */
  progress(): ProgressReporter;
  /** Writes the one JSON document of --json. */
  printJson(value: unknown): void;
}

const timer = (milliseconds: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, milliseconds));

/** The global options as every command sees them, wherever on the line they were given. */
export function globalOptionsOf(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/** Builds the context of a command from the global options, the environment and the saved config. */
export async function commandContext(io: CliIo, command: Command): Promise<CommandContext> {
  const options = globalOptionsOf(command);
  const endpoint = resolveEndpoint(options, io.env, await readSavedConfig(io.env));
  const sleep = io.sleep ?? timer;
  const api = new ApiClient({
    baseUrl: endpoint.api,
    region: endpoint.region,
    credentials: personCredentials(
      io.env,
      options.profile,
      isLoopbackApi(endpoint.api)
        ? { localDemo: { notice: (line) => io.stderr.write(`${line}\n`) } }
        : {},
    ),
    fetch: io.fetch ?? fetch,
    sleep,
  });
  const json = options.json === true;
  const human = json ? io.stderr : io.stdout;
  const colors = colorsFor(human, io.env, options.color);
  const errorColors = colorsFor(io.stderr, io.env, options.color);
  return {
    io,
    api,
    json,
    human,
    colors,
    errorColors,
    sleep,
    progress: () =>
      io.stderr.isTTY === true
        ? barProgress(io.stderr, errorColors)
        : lineProgress(io.stderr, errorColors),
    printJson: (value) => io.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  };
}
