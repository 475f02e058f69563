import { Command, CommanderError } from 'commander';
import { RunbookFileError } from '../lib/runbooks/files.ts';
import {
  ApiAnswerError,
  ApiUnreachableError,
  SignatureRefusedError,
  UnexpectedAnswerError,
} from './api-client.ts';
import { registerAct } from './commands/act.ts';
import { registerConfigure, StackOutputError } from './commands/configure.ts';
import { registerDecisions } from './commands/decide.ts';
import { registerList } from './commands/list.ts';
import { registerRunbook } from './commands/runbook.ts';
import { registerStatus } from './commands/status.ts';
import { ConfigFileError } from './config.ts';
import { CredentialsUnavailableError } from './credentials.ts';
import { EXIT, type ExitCode, exitCodesText } from './exit-codes.ts';
import type { CliIo } from './io.ts';
import { CommandRunner } from './runner.ts';

/** The executable's name (package.json `bin`). */
export const CLI_NAME = 'citrix-response';

const ENVIRONMENT_HELP = `Environment:
  CITRIX_RESPONSE_API     the API's URL (else the saved configuration, else http://127.0.0.1:3000)
  AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
                          who you are: the AWS credential chain (SSO profiles too)
  AWS_REGION              the region to sign for, unless the API URL names one
  NO_COLOR                no colour (colour is only ever used on a terminal)
  CITRIX_RESPONSE_DEBUG=1 print stack traces of unexpected errors`;

/** `citrix-response act session.logoff`: a command's name as typed. */
function pathOf(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at !== null; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

/** After a usage error: the command's usage line, and where to read more. */
function showUsageAfterErrors(command: Command): void {
  const path = pathOf(command);
  command.showHelpAfterError(`Usage: ${path} ${command.usage()}\nSee '${path} --help'.`);
  for (const sub of command.commands) showUsageAfterErrors(sub);
}

/** The program, every command registered; commander's output goes to `io`. */
export async function buildProgram(
  argv: readonly string[],
  io: CliIo,
  runner: CommandRunner,
): Promise<Command> {
  const program = new Command(CLI_NAME)
    .description(
      'Contain security incidents in Citrix as yourself: request catalog actions and runbooks, follow them, approve or reject them (docs/cli.md).',
    )
    .option(
      '--api <url>',
      'the API (else CITRIX_RESPONSE_API, the saved configuration, http://127.0.0.1:3000)',
    )
    .option('--profile <name>', 'the AWS profile to sign as (SSO profiles too)')
    .option('--region <region>', 'the region to sign for (else from the API URL, AWS_REGION)')
    .option('--json', 'print exactly one JSON document on stdout, for scripts')
    .option('--no-color', 'no colour (also NO_COLOR; colour is only used on a terminal)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', `\n${exitCodesText()}\n\n${ENVIRONMENT_HELP}`);
  registerAct(program, runner);
  await registerRunbook(program, runner, argv);
  registerStatus(program, runner);
  registerList(program, runner);
  registerDecisions(program, runner);
  registerConfigure(program, runner);
  showUsageAfterErrors(program);
  return program;
}

/** Errors the CLI explains in one line: what went wrong and what to do, no stack trace. */
const EXPLAINED = [
  ApiAnswerError,
  SignatureRefusedError,
  ApiUnreachableError,
  UnexpectedAnswerError,
  CredentialsUnavailableError,
  ConfigFileError,
  StackOutputError,
  RunbookFileError,
] as const;

/** The one line an error is explained in. */
function explain(error: Error): string {
  if (!(error instanceof ApiAnswerError)) return error.message;
  const fields = error.fields.map((field) => `${field.field}: ${field.message}`).join('; ');
  return `${error.code}: ${error.message}${fields === '' ? '' : ` (${fields})`}`;
}

/** Commander's ways of ending: help and version shown on request are successes. */
function commanderExitCode(error: CommanderError): ExitCode {
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version')
    return EXIT.ok;
  // `act` alone shows its help as an error: a usage error.
  if (error.code === 'commander.help') return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  return EXIT.usage;
}

/**
 * Runs `citrix-response` with `argv` (the words after the executable) and returns its exit code.
 * Never throws: every error is one line on stderr (a stack trace only with CITRIX_RESPONSE_DEBUG=1).
 */
export async function main(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const runner = new CommandRunner(io);
  try {
    const program = await buildProgram(argv, io, runner);
    await program.parseAsync([...argv], { from: 'user' });
    return runner.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return commanderExitCode(error);
    const debug = io.env.CITRIX_RESPONSE_DEBUG === '1';
    if (error instanceof Error && EXPLAINED.some((type) => error instanceof type)) {
      io.stderr.write(`error: ${explain(error)}\n`);
    } else {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      io.stderr.write(
        `error: ${message}${debug ? '' : ' (CITRIX_RESPONSE_DEBUG=1 shows where it happened)'}\n`,
      );
    }
    if (debug && error instanceof Error && error.stack !== undefined)
      io.stderr.write(`${error.stack}\n`);
    return EXIT.failed;
  }
}
