import type { ActionViewAnswer } from './answers.ts';
import type { CommandContext } from './context.ts';
import { EXIT, type ExitCode, STATUS_EXIT_CODES } from './exit-codes.ts';
import { awaitingSteps } from './follow.ts';
import { detailLines, summaryLine, timelineLines } from './output.ts';

/** The commands that decide on a held action: the same name in the CLI and in the API route. */
export const DECISIONS = ['approve', 'reject'] as const;

/** Who may decide, and how: a different person than the requester, with the CLI. */
export function approvalHints(view: ActionViewAnswer): string[] {
  const steps = awaitingSteps(view);
  const what =
    steps.length > 0
      ? `step ${steps.map((step) => `${step.id} (${step.action})`).join(', ')} waits for approval`
      : 'waits for approval';
  const reasons = view.approval?.reasons ?? [];
  const until = view.approval?.expiresAt === undefined ? '' : ` until ${view.approval.expiresAt}`;
  return [
    `  ${what}${reasons.length > 0 ? `: ${reasons.join('; ')}` : ''}${until}`,
    `  a person other than the requester decides with: citrix-response ${DECISIONS.join('|')} ${view.actionId} [--comment "…"]`,
  ];
}

/** The exit code of where an action stands: a runbook run with a step held waits for approval. */
export function exitCodeOf(view: ActionViewAnswer): ExitCode {
  return awaitingSteps(view).length > 0 && view.status === 'running'
    ? EXIT.awaitingApproval
    : STATUS_EXIT_CODES[view.status];
}

/**
 * Prints where an action stands (one JSON document with --json; else the summary line first, then
 * its steps or targets, who must approve, and the timeline when asked) and returns the exit code
 * of its status.
 */
export function reportView(
  context: CommandContext,
  view: ActionViewAnswer,
  options: { readonly timeline?: boolean | undefined } = {},
): ExitCode {
  if (context.json) {
    context.printJson(view);
  } else {
    const { colors } = context;
    const waiting = view.status === 'awaiting_approval' || awaitingSteps(view).length > 0;
    const lines = [
      summaryLine(view, colors),
      ...detailLines(view, colors),
      ...(waiting ? approvalHints(view) : []),
      ...(options.timeline === true && view.timeline !== undefined
        ? ['Timeline:', ...timelineLines(view.timeline, colors)]
        : []),
    ];
    context.human.write(`${lines.join('\n')}\n`);
  }
  return exitCodeOf(view);
}
