import * as z from 'zod';
import {
  ACTION_TYPES,
  type ActionMode,
  type ActionType,
  ActionTypeSchema,
  declarationOf,
} from '../actions/schema.ts';
import { DeviceIdSchema, DeviceUserNameSchema } from '../citrix/ids.ts';

/**
 * Thrown when a guardrail variable is invalid, naming the variable and the offending field.
 * Deliberately not a subclass of InvalidSettingsError: lib/runtime/settings.ts may import this
 * module, and a class extending an import from a module in a cycle fails at load time.
 */
export class InvalidGuardrailsError extends Error {
  override name = 'InvalidGuardrailsError';
  /** The environment variable, e.g. `GUARDRAIL_LIMITS`. */
  readonly variable: string;
  /** The first offending field within it (e.g. `device.wipe.perHour`), if there is one. */
  readonly field: string | undefined;

  constructor(variable: string, field: string | undefined, message: string) {
    super(message);
    this.variable = variable;
    this.field = field;
  }
}

export const OVER_LIMIT_OUTCOMES = ['approval', 'refuse'] as const;
export type OverLimitOutcome = (typeof OVER_LIMIT_OUTCOMES)[number];

/**
 * The largest limit, in targets: a fleet-wide containment (SESSION_MAX_TARGETS accepts as many)
 * is configuration. The counter's item stays small whatever the limit, since it holds one entry
 * per action, not per target (see MAX_RESERVATIONS_PER_HOUR in limits.ts).
 */
export const MAX_LIMIT = 20_000;

const LimitValue = z
  .number('must be an integer')
  .int('must be an integer')
  .min(1, 'must be at least 1')
  .max(MAX_LIMIT, `must be at most ${MAX_LIMIT}`);

export const ActionLimitSchema = z
  .strictObject({
    perRequest: LimitValue,
    perHour: LimitValue,
    overLimit: z.enum(OVER_LIMIT_OUTCOMES, "must be 'approval' or 'refuse'"),
  })
  // A request larger than the hourly limit could never pass, so the two must agree.
  .refine((limit) => limit.perRequest <= limit.perHour, {
    message: 'perRequest must not exceed perHour',
    path: ['perRequest'],
  });
export type ActionLimit = z.infer<typeof ActionLimitSchema>;

/** Each action's declared limits; exceeding one holds the action for approval by default. */
export const DEFAULT_ACTION_LIMITS = Object.fromEntries(
  ACTION_TYPES.map((action) => [
    action,
    { ...declarationOf(action).limits, overLimit: 'approval' } satisfies ActionLimit,
  ]),
) as Readonly<Record<ActionType, ActionLimit>>;

/** An action type (every request of it), or `<action>:<mode>` for one mode only (`admin.revoke:delete`). */
export type ApprovalRequirement = ActionType | `${ActionType}:${ActionMode}`;
const modeRequirements = (action: ActionType, modes: readonly string[]) =>
  modes.map((mode) => `${action}:${mode}` as ApprovalRequirement);
export const APPROVAL_REQUIREMENTS: readonly ApprovalRequirement[] = ACTION_TYPES.flatMap(
  (action) => [action, ...modeRequirements(action, declarationOf(action).modes?.values ?? [])],
);
export const ApprovalRequirementSchema = z.enum(
  APPROVAL_REQUIREMENTS as [ApprovalRequirement, ...ApprovalRequirement[]],
);

/** What the declarations ask approval for: `always` → the action, `{modes}` → `<action>:<mode>`. */
export const DEFAULT_APPROVAL_REQUIRED: readonly ApprovalRequirement[] = ACTION_TYPES.flatMap(
  (action): ApprovalRequirement[] => {
    const { approval } = declarationOf(action);
    if (approval === 'always') return [action];
    if (approval === 'never') return [];
    return modeRequirements(action, approval.modes);
  },
);
export const DEFAULT_APPROVAL_TIMEOUT_SECONDS = 3600;
// Seconds are allowed for rehearsals and tests; production deployments set minutes or hours.
export const MIN_APPROVAL_TIMEOUT_SECONDS = 1;
export const MAX_APPROVAL_TIMEOUT_SECONDS = 7 * 86_400;

/** The guardrails in force; JSON-serializable so a workflow can carry them in its input. */
export const GuardrailSettingsSchema = z.strictObject({
  limits: z.record(ActionTypeSchema, ActionLimitSchema),
  approvalRequired: z.array(ApprovalRequirementSchema),
  approvalTimeoutSeconds: z
    .number()
    .int()
    .min(MIN_APPROVAL_TIMEOUT_SECONDS)
    .max(MAX_APPROVAL_TIMEOUT_SECONDS),
  /** UPNs, `DOMAIN\user` or plain Endpoint Management user names; matched case-insensitively. */
  protectedUsers: z.array(DeviceUserNameSchema),
  /** Endpoint Management device ids. */
  protectedDevices: z.array(DeviceIdSchema),
});
export type GuardrailSettings = z.infer<typeof GuardrailSettingsSchema>;

export const DEFAULT_GUARDRAIL_SETTINGS: GuardrailSettings = {
  limits: structuredClone(DEFAULT_ACTION_LIMITS) as Record<ActionType, ActionLimit>,
  approvalRequired: [...DEFAULT_APPROVAL_REQUIRED],
  approvalTimeoutSeconds: DEFAULT_APPROVAL_TIMEOUT_SECONDS,
  protectedUsers: [],
  protectedDevices: [],
};

type Env = Readonly<Record<string, string | undefined>>;

/** Written to `APPROVAL_REQUIRED` to require approval for nothing (empty means the default). */
export const NO_APPROVAL_REQUIRED = 'none';

function fail(variable: string, problems: readonly { field?: string; message: string }[]): never {
  const described = problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message));
  throw new InvalidGuardrailsError(
    variable,
    problems[0]?.field,
    `Invalid ${variable}: ${described.join('; ')}`,
  );
}

const issuesOf = (error: z.ZodError, prefix: readonly PropertyKey[] = []) =>
  error.issues.flatMap((issue) => {
    // An unknown key is named itself, not only the object holding it.
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    return keys.map((key) => {
      const path = [...prefix, ...issue.path, ...(key === undefined ? [] : [key])];
      return {
        field: path.length > 0 ? path.map(String).join('.') : undefined,
        message: key === undefined ? issue.message : 'is not a limit field',
      } as { field?: string; message: string };
    });
  });

const commaList = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');

/** Keeps the first spelling of each entry, comparing case-insensitively. */
function uniqueIgnoringCase(entries: readonly string[]): string[] {
  const seen = new Set<string>();
  return entries.filter((entry) => {
    const key = entry.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function limitsFromEnv(raw: string | undefined): Record<ActionType, ActionLimit> {
  const limits = structuredClone(DEFAULT_ACTION_LIMITS) as Record<ActionType, ActionLimit>;
  if (raw === undefined || raw.trim() === '') return limits;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    fail('GUARDRAIL_LIMITS', [{ message: 'must be JSON' }]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    fail('GUARDRAIL_LIMITS', [{ message: 'must be a JSON object keyed by action type' }]);
  }
  const entries = Object.entries(parsed);
  const unknown = entries
    .map(([key]) => key)
    .filter((key) => !ActionTypeSchema.safeParse(key).success);
  if (unknown.length > 0) {
    fail('GUARDRAIL_LIMITS', [
      {
        field: unknown[0],
        message: `unknown action type${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (expected ${ACTION_TYPES.join(', ')})`,
      },
    ]);
  }
  const problems: { field?: string; message: string }[] = [];
  for (const [key, override] of entries) {
    const action = key as ActionType;
    if (typeof override !== 'object' || override === null || Array.isArray(override)) {
      problems.push({
        field: action,
        message: 'must be an object of perRequest, perHour, overLimit',
      });
      continue;
    }
    // Each field left out keeps its default.
    const merged = ActionLimitSchema.safeParse({ ...limits[action], ...override });
    if (merged.success) limits[action] = merged.data;
    else problems.push(...issuesOf(merged.error, [action]));
  }
  if (problems.length > 0) fail('GUARDRAIL_LIMITS', problems);
  return limits;
}

function approvalRequiredFromEnv(raw: string | undefined): ApprovalRequirement[] {
  if (raw === undefined || raw.trim() === '') return [...DEFAULT_APPROVAL_REQUIRED];
  if (raw.trim().toLowerCase() === NO_APPROVAL_REQUIRED) return [];
  const problems: { field?: string; message: string }[] = [];
  const requirements: ApprovalRequirement[] = [];
  for (const entry of commaList(raw)) {
    const parsed = ApprovalRequirementSchema.safeParse(entry);
    if (parsed.success) {
      if (!requirements.includes(parsed.data)) requirements.push(parsed.data);
    } else {
      problems.push({
        field: entry,
        message: `is not an action type or ${APPROVAL_REQUIREMENTS.filter((r) => r.includes(':')).join('|')}`,
      });
    }
  }
  if (problems.length > 0) fail('APPROVAL_REQUIRED', problems);
  return requirements;
}

function approvalTimeoutFromEnv(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_APPROVAL_TIMEOUT_SECONDS;
  const parsed = z.coerce
    .number()
    .int('must be a whole number of seconds')
    .min(MIN_APPROVAL_TIMEOUT_SECONDS, `must be at least ${MIN_APPROVAL_TIMEOUT_SECONDS}`)
    .max(MAX_APPROVAL_TIMEOUT_SECONDS, `must be at most ${MAX_APPROVAL_TIMEOUT_SECONDS} (7 days)`)
    .safeParse(raw.trim());
  if (!parsed.success) fail('APPROVAL_TIMEOUT_SECONDS', issuesOf(parsed.error));
  return parsed.data;
}

function listFromEnv(variable: string, raw: string | undefined, schema: z.ZodType<string>) {
  const problems: { field?: string; message: string }[] = [];
  const values: string[] = [];
  for (const entry of commaList(raw)) {
    const parsed = schema.safeParse(entry);
    if (parsed.success) values.push(parsed.data);
    else problems.push({ field: entry, message: parsed.error.issues[0]?.message ?? 'is invalid' });
  }
  if (problems.length > 0) fail(variable, problems);
  return uniqueIgnoringCase(values);
}

/** Every variable guardrailsFromEnv reads; the stack sets them on each resolve function. */
export const GUARDRAIL_VARIABLES = [
  'GUARDRAIL_LIMITS',
  'APPROVAL_REQUIRED',
  'APPROVAL_TIMEOUT_SECONDS',
  'PROTECTED_USERS',
  'PROTECTED_DEVICES',
] as const;

/**
 * The guardrails from the environment, each variable optional over the defaults:
 * - `GUARDRAIL_LIMITS`: JSON `{ "<action type>": { perRequest, perHour, overLimit } }`; fields
 *   left out keep their defaults (see DEFAULT_ACTION_LIMITS).
 * - `APPROVAL_REQUIRED`: comma list of action types or `<action>:<mode>`; unset or empty means
 *   what the catalog declares (`device.wipe,admin.revoke:delete,admin.restore`), `none` means
 *   no approval.
 * - `APPROVAL_TIMEOUT_SECONDS`: default 3600, 1 second to 7 days.
 * - `PROTECTED_USERS`, `PROTECTED_DEVICES`: comma lists (administrators are protected by
 *   `CITRIX_PROTECTED_ADMINS` instead).
 */
export function guardrailsFromEnv(env: Env): GuardrailSettings {
  return {
    limits: limitsFromEnv(env.GUARDRAIL_LIMITS),
    approvalRequired: approvalRequiredFromEnv(env.APPROVAL_REQUIRED),
    approvalTimeoutSeconds: approvalTimeoutFromEnv(env.APPROVAL_TIMEOUT_SECONDS),
    protectedUsers: listFromEnv('PROTECTED_USERS', env.PROTECTED_USERS, DeviceUserNameSchema),
    protectedDevices: listFromEnv('PROTECTED_DEVICES', env.PROTECTED_DEVICES, DeviceIdSchema),
  };
}
