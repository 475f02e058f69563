import * as z from 'zod';
import { CaughtErrorSchema } from '../lib/actions/outcome.ts';
import {
  type AdminTargetResult,
  AdminTargetResultSchema,
  ResolvedAdministratorSchema,
} from '../lib/actions/schema.ts';
import type { ActionStore } from '../lib/actions/store.ts';
import {
  AdminChangeSchema,
  buildAdministratorResult,
} from '../lib/administrators/admin-actions.ts';
import { audited } from '../lib/audit/audited.ts';
import { auditTargetOutcome } from '../lib/audit/events.ts';
import { awsActionStore } from '../lib/runtime/clients/action-store.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';

export interface RecordAdminResultDependencies {
  readonly actions: Pick<ActionStore, 'recordTargetResult'>;
}

/** The Map iteration's whole state: what each step produced, or the error that ended it. */
const InputSchema = z.object({
  actionId: z.string(),
  target: ResolvedAdministratorSchema,
  change: AdminChangeSchema.optional(),
  after: AdminTargetResultSchema.shape.after,
  error: CaughtErrorSchema.optional(),
  readBackError: CaughtErrorSchema.optional(),
});

/** Task: turns one administrator's steps into its result, stores it, and returns it. */
export const createRecordAdminResultHandler = (
  getDependencies: () => RecordAdminResultDependencies,
) =>
  createTaskHandler(
    'RecordAdminResult',
    InputSchema,
    getDependencies,
    async (input, { actions }): Promise<AdminTargetResult> => {
      const result = buildAdministratorResult(input.target, input, new Date());
      await actions.recordTargetResult(input.actionId, result);
      auditTargetOutcome(result);
      return result;
    },
  );

export const handler = audited(
  createRecordAdminResultHandler(() => ({ actions: awsActionStore() })),
  awsAuditLog,
);
