import * as z from 'zod';
import { productTargetSchema, SessionActionTypeSchema } from '../lib/actions/schema.ts';
import { audited } from '../lib/audit/audited.ts';
import {
  applyGuardrails,
  type GuardedResolution,
  type GuardrailDependencies,
} from '../lib/guardrails/apply.ts';
import { awsActionRecordWrites } from '../lib/runtime/clients/action-record-writes.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { awsDaasClient } from '../lib/runtime/clients/daas.ts';
import { awsGuardrails } from '../lib/runtime/clients/guardrails.ts';
import { awsSessionBatches } from '../lib/runtime/clients/session-batches.ts';
import { sessionWorkflowSettingsFromEnv } from '../lib/runtime/session-settings.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';
import type { SessionBatchStore } from '../lib/sessions/batch-items.ts';
import { type BatchedResolution, writeSessionBatches } from '../lib/sessions/batches.ts';
import {
  resolveSessionTargets,
  type SessionDirectory,
  type SessionWorkflowSettings,
} from '../lib/sessions/session-actions.ts';

export interface ResolveSessionTargetsDependencies {
  readonly directory: SessionDirectory;
  readonly settings: Pick<
    SessionWorkflowSettings,
    'maxTargets' | 'batchSize' | 'initialWaitSeconds'
  >;
  readonly guardrails: GuardrailDependencies;
  readonly batches: Pick<SessionBatchStore, 'write'>;
}

const InputSchema = z.object({
  actionId: z.string(),
  action: SessionActionTypeSchema,
  target: productTargetSchema('sessions'),
  dryRun: z.boolean(),
});

/**
 * Task: marks the action running, turns its target into sessions and writes them in batch items
 * (lib/sessions/batches.ts). The workflow's state gets the batch numbers, never the sessions.
 */
export const createResolveSessionTargetsHandler = (
  getDependencies: () => ResolveSessionTargetsDependencies,
) =>
  createTaskHandler(
    'ResolveSessionTargets',
    InputSchema,
    getDependencies,
    async (input, { directory, settings, guardrails, batches }): Promise<BatchedResolution> => {
      const now = new Date();
      const targets = await resolveSessionTargets(directory, input.target, settings, {
        transactionId: input.actionId,
      });
      let written: number[] = [];
      const guarded: GuardedResolution = await applyGuardrails(
        {
          ...guardrails,
          actions: {
            markRunning: async (actionId, marked) => {
              written = await writeSessionBatches(
                { store: batches, actions: guardrails.actions, settings },
                actionId,
                marked,
                input.dryRun ? now : undefined,
              );
            },
          },
        },
        input,
        targets,
        now,
      );
      return { guardrails: guarded.guardrails, batches: written, targets: guarded.targets.length };
    },
  );

export const handler = audited(
  createResolveSessionTargetsHandler(() => ({
    directory: awsDaasClient(),
    settings: sessionWorkflowSettingsFromEnv(process.env),
    guardrails: awsGuardrails(),
    batches: awsSessionBatches(),
  })),
  awsAuditLog,
  awsActionRecordWrites,
);
