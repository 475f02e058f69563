import * as z from 'zod';

/**
 * What an action declaration says. Each product folder declares its actions once
 * (lib/sessions/catalog.ts, lib/devices/catalog.ts, lib/administrators/catalog.ts) and
 * lib/actions/catalog.ts lists them; API validation, routing rules, workflow choice, guardrail
 * defaults, the dry-run plan, `npm start` and the docs are all derived from those declarations.
 * This module holds only types and the field schemas declarations share, so that a product's
 * declarations never import the derived modules (no import circle).
 */

/**
 * The products this project acts on; each has one workflow. The Citrix products have one Citrix
 * client each; `runbooks` has none of its own: a run's steps are actions of the others.
 */
export const PRODUCTS = ['sessions', 'devices', 'administrators', 'runbooks'] as const;
export type Product = (typeof PRODUCTS)[number];
/** The products that act on Citrix targets themselves (resolve, plan, act on each target). */
export type TargetProduct = Exclude<Product, 'runbooks'>;

/** The state machine (state-machines/<name>.asl.json) that carries out an action. */
export const WORKFLOW_NAMES = [
  'session-action',
  'device-action',
  'admin-action',
  'runbook',
] as const;
export type WorkflowName = (typeof WORKFLOW_NAMES)[number];

/** The variable that names a workflow's state machine ARN, e.g. `SESSION_ACTION_STATE_MACHINE_ARN`. */
export function stateMachineArnVariable(workflow: WorkflowName): `${string}_STATE_MACHINE_ARN` {
  return `${workflow.replaceAll('-', '_').toUpperCase()}_STATE_MACHINE_ARN`;
}

/**
 * The optional input fields each workflow's definition reads: JSONPath fails on a missing field,
 * so a workflow that reads one always gets it (`options` as `{}`, `warning` as null).
 */
export const WORKFLOW_INPUT_FIELDS = {
  'session-action': { options: false, warning: true },
  'device-action': { options: false, warning: false },
  'admin-action': { options: true, warning: false },
  runbook: { options: false, warning: false },
} as const satisfies Record<WorkflowName, { options: boolean; warning: boolean }>;

/** Each product's one workflow: an action's workflow follows from its product. */
export const PRODUCT_WORKFLOWS = {
  sessions: 'session-action',
  devices: 'device-action',
  administrators: 'admin-action',
  runbooks: 'runbook',
} as const satisfies Record<Product, WorkflowName>;
type InputFieldsOf<P extends Product> =
  (typeof WORKFLOW_INPUT_FIELDS)[(typeof PRODUCT_WORKFLOWS)[P]];
/** Modes only where the product's workflow passes `options` on; never elsewhere. */
type ModesFor<P extends Product, Mode extends string> = P extends Product
  ? InputFieldsOf<P>['options'] extends true
    ? ActionModes<Mode>
    : never
  : never;
/** Warnings only where the product's workflow sends them; `false` elsewhere. */
type WarnsUsersFor<P extends Product> = P extends Product
  ? InputFieldsOf<P>['warning'] extends true
    ? boolean
    : false
  : never;

/** The target fields a request (and a routing rule) can name; an action takes some of them. */
export const TARGET_FIELDS = [
  'user',
  'users',
  'sessionId',
  'deliveryGroup',
  'machine',
  'clientAddress',
  'deviceId',
  'admin',
  'email',
] as const;
export type TargetField = (typeof TARGET_FIELDS)[number];

/** A request's target: one field, whose value is a name or a list of names. */
export type TargetValue = string | readonly string[];

/** Which target fields hold a list of names (the rest hold one). */
export const TARGET_FIELD_VALUES = {
  user: 'name',
  users: 'names',
  sessionId: 'name',
  deliveryGroup: 'name',
  machine: 'name',
  clientAddress: 'name',
  deviceId: 'name',
  admin: 'name',
  email: 'name',
} as const satisfies Record<TargetField, 'name' | 'names'>;

/** What a sweep can look for (`find.<kind>` in config/sweeps.json); each product declares one. */
export const FIND_KINDS = ['sessions', 'devices', 'invitations'] as const;
export type FindKind = (typeof FIND_KINDS)[number];

/** The most targets one sweep run may match before it is refused whole (`maxTargets`). */
export const MAX_SWEEP_TARGETS = 10_000;

/**
 * The target of a sweep's run: what it looks for, found when the run resolves its targets. Only
 * the sweep runner builds it (never a request body); `observe` is false for `--dry-run` runs,
 * which leave the grace-period findings as they were.
 */
export interface SweepTarget<Find = unknown> {
  readonly sweep: string;
  readonly maxTargets: number;
  readonly observe: boolean;
  readonly find: Find;
}

/** The name of a sweep, as config/sweeps.json declares it and records show it. */
export const SweepNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,47}$/, 'must be 1-48 lower-case letters, digits and dashes');

/** The sweep target of one find kind: `{ sweep, maxTargets, observe, find: { <kind>: … } }`. */
export function sweepTargetOf<K extends FindKind, F extends z.ZodType>(kind: K, find: F) {
  return z.strictObject({
    sweep: SweepNameSchema,
    maxTargets: z.int().min(1).max(MAX_SWEEP_TARGETS),
    observe: z.boolean(),
    find: z.strictObject({ [kind]: find } as { [P in K]: F }),
  });
}

/** A product's sweep declaration: what `find.<kind>` holds, and the target its runs have. */
export function sweepsOver<K extends FindKind, F extends z.ZodType>(find: K, filter: F) {
  return { find, filter, target: sweepTargetOf(find, filter) } as const;
}

/** What an action declares about sweeps: the kind of `find` that feeds it, and its schema. */
export interface SweepDeclaration {
  readonly find: FindKind;
  /** What a sweep's `find.<kind>` holds (validated in config/sweeps.json). */
  readonly filter: z.ZodType;
  /** The sweep target the action's resolve step accepts. */
  readonly target: z.ZodType<SweepTarget>;
}

/** How a summary and a dry run word the action: "3 of 4 sessions logged off". */
export interface ActionWording {
  /** Past tense, after "3 of 4 sessions". */
  readonly done: string;
  /** Infinitive, after "would". */
  readonly would: string;
  readonly noun: 'session' | 'device' | 'administrator' | 'invitation' | 'runbook';
  /** When no target was acted on. */
  readonly nothing: string;
}

/** The default limits; `overLimit` is `approval` by default and set per deployment. */
export interface DefaultLimits {
  readonly perRequest: number;
  readonly perHour: number;
}

/**
 * Modes an action can run in (`options.mode`), e.g. `admin.revoke`'s `strip` and `delete`. Each
 * mode can be named in `APPROVAL_REQUIRED` as `<action>:<mode>`.
 */
export interface ActionModes<Mode extends string = string> {
  readonly values: readonly [Mode, ...Mode[]];
  readonly default: Mode;
  /** One sentence per mode, for the docs and the OpenAPI document. */
  readonly describe: Readonly<Record<Mode, string>>;
}

/**
 * Whether a person must approve the action by default: `always`, `never`, or only in some of its
 * modes. A deployment changes it with `APPROVAL_REQUIRED`.
 */
export type ApprovalRule<Mode extends string = string> =
  | 'always'
  | 'never'
  | { readonly modes: readonly Mode[] };

/**
 * One action. `Operation` is the product client's call, typed by the product, so that the
 * product's workflow step must handle every operation its actions declare (exhaustive switch).
 */
export interface ActionDeclaration<
  P extends Product = Product,
  Operation extends string = string,
  Mode extends string = string,
> {
  readonly product: P;
  /**
   * The target fields a request may use, exactly one at a time; none for a runbook run, whose
   * target names the runbook (its steps name their own targets).
   */
  readonly targetFields: readonly TargetField[];
  /** The request's `target`; its output is what the workflow receives. */
  readonly target: z.ZodType<TargetOf<P>>;
  /** Request fields beyond the common ones, and the check of the whole request (runbooks). */
  readonly request?: RequestExtension;
  /** Whether a sweep can run the action, over what its `find` finds; none when absent. */
  readonly sweeps?: SweepDeclaration;
  /** `options.mode`, for actions that have modes (only where the workflow passes options on). */
  readonly modes?: ModesFor<P, Mode>;
  /** Warn each user first (`notify`, `urgency`), where the product's workflow can. */
  readonly warnsUsers: WarnsUsersFor<P>;
  /** The Citrix call: the product client's operation, and the request as the docs show it. */
  readonly citrix: { readonly operation: Operation; readonly request: string };
  /** Erases data or cuts someone off in a way the user cannot undo themselves. */
  readonly destructive: boolean;
  /** How it can be undone, where Citrix allows it, or plainly that it cannot; the docs show it. */
  readonly reversal: string;
  /**
   * The catalog action that undoes this one on the same target, in these modes (every mode when
   * absent): a finished action's view shows its command. None where Citrix allows no undo.
   */
  readonly undoneBy?: { readonly action: `${string}.${string}`; readonly modes?: readonly Mode[] };
  readonly limits: DefaultLimits;
  readonly approval: ApprovalRule<Mode>;
  /** The dry-run planner's and the summary's wording. */
  readonly wording: ActionWording;
  /** One line for tables and the OpenAPI document. */
  readonly summary: string;
}

/** What a product's requests name: Citrix targets by field, or (runbooks) the runbook to run. */
type TargetOf<P extends Product> = P extends TargetProduct
  ? Readonly<Record<string, TargetValue>>
  : Readonly<Record<string, unknown>>;

/** One problem a request check found: where (a field path of the request) and what. */
export interface RequestIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** Checks any request of the catalog, as `ActionRequestSchema` does; none means it is valid. */
export type RequestValidator = (request: unknown) => readonly RequestIssue[];

/**
 * What an action's request holds beyond the common fields (a runbook run's `inputs`), and the
 * check of the whole request its schema cannot make alone. A run's steps are requests of other
 * actions: `validate` checks them, so a declaration never imports the catalog it is part of.
 */
export interface RequestExtension {
  readonly fields: Readonly<Record<string, z.ZodType>>;
  readonly check: (
    request: Readonly<Record<string, unknown>>,
    validate: RequestValidator,
  ) => readonly RequestIssue[];
}

/** Control characters have no place in an audit record and break log lines. */
export const FreeText = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((value) => !/(?![\t\n\r])\p{Cc}/u.test(value), {
      message: 'must not contain control characters',
    });

type ExactlyOne<T> = { [K in keyof T]: { readonly [P in K]: T[P] } }[keyof T];

/**
 * A target with exactly one of its fields, normalized to an object with just that one, e.g.
 * `{ sessionId }` or `{ user }`. `meaning` says what the fields stand for, in the API description.
 */
export function exactlyOne<const F extends Readonly<Record<string, z.ZodType<TargetValue>>>>(
  fields: F,
  meaning: string,
): z.ZodType<ExactlyOne<{ [K in keyof F]: z.output<F[K]> }>> {
  const names = Object.keys(fields);
  const optional = Object.fromEntries(names.map((name) => [name, fields[name]?.optional()]));
  const listed = names.map((name) => `\`${name}\``).join(', ');
  const schema = z
    .strictObject(optional as Record<string, z.ZodOptional<z.ZodType<TargetValue>>>)
    .refine((target) => names.filter((name) => target[name] !== undefined).length === 1, {
      message: `must have exactly one of ${names.join(', ')}`,
    })
    .transform((target) => {
      const name = names.find((field) => target[field] !== undefined) ?? '';
      return { [name]: target[name] };
    });
  exactlyOneOf.add(schema, { description: `Exactly one of ${listed}: ${meaning}.` });
  return schema as unknown as z.ZodType<ExactlyOne<{ [K in keyof F]: z.output<F[K]> }>>;
}

/**
 * Targets built by `exactlyOne`: the API description says "exactly one property" for them, a rule
 * the schema checks in code (`refine`) that JSON Schema can still state.
 */
export const exactlyOneOf = z.registry<{ description: string }>();

/**
 * The end of an exhaustive switch: the compiler rejects the call while any case is unhandled,
 * and at run time (a declaration added without the code for it) it fails loudly, never guesses.
 */
export function unhandled(value: never): never {
  throw new TypeError(`No handler for ${JSON.stringify(value)}`);
}
