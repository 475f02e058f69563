import { z } from 'zod';
import {
  AdminActionTypeSchema,
  AdminTargetSchema,
  InvitationTargetSchema,
  type ResolvedAdministrator,
} from '../lib/actions/schema.ts';
import type { ActionStore } from '../lib/actions/store.ts';
import {
  type AdministratorDirectory,
  type AdministratorGuards,
  resolveAdministratorTargets,
} from '../lib/administrators/admin-actions.ts';
import {
  awsActionStore,
  awsAdministratorGuards,
  awsAdministratorsClient,
} from '../lib/runtime/aws.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';

export interface ResolveAdminTargetsDependencies {
  readonly directory: AdministratorDirectory;
  readonly actions: Pick<ActionStore, 'markRunning'>;
  readonly guards: AdministratorGuards;
}

const InputSchema = z.object({
  actionId: z.string(),
  action: AdminActionTypeSchema,
  target: z.union([AdminTargetSchema, InvitationTargetSchema]),
  dryRun: z.boolean(),
});

/**
 * Task: marks the action running and returns the administrator the target names, with the
 * guards' verdict and (for a revoke) the access it has before anything changes.
 */
export const createResolveAdminTargetsHandler = (
  getDependencies: () => ResolveAdminTargetsDependencies,
) =>
  createTaskHandler(
    'ResolveAdminTargets',
    InputSchema,
    getDependencies,
    async (
      input,
      { directory, actions, guards },
    ): Promise<{ targets: ResolvedAdministrator[] }> => {
      const targets = await resolveAdministratorTargets(
        directory,
        input.action,
        input.target,
        guards,
      );
      await actions.markRunning(input.actionId, targets);
      return { targets };
    },
  );

export const handler = createResolveAdminTargetsHandler(() => ({
  directory: awsAdministratorsClient(),
  actions: awsActionStore(),
  guards: awsAdministratorGuards(),
}));
