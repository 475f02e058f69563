import * as z from 'zod';
import type { DeviceReadBack } from '../lib/actions/schema.ts';
import { audited } from '../lib/audit/audited.ts';
import { DeviceIdSchema } from '../lib/citrix/ids.ts';
import { type DeviceDirectory, readDeviceBack } from '../lib/devices/device-actions.ts';
import { awsActionRecordWrites } from '../lib/runtime/clients/action-record-writes.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { awsEndpointManagementClient } from '../lib/runtime/clients/endpoint-management.ts';
import { createTaskHandler, type TaskSession } from '../lib/runtime/task-handler.ts';

export interface ReadDeviceBackDependencies {
  readonly directory: DeviceDirectory;
  /** The Endpoint Management login, ended when each run finishes. */
  readonly session: TaskSession;
}

const InputSchema = z.object({ actionId: z.string(), deviceId: DeviceIdSchema });

/**
 * Task: reads one device after its command; a device that is gone is an answer, not an error.
 * Ends its Endpoint Management session before returning.
 */
export const createReadDeviceBackHandler = (getDependencies: () => ReadDeviceBackDependencies) =>
  createTaskHandler(
    'ReadDeviceBack',
    InputSchema,
    getDependencies,
    (input, { directory }): Promise<DeviceReadBack> => readDeviceBack(directory, input.deviceId),
    { session: (dependencies) => dependencies.session },
  );

export const handler = audited(
  createReadDeviceBackHandler(() => ({
    directory: awsEndpointManagementClient(),
    session: awsEndpointManagementClient(),
  })),
  awsAuditLog,
  awsActionRecordWrites,
);
