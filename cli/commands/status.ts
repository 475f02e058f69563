import type { Command } from 'commander';
import { EXIT } from '../exit-codes.ts';
import { follow } from '../follow.ts';
import { timelineLines } from '../output.ts';
import { reportView } from '../report.ts';
import type { CommandRunner } from '../runner.ts';
import { actionIdOf, parseActionId } from './action-id.ts';

interface StatusOptions {
  readonly follow?: boolean;
  readonly timeline?: boolean;
}

/** `status <actionId> [--follow] [--timeline]` and `timeline <actionId>`. */
export function registerStatus(program: Command, runner: CommandRunner): void {
  const status = program
    .command('status')
    .summary('where an action stands: its summary, steps or targets')
    .description(
      'Where an action stands: its summary line, then its runbook steps or its targets. Exits on its status (see exit codes); with --follow, waits until it ends or waits for approval.',
    )
    .argument('<actionId>', 'the action id (act_…)', parseActionId)
    .option('--follow', 'wait until it ends or waits for approval, with live progress')
    .option('--timeline', 'print the audit timeline too');
  runner.handle(status, async (context, options: StatusOptions, command) => {
    const actionId = actionIdOf(command);
    const view =
      options.follow === true
        ? await follow(context.api, actionId, context.progress(), context.sleep)
        : await context.api.view(actionId);
    return reportView(context, view, { timeline: options.timeline });
  });

  const timeline = program
    .command('timeline')
    .summary("an action's audit timeline: every request, decision and Citrix call")
    .description(
      "An action's audit timeline, oldest first: every request, decision and Citrix call (--json: the entries).",
    )
    .argument('<actionId>', 'the action id (act_…)', parseActionId);
  runner.handle(timeline, async (context, _options: unknown, command) => {
    const view = await context.api.view(actionIdOf(command));
    const entries = view.timeline ?? [];
    if (context.json) context.printJson(entries);
    else {
      context.human.write(
        `${[`${view.actionId} ${view.action} ${view.status}: ${entries.length} entries`, ...timelineLines(entries, context.colors)].join('\n')}\n`,
      );
    }
    return EXIT.ok;
  });
}
