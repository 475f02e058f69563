import * as z from 'zod';
import { CaughtErrorSchema } from '../lib/actions/outcome.ts';
import {
  AdminActionTypeSchema,
  type AdminTargetResult,
  ResolvedAdministratorSchema,
  RevokeOptionsSchema,
} from '../lib/actions/schema.ts';
import type { ActionStore } from '../lib/actions/store.ts';
import {
  AdminChangeSchema,
  AdminReadBackSchema,
  buildAdministratorResult,
  changeModeOf,
  recordStripSnapshot,
} from '../lib/administrators/admin-actions.ts';
import type { RevokeSnapshotStore } from '../lib/administrators/revoke-snapshots.ts';
import { audited } from '../lib/audit/audited.ts';
import { auditTargetOutcome } from '../lib/audit/events.ts';
import { awsActionRecordWrites } from '../lib/runtime/clients/action-record-writes.ts';
import { awsActionStore } from '../lib/runtime/clients/action-store.ts';
import { awsRevokeSnapshots } from '../lib/runtime/clients/administrators.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';

export interface RecordAdminResultDependencies {
  readonly actions: Pick<ActionStore, 'recordTargetResult'>;
  /** A strip's snapshot, which admin.restore puts back. */
  readonly revokes: Pick<RevokeSnapshotStore, 'recordStrip'>;
}

/** The Map iteration's whole state: what each step produced, or the error that ended it. */
const InputSchema = z.object({
  actionId: z.string(),
  action: AdminActionTypeSchema,
  options: RevokeOptionsSchema,
  target: ResolvedAdministratorSchema,
  change: AdminChangeSchema.optional(),
  after: AdminReadBackSchema.optional(),
  error: CaughtErrorSchema.optional(),
  readBackError: CaughtErrorSchema.optional(),
});

/**
 * Task: turns one administrator's steps into its result (a change that went out without an
 * answer: confirmed by the read-back, or unconfirmed), records a strip's snapshot for
 * admin.restore, stores the result, and returns it.
 */
export const createRecordAdminResultHandler = (
  getDependencies: () => RecordAdminResultDependencies,
) =>
  createTaskHandler(
    'RecordAdminResult',
    InputSchema,
    getDependencies,
    async (input, { actions, revokes }): Promise<AdminTargetResult> => {
      const progress = { ...input, mode: changeModeOf(input.action, input.options) };
      const built = buildAdministratorResult(input.target, progress, new Date());
      const result = await recordStripSnapshot(revokes, input.actionId, built, progress);
      await actions.recordTargetResult(input.actionId, result);
      auditTargetOutcome(result);
      return result;
    },
  );

export const handler = audited(
  createRecordAdminResultHandler(() => ({
    actions: awsActionStore(),
    revokes: awsRevokeSnapshots(),
  })),
  awsAuditLog,
  awsActionRecordWrites,
);
