import * as z from 'zod';
import type { ActionStore } from '../lib/actions/store.ts';
import { audited } from '../lib/audit/audited.ts';
import { awsActionStore } from '../lib/runtime/clients/action-store.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';

export interface RequestApprovalDependencies {
  readonly actions: Pick<ActionStore, 'awaitApproval'>;
}

const InputSchema = z.object({
  actionId: z.string(),
  taskToken: z.string().min(1),
  reasons: z.array(z.string()),
  timeoutSeconds: z.int().min(1),
});

/**
 * Task (waitForTaskToken): records that the action awaits approval, with the reasons and the
 * token the workflow waits on. The workflow resumes when the approve or reject API sends it.
 */
export const createRequestApprovalHandler = (getDependencies: () => RequestApprovalDependencies) =>
  createTaskHandler(
    'RequestApproval',
    InputSchema,
    getDependencies,
    async (input, { actions }): Promise<{ held: true }> => {
      await actions.awaitApproval(input.actionId, {
        reasons: input.reasons,
        taskToken: input.taskToken,
        expiresAt: new Date(Date.now() + input.timeoutSeconds * 1000).toISOString(),
      });
      return { held: true };
    },
  );

export const handler = audited(
  createRequestApprovalHandler(() => ({ actions: awsActionStore() })),
  awsAuditLog,
  awsActionStore,
);
