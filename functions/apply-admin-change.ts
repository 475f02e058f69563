import { z } from 'zod';
import {
  AdminActionTypeSchema,
  ResolvedAdministratorSchema,
  RevokeOptionsSchema,
} from '../lib/actions/schema.ts';
import {
  type AdminChange,
  type AdministratorController,
  type AdministratorGuards,
  applyAdministratorChange,
} from '../lib/administrators/admin-actions.ts';
import { audited } from '../lib/audit/audited.ts';
import {
  awsAdministratorGuards,
  awsAdministratorsClient,
  awsAuditLog,
} from '../lib/runtime/aws.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';

export interface ApplyAdminChangeDependencies {
  readonly controller: AdministratorController;
  readonly guards: AdministratorGuards;
}

const InputSchema = z.object({
  actionId: z.string(),
  action: AdminActionTypeSchema,
  options: RevokeOptionsSchema,
  admin: ResolvedAdministratorSchema,
});

/**
 * Task: re-checks the guards on a fresh list, then strips the administrator's access, deletes
 * it, or deletes the pending invitation. A guard that now refuses throws
 * AdministratorGuardRefusedError, recorded as `refused`.
 */
export const createApplyAdminChangeHandler = (
  getDependencies: () => ApplyAdminChangeDependencies,
) =>
  createTaskHandler(
    'ApplyAdminChange',
    InputSchema,
    getDependencies,
    (input, { controller, guards }): Promise<AdminChange> =>
      applyAdministratorChange(
        controller,
        input.action,
        input.admin,
        input.options,
        guards,
        () => new Date(),
      ),
  );

export const handler = audited(
  createApplyAdminChangeHandler(() => ({
    controller: awsAdministratorsClient(),
    guards: awsAdministratorGuards(),
  })),
  awsAuditLog,
);
