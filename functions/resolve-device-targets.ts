import * as z from 'zod';
import { DeviceActionTypeSchema, productTargetSchema } from '../lib/actions/schema.ts';
import { audited } from '../lib/audit/audited.ts';
import {
  type DeviceDirectory,
  type DeviceWorkflowSettings,
  resolveDeviceTargets,
} from '../lib/devices/device-actions.ts';
import type { DeviceFindings } from '../lib/devices/findings.ts';
import {
  applyGuardrails,
  type GuardedResolution,
  type GuardrailDependencies,
} from '../lib/guardrails/apply.ts';
import { awsActionRecordWrites } from '../lib/runtime/clients/action-record-writes.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { awsDeviceFindings } from '../lib/runtime/clients/device-findings.ts';
import { awsEndpointManagementClient } from '../lib/runtime/clients/endpoint-management.ts';
import { awsGuardrails } from '../lib/runtime/clients/guardrails.ts';
import { deviceWorkflowSettingsFromEnv } from '../lib/runtime/device-settings.ts';
import { createTaskHandler, type TaskSession } from '../lib/runtime/task-handler.ts';

export interface ResolveDeviceTargetsDependencies {
  readonly directory: DeviceDirectory;
  readonly settings: DeviceWorkflowSettings;
  readonly guardrails: GuardrailDependencies;
  /** Device sweeps' findings, for their grace period. */
  readonly findings: DeviceFindings;
  /** The Endpoint Management login, ended when each run finishes. */
  readonly session: TaskSession;
}

const InputSchema = z.object({
  actionId: z.string(),
  action: DeviceActionTypeSchema,
  target: productTargetSchema('devices'),
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
    async (input, { directory, settings, guardrails, findings }): Promise<GuardedResolution> => {
      const now = new Date();
      const targets = await resolveDeviceTargets(directory, input.target, settings, findings, now);
      return applyGuardrails(guardrails, input, targets, now);
    },
    { session: (dependencies) => dependencies.session },
  );

export const handler = audited(
  createResolveDeviceTargetsHandler(() => ({
    directory: awsEndpointManagementClient(),
    settings: deviceWorkflowSettingsFromEnv(process.env),
    guardrails: awsGuardrails(),
    findings: awsDeviceFindings(),
    session: awsEndpointManagementClient(),
  })),
  awsAuditLog,
  awsActionRecordWrites,
);
