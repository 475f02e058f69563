import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { RUNBOOK_ACTION, type Runbook } from '../../lib/runbooks/definition.ts';
import { listRunbooks, readRunbookFile, runbooksDirFrom } from '../../lib/runbooks/files.ts';
import { globalOptionsOf } from '../context.ts';
import { EXIT } from '../exit-codes.ts';
import type { CommandRunner } from '../runner.ts';
import { submitRequest } from '../submit.ts';

/** The options of `runbook run <runbook>` besides its inputs: no input may take their flags. */
const RUN_FLAGS = ['--reason', '--ticket', '--dry-run', '--yes', '--no-follow', '--timeline'];

interface RunOptions {
  readonly reason: string;
  readonly ticket?: string;
  readonly dryRun?: boolean;
  readonly yes?: boolean;
  readonly follow: boolean;
  readonly timeline?: boolean;
}

/** A runbook named by a file (`./x.yaml`, `dir/x.json`) rather than by its name in runbooks/. */
export const isRunbookFile = (reference: string): boolean =>
  /\.(ya?ml|json)$/i.test(reference) || reference.includes('/');

/** The runbook file named on the line after `runbook run`, if there is one. */
export function runbookFileIn(argv: readonly string[]): string | undefined {
  const at = argv.findIndex((word, index) => word === 'runbook' && argv[index + 1] === 'run');
  const reference = at === -1 ? undefined : argv[at + 2];
  return reference !== undefined && isRunbookFile(reference) ? reference : undefined;
}

/** A runbook's inputs as flags (an input's name is already a flag's: `device-id`). */
function inputOptions(runbook: Runbook): { readonly name: string; readonly option: Option }[] {
  return Object.entries(runbook.inputs).map(([name, input]) => {
    const example = input.example === undefined ? '' : ` (e.g. ${input.example})`;
    const option = new Option(`--${name} <value>`, `${input.description}${example}`);
    option.mandatory = input.required;
    if (RUN_FLAGS.includes(option.long ?? '')) {
      throw new TypeError(
        `Runbook ${runbook.name}: input ${name} has the name of an option of runbook run`,
      );
    }
    return { name, option };
  });
}

/** `runbook run <reference>`: the runbook's inputs as flags; a run shows its plan and asks. */
function addRunCommand(
  run: Command,
  runner: CommandRunner,
  reference: string,
  runbook: Runbook,
  target: Readonly<Record<string, unknown>>,
): void {
  const command: Command = run
    .command(reference)
    .summary(runbook.description)
    .description(
      `${runbook.description}\nShows the plan of every step, asks, then runs the steps in order.`,
    );
  const inputs = inputOptions(runbook);
  for (const { option } of inputs) command.addOption(option);
  command
    .requiredOption('--reason <text>', 'why: kept in the run, each step and the audit trail')
    .option('--ticket <id>', 'the incident or change ticket (list --ticket finds every step)')
    .option('--dry-run', 'show the plan of every step; change nothing')
    .option('-y, --yes', 'after showing the plan, run without asking (for scripts)')
    .option('--no-follow', 'print the acceptance and stop, without waiting for the end')
    .option('--timeline', 'print the audit timeline at the end')
    .addHelpText(
      'after',
      `\nSteps:\n${runbook.steps.map((step, index) => `  ${index + 1}. ${step.id}: ${step.action}${step.if === undefined ? '' : ' (if …)'}${step.continueOnFailure ? ', continues on failure' : ''}`).join('\n')}`,
    );
  runner.handle(command, async (context, options: RunOptions) => {
    const values = command.opts<Record<string, string | undefined>>();
    const given = inputs.flatMap(({ name, option }) => {
      const value = values[option.attributeName()];
      return value === undefined ? [] : [[name, value] as const];
    });
    const request = {
      action: RUNBOOK_ACTION,
      target,
      inputs: Object.fromEntries(given),
      reason: options.reason,
      ...(options.ticket === undefined ? {} : { ticket: options.ticket }),
    };
    return submitRequest(context, command, request, {
      dryRun: options.dryRun === true,
      // A runbook runs several actions: its whole plan is always shown first.
      confirmFirst: true,
      yes: options.yes === true,
      follow: options.follow,
      timeline: options.timeline === true,
    });
  });
}

/** `  --user <value> (required): …`: a runbook's inputs, as `runbook list` shows them. */
function inputLines(runbook: Runbook): string[] {
  return Object.entries(runbook.inputs).map(
    ([name, input]) =>
      `--${name} <value>${input.required ? ' (required)' : ''}: ${input.description}`,
  );
}

/**
 * `runbook list` and `runbook run <name|file>`. The runbooks of runbooks/ (or RUNBOOKS_DIR) are
 * subcommands of `run`, their inputs flags, so that a mistyped name gets a suggestion and
 * `--help` shows the inputs; a file named on the line (`argv`) is read here and sent whole
 * (`target.definition`), each step still going through its own action's guardrails and approvals.
 */
export async function registerRunbook(
  program: Command,
  runner: CommandRunner,
  argv: readonly string[],
): Promise<void> {
  const runbook = program
    .command('runbook')
    .summary('list the runbooks, run one: runbook run <name|file> --reason "…"')
    .description(
      'Runbooks: ordered steps of catalog actions, from runbooks/ or a file (docs/runbooks.md).',
    );

  // The folder `npm start` reads too: RUNBOOKS_DIR when set, else the repository's runbooks/.
  const dir = runbooksDirFrom(runner.io.env);
  const list = runbook
    .command('list')
    .summary('the runbooks, their inputs and steps')
    .description('The runbooks of runbooks/ (or --dir): inputs and steps; --json for scripts.')
    .option('--dir <dir>', 'read the runbooks of this directory', dir);
  runner.handleLocally(list, async (io, options: { readonly dir: string }) => {
    const runbooks = await listRunbooks(resolve(options.dir));
    if (globalOptionsOf(list).json === true) {
      io.stdout.write(`${JSON.stringify(runbooks, null, 2)}\n`);
    } else {
      const lines = runbooks.flatMap((found) => [
        `${found.name}: ${found.description}`,
        ...inputLines(found).map((line) => `    ${line}`),
        `    steps: ${found.steps.map((step) => `${step.id} (${step.action})`).join(', ')}`,
      ]);
      io.stdout.write(`${lines.length === 0 ? 'No runbooks.' : lines.join('\n')}\n`);
    }
    return EXIT.ok;
  });

  const run = runbook
    .command('run')
    .summary('run a runbook: shows the plan of every step, asks, then runs it')
    .description(
      'Run a runbook of runbooks/ by name, or a runbook file (a path: ./my-runbook.yaml). Its inputs are flags (runbook run <name> --help); it always shows the plan of every step first and asks (--yes: go ahead without asking).',
    );
  // Only when the line runs a runbook: other commands never read the runbook files.
  const running = argv.some((word, index) => word === 'runbook' && argv[index + 1] === 'run');
  if (!running) return;
  for (const found of await listRunbooks(dir)) {
    addRunCommand(run, runner, found.name, found, { runbook: found.name });
  }
  const file = runbookFileIn(argv);
  if (file !== undefined) {
    const definition = await readRunbookFile(resolve(file));
    addRunCommand(run, runner, file, definition, { definition });
  }
}
