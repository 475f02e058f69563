import * as z from 'zod';
import { DeviceActionTypeSchema, DeviceTargetSchema } from '../lib/actions/schema.ts';
import { audited } from '../lib/audit/audited.ts';
import {
  type DeviceDirectory,
  type DeviceWorkflowSettings,
  resolveDeviceTargets,
} from '../lib/devices/device-actions.ts';
import {
  applyGuardrails,
  type GuardedResolution,
  type GuardrailDependencies,
} from '../lib/guardrails/apply.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { awsEndpointManagementClient } from '../lib/runtime/clients/endpoint-management.ts';
import { awsGuardrails } from '../lib/runtime/clients/guardrails.ts';
import { deviceWorkflowSettingsFromEnv } from '../lib/runtime/device-settings.ts';
import { createTaskHandler, type TaskSession } from '../lib/runtime/task-handler.ts';

export interface ResolveDeviceTargetsDependencies {
  readonly directory: DeviceDirectory;
  readonly settings: DeviceWorkflowSettings;
  readonly guardrails: GuardrailDependencies;
  /** The Endpoint Management login, ended when each run finishes. */
  readonly session: TaskSession;
}

const InputSchema = z.object({
  actionId: z.string(),
  action: DeviceActionTypeSchema,
  target: DeviceTargetSchema,
  dryRun: z.boolean(),
});

/**
 * Task: marks the action running and returns the devices its target stands for, then ends its
 * Endpoint Management session.
 */
export const createResolveDeviceTargetsHandler = (
  getDependencies: () => ResolveDeviceTargetsDependencies,
) =>
  createTaskHandler(
    'ResolveDeviceTargets',
    InputSchema,
    getDependencies,
    async (input, { directory, settings, guardrails }): Promise<GuardedResolution> => {
      const targets = await resolveDeviceTargets(directory, input.target, settings);
      return applyGuardrails(guardrails, input, targets, new Date());
    },
    { session: (dependencies) => dependencies.session },
  );

export const handler = audited(
  createResolveDeviceTargetsHandler(() => ({
    directory: awsEndpointManagementClient(),
    settings: deviceWorkflowSettingsFromEnv(process.env),
    guardrails: awsGuardrails(),
    session: awsEndpointManagementClient(),
  })),
  awsAuditLog,
);
