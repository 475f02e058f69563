import * as z from 'zod';
import { ActionListItemSchema } from '../lib/actions/list.ts';
import {
  ACTION_STATUSES,
  ActionIdSchema,
  ActionRecordSchema,
  ErrorSummarySchema,
  PlanScopeSchema,
} from '../lib/actions/schema.ts';
import { RequesterSchema } from '../lib/identity/requester.ts';

/*
 * The API's answers as the CLI reads them. Statuses and ids are the catalog's own; the rest is
 * read loosely (unknown fields kept and passed on to --json) so that a stack one release ahead,
 * with fields or actions this CLI does not know yet, still answers its commands.
 */

/** `202` to `POST /v1/actions`. */
export const AcceptedAnswerSchema = z.looseObject({
  actionId: ActionIdSchema,
  status: z.string(),
  statusUrl: z.string().optional(),
  duplicate: z.boolean().optional(),
});
export type AcceptedAnswer = z.infer<typeof AcceptedAnswerSchema>;

/** `200` to `POST /v1/actions/{actionId}/approve` and `/reject`. */
export const DecisionAnswerSchema = z.looseObject({
  actionId: ActionIdSchema,
  status: z.enum(ACTION_STATUSES),
  decidedBy: z.string(),
});
export type DecisionAnswer = z.infer<typeof DecisionAnswerSchema>;

/** One target's result: its outcome, and the names it is shown under. */
const TargetResultAnswerSchema = z.looseObject({
  outcome: z.string(),
  sessionId: z.string().optional(),
  deviceId: z.string().optional(),
  administratorId: z.string().optional(),
  userName: z.string().optional(),
  email: z.string().optional(),
  displayName: z.string().optional(),
  machineName: z.string().optional(),
  deviceModel: z.string().optional(),
  note: z.string().optional(),
  skipReason: z.string().optional(),
  refusal: z.string().optional(),
  error: ErrorSummarySchema.optional(),
});
export type TargetResultAnswer = z.infer<typeof TargetResultAnswerSchema>;

/** One step of a runbook run (`runbook.run`): its own child action once started. */
const RunbookStepAnswerSchema = z.looseObject({
  id: z.string(),
  action: z.string(),
  status: z.string(),
  childActionId: ActionIdSchema.optional(),
  summary: z.string().optional(),
  /** The targets the step planned or acted on, once it ended. */
  targets: z.int().min(0).optional(),
});
export type RunbookStepAnswer = z.infer<typeof RunbookStepAnswerSchema>;

const TimelineEntryAnswerSchema = z.looseObject({
  at: z.string(),
  type: z.string(),
  summary: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type TimelineEntryAnswer = z.infer<typeof TimelineEntryAnswerSchema>;

/** `200` to `GET /v1/actions/{actionId}`. */
export const ActionViewAnswerSchema = z.looseObject({
  actionId: ActionIdSchema,
  action: z.string(),
  status: z.enum(ACTION_STATUSES),
  target: z.record(z.string(), z.unknown()),
  reason: z.string(),
  ticket: z.string().optional(),
  requestedBy: z.string().optional(),
  requester: RequesterSchema.optional(),
  dryRun: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  summary: z.string().optional(),
  error: ErrorSummarySchema.optional(),
  results: z.array(TargetResultAnswerSchema).optional(),
  plan: ActionRecordSchema.shape.plan,
  scope: PlanScopeSchema.optional(),
  approval: ActionRecordSchema.shape.approval,
  steps: z.array(RunbookStepAnswerSchema).optional(),
  parentActionId: ActionIdSchema.optional(),
  /** How to undo it, where Citrix allows (an `admin.revoke` in strip mode: `admin.restore`). */
  undo: z.looseObject({ action: z.string(), command: z.string() }).optional(),
  timeline: z.array(TimelineEntryAnswerSchema).optional(),
  /** Audit entries a step could not write: the timeline lacks them (types read as text). */
  auditFailures: z
    .array(
      z.looseObject({
        at: z.string(),
        entries: z.int(),
        types: z.array(z.string()),
        error: z.looseObject({ name: z.string(), message: z.string() }),
      }),
    )
    .optional(),
});
export type ActionViewAnswer = z.infer<typeof ActionViewAnswerSchema>;

/**
 * One action of `GET /v1/actions`: the API's own list item, read loosely (an action or a target
 * shape this CLI does not know yet is still listed).
 */
export const ActionListItemAnswerSchema = ActionListItemSchema.extend({
  action: z.string(),
  target: z.record(z.string(), z.unknown()),
}).loose();
export type ActionListItemAnswer = z.infer<typeof ActionListItemAnswerSchema>;

export const ActionListAnswerSchema = z.looseObject({
  actions: z.array(ActionListItemAnswerSchema),
  nextToken: z.string().optional(),
});
export type ActionListAnswer = z.infer<typeof ActionListAnswerSchema>;

/** An error answer: the API's own, or API Gateway's (`{"message"}`, e.g. a refused signature). */
export const ErrorAnswerSchema = z.union([
  z.object({
    error: z.looseObject({
      code: z.string(),
      message: z.string(),
      details: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
      fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    }),
  }),
  z.object({ message: z.string() }),
]);
export type ErrorAnswer = z.infer<typeof ErrorAnswerSchema>;
