import * as z from 'zod';
import { DeviceActionTypeSchema, ResolvedDeviceSchema } from '../lib/actions/schema.ts';
import { audited } from '../lib/audit/audited.ts';
import { DeviceIdSchema } from '../lib/citrix/ids.ts';
import {
  type DeviceCommander,
  type SentCommand,
  sendDeviceCommand,
} from '../lib/devices/device-actions.ts';
import { awsActionRecordWrites } from '../lib/runtime/clients/action-record-writes.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { awsEndpointManagementClient } from '../lib/runtime/clients/endpoint-management.ts';
import { createTaskHandler, type TaskSession } from '../lib/runtime/task-handler.ts';

export interface SendDeviceCommandDependencies {
  readonly commander: DeviceCommander;
  /** The Endpoint Management login, ended when each run finishes. */
  readonly session: TaskSession;
}

const InputSchema = z.object({
  actionId: z.string(),
  action: DeviceActionTypeSchema,
  device: ResolvedDeviceSchema.extend({ deviceId: DeviceIdSchema }),
});

/**
 * Task: sends the wipe, selective wipe or policy deploy for one managed device, once; a command
 * that may have been applied without an answer is returned `unanswered`, never sent again. Throws
 * EndpointManagementRejectedError when the server answers `status: -1`, DeviceNotManagedError
 * for a device not reported as managed, DeviceNotActionableError for one the resolution skipped
 * (protected), TaskDeadlineError when it stops before its Lambda timeout. Ends its Endpoint
 * Management session before returning.
 */
export const createSendDeviceCommandHandler = (
  getDependencies: () => SendDeviceCommandDependencies,
) =>
  createTaskHandler(
    'SendDeviceCommand',
    InputSchema,
    getDependencies,
    (input, { commander }): Promise<SentCommand> =>
      sendDeviceCommand(commander, input.action, input.device, () => new Date()),
    { session: (dependencies) => dependencies.session },
  );

export const handler = audited(
  createSendDeviceCommandHandler(() => ({
    commander: awsEndpointManagementClient(),
    session: awsEndpointManagementClient(),
  })),
  awsAuditLog,
  awsActionRecordWrites,
);
