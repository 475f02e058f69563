import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import type { ActionViewAnswer } from './answers.ts';
import type { CommandContext } from './context.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { follow } from './follow.ts';
import { plannedApproval, resultLines, scopeLines, stepLine, summaryLine } from './output.ts';
import { confirm } from './prompt.ts';
import { exitCodeOf, reportView } from './report.ts';

/** How a request is sent: as a plan only, after showing the plan, or straight away. */
export interface SubmitOptions {
  /** `--dry-run`: send the plan only, and stop there. */
  readonly dryRun: boolean;
  /** Destructive, may need approval, or a runbook: show the plan first and ask. */
  readonly confirmFirst: boolean;
  /** `--yes`: go ahead after the plan without asking. */
  readonly yes: boolean;
  /** `--no-follow` sets it false: print the acceptance and stop. */
  readonly follow: boolean;
  readonly timeline: boolean;
}

/** The usage error of a destructive request on a line where nobody can answer the question. */
export const NO_TERMINAL_TO_CONFIRM =
  'this shows its plan and asks before acting, but there is no terminal to ask on: pass --yes to act after the plan without asking, or --dry-run for the plan alone';

/** The plan of a dry run, as a person reviews it before saying yes. */
async function planLines(context: CommandContext, plan: ActionViewAnswer): Promise<string[]> {
  const { colors } = context;
  const lines = [`Plan: ${summaryLine(plan, colors)}`];
  if (plan.steps === undefined) {
    lines.push(...resultLines(plan, colors), ...scopeLines(plan));
  } else {
    // Each step's own dry run: every target every step would touch, before anything runs.
    for (const [index, step] of plan.steps.entries()) {
      lines.push(stepLine(step, index, colors));
      if (step.childActionId === undefined) continue;
      const child = await context.api.view(step.childActionId);
      lines.push(...resultLines(child, colors).map((line) => `    ${line}`));
      const reasons = plannedApproval(child);
      if (reasons.length > 0) {
        lines.push(`      needs approval by a second person: ${reasons.join('; ')}`);
      }
    }
  }
  const reasons = plannedApproval(plan);
  if (reasons.length > 0) {
    lines.push(`  needs approval by a second person: ${reasons.join('; ')}`);
  }
  return lines;
}

/**
 * Sends an action request (`POST /v1/actions`) as the CLI's commands do: a dry run first when
 * asked or when the request must be confirmed, the question, then the request itself, followed
 * to its end (or to a wait for approval). Returns the exit code.
 */
export async function submitRequest(
  context: CommandContext,
  command: Command,
  request: Readonly<Record<string, unknown>>,
  options: SubmitOptions,
): Promise<ExitCode> {
  const asking = options.confirmFirst && !options.dryRun && !options.yes;
  if (asking && context.io.stdin.isTTY !== true) {
    command.error(`error: ${NO_TERMINAL_TO_CONFIRM}`, { exitCode: EXIT.usage });
  }
  // One key per request of this invocation: a retry of it is the same request, never a second.
  const idempotencyKey = randomUUID();
  if (options.dryRun || options.confirmFirst) {
    const accepted = await context.api.submit(
      { ...request, dryRun: true },
      `${idempotencyKey}.plan`,
    );
    const plan = await follow(context.api, accepted.actionId, context.progress(), context.sleep);
    if (options.dryRun || plan.status !== 'planned') {
      return reportView(context, plan, { timeline: options.timeline });
    }
    context.io.stderr.write(`${(await planLines(context, plan)).join('\n')}\n`);
    if (asking && !(await confirm(context.io, 'Proceed?'))) {
      context.io.stderr.write('Nothing was done.\n');
      return EXIT.failed;
    }
  }
  const accepted = await context.api.submit({ ...request, dryRun: false }, idempotencyKey);
  const again = accepted.duplicate === true ? ' (the same request was already accepted)' : '';
  if (!options.follow) {
    const view = await context.api.view(accepted.actionId);
    if (context.json) context.printJson(view);
    else {
      context.human.write(
        `${summaryLine(view, context.colors)}${again}\n  follow it with: citrix-response status ${accepted.actionId} --follow\n`,
      );
    }
    return exitCodeOf(view);
  }
  if (again !== '') context.io.stderr.write(`${accepted.actionId}${again}\n`);
  const view = await follow(context.api, accepted.actionId, context.progress(), context.sleep);
  return reportView(context, view, { timeline: options.timeline });
}
