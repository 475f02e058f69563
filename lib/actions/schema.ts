import * as z from 'zod';
import { AdministratorAccessSchema } from '../citrix/administrators-client.ts';
import {
  DeviceIdSchema,
  DeviceUserNameSchema,
  SessionIdSchema,
  UserIdentifierSchema,
} from '../citrix/ids.ts';

/** Actions this project can carry out, by product; each product has its own workflow. */
export const SESSION_ACTIONS = ['session.logoff', 'session.disconnect'] as const;
export const DEVICE_ACTIONS = [
  'device.wipe',
  'device.selectiveWipe',
  'device.deployPolicy',
] as const;
export const ADMIN_ACTIONS = ['admin.revoke', 'admin.deleteInvitation'] as const;
export const ACTION_TYPES = [...SESSION_ACTIONS, ...DEVICE_ACTIONS, ...ADMIN_ACTIONS] as const;
export const ActionTypeSchema = z.enum(ACTION_TYPES);
export type ActionType = z.infer<typeof ActionTypeSchema>;
export const SessionActionTypeSchema = z.enum(SESSION_ACTIONS);
export type SessionActionType = z.infer<typeof SessionActionTypeSchema>;
export const DeviceActionTypeSchema = z.enum(DEVICE_ACTIONS);
export type DeviceActionType = z.infer<typeof DeviceActionTypeSchema>;
export const AdminActionTypeSchema = z.enum(ADMIN_ACTIONS);
export type AdminActionType = z.infer<typeof AdminActionTypeSchema>;

/** The state machine that carries out each kind of action (named as in lib/workflow). */
export type WorkflowName = 'session-action' | 'device-action' | 'admin-action';
export function workflowFor(action: ActionType): WorkflowName {
  if ((SESSION_ACTIONS as readonly string[]).includes(action)) return 'session-action';
  if ((DEVICE_ACTIONS as readonly string[]).includes(action)) return 'device-action';
  return 'admin-action';
}

const FreeText = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    // Control characters have no place in an audit record and break log lines.
    .refine((value) => !/(?![\t\n\r])\p{Cc}/u.test(value), {
      message: 'must not contain control characters',
    });

/** Exactly one of `sessionId` or `user` (a user means every session of that user). */
export const SessionTargetSchema = z
  .strictObject({ sessionId: SessionIdSchema.optional(), user: UserIdentifierSchema.optional() })
  .refine((target) => (target.sessionId === undefined) !== (target.user === undefined), {
    message: 'must have exactly one of sessionId or user',
  })
  .transform((target): { sessionId: string } | { user: string } =>
    target.sessionId !== undefined ? { sessionId: target.sessionId } : { user: target.user ?? '' },
  );
export type SessionTarget = z.infer<typeof SessionTargetSchema>;

/**
 * Exactly one of `deviceId` or `user` (every device enrolled by that user name, matched exactly
 * and case-insensitively).
 */
export const DeviceTargetSchema = z
  .strictObject({ deviceId: DeviceIdSchema.optional(), user: DeviceUserNameSchema.optional() })
  .refine((target) => (target.deviceId === undefined) !== (target.user === undefined), {
    message: 'must have exactly one of deviceId or user',
  })
  .transform((target): { deviceId: string } | { user: string } =>
    target.deviceId !== undefined ? { deviceId: target.deviceId } : { user: target.user ?? '' },
  );
export type DeviceTarget = z.infer<typeof DeviceTargetSchema>;

/** A Citrix Cloud administrator by email, userId or ucOid. */
export const AdminTargetSchema = z.strictObject({
  admin: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(256, 'must be at most 256 characters')
    .regex(/^[^\p{Cc}\p{Cf}\s]+$/u, 'must be an email, userId or ucOid without spaces'),
});
export type AdminTarget = z.infer<typeof AdminTargetSchema>;

/** A pending administrator invitation, by the email it was sent to. */
export const InvitationTargetSchema = z.strictObject({
  email: z.email('must be an email address').max(256),
});
export type InvitationTarget = z.infer<typeof InvitationTargetSchema>;

export const REVOKE_MODES = ['strip', 'delete'] as const;
/**
 * `strip` (default) sets Custom access with every permission unchecked and keeps the
 * administrator for forensics; `delete` removes the administrator.
 */
export const RevokeOptionsSchema = z.strictObject({
  mode: z.enum(REVOKE_MODES).default('strip'),
});
export type RevokeOptions = z.infer<typeof RevokeOptionsSchema>;

export type ActionTarget = SessionTarget | DeviceTarget | AdminTarget | InvitationTarget;

/** A callback destination by name; the operator configures the URL (never a request). */
export const CallbackNameSchema = z
  .string()
  .regex(/^[a-z0-9-]{1,40}$/, 'must be the name of a configured callback destination');

const RequestFields = {
  reason: FreeText(1000),
  ticket: FreeText(128).optional(),
  /**
   * Who asked (a person or a tool). Optional, but an action without it can only be rejected,
   * never approved: nobody could tell a self-approval apart. Sources always set it.
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

export const SessionActionRequestSchema = z.strictObject({
  action: SessionActionTypeSchema,
  target: SessionTargetSchema,
  /** Warn each session's user first (Citrix's advice before a log off). */
  notify: SessionWarningSchema.optional(),
  /** `immediate` skips the warning: containment comes first. */
  urgency: z.enum(['normal', 'immediate']).default('normal'),
  ...RequestFields,
});
export const DeviceActionRequestSchema = z.strictObject({
  action: DeviceActionTypeSchema,
  target: DeviceTargetSchema,
  ...RequestFields,
});
export const RevokeRequestSchema = z.strictObject({
  action: z.literal('admin.revoke'),
  target: AdminTargetSchema,
  options: RevokeOptionsSchema.default({ mode: 'strip' }),
  ...RequestFields,
});
export const DeleteInvitationRequestSchema = z.strictObject({
  action: z.literal('admin.deleteInvitation'),
  target: InvitationTargetSchema,
  ...RequestFields,
});
/** Every request shape; `ActionRequestSchema` checks a request against the one its action picks. */
export const ACTION_REQUEST_VARIANTS = [
  SessionActionRequestSchema,
  DeviceActionRequestSchema,
  RevokeRequestSchema,
  DeleteInvitationRequestSchema,
] as const;
type ParsedActionRequest =
  | z.output<typeof SessionActionRequestSchema>
  | z.output<typeof DeviceActionRequestSchema>
  | z.output<typeof RevokeRequestSchema>
  | z.output<typeof DeleteInvitationRequestSchema>;

function requestSchemaFor(action: ActionType): z.ZodType {
  if ((SESSION_ACTIONS as readonly string[]).includes(action)) return SessionActionRequestSchema;
  if ((DEVICE_ACTIONS as readonly string[]).includes(action)) return DeviceActionRequestSchema;
  return action === 'admin.revoke' ? RevokeRequestSchema : DeleteInvitationRequestSchema;
}
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
export const ActionRequestSchema = z.unknown().transform((input, ctx): ParsedActionRequest => {
  const action = ActionTypeSchema.safeParse((input as { action?: unknown } | null)?.action);
  const schema = action.success ? requestSchemaFor(action.data) : RequestEnvelopeSchema;
  const parsed = schema.safeParse(input);
  if (parsed.success && schema !== RequestEnvelopeSchema) return parsed.data as ParsedActionRequest;
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
export type ActionRequest = z.infer<typeof ActionRequestSchema>;

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
});
export type ResolvedAdministrator = z.infer<typeof ResolvedAdministratorSchema>;

export const ResolvedTargetSchema = z.union([
  ResolvedSessionSchema,
  ResolvedDeviceSchema,
  ResolvedAdministratorSchema,
]);
export type ResolvedTarget = z.infer<typeof ResolvedTargetSchema>;

/** `skipped`: the target was reported and deliberately left alone (e.g. an unmanaged device). */
export const TARGET_OUTCOMES = [
  'succeeded',
  'failed',
  'timed_out',
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

/** The id a target is recorded under: its session id or device id. */
export function targetKey(target: ResolvedTarget): string {
  if ('sessionId' in target) return target.sessionId;
  return 'deviceId' in target ? target.deviceId : target.administratorId;
}

/** What the store keeps for an action; `results` is keyed by `targetKey`. */
export const ActionRecordSchema = z.object({
  actionId: z.string(),
  action: ActionTypeSchema,
  target: z.union([
    SessionTargetSchema,
    DeviceTargetSchema,
    AdminTargetSchema,
    InvitationTargetSchema,
  ]),
  options: RevokeOptionsSchema.optional(),
  reason: z.string(),
  ticket: z.string().optional(),
  requestedBy: z.string().optional(),
  dryRun: z.boolean(),
  status: z.enum(ACTION_STATUSES),
  createdAt: z.string(),
  updatedAt: z.string(),
  targets: z.array(ResolvedTargetSchema).optional(),
  results: z.record(z.string(), TargetResultSchema),
  error: ErrorSummarySchema.optional(),
  summary: z.string().optional(),
  expiresAt: z.number().int(),
  notify: SessionWarningSchema.optional(),
  urgency: z.enum(['normal', 'immediate']).optional(),
  /** What the action would do, recorded before anything is done (and all a dry run does). */
  plan: z
    .array(z.object({ target: z.string(), act: z.boolean(), reason: z.string().optional() }))
    .optional(),
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
