import * as z from 'zod';
import type { AdministratorOperation } from '../administrators/catalog.ts';
import { AdministratorAccessSchema } from '../citrix/administrators-schemas.ts';
import type { DeviceCommand } from '../citrix/endpoint-management-client.ts';
import { RequesterSchema } from '../identity/requester.ts';
import {
  RunbookInputsSchema,
  RunbookSchema,
  RunbookStepRecordSchema,
  type RunbookTarget,
} from '../runbooks/definition.ts';
import type { SessionOperation } from '../sessions/catalog.ts';
import { CATALOG, type Catalog } from './catalog.ts';
import {
  type ActionDeclaration,
  type ActionModes,
  FreeText,
  PRODUCT_WORKFLOWS,
  type Product,
  type RequestIssue,
  type TargetProduct,
  type WorkflowName,
} from './declaration.ts';

export {
  type AdminTarget,
  AdminTargetSchema,
  type InvitationTarget,
  InvitationTargetSchema,
} from '../administrators/catalog.ts';
export { DeviceTargetSchema } from '../devices/catalog.ts';
export { SessionTargetSchema } from '../sessions/catalog.ts';
export type { WorkflowName } from './declaration.ts';

/*
 * Everything here that concerns actions is derived from the catalog (lib/actions/catalog.ts):
 * no list of actions is written twice, and a dispatcher is a lookup in the declaration.
 */

export type ActionType = keyof Catalog & string;
export const ACTION_TYPES = Object.keys(CATALOG) as [ActionType, ...ActionType[]];
export const ActionTypeSchema = z.enum(ACTION_TYPES);

/** An action's declaration; a lookup, never a branch. */
export function declarationOf(action: ActionType): ActionDeclaration {
  return CATALOG[action];
}

type ActionsOf<P extends Product> = {
  [A in ActionType]: Catalog[A]['product'] extends P ? A : never;
}[ActionType];
const actionsOf = <P extends Product>(product: P) =>
  ACTION_TYPES.filter((action) => CATALOG[action].product === product) as [
    ActionsOf<P>,
    ...ActionsOf<P>[],
  ];
export type SessionActionType = ActionsOf<'sessions'>;
export type DeviceActionType = ActionsOf<'devices'>;
export type AdminActionType = ActionsOf<'administrators'>;
export const SESSION_ACTIONS = actionsOf('sessions');
export const DEVICE_ACTIONS = actionsOf('devices');
export const ADMIN_ACTIONS = actionsOf('administrators');
export const SessionActionTypeSchema = z.enum(SESSION_ACTIONS);
export const DeviceActionTypeSchema = z.enum(DEVICE_ACTIONS);
export const AdminActionTypeSchema = z.enum(ADMIN_ACTIONS);

/** The Citrix call each action makes, typed per product so each product handles all of its own. */
export function sessionOperationOf(action: SessionActionType): SessionOperation {
  return CATALOG[action].citrix.operation;
}
export function deviceCommandOf(action: DeviceActionType): DeviceCommand {
  return CATALOG[action].citrix.operation;
}
export function administratorOperationOf(action: AdminActionType): AdministratorOperation {
  return CATALOG[action].citrix.operation;
}

/** The state machine that carries out the action (state-machines/<name>.asl.json). */
export function workflowFor(action: ActionType): WorkflowName {
  return PRODUCT_WORKFLOWS[CATALOG[action].product];
}

type ModeOf<A extends ActionType> = Catalog[A] extends { modes: ActionModes<infer M> } ? M : never;
/** The actions that have modes (`options.mode`), and every mode any of them has. */
type ModalAction = { [A in ActionType]: [ModeOf<A>] extends [never] ? never : A }[ActionType];
export type ActionMode = ModeOf<ModalAction>;
const modesOf = (action: ActionType): ActionModes | undefined => declarationOf(action).modes;
export const ACTION_MODES = [
  ...new Set(ACTION_TYPES.flatMap((action) => modesOf(action)?.values ?? [])),
] as [ActionMode, ...ActionMode[]];

/** The mode a request runs in: its `options.mode`, or the declared default; none without modes. */
export function modeOf(
  action: ActionType,
  options: { readonly mode?: string | undefined } | undefined,
): string | undefined {
  const modes = modesOf(action);
  return modes === undefined ? undefined : (options?.mode ?? modes.default);
}

/** The `options` an action with modes takes, with its default mode. */
function optionsSchemaFor(modes: ActionModes) {
  return z
    .strictObject({ mode: z.enum(modes.values).default(modes.default) })
    .default({ mode: modes.default });
}

export const REVOKE_MODES = CATALOG['admin.revoke'].modes.values;
/**
 * `strip` (default) sets Custom access with every permission unchecked and keeps the
 * administrator for forensics; `delete` removes the administrator.
 */
export const RevokeOptionsSchema = z.strictObject({
  mode: z.enum(REVOKE_MODES).default(CATALOG['admin.revoke'].modes.default),
});
export type RevokeOptions = z.infer<typeof RevokeOptionsSchema>;

/** What a request names; a sweep's run names its sweep instead (`SweepActionTarget`). */
export type RequestTarget = z.output<Catalog[ActionType]['target']>;
type SweepsOf<A extends ActionType> = A extends ActionType
  ? Catalog[A] extends { sweeps: { target: infer T } }
    ? T extends z.ZodType
      ? z.output<T>
      : never
    : never
  : never;
/** The target of a sweep's run, per action: what its `find` looks for. */
export type SweepActionTarget = SweepsOf<ActionType>;
export type ActionTarget = RequestTarget | SweepActionTarget;
export type SessionTarget =
  | z.output<Catalog[SessionActionType]['target']>
  | SweepsOf<SessionActionType>;
export type DeviceTarget =
  | z.output<Catalog[DeviceActionType]['target']>
  | SweepsOf<DeviceActionType>;

/** Whether a target is a sweep's (what to find) rather than a request's (what to act on). */
export function isSweepTarget<T extends ActionTarget>(
  target: T,
): target is Extract<T, { readonly sweep: string }> {
  return 'sweep' in target;
}

/** Whether a target names a runbook to run (`runbook.run`) rather than Citrix targets. */
export function isRunbookTarget<T extends ActionTarget>(
  target: T,
): target is Extract<T, RunbookTarget> {
  return 'runbook' in target || 'definition' in target;
}

/** A callback destination by name; the operator configures the URL (never a request). */
export const CallbackNameSchema = z
  .string()
  .regex(/^[a-z0-9-]{1,40}$/, 'must be the name of a configured callback destination');

const RequestFields = {
  reason: FreeText(1000),
  ticket: FreeText(128).optional(),
  /**
   * Who a source says asked, shown with the source's name; never trusted. People never send it:
   * the requester is whoever signed the request (`POST /v1/actions` refuses the field).
   */
  requestedBy: FreeText(256).optional(),
  dryRun: z.boolean().default(false),
  callback: CallbackNameSchema.optional(),
};

/** The message Citrix shows in each session before it is acted on (`$sendMessage`). */
export const SessionWarningSchema = z.strictObject({
  title: FreeText(100),
  text: FreeText(1000),
  /** How long users get to save their work before the action. */
  graceSeconds: z.int().min(0).max(900).default(60),
});
export type SessionWarning = z.infer<typeof SessionWarningSchema>;

export const URGENCIES = ['normal', 'immediate'] as const;
const WarningFields = {
  /** Warn each session's user first (Citrix's advice before a log off). */
  notify: SessionWarningSchema.optional(),
  /** `immediate` skips the warning: containment comes first. */
  urgency: z.enum(URGENCIES).default('normal'),
};

interface CommonRequest {
  readonly reason: string;
  readonly ticket?: string | undefined;
  readonly requestedBy?: string | undefined;
  readonly dryRun: boolean;
  readonly callback?: string | undefined;
}
/** The request for one action, shaped by its declaration (modes → options, warnings → notify). */
type RequestFor<A extends ActionType> = CommonRequest & {
  readonly action: A;
  /** What the request names; a sweep's run (built by the sweep runner, never a body) its sweep. */
  readonly target: z.output<Catalog[A]['target']> | SweepsOf<A>;
} & ([ModeOf<A>] extends [never] ? unknown : { readonly options: { readonly mode: ModeOf<A> } }) &
  (Catalog[A]['warnsUsers'] extends true
    ? {
        readonly notify?: SessionWarning | undefined;
        readonly urgency: (typeof URGENCIES)[number];
      }
    : unknown) &
  (Catalog[A] extends { request: { fields: infer F } }
    ? { readonly [K in keyof F]: F[K] extends z.ZodType ? z.output<F[K]> : never }
    : unknown);
export type ActionRequest = { [A in ActionType]: RequestFor<A> }[ActionType];

/** The request schema of one action, built from its declaration. */
function requestSchemaOf(action: ActionType) {
  const declaration = declarationOf(action);
  return z
    .strictObject({
      action: z.literal(action),
      target: declaration.target,
      ...(declaration.modes === undefined ? {} : { options: optionsSchemaFor(declaration.modes) }),
      ...(declaration.warnsUsers ? WarningFields : {}),
      ...declaration.request?.fields,
      ...RequestFields,
    })
    .meta({ id: `${action}-request`, description: declaration.summary });
}
const REQUEST_SCHEMAS = new Map(ACTION_TYPES.map((action) => [action, requestSchemaOf(action)]));
/** Every request shape, one per action; `ActionRequestSchema` checks a request against its own. */
export const ACTION_REQUEST_VARIANTS = [...REQUEST_SCHEMAS.values()];

// Checks every field but the target when the action itself is unknown.
const RequestEnvelopeSchema = z.strictObject({
  action: ActionTypeSchema,
  target: z.unknown(),
  options: z.unknown().optional(),
  ...RequestFields,
});

/**
 * The normalized action request every source is turned into (`POST /v1/actions`). The action
 * decides the target's shape; every invalid field is reported at once, even with a bad action.
 */
export const ActionRequestSchema = z.unknown().transform((input, ctx): ActionRequest => {
  const action = ActionTypeSchema.safeParse((input as { action?: unknown } | null)?.action);
  const schema: z.ZodType =
    (action.success ? REQUEST_SCHEMAS.get(action.data) : undefined) ?? RequestEnvelopeSchema;
  const parsed = schema.safeParse(input);
  const check = action.success ? declarationOf(action.data).request?.check : undefined;
  if (parsed.success && schema !== RequestEnvelopeSchema) {
    // What the action's schema cannot see alone (a runbook run's steps are requests too).
    const issues = check?.(parsed.data as Record<string, unknown>, validateRequest) ?? [];
    if (issues.length === 0) return parsed.data as ActionRequest;
    for (const issue of issues) ctx.addIssue({ code: 'custom', ...issue, path: [...issue.path] });
    return z.NEVER;
  }
  for (const issue of parsed.error?.issues ?? []) {
    // An unknown key is named itself (`target.sessionId`), not only the object holding it.
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    for (const key of keys) {
      ctx.addIssue({
        code: 'custom',
        message: key === undefined ? issue.message : 'is not a field of this request',
        path: key === undefined ? issue.path : [...issue.path, key],
      });
    }
  }
  return z.NEVER;
});

/** Checks any request of the catalog: what a declaration's own check uses for nested requests. */
function validateRequest(request: unknown): readonly RequestIssue[] {
  const parsed = ActionRequestSchema.safeParse(request);
  return parsed.success ? [] : parsed.error.issues;
}

/** The target shapes of these actions, once each: what they take, and what their sweeps find. */
function targetSchemasOf(actions: readonly ActionType[]): z.ZodType[] {
  return [
    ...new Set(
      actions.flatMap((action) => {
        const { target, sweeps } = declarationOf(action);
        return sweeps === undefined ? [target] : [target, sweeps.target];
      }),
    ),
  ];
}

/** Every target shape one product's actions take, once each: what its resolve step accepts. */
export function productTargetSchema<P extends Product>(
  product: P,
): z.ZodType<z.output<Catalog[ActionsOf<P>]['target']> | SweepsOf<ActionsOf<P>>> {
  const [only, ...more] = targetSchemasOf(actionsOf(product));
  if (only === undefined) throw new TypeError(`No action of ${product} is declared`);
  return (more.length === 0 ? only : z.union([only, ...more])) as z.ZodType<
    z.output<Catalog[ActionsOf<P>]['target']> | SweepsOf<ActionsOf<P>>
  >;
}

/** Every target shape an action record can have, once each (session actions share theirs). */
const [FIRST_TARGET_SCHEMA, ...MORE_TARGET_SCHEMAS] = targetSchemasOf(ACTION_TYPES);
export const ActionTargetSchema = z.union([
  FIRST_TARGET_SCHEMA as z.ZodType<ActionTarget>,
  ...(MORE_TARGET_SCHEMAS as z.ZodType<ActionTarget>[]),
]);

/** `refused`: a guard no request can override kept every target untouched. */
export const ACTION_STATUSES = [
  'accepted',
  'running',
  'succeeded',
  'partially_succeeded',
  'failed',
  'planned',
  'refused',
  'awaiting_approval',
  'rejected',
  'expired',
] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];
export const TERMINAL_ACTION_STATUSES: readonly ActionStatus[] = [
  'succeeded',
  'partially_succeeded',
  'failed',
  'planned',
  'refused',
  'rejected',
  'expired',
];

/** Action ids name Step Functions executions: at most 80 characters of [A-Za-z0-9-_]. */
export const ActionIdSchema = z
  .string()
  .regex(/^act_[0-9a-f]{32}$/, 'must be an action id returned by POST /v1/actions');
export type ActionId = z.infer<typeof ActionIdSchema>;

export const ErrorSummarySchema = z.object({ name: z.string(), message: z.string() });
export type ErrorSummary = z.infer<typeof ErrorSummarySchema>;

/** A session the workflow resolved from the request's target. */
export const ResolvedSessionSchema = z.object({
  sessionId: z.string(),
  /** The name the session is shown under: the UPN when Citrix reports one. */
  userName: z.string().optional(),
  /**
   * Every name Citrix reported for the session's user (UPN, `DOMAIN\user`, the untrusted name
   * the client sent): a user is protected when any of them is listed. Absent on older records.
   */
  userNames: z.array(z.string()).optional(),
  machineName: z.string().optional(),
  /** The delivery group of the session's machine, as Citrix reported it. */
  deliveryGroup: z.string().optional(),
  state: z.string().optional(),
  /** False for a protected user's session: reported as skipped, never acted on. */
  actionable: z.boolean().optional(),
  skipReason: z.string().optional(),
});
export type ResolvedSession = z.infer<typeof ResolvedSessionSchema>;

/** A device the workflow resolved from the request's target, as Endpoint Management listed it. */
export const ResolvedDeviceSchema = z.object({
  deviceId: z.string(),
  userName: z.string().optional(),
  platform: z.string().optional(),
  deviceModel: z.string().optional(),
  serialNumber: z.string().optional(),
  /** Only a device Endpoint Management reports as managed is ever sent a command. */
  managed: z.boolean(),
  /** A sweep's finding: the condition it was found in, and since when (grace period). */
  finding: z.object({ condition: z.string(), firstFound: z.string() }).optional(),
  /** False for an unmanaged or protected device: reported as skipped, never sent a command. */
  actionable: z.boolean().optional(),
  skipReason: z.string().optional(),
});
export type ResolvedDevice = z.infer<typeof ResolvedDeviceSchema>;

/** A Citrix Cloud administrator the workflow resolved, with the guards' verdict and its access. */
export const ResolvedAdministratorSchema = z.object({
  /** The id the administrators API takes: the userId of a user, the ucOid of a group. */
  administratorId: z.string(),
  ucOid: z.string(),
  userId: z.string().optional(),
  email: z.string().optional(),
  displayName: z.string().optional(),
  type: z.string(),
  accessType: z.string().optional(),
  pending: z.boolean(),
  /** False when a guard refuses the target; `refusal` says why. */
  allowed: z.boolean(),
  refusal: z.string().optional(),
  /** The access read before anything changed: what a person needs to review or undo it. */
  before: AdministratorAccessSchema.optional(),
  /**
   * `admin.restore`: the access it puts back, as the strip-mode revokes it names replaced it (the
   * plan an approver reviews; lib/administrators/restore.ts).
   */
  restore: z
    .object({
      revokeActionIds: z.array(z.string()).min(1),
      revokedAt: z.string(),
      access: AdministratorAccessSchema,
    })
    .optional(),
});
export type ResolvedAdministrator = z.infer<typeof ResolvedAdministratorSchema>;

export const ResolvedTargetSchema = z.union([
  ResolvedSessionSchema,
  ResolvedDeviceSchema,
  ResolvedAdministratorSchema,
]);
export type ResolvedTarget = z.infer<typeof ResolvedTargetSchema>;

/**
 * `skipped`: the target was reported and deliberately left alone (e.g. an unmanaged device).
 * `unconfirmed`: a command was sent once and its answer never came (a timeout, a 5xx), and reading
 * the target back could not show it took effect; it is never sent again on its own, so check the
 * target in Citrix before sending it again.
 */
export const TARGET_OUTCOMES = [
  'succeeded',
  'failed',
  'timed_out',
  'unconfirmed',
  'planned',
  'skipped',
  'refused',
] as const;
export type TargetOutcome = (typeof TARGET_OUTCOMES)[number];

export const SessionTargetResultSchema = ResolvedSessionSchema.extend({
  outcome: z.enum(TARGET_OUTCOMES),
  /** Why a session was skipped (a protected user's). */
  note: z.string().optional(),
  job: z.object({ id: z.string(), status: z.string().optional() }).optional(),
  error: ErrorSummarySchema.optional(),
  finishedAt: z.string(),
});
export type SessionTargetResult = z.infer<typeof SessionTargetResultSchema>;

/** The device as read back after the command: proof of what Endpoint Management holds now. */
export const DeviceReadBackSchema = z.object({
  found: z.boolean(),
  managed: z.boolean().optional(),
  lastAccess: z.string().optional(),
});
export type DeviceReadBack = z.infer<typeof DeviceReadBackSchema>;

export const DeviceTargetResultSchema = ResolvedDeviceSchema.extend({
  outcome: z.enum(TARGET_OUTCOMES),
  /** The Endpoint Management command sent, and when it was accepted. */
  command: z.object({ name: z.string(), sentAt: z.string() }).optional(),
  readBack: DeviceReadBackSchema.optional(),
  /** Why a target was skipped, or what went wrong after the command was accepted. */
  note: z.string().optional(),
  error: ErrorSummarySchema.optional(),
  finishedAt: z.string(),
});
export type DeviceTargetResult = z.infer<typeof DeviceTargetResultSchema>;

export const AdminTargetResultSchema = ResolvedAdministratorSchema.extend({
  outcome: z.enum(TARGET_OUTCOMES),
  /**
   * What was changed, and when Citrix accepted it; `alreadyGone` when the target was no longer
   * there (an earlier attempt deleted it and its reply was lost).
   */
  change: z
    .object({ mode: z.string(), at: z.string(), alreadyGone: z.boolean().optional() })
    .optional(),
  /**
   * The access a strip replaced, read just before the change: `before` was read when the target
   * was resolved, and approval may hold the action for up to an hour in between.
   */
  replaced: AdministratorAccessSchema.optional(),
  /** The administrator as read back afterwards. */
  after: z
    .object({
      present: z.boolean(),
      accessType: z.string().optional(),
      grantedPolicies: z.array(z.string()).optional(),
    })
    .optional(),
  note: z.string().optional(),
  error: ErrorSummarySchema.optional(),
  finishedAt: z.string(),
});
export type AdminTargetResult = z.infer<typeof AdminTargetResultSchema>;

export const TargetResultSchema = z.union([
  SessionTargetResultSchema,
  DeviceTargetResultSchema,
  AdminTargetResultSchema,
]);
export type TargetResult = z.infer<typeof TargetResultSchema>;

/** Each product's resolved target. */
interface ResolvedTargetOf {
  readonly sessions: ResolvedSession;
  readonly devices: ResolvedDevice;
  readonly administrators: ResolvedAdministrator;
}

/**
 * Runs the handler of the target's product: one handler per product that acts on targets (a
 * runbook's steps are other products' actions), so a product without one is a type error, and a value that is none of them fails loudly instead of taking a default.
 */
export function byProduct<R>(
  target: ResolvedTarget,
  handlers: { readonly [P in TargetProduct]: (target: ResolvedTargetOf[P]) => R },
): R {
  if ('administratorId' in target) return handlers.administrators(target);
  if ('deviceId' in target) return handlers.devices(target);
  if ('sessionId' in target) return handlers.sessions(target);
  throw new TypeError('Not a resolved target: it has no session, device or administrator id');
}

/** The id a target is recorded under: its session id, device id or administrator id. */
export function targetKey(target: ResolvedTarget): string {
  return byProduct(target, {
    sessions: (session) => session.sessionId,
    devices: (device) => device.deviceId,
    administrators: (administrator) => administrator.administratorId,
  });
}

const ScopeCountSchema = z.object({
  name: z.string(),
  targets: z.number().int().min(0),
  actionable: z.number().int().min(0),
});

/**
 * A session action's plan in numbers, recorded before anything acts: its sessions by delivery
 * group and by machine, the largest MAX_SCOPE_ENTRIES of each (`more` counts the rest).
 */
export const PlanScopeSchema = z
  .object({
    targets: z.number().int().min(0),
    actionable: z.number().int().min(0),
    byDeliveryGroup: z.array(ScopeCountSchema),
    moreDeliveryGroups: z.number().int().min(0),
    byMachine: z.array(ScopeCountSchema),
    moreMachines: z.number().int().min(0),
  })
  .meta({
    id: 'PlanScope',
    description:
      'How many sessions the action would touch and act on, by delivery group and by machine (largest first; `more…` counts the groups or machines not listed).',
  });
export type PlanScope = z.infer<typeof PlanScopeSchema>;

/** What the store keeps for an action; `results` is keyed by `targetKey`. */
export const ActionRecordSchema = z.object({
  actionId: z.string(),
  action: ActionTypeSchema,
  target: ActionTargetSchema,
  options: z.strictObject({ mode: z.enum(ACTION_MODES) }).optional(),
  reason: z.string(),
  ticket: z.string().optional(),
  /** Who asked, shown to people: the requester's name (or, on older records, as typed). */
  requestedBy: z.string().optional(),
  /** Who asked, as authenticated: self-approval compares its `key`. Absent on older records. */
  requester: RequesterSchema.optional(),
  dryRun: z.boolean(),
  status: z.enum(ACTION_STATUSES),
  createdAt: z.string(),
  updatedAt: z.string(),
  targets: z.array(ResolvedTargetSchema).optional(),
  results: z.record(z.string(), TargetResultSchema),
  /**
   * How many batch items hold the targets, results and warnings instead of this record (session
   * actions: lib/sessions/batches.ts); the store's `get` puts them back in.
   */
  batches: z.number().int().min(1).optional(),
  error: ErrorSummarySchema.optional(),
  summary: z.string().optional(),
  expiresAt: z.number().int(),
  notify: SessionWarningSchema.optional(),
  urgency: z.enum(URGENCIES).optional(),
  /** What the action would do, recorded before anything is done (and all a dry run does). */
  plan: z
    .array(z.object({ target: z.string(), act: z.boolean(), reason: z.string().optional() }))
    .optional(),
  /** How many sessions the action would touch, by delivery group and by machine. */
  scope: PlanScopeSchema.optional(),
  /** Why the action was held, and the decision (never the task token). */
  approval: z
    .object({
      reasons: z.array(z.string()),
      requestedAt: z.string(),
      expiresAt: z.string(),
      decision: z.enum(['approved', 'rejected', 'expired']).optional(),
      decidedBy: z.string().optional(),
      decidedAt: z.string().optional(),
      comment: z.string().optional(),
    })
    .optional(),
  /** The Step Functions task token the workflow waits on; read only by the approve/reject API. */
  approvalTaskToken: z.string().optional(),
  /** The warnings sent to sessions before acting. */
  warnings: z
    .array(
      z.object({
        sessionId: z.string(),
        status: z.enum(['sent', 'failed']),
        error: ErrorSummarySchema.optional(),
      }),
    )
    .optional(),
  /** Who asked: the API, or a source endpoint with its delivery. */
  source: z
    .object({
      name: z.string(),
      deliveryId: z.string().optional(),
      title: z.string().optional(),
      serviceNowIncident: z.object({ sysId: z.string(), number: z.string().optional() }).optional(),
    })
    .optional(),
  callback: CallbackNameSchema.optional(),
  /** A runbook run: the values of its inputs. */
  inputs: RunbookInputsSchema.optional(),
  /** A runbook run: its runbook as the run started it (later changes to the file do not apply). */
  runbook: RunbookSchema.optional(),
  /** A runbook run: each step, in order, with the action it started. */
  steps: z.array(RunbookStepRecordSchema).optional(),
  /** A runbook run's step: the run it belongs to. */
  parentActionId: ActionIdSchema.optional(),
  /** Work notes and callbacks sent when the action ended, and how each went. */
  notifications: z
    .array(
      z.object({
        channel: z.enum(['servicenow', 'callback']),
        destination: z.string(),
        /**
         * `unknown`: an earlier attempt sent it but could not record how it went; it is not sent
         * again (a work note would be written twice).
         */
        status: z.enum(['delivered', 'failed', 'unknown']),
        attempts: z.number().int(),
        at: z.string(),
        error: ErrorSummarySchema.optional(),
      }),
    )
    .optional(),
});
export type ActionRecord = z.infer<typeof ActionRecordSchema>;

/** The execution input the API hands a workflow. */
export interface WorkflowInput {
  readonly actionId: string;
  readonly action: ActionType;
  readonly target: ActionTarget;
  readonly options?: Partial<RevokeOptions>;
  /** Session actions: the warning to send first, or null (none asked, or urgency immediate). */
  readonly warning?: SessionWarning | null;
  readonly dryRun: boolean;
}
