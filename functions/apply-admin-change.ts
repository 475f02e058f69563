import * as z from 'zod';
import {
  AdminActionTypeSchema,
  ResolvedAdministratorSchema,
  RevokeOptionsSchema,
} from '../lib/actions/schema.ts';
import {
  type AdminChange,
  type AdministratorChangeLock,
  type AdministratorController,
  type AdministratorGuards,
  applyAdministratorChange,
} from '../lib/administrators/admin-actions.ts';
import type { RevokeSnapshotStore } from '../lib/administrators/revoke-snapshots.ts';
import { audited } from '../lib/audit/audited.ts';
import { administratorGuardsFromEnv } from '../lib/runtime/administrator-settings.ts';
import { awsActionRecordWrites } from '../lib/runtime/clients/action-record-writes.ts';
import {
  awsAdministratorsClient,
  awsRevokeSnapshots,
} from '../lib/runtime/clients/administrators.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { awsAdministratorChangeLock } from '../lib/runtime/clients/change-lock.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';

export interface ApplyAdminChangeDependencies {
  readonly controller: AdministratorController;
  readonly guards: AdministratorGuards;
  /** Serializes administrator changes in the tenant (the lease in the limits table). */
  readonly lock: AdministratorChangeLock;
  /** What a restore puts back, and where it records that it did. */
  readonly revokes: RevokeSnapshotStore;
}

const InputSchema = z.object({
  actionId: z.string(),
  action: AdminActionTypeSchema,
  options: RevokeOptionsSchema,
  admin: ResolvedAdministratorSchema,
});

/**
 * Task: takes the tenant's administrator change lease (AdministratorChangeInProgressError while
 * another change holds it: the workflow retries), re-checks the guards on a fresh list, then
 * strips the administrator's access, deletes it, deletes the pending invitation, or restores the
 * access a strip replaced, sending the change once: one that got no answer is returned as
 * `unanswered`, for the read-back to judge. A guard that now refuses throws
 * AdministratorGuardRefusedError, recorded as `refused`.
 */
export const createApplyAdminChangeHandler = (
  getDependencies: () => ApplyAdminChangeDependencies,
) =>
  createTaskHandler(
    'ApplyAdminChange',
    InputSchema,
    getDependencies,
    (input, { controller, guards, lock, revokes }): Promise<AdminChange> =>
      applyAdministratorChange(
        controller,
        input.action,
        input.admin,
        input.options,
        guards,
        () => new Date(),
        // A retry of this task is the same owner, so it takes its own lease again.
        {
          lock,
          owner: `${input.actionId} ${input.admin.ucOid}`,
          actionId: input.actionId,
          revokes,
        },
      ),
  );

export const handler = audited(
  createApplyAdminChangeHandler(() => ({
    controller: awsAdministratorsClient(),
    guards: administratorGuardsFromEnv(process.env),
    lock: awsAdministratorChangeLock(),
    revokes: awsRevokeSnapshots(),
  })),
  awsAuditLog,
  awsActionRecordWrites,
);
