import type { Command } from 'commander';
import type { Decision } from '../api-client.ts';
import { EXIT } from '../exit-codes.ts';
import { awaitingSteps, follow } from '../follow.ts';
import { DECISIONS, reportView } from '../report.ts';
import type { CommandRunner } from '../runner.ts';
import { actionIdOf, parseActionId } from './action-id.ts';

interface DecideOptions {
  readonly comment?: string;
  readonly follow?: boolean;
  readonly timeline?: boolean;
}

/** What each decision does, for its help. */
const DESCRIPTIONS = {
  approve: 'Approve an action (or the held step of a runbook run) that waits for approval',
  reject:
    'Reject an action (or the held step of a runbook run) that waits for approval: nothing is done',
} as const satisfies Record<Decision, string>;

/**
 * `approve|reject <actionId> [--comment] [--follow]`: the decider is the person who signs the
 * request (never a name on the line), and must not be the requester. Exits on the decision
 * itself (0 when recorded), or with --follow on how the action ends.
 */
export function registerDecisions(program: Command, runner: CommandRunner): void {
  for (const decision of DECISIONS) {
    const command = program
      .command(decision)
      .summary(`${decision} a held action, as yourself (a second person)`)
      .description(
        `${DESCRIPTIONS[decision]}. You decide as the person your AWS credentials are (--profile, AWS_ACCESS_KEY_ID…), never the requester.`,
      )
      .argument(
        '<actionId>',
        'the action id (act_…), or the runbook run whose step waits',
        parseActionId,
      )
      .option('--comment <text>', 'why: kept in the record and the audit trail')
      .option('--follow', 'then follow the action to its end, and exit on how it ended')
      .option('--timeline', 'with --follow, print the audit timeline at the end');
    runner.handle(command, async (context, options: DecideOptions) => {
      const actionId = actionIdOf(command);
      // A runbook run waits in one of its steps: the decision is that step's action's.
      const view = await context.api.view(actionId);
      const [step] = awaitingSteps(view);
      const decided = step?.childActionId ?? actionId;
      const answer = await context.api.decide(decided, decision, options.comment);
      if (options.follow !== true) {
        if (context.json) context.printJson(answer);
        else {
          const ofStep = step === undefined ? '' : ` (step ${step.id} of runbook run ${actionId})`;
          context.human.write(
            `${answer.actionId}${ofStep} ${decision === 'approve' ? 'approved' : 'rejected'} by ${answer.decidedBy}: now ${answer.status}\n`,
          );
        }
        return EXIT.ok;
      }
      context.io.stderr.write(
        `${answer.actionId} ${answer.status}, decided by ${answer.decidedBy}\n`,
      );
      const ended = await follow(context.api, actionId, context.progress(), context.sleep, decided);
      return reportView(context, ended, { timeline: options.timeline });
    });
  }
}
