import * as z from 'zod';
import { buildTargetResult, CaughtErrorSchema } from '../lib/actions/outcome.ts';
import { ResolvedSessionSchema, type TargetResult } from '../lib/actions/schema.ts';
import type { ActionStore } from '../lib/actions/store.ts';
import { audited } from '../lib/audit/audited.ts';
import { auditTargetOutcome } from '../lib/audit/events.ts';
import { awsActionStore } from '../lib/runtime/clients/action-store.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';
import { SessionProgressSchema } from '../lib/sessions/session-actions.ts';

export interface RecordTargetResultDependencies {
  readonly actions: Pick<ActionStore, 'recordTargetResult'>;
}

/** The Map iteration's whole state: progress when a step succeeded, error when one was caught. */
const InputSchema = z.object({
  actionId: z.string(),
  target: ResolvedSessionSchema,
  progress: SessionProgressSchema.optional(),
  error: CaughtErrorSchema.optional(),
});

/** Task: turns one target's progress or error into its result, stores it, and returns it. */
export const createRecordTargetResultHandler = (
  getDependencies: () => RecordTargetResultDependencies,
) =>
  createTaskHandler(
    'RecordTargetResult',
    InputSchema,
    getDependencies,
    async (input, { actions }): Promise<TargetResult> => {
      const result = buildTargetResult(input.target, input.progress, input.error, new Date());
      await actions.recordTargetResult(input.actionId, result);
      auditTargetOutcome(result);
      return result;
    },
  );

export const handler = audited(
  createRecordTargetResultHandler(() => ({ actions: awsActionStore() })),
  awsAuditLog,
);
