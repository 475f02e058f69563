import * as z from 'zod';
import {
  FreeText,
  TARGET_FIELDS,
  WORKFLOW_NAMES,
  type WorkflowName,
} from '../actions/declaration.ts';

/**
 * A runbook as a file declares it (runbooks/<name>.yaml or .json): named inputs, then ordered
 * steps, each one catalog action whose target and texts may be filled from the inputs. This
 * module checks the shape only and imports no catalog (the catalog's `runbook.run` declaration
 * uses it); `lib/runbooks/validate.ts` checks each step against its action's own request schema.
 */

/** The catalog action that runs a runbook; a runbook's steps may be any other action. */
export const RUNBOOK_ACTION = 'runbook.run' as const;

/** The workflows a step's action can run in: every one but the runbook workflow (no nesting). */
export const STEP_WORKFLOW_NAMES = WORKFLOW_NAMES.filter(
  (workflow): workflow is Exclude<WorkflowName, 'runbook'> => workflow !== 'runbook',
);

export const RUNBOOK_LIMITS = {
  /** The most a runbook file (or a `definition` in a request) may weigh. */
  maxBytes: 64 * 1024,
  maxSteps: 20,
  maxInputs: 10,
  /** The longest input value. */
  maxInputLength: 256,
  /** How deep `all`, `any` and `not` may nest in a step's `if`. */
  maxConditionDepth: 4,
} as const;

const SLUG = /^[a-z0-9][a-z0-9-]{0,47}$/;
const SLUG_MESSAGE = 'must be 1-48 lower-case letters, digits and dashes';

/** A runbook's name: its file's name, e.g. `compromised-user` for runbooks/compromised-user.yaml. */
export const RunbookNameSchema = z.string().regex(SLUG, SLUG_MESSAGE);

/** A step's id, unique in its runbook; conditions and the run's record name steps by it. */
export const StepIdSchema = z.string().regex(SLUG, SLUG_MESSAGE);

/** An input's name, as `{{inputs.<name>}}` and the CLI's `--<name>` flag spell it. */
export const InputNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/, 'must be lower-case letters and digits, with dashes')
  .max(32, 'must be at most 32 characters');

/** `{{inputs.user}}`, spaces allowed inside the braces. */
const PLACEHOLDER = /\{\{\s*([^}]*?)\s*\}\}/g;
const INPUT_REFERENCE = /^inputs\.([a-z][a-z0-9]*(?:-[a-z0-9]+)*)$/;

/** The inputs a text names, and the placeholders that name no input (`{{alert.user}}`). */
export function placeholdersIn(text: string): { inputs: string[]; invalid: string[] } {
  const inputs: string[] = [];
  const invalid: string[] = [];
  for (const [, reference = ''] of text.matchAll(PLACEHOLDER)) {
    const input = INPUT_REFERENCE.exec(reference)?.[1];
    if (input === undefined) invalid.push(reference);
    else inputs.push(input);
  }
  return { inputs, invalid };
}

/** The text with each `{{inputs.<name>}}` replaced by the input's value (none: left empty). */
export function renderTemplate(text: string, inputs: Readonly<Record<string, string>>): string {
  return text.replace(PLACEHOLDER, (_, reference: string) => {
    const input = INPUT_REFERENCE.exec(reference)?.[1];
    return input === undefined ? '' : (inputs[input] ?? '');
  });
}

/** Text that may hold `{{inputs.<name>}}` placeholders; filled in before the step's request. */
const TemplateText = (max: number) => z.string().min(1, 'must not be empty').max(max);

/** Whether a pattern compiles as the run's inputs are matched against it (Unicode, whole value). */
function compiles(pattern: string): boolean {
  try {
    new RegExp(`^(?:${pattern})$`, 'u');
    return true;
  } catch {
    return false;
  }
}

export const RunbookInputSchema = z.strictObject({
  description: FreeText(500),
  /** A run without a required input is refused; an optional one is left empty in templates. */
  required: z.boolean().default(true),
  /** A regular expression the whole value must match (`u` flag), e.g. `[^@\\s]+@[^@\\s]+`. */
  pattern: z
    .string()
    .min(1)
    .max(500)
    .refine(compiles, { message: 'must be a valid regular expression' })
    .optional(),
  /** A value to show in help, and to check each step's request with when the file is loaded. */
  example: FreeText(RUNBOOK_LIMITS.maxInputLength).optional(),
});
export type RunbookInput = z.output<typeof RunbookInputSchema>;

/** The statuses a step of a run goes through; `not_run`: the run stopped at an earlier step. */
export const STEP_STATUSES = [
  'pending',
  'running',
  'awaiting_approval',
  'succeeded',
  'partially_succeeded',
  'failed',
  'refused',
  'rejected',
  'expired',
  'planned',
  'skipped',
  'not_run',
] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** The statuses a step ends in: what a condition can test an earlier step for. */
export const FINAL_STEP_STATUSES = [
  'succeeded',
  'partially_succeeded',
  'failed',
  'refused',
  'rejected',
  'expired',
  'planned',
  'skipped',
  'not_run',
] as const satisfies readonly StepStatus[];
export type FinalStepStatus = (typeof FINAL_STEP_STATUSES)[number];

/** A step ended without doing what it was for: stops the run unless `continueOnFailure`. */
export const FAILED_STEP_STATUSES = [
  'failed',
  'refused',
  'rejected',
  'expired',
] as const satisfies readonly FinalStepStatus[];

/** A test of an earlier step: its status, and how many targets it planned or acted on. */
export interface StepCondition {
  readonly step: string;
  readonly status?: readonly FinalStepStatus[] | undefined;
  readonly targets?: { readonly min?: number | undefined; readonly max?: number | undefined };
}
export type Condition =
  | StepCondition
  | { readonly all: readonly Condition[] }
  | { readonly any: readonly Condition[] }
  | { readonly not: Condition };

const StepConditionSchema = z
  .strictObject({
    step: StepIdSchema,
    status: z.array(z.enum(FINAL_STEP_STATUSES)).min(1).optional(),
    /** Targets the step planned (a dry run or a probe) or would act on, e.g. `{ min: 1 }`. */
    targets: z
      .strictObject({ min: z.int().min(0).optional(), max: z.int().min(0).optional() })
      .refine((range) => range.min !== undefined || range.max !== undefined, {
        message: 'must say min, max or both',
      })
      .optional(),
  })
  .refine((condition) => condition.status !== undefined || condition.targets !== undefined, {
    message: 'must test the step by status, targets or both',
  });

export const ConditionSchema: z.ZodType<Condition> = z.union([
  StepConditionSchema,
  z.strictObject({
    get all() {
      return z.array(ConditionSchema).min(1).max(10);
    },
  }),
  z.strictObject({
    get any() {
      return z.array(ConditionSchema).min(1).max(10);
    },
  }),
  z.strictObject({
    get not() {
      return ConditionSchema;
    },
  }),
]);

/** Option and warning fields: checked by the step's action's own request schema once filled. */
const StepFieldsSchema = z
  .record(z.string().max(32), z.union([TemplateText(1000), z.number(), z.boolean()]))
  .refine((fields) => Object.keys(fields).length <= 10, { message: 'must have at most 10 fields' });

export const RunbookStepSchema = z.strictObject({
  id: StepIdSchema,
  /** A catalog action (never `runbook.run`: runbooks do not nest). */
  action: z
    .string()
    .min(3)
    .max(64)
    .refine((action) => action !== RUNBOOK_ACTION, {
      message: 'runbooks do not nest: a step cannot run a runbook',
    }),
  /** The action's target, one field, e.g. `{ user: "{{inputs.user}}" }`. */
  target: z.partialRecord(
    z.enum(TARGET_FIELDS),
    z.union([TemplateText(256), z.array(TemplateText(256)).min(1).max(100)]),
  ),
  /** Default: the run's reason, with the runbook and step named. */
  reason: TemplateText(1000).optional(),
  options: StepFieldsSchema.optional(),
  notify: StepFieldsSchema.optional(),
  urgency: z.string().max(16).optional(),
  /**
   * A probe: the step only plans (a dry run), whatever the run does, to find out something a
   * later step's `if` tests, such as whether the user is a Citrix Cloud administrator.
   */
  dryRun: z.literal(true).optional(),
  /** Run only when this holds over the earlier steps; otherwise recorded as `skipped`. */
  if: ConditionSchema.optional(),
  /** Go on to the next step when this one fails, is refused, rejected or expires. */
  continueOnFailure: z.boolean().default(false),
});
export type RunbookStep = z.output<typeof RunbookStepSchema>;

/** The steps a condition tests, and how deep it nests. */
function conditionFacts(condition: Condition): { steps: string[]; depth: number } {
  if ('step' in condition) return { steps: [condition.step], depth: 0 };
  const parts =
    'all' in condition ? condition.all : 'any' in condition ? condition.any : [condition.not];
  const facts = parts.map(conditionFacts);
  return {
    steps: facts.flatMap((fact) => fact.steps),
    depth: 1 + Math.max(0, ...facts.map((fact) => fact.depth)),
  };
}

/** Every text of a step that may hold placeholders, with its path in the step. */
export function stepTexts(step: RunbookStep): { path: PropertyKey[]; text: string }[] {
  const texts: { path: PropertyKey[]; text: string }[] = [];
  for (const [field, value] of Object.entries(step.target)) {
    if (typeof value === 'string') texts.push({ path: ['target', field], text: value });
    else {
      for (const [index, text] of (value ?? []).entries()) {
        texts.push({ path: ['target', field, index], text });
      }
    }
  }
  if (step.reason !== undefined) texts.push({ path: ['reason'], text: step.reason });
  for (const group of ['options', 'notify'] as const) {
    for (const [field, value] of Object.entries(step[group] ?? {})) {
      if (typeof value === 'string') texts.push({ path: [group, field], text: value });
    }
  }
  return texts;
}

export const RunbookSchema = z
  .strictObject({
    name: RunbookNameSchema,
    description: FreeText(1000),
    inputs: z
      .record(InputNameSchema, RunbookInputSchema)
      .refine((inputs) => Object.keys(inputs).length <= RUNBOOK_LIMITS.maxInputs, {
        message: `must declare at most ${RUNBOOK_LIMITS.maxInputs} inputs`,
      })
      .default({}),
    steps: z
      .array(RunbookStepSchema)
      .min(1, 'must have at least one step')
      .max(RUNBOOK_LIMITS.maxSteps, `must have at most ${RUNBOOK_LIMITS.maxSteps} steps`),
  })
  .superRefine((runbook, ctx) => {
    for (const [name, input] of Object.entries(runbook.inputs)) {
      if (input.example === undefined || input.pattern === undefined) continue;
      if (!new RegExp(`^(?:${input.pattern})$`, 'u').test(input.example)) {
        ctx.addIssue({
          code: 'custom',
          path: ['inputs', name, 'example'],
          message: 'does not match the pattern',
        });
      }
    }
    const earlier = new Set<string>();
    runbook.steps.forEach((step, index) => {
      if (earlier.has(step.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', index, 'id'],
          message: `"${step.id}" is the id of an earlier step`,
        });
      }
      if (Object.keys(step.target).length !== 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', index, 'target'],
          message: `must name exactly one of ${TARGET_FIELDS.join(', ')}`,
        });
      }
      if (step.if !== undefined) {
        const facts = conditionFacts(step.if);
        for (const tested of facts.steps.filter((id) => !earlier.has(id))) {
          ctx.addIssue({
            code: 'custom',
            path: ['steps', index, 'if'],
            message: `tests "${tested}", which is not an earlier step`,
          });
        }
        if (facts.depth > RUNBOOK_LIMITS.maxConditionDepth) {
          ctx.addIssue({
            code: 'custom',
            path: ['steps', index, 'if'],
            message: `nests all, any and not more than ${RUNBOOK_LIMITS.maxConditionDepth} deep`,
          });
        }
      }
      for (const { path, text } of stepTexts(step)) {
        const found = placeholdersIn(text);
        for (const reference of found.invalid) {
          ctx.addIssue({
            code: 'custom',
            path: ['steps', index, ...path],
            message: `{{${reference}}} is not a placeholder: only {{inputs.<name>}}`,
          });
        }
        for (const input of found.inputs.filter((name) => !(name in runbook.inputs))) {
          ctx.addIssue({
            code: 'custom',
            path: ['steps', index, ...path],
            message: `{{inputs.${input}}} names no declared input`,
          });
        }
      }
      earlier.add(step.id);
    });
  });
export type Runbook = z.output<typeof RunbookSchema>;

/**
 * What a `runbook.run` request names: a runbook deployed with the product (`runbook`), or a whole
 * runbook the caller holds (`definition`, as in a file); each step still goes through its own
 * action's guardrails and approvals.
 */
export const RunbookTargetSchema = z
  .strictObject({
    runbook: RunbookNameSchema.optional(),
    definition: RunbookSchema.optional(),
  })
  .refine((target) => (target.runbook === undefined) !== (target.definition === undefined), {
    message: 'must have exactly one of runbook, definition',
  })
  .transform(
    (target): RunbookTarget =>
      target.definition === undefined
        ? { runbook: target.runbook ?? '' }
        : { definition: target.definition },
  )
  .meta({
    id: 'RunbookTarget',
    description:
      'Exactly one of `runbook` (the name of a runbook deployed with the product) or `definition` (a whole runbook, as in a runbook file).',
  });
export type RunbookTarget = { readonly runbook: string } | { readonly definition: Runbook };

/** The values a run's inputs get: by input name, one line of text each. */
export const RunbookInputsSchema = z
  .record(InputNameSchema, FreeText(RUNBOOK_LIMITS.maxInputLength))
  .refine((inputs) => Object.keys(inputs).length <= RUNBOOK_LIMITS.maxInputs, {
    message: `must have at most ${RUNBOOK_LIMITS.maxInputs} inputs`,
  })
  .meta({
    description:
      'The runbook\'s inputs by name (`runbook.run` only), e.g. `{ "user": "alice@example.com" }`.',
  });
export type RunbookInputs = z.output<typeof RunbookInputsSchema>;

/** One step of a run, as the run's record keeps it (and `GET /v1/actions/{id}` shows it). */
export const RunbookStepRecordSchema = z.object({
  id: z.string(),
  action: z.string(),
  status: z.enum(STEP_STATUSES),
  /** The step's own action, started with a child action id derived from the run's. */
  childActionId: z.string().optional(),
  /** Its action's summary, or why it was skipped or not run. */
  summary: z.string().optional(),
  /** Targets it planned or acted on (what `if: { targets }` tests). */
  targets: z.int().min(0).optional(),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  /** Times the run looked at the step's action while it ran (the next wait grows with it). */
  polls: z.int().min(0).optional(),
});
export type RunbookStepRecord = z.infer<typeof RunbookStepRecordSchema>;
