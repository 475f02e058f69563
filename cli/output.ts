import pc from 'picocolors';
import type { ActionStatus } from '../lib/actions/schema.ts';
import type { StepStatus } from '../lib/runbooks/definition.ts';
import type {
  ActionListItemAnswer,
  ActionViewAnswer,
  RunbookStepAnswer,
  TargetResultAnswer,
  TimelineEntryAnswer,
} from './answers.ts';
import type { Output } from './io.ts';

export type Colors = ReturnType<typeof pc.createColors>;

/** Colour only for a person at a terminal: never in a pipe, with NO_COLOR, or with --no-color. */
export function colorsFor(
  stream: Output,
  env: Readonly<Record<string, string | undefined>>,
  colorOption: boolean,
): Colors {
  return pc.createColors(colorOption && stream.isTTY === true && !env.NO_COLOR);
}

/** How each status is shown: good news green, bad news red, waiting yellow. */
const STATUS_COLORS = {
  accepted: 'cyan',
  running: 'cyan',
  succeeded: 'green',
  planned: 'green',
  partially_succeeded: 'yellow',
  awaiting_approval: 'yellow',
  failed: 'red',
  refused: 'red',
  rejected: 'red',
  expired: 'red',
} as const satisfies Record<ActionStatus, 'cyan' | 'green' | 'yellow' | 'red'>;

export function statusText(status: ActionStatus, colors: Colors): string {
  return colors[STATUS_COLORS[status]](status);
}

/** `user alice@example.com`, `users a, b`, `runbook compromised-user`: what the request named. */
export function targetText(target: Readonly<Record<string, unknown>>): string {
  return Object.entries(target)
    .map(([field, value]) => {
      if (Array.isArray(value)) return `${field} ${value.map(String).join(', ')}`;
      if (typeof value === 'string') return `${field} ${value}`;
      // A runbook definition or a sweep's find: named, not dumped.
      const name = (value as { name?: unknown } | null)?.name;
      return typeof name === 'string' ? `${field} ${name}` : field;
    })
    .join(', ');
}

/** The one line every command starts with: `act_… session.logoff succeeded: 2 of 2 sessions …`. */
export function summaryLine(view: ActionViewAnswer, colors: Colors): string {
  const what = view.summary ?? targetText(view.target);
  const dryRun = view.dryRun && view.status !== 'planned' ? ' (dry run)' : '';
  return `${colors.bold(view.actionId)} ${view.action} ${statusText(view.status, colors)}${dryRun}: ${what}`;
}

/** How a target is named: the user and what of theirs, or the administrator. */
export function resultName(result: TargetResultAnswer): string {
  if (result.administratorId !== undefined) {
    return result.email ?? result.displayName ?? result.administratorId;
  }
  if (result.deviceId !== undefined) {
    const owner = result.userName === undefined ? '' : ` of ${result.userName}`;
    return `${result.deviceModel ?? 'device'} ${result.deviceId}${owner}`;
  }
  const machine = result.machineName === undefined ? '' : ` on ${result.machineName}`;
  return `${result.userName ?? 'session'} ${result.sessionId ?? ''}${machine}`.trim();
}

const OUTCOME_MARKS: Readonly<Record<string, 'green' | 'red' | 'yellow' | 'dim'>> = {
  succeeded: 'green',
  planned: 'green',
  failed: 'red',
  timed_out: 'red',
  unconfirmed: 'yellow',
  refused: 'red',
  skipped: 'dim',
};

/** More targets than this are counted, not listed (`--json` has them all). */
export const MAX_LISTED_TARGETS = 50;

/** One line per target: what it is, its outcome, and why (a skip, a refusal, an error). */
export function resultLines(view: ActionViewAnswer, colors: Colors): string[] {
  const results = view.results ?? [];
  const lines = results.slice(0, MAX_LISTED_TARGETS).map((result) => {
    const why = result.error?.message ?? result.refusal ?? result.note ?? result.skipReason;
    const color = OUTCOME_MARKS[result.outcome] ?? 'yellow';
    return `  ${resultName(result)}: ${colors[color](result.outcome)}${why === undefined ? '' : ` (${why})`}`;
  });
  const more = results.length - MAX_LISTED_TARGETS;
  return more > 0 ? [...lines, `  … and ${more} more (--json lists them all)`] : lines;
}

/** A session action's plan by delivery group and machine, when there are several. */
export function scopeLines(view: ActionViewAnswer): string[] {
  const scope = view.scope;
  if (scope === undefined) return [];
  const counts = (
    label: string,
    entries: readonly { name: string; targets: number; actionable: number }[],
    more: number,
  ) =>
    entries.length <= 1 && more === 0
      ? []
      : [
          `  by ${label}: ${entries.map((entry) => `${entry.name} ${entry.actionable}/${entry.targets}`).join(', ')}${more > 0 ? `, ${more} more` : ''}`,
        ];
  return [
    `  ${scope.actionable} of ${scope.targets} sessions would be acted on`,
    ...counts('delivery group', scope.byDeliveryGroup, scope.moreDeliveryGroups),
    ...counts('machine', scope.byMachine, scope.moreMachines),
  ];
}

/**
 * Why the guardrails would hold (or refuse) the action, as the dry run's decision recorded it in
 * the timeline: a plan says whether a second person will have to approve.
 */
export function plannedApproval(view: ActionViewAnswer): string[] {
  const decision = (view.timeline ?? []).find(
    (entry) => entry.type === 'decision' && entry.details?.decision === 'planned',
  );
  const reasons = decision?.details?.reasons;
  return Array.isArray(reasons) ? reasons.map(String) : [];
}

const STEP_COLORS = {
  pending: 'dim',
  running: 'cyan',
  awaiting_approval: 'yellow',
  succeeded: 'green',
  partially_succeeded: 'yellow',
  failed: 'red',
  refused: 'red',
  rejected: 'red',
  expired: 'red',
  planned: 'green',
  skipped: 'dim',
  not_run: 'dim',
} as const satisfies Record<StepStatus, 'green' | 'red' | 'yellow' | 'dim' | 'cyan'>;

const isStepStatus = (status: string): status is StepStatus => status in STEP_COLORS;

export function stepLine(step: RunbookStepAnswer, index: number, colors: Colors): string {
  // A status this CLI does not know yet (a newer stack) is shown as it is, uncoloured.
  const status = isStepStatus(step.status)
    ? colors[STEP_COLORS[step.status]](step.status)
    : step.status;
  const child = step.childActionId === undefined ? '' : ` ${colors.dim(step.childActionId)}`;
  const summary = step.summary === undefined ? '' : `: ${step.summary}`;
  return `  ${index + 1}. ${step.id} (${step.action}) ${status}${child}${summary}`;
}

/** The whole picture after the summary line: steps of a runbook, or the targets of an action. */
export function detailLines(view: ActionViewAnswer, colors: Colors): string[] {
  const audit = auditFailureLines(view, colors);
  if (view.steps !== undefined) {
    return [...view.steps.map((step, index) => stepLine(step, index, colors)), ...audit];
  }
  const undo = view.undo === undefined ? [] : [`  undo with: ${view.undo.command}`];
  return view.status === 'planned'
    ? [...resultLines(view, colors), ...scopeLines(view), ...audit]
    : [...resultLines(view, colors), ...undo, ...audit];
}

/** `2026-03-01 10:04:05` in UTC: a timeline is read across people and time zones. */
const shortTime = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');

/** A warning line per audit write that failed: the timeline lacks those entries. */
function auditFailureLines(view: ActionViewAnswer, colors: Colors): string[] {
  return (view.auditFailures ?? []).map((failure) =>
    colors.yellow(
      `  audit: ${failure.entries} ${failure.entries === 1 ? 'entry' : 'entries'} (${failure.types.join(', ')}) not written at ${shortTime(failure.at)}: ${failure.error.name}; the timeline lacks them`,
    ),
  );
}

export function timelineLines(timeline: readonly TimelineEntryAnswer[], colors: Colors): string[] {
  return timeline.map(
    (entry) => `  ${colors.dim(shortTime(entry.at))} ${entry.type.padEnd(14)} ${entry.summary}`,
  );
}

/** Cuts a cell to `width` characters, marking the cut. */
const cell = (text: string, width: number) =>
  text.length <= width ? text.padEnd(width) : `${text.slice(0, width - 1)}…`;

/** The listing as a table: newest first, one action a line. */
export function listTable(items: readonly ActionListItemAnswer[], colors: Colors): string[] {
  const header = `${cell('CREATED (UTC)', 19)}  ${cell('ACTION ID', 36)}  ${cell('ACTION', 22)}  ${cell('STATUS', 19)}  ${cell('TICKET', 12)}  TARGET`;
  const rows = items.map((item) => {
    // Pad before colouring: escape codes would count as width.
    const status = statusText(item.status, colors).replace(
      item.status,
      cell(item.dryRun ? `${item.status} (dry)` : item.status, 19),
    );
    return `${cell(shortTime(item.createdAt), 19)}  ${cell(item.actionId, 36)}  ${cell(item.action, 22)}  ${status}  ${cell(item.ticket ?? '', 12)}  ${targetText(item.target)}`;
  });
  return [colors.bold(header), ...rows];
}
