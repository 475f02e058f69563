import type { Command } from 'commander';
import {
  ACTION_TYPES,
  ActionRequestSchema,
  type ActionType,
  declarationOf,
} from '../../lib/actions/schema.ts';
import { RUNBOOK_ACTION } from '../../lib/runbooks/definition.ts';
import {
  flagNameOf,
  flagOfRequestPath,
  modeOptions,
  needsApproval,
  targetOf,
  targetOptions,
  warningOptions,
} from '../catalog-flags.ts';
import { EXIT } from '../exit-codes.ts';
import type { CommandRunner } from '../runner.ts';
import { submitRequest } from '../submit.ts';

/** What `act <action>` reads from its flags (the target flags besides). */
interface ActOptions {
  readonly reason: string;
  readonly ticket?: string;
  readonly dryRun?: boolean;
  readonly mode?: string;
  readonly notify?: string;
  readonly notifyTitle?: string;
  readonly graceSeconds?: string;
  readonly urgency?: string;
  readonly callback?: string;
  readonly yes?: boolean;
  readonly follow: boolean;
  readonly timeline?: boolean;
}

/** The action request the flags make, before validation (the API validates it again). */
function requestOf(action: ActionType, options: ActOptions, target: Record<string, unknown>) {
  const graceSeconds =
    options.graceSeconds === undefined ? undefined : Number(options.graceSeconds);
  return {
    action,
    target,
    reason: options.reason,
    ...(options.ticket === undefined ? {} : { ticket: options.ticket }),
    ...(options.mode === undefined ? {} : { options: { mode: options.mode } }),
    ...(options.notify === undefined
      ? {}
      : {
          notify: {
            title: options.notifyTitle,
            text: options.notify,
            ...(graceSeconds === undefined ? {} : { graceSeconds }),
          },
        }),
    ...(options.urgency === undefined ? {} : { urgency: options.urgency }),
    ...(options.callback === undefined ? {} : { callback: options.callback }),
  };
}

/** `act <action> …`: one subcommand per catalog action, its flags from its declaration. */
export function registerAct(program: Command, runner: CommandRunner): void {
  const act = program
    .command('act')
    .description('Request one action of the catalog (docs/actions.md), follow it to its end')
    .summary('request an action: act <action> <target> --reason "…"')
    .addHelpText(
      'after',
      `\nRunbooks (${RUNBOOK_ACTION}): citrix-response runbook run <name> --help`,
    );
  // A runbook has inputs rather than a target: `runbook run` (its own command) requests it.
  for (const action of ACTION_TYPES.filter((type) => type !== RUNBOOK_ACTION)) {
    const declaration = declarationOf(action);
    const command: Command = act
      .command(action)
      .summary(declaration.summary)
      .description(
        `${declaration.summary}.\nReversal: ${declaration.reversal}.${declaration.destructive ? '\nDestructive: shows the plan (a dry run) and asks before acting.' : ''}`,
      );
    for (const option of targetOptions(declaration)) command.addOption(option);
    command
      .requiredOption('--reason <text>', 'why: kept in the record and the audit trail')
      .option('--ticket <id>', 'the incident or change ticket (list --ticket finds it)')
      .option('--dry-run', 'resolve the targets and show the plan; change nothing');
    for (const option of [...modeOptions(declaration), ...warningOptions(declaration)]) {
      command.addOption(option);
    }
    command
      .option('--callback <name>', 'a configured callback destination told of the outcome')
      .option('-y, --yes', 'after showing the plan, act without asking (for scripts)')
      .option('--no-follow', 'print the acceptance and stop, without waiting for the end')
      .option('--timeline', 'print the audit timeline at the end');
    runner.handle(command, async (context, options: ActOptions) => {
      const target = targetOf(declaration, options as unknown as Record<string, unknown>);
      if (target === undefined) {
        const flags = declaration.targetFields.map((field) => `--${flagNameOf(field)}`);
        command.error(`error: name the target with one of ${flags.join(', ')}`, {
          exitCode: EXIT.usage,
        });
      }
      const request = requestOf(action, options, target);
      const parsed = ActionRequestSchema.safeParse(request);
      if (!parsed.success) {
        const problems = parsed.error.issues.map(
          (issue) => `${flagOfRequestPath(issue.path)}: ${issue.message}`,
        );
        command.error(`error: ${[...new Set(problems)].join('; ')}`, { exitCode: EXIT.usage });
      }
      return submitRequest(context, command, request, {
        dryRun: options.dryRun === true,
        confirmFirst: declaration.destructive || needsApproval(declaration.approval, options.mode),
        yes: options.yes === true,
        follow: options.follow,
        timeline: options.timeline === true,
      });
    });
  }
}
