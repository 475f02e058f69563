import { z } from 'zod';
import { SessionIdSchema, UserIdentifierSchema } from '../citrix/ids.ts';

/** Actions this project can carry out. Later products add theirs here. */
export const SESSION_ACTIONS = ['session.logoff', 'session.disconnect'] as const;
export const ActionTypeSchema = z.enum(SESSION_ACTIONS);
export type ActionType = z.infer<typeof ActionTypeSchema>;

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

/** The normalized action request every source is turned into (`POST /v1/actions`). */
export const ActionRequestSchema = z.strictObject({
  action: ActionTypeSchema,
  target: SessionTargetSchema,
  reason: FreeText(1000),
  ticket: FreeText(128).optional(),
  requestedBy: FreeText(256).optional(),
  dryRun: z.boolean().default(false),
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

export const TARGET_OUTCOMES = ['succeeded', 'failed', 'timed_out', 'planned'] as const;
export type TargetOutcome = (typeof TARGET_OUTCOMES)[number];

export const TargetResultSchema = ResolvedSessionSchema.extend({
  outcome: z.enum(TARGET_OUTCOMES),
  job: z.object({ id: z.string(), status: z.string().optional() }).optional(),
  error: ErrorSummarySchema.optional(),
  finishedAt: z.string(),
});
export type TargetResult = z.infer<typeof TargetResultSchema>;

/** What the store keeps for an action; `results` is keyed by session id. */
export const ActionRecordSchema = z.object({
  actionId: z.string(),
  action: ActionTypeSchema,
  target: SessionTargetSchema,
  reason: z.string(),
  ticket: z.string().optional(),
  requestedBy: z.string().optional(),
  dryRun: z.boolean(),
  status: z.enum(ACTION_STATUSES),
  createdAt: z.string(),
  updatedAt: z.string(),
  targets: z.array(ResolvedSessionSchema).optional(),
  results: z.record(z.string(), TargetResultSchema),
  error: ErrorSummarySchema.optional(),
  summary: z.string().optional(),
  expiresAt: z.number().int(),
});
export type ActionRecord = z.infer<typeof ActionRecordSchema>;

/** The execution input the API hands the session workflow. */
export const SessionWorkflowInputSchema = z.object({
  actionId: z.string(),
  action: ActionTypeSchema,
  target: SessionTargetSchema,
  dryRun: z.boolean(),
});
export type SessionWorkflowInput = z.infer<typeof SessionWorkflowInputSchema>;
