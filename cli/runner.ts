import type { Command } from 'commander';
import { InvalidSettingError } from './config.ts';
import { type CommandContext, commandContext } from './context.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import type { CliIo } from './io.ts';

/**
 * Runs the command the line names and keeps its exit code: commander's actions return nothing,
 * so each handler's code is kept here for `main` to return.
 */
export class CommandRunner {
  exitCode: ExitCode = EXIT.ok;
  readonly io: CliIo;

  constructor(io: CliIo) {
    this.io = io;
  }

  /** A command that talks to the API: its handler gets the signed client and the output. */
  handle<Options>(
    command: Command,
    run: (context: CommandContext, options: Options, command: Command) => Promise<ExitCode>,
  ): void {
    command.action(async (...args: unknown[]) => {
      const options = args.at(-2) as Options;
      let context: CommandContext;
      try {
        context = await commandContext(this.io, command);
      } catch (error) {
        // A bad --api, --region or CITRIX_RESPONSE_API is the command line's mistake.
        if (!(error instanceof InvalidSettingError)) throw error;
        command.error(`error: ${error.message}`, { exitCode: EXIT.usage });
      }
      this.exitCode = await run(context, options, command);
    });
  }

  /** A command that works on this machine only (runbook files, the saved configuration). */
  handleLocally<Options>(
    command: Command,
    run: (io: CliIo, options: Options, command: Command) => Promise<ExitCode>,
  ): void {
    command.action(async (...args: unknown[]) => {
      this.exitCode = await run(this.io, args.at(-2) as Options, command);
    });
  }
}
