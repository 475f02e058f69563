import { type Command, Option } from 'commander';
import { LIST_LIMIT, ListActionsQuerySchema } from '../../lib/actions/list.ts';
import { ACTION_STATUSES, ACTION_TYPES } from '../../lib/actions/schema.ts';
import type { ActionListItemAnswer } from '../answers.ts';
import type { ListFilters } from '../api-client.ts';
import { flagNameOf } from '../catalog-flags.ts';
import { EXIT } from '../exit-codes.ts';
import { listTable } from '../output.ts';
import type { CommandRunner } from '../runner.ts';

interface ListOptions {
  readonly status?: string;
  readonly action?: string;
  readonly target?: string;
  readonly since?: string;
  readonly ticket?: string;
  readonly limit?: string;
  readonly nextToken?: string;
  readonly all?: boolean;
}

/** `--all` reads at most this many pages (of up to LIST_LIMIT.max actions each). */
export const MAX_LIST_PAGES = 100;

/** `list [filters]`: `GET /v1/actions`, newest first, a page or (--all) every page. */
export function registerList(program: Command, runner: CommandRunner): void {
  const list = program
    .command('list')
    .summary('find actions: by status, action, target, ticket or age')
    .description(
      'Actions, newest first (GET /v1/actions): a table, or with --json the list of actions. Every filter given must match.',
    )
    .option('--status <statuses>', `comma-separated: ${ACTION_STATUSES.join(', ')}`)
    .addOption(new Option('--action <action>', 'only this action').choices(ACTION_TYPES))
    .option('--target <text>', 'only actions whose target names this text (a user, a device…)')
    .option('--since <when>', 'an ISO 8601 date-time, or a duration back from now (PT24H, P7D)')
    .option('--ticket <id>', 'only actions of this ticket')
    .option(
      '--limit <n>',
      `at most this many per page (1–${LIST_LIMIT.max}, default ${LIST_LIMIT.default})`,
    )
    .option('--next-token <token>', 'continue a listing (the token a page printed)')
    .option('--all', `every page (up to ${MAX_LIST_PAGES} pages)`);
  runner.handle(list, async (context, options: ListOptions, command) => {
    const filters: ListFilters = {
      status: options.status,
      action: options.action,
      target: options.target,
      since: options.since,
      ticket: options.ticket,
      limit: options.limit ?? (options.all === true ? String(LIST_LIMIT.max) : undefined),
      nextToken: options.nextToken,
    };
    const given = Object.fromEntries(
      Object.entries(filters).filter(([, value]) => value !== undefined),
    );
    const checked = ListActionsQuerySchema.safeParse(given);
    if (!checked.success) {
      const problems = checked.error.issues.map(
        (issue) => `--${flagNameOf(String(issue.path[0] ?? 'filters'))}: ${issue.message}`,
      );
      command.error(`error: ${[...new Set(problems)].join('; ')}`, { exitCode: EXIT.usage });
    }
    const actions: ActionListItemAnswer[] = [];
    let nextToken = filters.nextToken;
    for (let page = 0; page < (options.all === true ? MAX_LIST_PAGES : 1); page += 1) {
      const answer = await context.api.list({ ...filters, nextToken });
      actions.push(...answer.actions);
      nextToken = answer.nextToken;
      if (nextToken === undefined) break;
    }
    if (context.json) context.printJson(actions);
    else if (actions.length === 0) context.human.write('No actions match.\n');
    else context.human.write(`${listTable(actions, context.colors).join('\n')}\n`);
    if (nextToken !== undefined) {
      context.io.stderr.write(
        `More actions may follow: --all, or --next-token ${nextToken} with the same filters.\n`,
      );
    }
    return EXIT.ok;
  });
}
