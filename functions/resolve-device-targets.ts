import { z } from 'zod';
import {
  DeviceActionTypeSchema,
  DeviceTargetSchema,
  type ResolvedDevice,
} from '../lib/actions/schema.ts';
import type { ActionStore } from '../lib/actions/store.ts';
import {
  type DeviceDirectory,
  type DeviceWorkflowSettings,
  resolveDeviceTargets,
} from '../lib/devices/device-actions.ts';
import {
  awsActionStore,
  awsDeviceSettings,
  awsEndpointManagementClient,
} from '../lib/runtime/aws.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';

export interface ResolveDeviceTargetsDependencies {
  readonly directory: DeviceDirectory;
  readonly actions: Pick<ActionStore, 'markRunning'>;
  readonly settings: DeviceWorkflowSettings;
}

const InputSchema = z.object({
  actionId: z.string(),
  action: DeviceActionTypeSchema,
  target: DeviceTargetSchema,
  dryRun: z.boolean(),
});

/** Task: marks the action running and returns the devices its target stands for. */
export const createResolveDeviceTargetsHandler = (
  getDependencies: () => ResolveDeviceTargetsDependencies,
) =>
  createTaskHandler(
    'ResolveDeviceTargets',
    InputSchema,
    getDependencies,
    async (input, { directory, actions, settings }): Promise<{ targets: ResolvedDevice[] }> => {
      const targets = await resolveDeviceTargets(directory, input.target, settings);
      await actions.markRunning(input.actionId, targets);
      return { targets };
    },
  );

export const handler = createResolveDeviceTargetsHandler(() => ({
  directory: awsEndpointManagementClient(),
  actions: awsActionStore(),
  settings: awsDeviceSettings(),
}));
