import * as z from 'zod';
import type { TargetValue } from './declaration.ts';
import {
  type ActionRecord,
  ActionTypeSchema,
  declarationOf,
  isRunbookTarget,
  isSweepTarget,
  modeOf,
} from './schema.ts';

/** How a finished action can be undone: the catalog action, and the command a person runs. */
export const ActionUndoSchema = z
  .object({
    action: ActionTypeSchema,
    command: z.string(),
  })
  .meta({
    id: 'ActionUndo',
    description:
      'How to undo the action (its declaration names the action that undoes it): the command to run, with a reason of your own. Absent where Citrix allows no undo.',
  });
export type ActionUndo = z.infer<typeof ActionUndoSchema>;

/** A value as one shell word: as it is when it is plain, single-quoted otherwise. */
function shellWord(value: string): string {
  return /^[\w@.+:/=-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}

/**
 * The undo of an action that changed something (succeeded or partially succeeded, not a dry
 * run) when its declaration names one for the mode it ran in, e.g. `admin.restore` after a strip.
 */
export function undoOf(
  record: Pick<ActionRecord, 'action' | 'status' | 'dryRun' | 'target' | 'options'>,
): ActionUndo | undefined {
  const undo = declarationOf(record.action).undoneBy;
  if (undo === undefined || record.dryRun) return undefined;
  if (record.status !== 'succeeded' && record.status !== 'partially_succeeded') return undefined;
  const mode = modeOf(record.action, record.options);
  if (undo.modes !== undefined && (mode === undefined || !undo.modes.includes(mode))) {
    return undefined;
  }
  // A sweep's run names what it looked for, not targets a person could name again.
  if (isSweepTarget(record.target)) return undefined;
  // A runbook run is undone step by step, each by its own action's undo.
  if (isRunbookTarget(record.target)) return undefined;
  const target: Readonly<Record<string, TargetValue>> = record.target;
  const flags = Object.entries(target).flatMap(([field, value]) =>
    (typeof value === 'string' ? [value] : value).map((one) => `--${field} ${shellWord(one)}`),
  );
  const action = ActionTypeSchema.parse(undo.action);
  return { action, command: `citrix-response act ${action} ${flags.join(' ')} --reason "…"` };
}
