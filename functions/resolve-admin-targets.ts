import * as z from 'zod';
import { AdminActionTypeSchema, productTargetSchema } from '../lib/actions/schema.ts';
import {
  type AdministratorDirectory,
  type AdministratorGuards,
  resolveAdministratorTargets,
} from '../lib/administrators/admin-actions.ts';
import type { RevokeSnapshotStore } from '../lib/administrators/revoke-snapshots.ts';
import { audited } from '../lib/audit/audited.ts';
import {
  applyGuardrails,
  type GuardedResolution,
  type GuardrailDependencies,
} from '../lib/guardrails/apply.ts';
import { administratorGuardsFromEnv } from '../lib/runtime/administrator-settings.ts';
import { awsActionRecordWrites } from '../lib/runtime/clients/action-record-writes.ts';
import {
  awsAdministratorsClient,
  awsRevokeSnapshots,
} from '../lib/runtime/clients/administrators.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { awsGuardrails } from '../lib/runtime/clients/guardrails.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';

export interface ResolveAdminTargetsDependencies {
  readonly directory: AdministratorDirectory;
  readonly guards: AdministratorGuards;
  readonly guardrails: GuardrailDependencies;
  /** Where a restore finds what the revoke it undoes replaced. */
  readonly revokes: Pick<RevokeSnapshotStore, 'latest'>;
}

const InputSchema = z.object({
  actionId: z.string(),
  action: AdminActionTypeSchema,
  target: productTargetSchema('administrators'),
  options: z.object({ mode: z.string().optional() }).optional(),
  dryRun: z.boolean(),
});

/**
 * Task: marks the action running and returns the administrator the target names, with the
 * guards' verdict, the access it has before anything changes and, for a restore, what it would
 * put back (or the refusal: no revoke snapshot, already restored, changed since the revoke).
 */
export const createResolveAdminTargetsHandler = (
  getDependencies: () => ResolveAdminTargetsDependencies,
) =>
  createTaskHandler(
    'ResolveAdminTargets',
    InputSchema,
    getDependencies,
    async (input, { directory, guards, guardrails, revokes }): Promise<GuardedResolution> => {
      const targets = await resolveAdministratorTargets(
        directory,
        input.action,
        input.target,
        guards,
        revokes,
      );
      return applyGuardrails(guardrails, input, targets, new Date());
    },
  );

export const handler = audited(
  createResolveAdminTargetsHandler(() => ({
    directory: awsAdministratorsClient(),
    guards: administratorGuardsFromEnv(process.env),
    guardrails: awsGuardrails(),
    revokes: awsRevokeSnapshots(),
  })),
  awsAuditLog,
  awsActionRecordWrites,
);
