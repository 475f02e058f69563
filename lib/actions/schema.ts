import { z } from 'zod';
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
export const ACTION_TYPES = [...SESSION_ACTIONS, ...DEVICE_ACTIONS] as const;
export const ActionTypeSchema = z.enum(ACTION_TYPES);
export type ActionType = z.infer<typeof ActionTypeSchema>;
export const SessionActionTypeSchema = z.enum(SESSION_ACTIONS);
export type SessionActionType = z.infer<typeof SessionActionTypeSchema>;
export const DeviceActionTypeSchema = z.enum(DEVICE_ACTIONS);
export type DeviceActionType = z.infer<typeof DeviceActionTypeSchema>;

/** The state machine that carries out each kind of action (named as in lib/workflow). */
export type WorkflowName = 'session-action' | 'device-action';
export function workflowFor(action: ActionType): WorkflowName {
  return (SESSION_ACTIONS as readonly string[]).includes(action)
    ? 'session-action'
    : 'device-action';
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

export type ActionTarget = SessionTarget | DeviceTarget;

const RequestFields = {
  reason: FreeText(1000),
  ticket: FreeText(128).optional(),
  requestedBy: FreeText(256).optional(),
  dryRun: z.boolean().default(false),
};

const SessionActionRequestSchema = z.strictObject({
  action: SessionActionTypeSchema,
  target: SessionTargetSchema,
  ...RequestFields,
});
const DeviceActionRequestSchema = z.strictObject({
  action: DeviceActionTypeSchema,
  target: DeviceTargetSchema,
  ...RequestFields,
});
type ParsedActionRequest =
  | z.output<typeof SessionActionRequestSchema>
  | z.output<typeof DeviceActionRequestSchema>;
// Checks every field but the target when the action itself is unknown.
const RequestEnvelopeSchema = z.strictObject({
  action: ActionTypeSchema,
  target: z.unknown(),
  ...RequestFields,
});

/**
 * The normalized action request every source is turned into (`POST /v1/actions`). The action
 * decides the target's shape; every invalid field is reported at once, even with a bad action.
 */
export const ActionRequestSchema = z.unknown().transform((input, ctx): ParsedActionRequest => {
  const action = ActionTypeSchema.safeParse((input as { action?: unknown } | null)?.action);
  const schema = !action.success
    ? RequestEnvelopeSchema
    : (SESSION_ACTIONS as readonly string[]).includes(action.data)
      ? SessionActionRequestSchema
      : DeviceActionRequestSchema;
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

export const ACTION_STATUSES = [
  'accepted',
  'running',
  'succeeded',
  'partially_succeeded',
  'failed',
  'planned',
] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];
export const TERMINAL_ACTION_STATUSES: readonly ActionStatus[] = [
  'succeeded',
  'partially_succeeded',
  'failed',
  'planned',
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
  userName: z.string().optional(),
  machineName: z.string().optional(),
  state: z.string().optional(),
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
});
export type ResolvedDevice = z.infer<typeof ResolvedDeviceSchema>;

export const ResolvedTargetSchema = z.union([ResolvedSessionSchema, ResolvedDeviceSchema]);
export type ResolvedTarget = z.infer<typeof ResolvedTargetSchema>;

/** `skipped`: the target was reported and deliberately left alone (e.g. an unmanaged device). */
export const TARGET_OUTCOMES = ['succeeded', 'failed', 'timed_out', 'planned', 'skipped'] as const;
export type TargetOutcome = (typeof TARGET_OUTCOMES)[number];

export const SessionTargetResultSchema = ResolvedSessionSchema.extend({
  outcome: z.enum(TARGET_OUTCOMES),
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

export const TargetResultSchema = z.union([SessionTargetResultSchema, DeviceTargetResultSchema]);
export type TargetResult = z.infer<typeof TargetResultSchema>;

/** The id a target is recorded under: its session id or device id. */
export function targetKey(target: ResolvedTarget): string {
  return 'sessionId' in target ? target.sessionId : target.deviceId;
}

/** What the store keeps for an action; `results` is keyed by `targetKey`. */
export const ActionRecordSchema = z.object({
  actionId: z.string(),
  action: ActionTypeSchema,
  target: z.union([SessionTargetSchema, DeviceTargetSchema]),
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
});
export type ActionRecord = z.infer<typeof ActionRecordSchema>;

/** The execution input the API hands a workflow. */
export interface WorkflowInput {
  readonly actionId: string;
  readonly action: ActionType;
  readonly target: ActionTarget;
  readonly dryRun: boolean;
}
