import { z } from 'zod';
import { audited } from '../lib/audit/audited.ts';
import type { EndpointManagementLogout } from '../lib/devices/device-actions.ts';
import { awsAuditLog, awsEndpointManagementClient } from '../lib/runtime/aws.ts';
import { logger } from '../lib/runtime/logger.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';

export interface LogOutOfEndpointManagementDependencies {
  readonly session: EndpointManagementLogout;
}

const InputSchema = z.object({ actionId: z.string() });

/**
 * Task: ends the Endpoint Management session (`auth_token`) held by this warm container. Sessions
 * other containers opened for the same workflow end by the server's inactivity timeout.
 */
export const createLogOutOfEndpointManagementHandler = (
  getDependencies: () => LogOutOfEndpointManagementDependencies,
) =>
  createTaskHandler(
    'LogOutOfEndpointManagement',
    InputSchema,
    getDependencies,
    async (_input, { session }): Promise<{ loggedOut: boolean }> => {
      const loggedOut = await session.logout();
      logger.info('Endpoint Management session ended', { loggedOut });
      return { loggedOut };
    },
  );

export const handler = audited(
  createLogOutOfEndpointManagementHandler(() => ({
    session: awsEndpointManagementClient(),
  })),
  awsAuditLog,
);
