import { z } from 'zod';
import {
  ActionTypeSchema,
  type ResolvedSession,
  SessionTargetSchema,
} from '../lib/actions/schema.ts';
import type { ActionStore } from '../lib/actions/store.ts';
import { awsActionStore, awsDaasClient, awsSessionSettings } from '../lib/runtime/aws.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';
import {
  resolveSessionTargets,
  type SessionDirectory,
  type SessionWorkflowSettings,
} from '../lib/sessions/session-actions.ts';

export interface ResolveSessionTargetsDependencies {
  readonly directory: SessionDirectory;
  readonly actions: Pick<ActionStore, 'markRunning'>;
  readonly settings: Pick<SessionWorkflowSettings, 'maxTargets'>;
}

const InputSchema = z.object({
  actionId: z.string(),
  action: ActionTypeSchema,
  target: SessionTargetSchema,
  dryRun: z.boolean(),
});

/** Task: marks the action running and returns the sessions its target stands for. */
export const createResolveSessionTargetsHandler = (
  getDependencies: () => ResolveSessionTargetsDependencies,
) =>
  createTaskHandler(
    'ResolveSessionTargets',
    InputSchema,
    getDependencies,
    async (input, { directory, actions, settings }): Promise<{ targets: ResolvedSession[] }> => {
      const targets = await resolveSessionTargets(directory, input.target, settings, {
        transactionId: input.actionId,
      });
      await actions.markRunning(input.actionId, targets);
      return { targets };
    },
  );

export const handler = createResolveSessionTargetsHandler(() => ({
  directory: awsDaasClient(),
  actions: awsActionStore(),
  settings: awsSessionSettings(),
}));
