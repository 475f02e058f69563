import * as z from 'zod';
import { CaughtErrorSchema } from '../lib/actions/outcome.ts';
import {
  AdminActionTypeSchema,
  ResolvedAdministratorSchema,
  RevokeOptionsSchema,
} from '../lib/actions/schema.ts';
import {
  AdminChangeSchema,
  type AdministratorDirectory,
  type AdminReadBack,
  changeAfterFailure,
  readAdministratorBack,
} from '../lib/administrators/admin-actions.ts';
import { audited } from '../lib/audit/audited.ts';
import { awsActionRecordWrites } from '../lib/runtime/clients/action-record-writes.ts';
import { awsAdministratorsClient } from '../lib/runtime/clients/administrators.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { createTaskHandler, InvalidTaskInputError } from '../lib/runtime/task-handler.ts';

export interface ReadAdminBackDependencies {
  readonly directory: AdministratorDirectory;
}

/** The Map iteration's state: the change ApplyChange returned, or the error it failed with. */
const InputSchema = z.object({
  actionId: z.string(),
  action: AdminActionTypeSchema,
  options: RevokeOptionsSchema,
  target: ResolvedAdministratorSchema,
  change: AdminChangeSchema.optional(),
  error: CaughtErrorSchema.optional(),
});

/**
 * Task: proves the change took effect; throws AdministratorChangeNotAppliedError otherwise. After
 * ApplyChange failed in a way that may follow a change that went out (a Lambda timeout, say), it
 * judges the change the action asked for, which the record then calls confirmed or unconfirmed.
 */
export const createReadAdminBackHandler = (getDependencies: () => ReadAdminBackDependencies) =>
  createTaskHandler(
    'ReadAdminBack',
    InputSchema,
    getDependencies,
    (input, { directory }): Promise<AdminReadBack> => {
      const change =
        input.change ??
        (input.error === undefined
          ? undefined
          : changeAfterFailure(input.action, input.options, input.target, input.error, new Date()));
      if (change === undefined) {
        throw new InvalidTaskInputError(
          'ReadAdminBack needs the change, or an error of ApplyChange that may follow one',
        );
      }
      return readAdministratorBack(directory, input.target, change);
    },
  );

export const handler = audited(
  createReadAdminBackHandler(() => ({
    directory: awsAdministratorsClient(),
  })),
  awsAuditLog,
  awsActionRecordWrites,
);
