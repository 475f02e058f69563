import * as z from 'zod';
import { ResolvedAdministratorSchema } from '../lib/actions/schema.ts';
import {
  AdminChangeSchema,
  type AdministratorDirectory,
  type AdminReadBack,
  readAdministratorBack,
} from '../lib/administrators/admin-actions.ts';
import { audited } from '../lib/audit/audited.ts';
import { awsActionRecordWrites } from '../lib/runtime/clients/action-record-writes.ts';
import { awsAdministratorsClient } from '../lib/runtime/clients/administrators.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';

export interface ReadAdminBackDependencies {
  readonly directory: AdministratorDirectory;
}

const InputSchema = z.object({
  actionId: z.string(),
  admin: ResolvedAdministratorSchema,
  change: AdminChangeSchema,
});

/** Task: proves the change took effect; throws AdministratorChangeNotAppliedError otherwise. */
export const createReadAdminBackHandler = (getDependencies: () => ReadAdminBackDependencies) =>
  createTaskHandler(
    'ReadAdminBack',
    InputSchema,
    getDependencies,
    (input, { directory }): Promise<AdminReadBack> =>
      readAdministratorBack(directory, input.admin, input.change),
  );

export const handler = audited(
  createReadAdminBackHandler(() => ({
    directory: awsAdministratorsClient(),
  })),
  awsAuditLog,
  awsActionRecordWrites,
);
