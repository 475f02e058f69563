import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
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
import { DynamoAdministratorChangeLock } from '../lib/administrators/change-lock.ts';
import { audited } from '../lib/audit/audited.ts';
import { citrixConnectionFromEnv } from '../lib/citrix/config.ts';
import {
  awsAdministratorGuards,
  awsAdministratorsClient,
  awsAuditLog,
} from '../lib/runtime/aws.ts';
import { requiredEnv } from '../lib/runtime/settings.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';

export interface ApplyAdminChangeDependencies {
  readonly controller: AdministratorController;
  readonly guards: AdministratorGuards;
  /** Serializes administrator changes in the tenant (the lease in the limits table). */
  readonly lock: AdministratorChangeLock;
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
 * strips the administrator's access, deletes it, or deletes the pending invitation. A guard that
 * now refuses throws AdministratorGuardRefusedError, recorded as `refused`.
 */
export const createApplyAdminChangeHandler = (
  getDependencies: () => ApplyAdminChangeDependencies,
) =>
  createTaskHandler(
    'ApplyAdminChange',
    InputSchema,
    getDependencies,
    (input, { controller, guards, lock }): Promise<AdminChange> =>
      applyAdministratorChange(
        controller,
        input.action,
        input.admin,
        input.options,
        guards,
        () => new Date(),
        // A retry of this task is the same owner, so it takes its own lease again.
        { lock, owner: `${input.actionId} ${input.admin.ucOid}` },
      ),
  );

let awsLock: AdministratorChangeLock | undefined;

/** The lease in the limits table (`LIMITS_TABLE_NAME`), per `CITRIX_CUSTOMER_ID`. */
function awsAdministratorChangeLock(): AdministratorChangeLock {
  awsLock ??= new DynamoAdministratorChangeLock(
    new DynamoDBClient({}),
    requiredEnv(process.env, 'LIMITS_TABLE_NAME'),
    citrixConnectionFromEnv(process.env).customerId,
  );
  return awsLock;
}

export const handler = audited(
  createApplyAdminChangeHandler(() => ({
    controller: awsAdministratorsClient(),
    guards: awsAdministratorGuards(),
    lock: awsAdministratorChangeLock(),
  })),
  awsAuditLog,
);
