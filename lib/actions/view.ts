import * as z from 'zod';
import { AuditEntrySchema, AuditFailureSchema } from '../audit/audit-log.ts';
import { RequesterSchema } from '../identity/requester.ts';
import { RunbookSchema } from '../runbooks/definition.ts';
import { FIND_KINDS, TARGET_FIELD_VALUES, TARGET_FIELDS } from './declaration.ts';
import {
  ACTION_STATUSES,
  ActionIdSchema,
  type ActionRecord,
  ActionRecordSchema,
  ActionTypeSchema,
  CallbackNameSchema,
  ErrorSummarySchema,
  RevokeOptionsSchema,
  type TargetResult,
  TargetResultSchema,
  targetKey,
} from './schema.ts';
import type { StoredActionRecord } from './store.ts';
import { type ActionUndo, ActionUndoSchema, undoOf } from './undo.ts';

/** A sweep's run: the sweep, and what it looked for (config/sweeps.json). */
const SweepTargetViewSchema = z.strictObject({
  sweep: z.string(),
  maxTargets: z.int(),
  observe: z.boolean(),
  find: z.partialRecord(z.enum(FIND_KINDS), z.record(z.string(), z.unknown())),
});

/**
 * A request's target once normalized: exactly one key, as every request schema outputs it (one
 * shape per target field the catalog knows), or the sweep a scheduled run came from.
 */
export const ActionTargetViewSchema = z
  .union([
    ...TARGET_FIELDS.map((field) =>
      z.strictObject({
        [field]: TARGET_FIELD_VALUES[field] === 'names' ? z.array(z.string()) : z.string(),
      }),
    ),
    SweepTargetViewSchema,
    z.strictObject({ runbook: z.string() }),
    z.strictObject({ definition: RunbookSchema }),
  ])
  .meta({
    id: 'ActionTarget',
    description:
      'The target as the request named it (one of its fields), the sweep whose run it is and what the sweep looked for, or the runbook a run runs (by name, or its whole definition).',
  });
export type ActionTargetView = z.infer<typeof ActionTargetViewSchema>;

/**
 * Who asked for an action, as the view shows it: only these fields are copied from the record, so
 * whatever else a source may record later is not published by accident.
 */
export const ActionSourceViewSchema = z
  .object({
    name: z.string().meta({
      description:
        "`api` for POST /v1/actions, `sweep` for a sweep's run, else the source endpoint: `servicenow`, `splunk`, `sentinel`, `pagerduty` or `standard`.",
    }),
    deliveryId: z
      .string()
      .optional()
      .meta({ description: 'The source delivery that started the action (deliveries table).' }),
    title: z.string().optional().meta({
      description:
        'The alert or incident as the source named it: search name, incident title or ticket number.',
    }),
    serviceNowIncident: z
      .object({ sysId: z.string(), number: z.string().optional() })
      .optional()
      .meta({ description: 'The ServiceNow record that asked, which gets the work note.' }),
  })
  .meta({
    id: 'ActionSource',
    description: 'Who asked for the action: the API, or a source endpoint and its delivery.',
  });
export type ActionSourceView = z.infer<typeof ActionSourceViewSchema>;

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
    requestedBy: z.string().optional().meta({
      description:
        "Who asked, as shown to people: the requester's name (or, on older actions, the name the request gave).",
    }),
    requester: RequesterSchema.optional().meta({
      description:
        'Who asked, as authenticated: a person (`key` is the IAM principal), a source (`source:<name>`) or a sweep (`sweep:<name>`). Absent on older actions.',
    }),
    /** Absent on actions recorded before sources were; every new action has one. */
    source: ActionSourceViewSchema.optional(),
    callback: CallbackNameSchema.optional().meta({
      description:
        'The callback destination told of the outcome, by name (its URL and signing key are never shown).',
    }),
    dryRun: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
    summary: z.string().optional(),
    error: ErrorSummarySchema.optional(),
    /** One per resolved target, in the order the workflow resolved them. */
    results: z.array(TargetResultSchema),
    /** What the action would do, recorded before anything was done. */
    plan: ActionRecordSchema.shape.plan,
    /** A session action's sessions by delivery group and machine, counted before acting. */
    scope: ActionRecordSchema.shape.scope,
    /** Why the action was held for approval, and the decision (the task token is never shown). */
    approval: ActionRecordSchema.shape.approval,
    warnings: ActionRecordSchema.shape.warnings,
    notifications: ActionRecordSchema.shape.notifications,
    /** How to undo the action, where its declaration names an undo (lib/actions/undo.ts). */
    undo: ActionUndoSchema.optional(),
    inputs: ActionRecordSchema.shape.inputs.meta({
      description: "A runbook run's inputs, by name.",
    }),
    steps: ActionRecordSchema.shape.steps.meta({
      description:
        "A runbook run's steps in order: each one's status, the action it started (`childActionId`: approve that one when the step awaits approval), its summary and the targets it counted.",
    }),
    parentActionId: ActionRecordSchema.shape.parentActionId.meta({
      description: 'The runbook run this action is a step of.',
    }),
    auditFailures: z.array(AuditFailureSchema).optional().meta({
      description:
        'Audit entries a step of the action could not write (when, how many, of which types, and why): the timeline lacks them. Absent when every entry was written.',
    }),
    /** Every request, decision, Citrix call and outcome, oldest first (from the audit trail). */
    timeline: z.array(AuditEntrySchema).optional(),
  })
  .meta({
    id: 'ActionView',
    description:
      'An action and what happened to each of its targets (GET /v1/actions/{actionId}); results are in the order the workflow resolved the targets.',
  });
export type ActionView = z.infer<typeof ActionViewSchema>;

/** The view of a record; the store's reading of it adds the audit entries its steps could not write. */
export function toActionView(record: ActionRecord | StoredActionRecord): ActionView {
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
    ...(record.requester === undefined
      ? {}
      : {
          requester: {
            kind: record.requester.kind,
            key: record.requester.key,
            name: record.requester.name,
          },
        }),
    ...(record.source === undefined ? {} : { source: toSourceView(record.source) }),
    ...(record.callback === undefined ? {} : { callback: record.callback }),
    dryRun: record.dryRun,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    ...(record.summary === undefined ? {} : { summary: record.summary }),
    ...(record.error === undefined ? {} : { error: record.error }),
    results,
    ...(record.plan === undefined ? {} : { plan: record.plan }),
    ...(record.scope === undefined ? {} : { scope: record.scope }),
    ...(record.approval === undefined ? {} : { approval: record.approval }),
    ...(record.warnings === undefined ? {} : { warnings: record.warnings }),
    ...(record.notifications === undefined ? {} : { notifications: record.notifications }),
    ...optionalUndo(record),
    ...(record.inputs === undefined ? {} : { inputs: record.inputs }),
    ...(record.steps === undefined ? {} : { steps: record.steps }),
    ...(record.parentActionId === undefined ? {} : { parentActionId: record.parentActionId }),
    ...('auditFailures' in record && record.auditFailures !== undefined
      ? { auditFailures: record.auditFailures }
      : {}),
  };
}

function optionalUndo(record: ActionRecord): { undo?: ActionUndo } {
  const undo = undoOf(record);
  return undo === undefined ? {} : { undo };
}

function toSourceView(source: NonNullable<ActionRecord['source']>): ActionSourceView {
  const incident = source.serviceNowIncident;
  return {
    name: source.name,
    ...(source.deliveryId === undefined ? {} : { deliveryId: source.deliveryId }),
    ...(source.title === undefined ? {} : { title: source.title }),
    ...(incident === undefined
      ? {}
      : {
          serviceNowIncident: {
            sysId: incident.sysId,
            ...(incident.number === undefined ? {} : { number: incident.number }),
          },
        }),
  };
}
