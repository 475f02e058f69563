import { z } from 'zod';
import { AuditEntrySchema } from '../audit/audit-log.ts';
import {
  ACTION_STATUSES,
  ActionIdSchema,
  type ActionRecord,
  ActionRecordSchema,
  ActionTypeSchema,
  ErrorSummarySchema,
  RevokeOptionsSchema,
  type TargetResult,
  TargetResultSchema,
  targetKey,
} from './schema.ts';

/** A request's target once normalized: exactly one key, as every request schema outputs it. */
export const ActionTargetViewSchema = z
  .union([
    z.strictObject({ sessionId: z.string() }),
    z.strictObject({ deviceId: z.string() }),
    z.strictObject({ user: z.string() }),
    z.strictObject({ admin: z.string() }),
    z.strictObject({ email: z.string() }),
  ])
  .meta({
    id: 'ActionTarget',
    description:
      'The target as the request named it: a session id, a device id, a user, an administrator or an invitation email.',
  });
export type ActionTargetView = z.infer<typeof ActionTargetViewSchema>;

/** The public shape of an action (`GET /v1/actions/{actionId}`): results as an ordered list. */
export const ActionViewSchema = z
  .object({
    actionId: ActionIdSchema,
    action: ActionTypeSchema,
    status: z.enum(ACTION_STATUSES),
    target: ActionTargetViewSchema,
    options: RevokeOptionsSchema.optional(),
    reason: z.string(),
    ticket: z.string().optional(),
    requestedBy: z.string().optional(),
    dryRun: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
    summary: z.string().optional(),
    error: ErrorSummarySchema.optional(),
    /** One per resolved target, in the order the workflow resolved them. */
    results: z.array(TargetResultSchema),
    /** What the action would do, recorded before anything was done. */
    plan: ActionRecordSchema.shape.plan,
    /** Why the action was held for approval, and the decision (the task token is never shown). */
    approval: ActionRecordSchema.shape.approval,
    warnings: ActionRecordSchema.shape.warnings,
    notifications: ActionRecordSchema.shape.notifications,
    /** Every request, decision, Citrix call and outcome, oldest first (from the audit trail). */
    timeline: z.array(AuditEntrySchema).optional(),
  })
  .meta({
    id: 'ActionView',
    description:
      'An action and what happened to each of its targets (GET /v1/actions/{actionId}); results are in the order the workflow resolved the targets.',
  });
export type ActionView = z.infer<typeof ActionViewSchema>;

export function toActionView(record: ActionRecord): ActionView {
  const order = new Map((record.targets ?? []).map((target, index) => [targetKey(target), index]));
  const position = (result: TargetResult) => order.get(targetKey(result)) ?? order.size;
  const results = Object.values(record.results).sort((a, b) => position(a) - position(b));
  return {
    actionId: record.actionId,
    action: record.action,
    status: record.status,
    target: record.target,
    ...(record.options === undefined ? {} : { options: record.options }),
    reason: record.reason,
    ...(record.ticket === undefined ? {} : { ticket: record.ticket }),
    ...(record.requestedBy === undefined ? {} : { requestedBy: record.requestedBy }),
    dryRun: record.dryRun,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    ...(record.summary === undefined ? {} : { summary: record.summary }),
    ...(record.error === undefined ? {} : { error: record.error }),
    results,
    ...(record.plan === undefined ? {} : { plan: record.plan }),
    ...(record.approval === undefined ? {} : { approval: record.approval }),
    ...(record.warnings === undefined ? {} : { warnings: record.warnings }),
    ...(record.notifications === undefined ? {} : { notifications: record.notifications }),
  };
}
