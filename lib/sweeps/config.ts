import * as z from 'zod';
import {
  FIND_KINDS,
  type FindKind,
  FreeText,
  MAX_SWEEP_TARGETS,
  SweepNameSchema,
} from '../actions/declaration.ts';
import {
  ACTION_TYPES,
  ActionRequestSchema,
  type ActionType,
  ActionTypeSchema,
  CallbackNameSchema,
  declarationOf,
} from '../actions/schema.ts';
import { RUNBOOK_ACTION, RunbookInputsSchema, RunbookNameSchema } from '../runbooks/definition.ts';
import { describeConfigIssue, readJsonConfig } from '../runtime/json-config.ts';
import { ScheduleExpressionSchema, TimeZoneSchema } from './schedule-expression.ts';

/**
 * Sweeps, declared in config/sweeps.json (`SWEEPS_FILE` elsewhere): what to look for, which
 * catalog action to run over it, on which schedule, in `report` or `enforce` mode. What a sweep
 * can find and which actions can run over each kind come from the catalog's `sweeps` declarations.
 */

export const SWEEP_MODES = ['report', 'enforce'] as const;
export type SweepMode = (typeof SWEEP_MODES)[number];

/** The filter schema of each kind a sweep can find, and the actions that can run over it. */
const FINDERS = Object.fromEntries(
  FIND_KINDS.map((kind) => {
    const actions = ACTION_TYPES.filter((action) => declarationOf(action).sweeps?.find === kind);
    const filter = actions.map((action) => declarationOf(action).sweeps?.filter)[0];
    if (filter === undefined) throw new TypeError(`No action declares sweeps over ${kind}`);
    return [kind, { filter, actions }];
  }),
) as unknown as Record<
  FindKind,
  { readonly filter: z.ZodType; readonly actions: readonly ActionType[] }
>;

/** Exactly one kind, e.g. `{ "sessions": { "state": "Disconnected", "olderThan": "PT8H" } }`. */
const FindSchema = z
  .strictObject(
    Object.fromEntries(FIND_KINDS.map((kind) => [kind, FINDERS[kind].filter.optional()])),
  )
  .refine((find) => Object.values(find).filter((value) => value !== undefined).length === 1, {
    message: `must name exactly one of ${FIND_KINDS.join(', ')}`,
  })
  .transform((find) => {
    const kind = FIND_KINDS.find((name) => find[name] !== undefined) as FindKind;
    return { [kind]: find[kind] } as Partial<Record<FindKind, unknown>>;
  });

/** What every sweep declares, whatever it runs. */
const SweepFields = {
  name: SweepNameSchema,
  description: FreeText(500).optional(),
  /** `rate(…)` or `cron(…)`, as EventBridge Scheduler takes it. */
  schedule: ScheduleExpressionSchema,
  timezone: TimeZoneSchema.default('UTC'),
  /** `report` records and tells the plan (a dry run); `enforce` acts. */
  mode: z.enum(SWEEP_MODES),
  enabled: z.boolean(),
  /** Recorded as the action's reason; default "Scheduled sweep <name>". */
  reason: FreeText(1000).optional(),
  ticket: FreeText(128).optional(),
  /** A configured callback destination told of each run's outcome. */
  callback: CallbackNameSchema.optional(),
};

/** A sweep that runs one catalog action over what it finds. */
const FindSweepSchema = z
  .strictObject({
    ...SweepFields,
    find: FindSchema,
    action: ActionTypeSchema,
    /** More matches than this and the run is refused whole, never cut to a partial set. */
    maxTargets: z.int().min(1).max(MAX_SWEEP_TARGETS),
  })
  .superRefine((sweep, ctx) => {
    // A `find` naming no kind is reported by its own schema; nothing to compare with then.
    const kind = FIND_KINDS.find((name) => sweep.find[name] !== undefined);
    if (kind === undefined) return;
    const actions = FINDERS[kind].actions;
    if (!actions.includes(sweep.action)) {
      ctx.addIssue({
        code: 'custom',
        path: ['action'],
        message: `${sweep.action} cannot run over find.${kind}; use one of ${actions.join(', ')}`,
      });
    }
  });

/**
 * A sweep that runs a runbook (deployed with the product) on its schedule, with fixed inputs; a
 * `report` sweep runs it as a dry run. Its steps find their own targets, each with its guardrails.
 */
const RunbookSweepSchema = z
  .strictObject({
    ...SweepFields,
    runbook: z.strictObject({
      name: RunbookNameSchema,
      inputs: RunbookInputsSchema.default({}),
    }),
  })
  .superRefine((sweep, ctx) => {
    // The run's request, checked as any request is: the runbook exists, its inputs and steps hold.
    const parsed = ActionRequestSchema.safeParse(runbookRequestOf(sweep, sweep.mode === 'report'));
    for (const issue of parsed.error?.issues ?? []) {
      const [field, ...rest] = issue.path;
      const path =
        field === 'inputs'
          ? ['runbook', 'inputs', ...rest]
          : field === 'target'
            ? ['runbook', 'name']
            : ['runbook'];
      ctx.addIssue({ code: 'custom', path, message: issue.message });
    }
  });
export type RunbookSweep = z.output<typeof RunbookSweepSchema>;

/** The request of one run of a runbook sweep: as the sweep says, a dry run in report mode. */
export function runbookRequestOf(
  sweep: Pick<RunbookSweep, 'name' | 'description' | 'reason' | 'ticket' | 'callback' | 'runbook'>,
  dryRun: boolean,
) {
  return {
    action: RUNBOOK_ACTION,
    target: { runbook: sweep.runbook.name },
    inputs: sweep.runbook.inputs,
    reason: sweepReason(sweep),
    requestedBy: sweep.name,
    dryRun,
    ...(sweep.ticket === undefined ? {} : { ticket: sweep.ticket }),
    ...(sweep.callback === undefined ? {} : { callback: sweep.callback }),
  };
}

/** What a run of the sweep is recorded as asked for: its reason, or its name and description. */
export function sweepReason(sweep: Pick<RunbookSweep, 'name' | 'description' | 'reason'>): string {
  return (
    sweep.reason ??
    `Sweep ${sweep.name}${sweep.description ? `: ${sweep.description}` : ''}`.slice(0, 1000)
  );
}

/**
 * One sweep: a runbook sweep when it names a runbook, else a find sweep. Each is checked by its
 * own schema, so a problem names its field rather than "no kind of sweep matched".
 */
export const SweepSchema = z.unknown().transform((input, ctx): Sweep => {
  const runsRunbook = input !== null && typeof input === 'object' && 'runbook' in input;
  const parsed = (runsRunbook ? RunbookSweepSchema : FindSweepSchema).safeParse(input);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    for (const key of keys) {
      ctx.addIssue({
        code: 'custom',
        message: key === undefined ? issue.message : 'is not a field of this sweep',
        path: key === undefined ? issue.path : [...issue.path, key],
      });
    }
  }
  return z.NEVER;
});
export type FindSweep = z.output<typeof FindSweepSchema>;
export type Sweep = FindSweep | RunbookSweep;

/** What a sweep runs, in words: `session.logoff over sessions`, `runbook compromised-user`. */
export function describeSweepWork(sweep: Sweep): string {
  return 'runbook' in sweep
    ? `runbook ${sweep.runbook.name}`
    : `${sweep.action} over ${findKindOf(sweep.find)}`;
}

export const SweepsFileSchema = z
  .strictObject({ sweeps: z.array(SweepSchema).max(100, 'must declare at most 100 sweeps') })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.sweeps.forEach((sweep, index) => {
      if (seen.has(sweep.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['sweeps', index, 'name'],
          message: `"${sweep.name}" is declared twice`,
        });
      }
      seen.add(sweep.name);
    });
  });
export type SweepsFile = z.output<typeof SweepsFileSchema>;

/** The one kind a parsed `find` names. */
export function findKindOf(find: Partial<Record<FindKind, unknown>>): FindKind {
  const kind = FIND_KINDS.find((name) => find[name] !== undefined);
  if (kind === undefined) throw new TypeError('A sweep finds nothing');
  return kind;
}

export class SweepsFileError extends Error {
  override name = 'SweepsFileError';
}

export function parseSweeps(input: unknown, source = 'sweeps'): SweepsFile {
  const parsed = SweepsFileSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => describeConfigIssue(issue, input, 'sweep'));
    throw new SweepsFileError(`Invalid ${source}: ${problems.join('; ')}`, { cause: parsed.error });
  }
  return parsed.data;
}

/** The most bytes a sweeps file may have: it is read whole, at start and at synth. */
export const MAX_SWEEPS_FILE_BYTES = 256 * 1024;

export function loadSweeps(path: string | URL): SweepsFile {
  const json = readJsonConfig(path, 'sweeps', SweepsFileError, MAX_SWEEPS_FILE_BYTES);
  return parseSweeps(json, `sweeps file ${String(path)}`);
}

/** Where the sweeps are declared unless `SWEEPS_FILE` says otherwise (relative to the repo). */
export const DEFAULT_SWEEPS_FILE = 'config/sweeps.json';

/**
 * Every callback a sweep names must be a configured destination (checked at start and at synth,
 * as a route's is): one problem per sweep that names another.
 */
export function sweepCallbackProblems(
  sweeps: SweepsFile,
  destinations: ReadonlySet<string>,
): string[] {
  return sweeps.sweeps.flatMap((sweep, index) =>
    sweep.callback === undefined || destinations.has(sweep.callback)
      ? []
      : [
          `sweeps[${index}] (sweep "${sweep.name}").callback: no callback destination named "${sweep.callback}"`,
        ],
  );
}
