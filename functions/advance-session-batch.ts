import * as z from 'zod';
import { CaughtErrorSchema } from '../lib/actions/outcome.ts';
import { SessionActionTypeSchema } from '../lib/actions/schema.ts';
import { audited } from '../lib/audit/audited.ts';
import { auditTargetOutcome } from '../lib/audit/events.ts';
import { awsActionRecordWrites } from '../lib/runtime/clients/action-record-writes.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { awsDaasClient } from '../lib/runtime/clients/daas.ts';
import { awsSessionBatches, awsThrottleGate } from '../lib/runtime/clients/session-batches.ts';
import { sessionWorkflowSettingsFromEnv } from '../lib/runtime/session-settings.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';
import {
  advanceBatch,
  type BatchRound,
  type BatchRoundDependencies,
  failBatch,
} from '../lib/sessions/batches.ts';

export type AdvanceSessionBatchDependencies = BatchRoundDependencies;

const InputSchema = z.object({
  actionId: z.string(),
  action: SessionActionTypeSchema,
  batch: z.number().int().min(0),
  /** Set by FailBatch: a round failed as a whole; record what is left, sending nothing. */
  failure: CaughtErrorSchema.optional(),
});

/**
 * Task: one round of one batch of sessions (lib/sessions/batches.ts). Reads the running log off
 * jobs, sends what is not yet sent unless Citrix is throttling, and records each finished
 * session; returns whether the batch is done and how long to wait before the next round.
 */
export const createAdvanceSessionBatchHandler = (
  getDependencies: () => AdvanceSessionBatchDependencies,
) =>
  createTaskHandler(
    'AdvanceSessionBatch',
    InputSchema,
    getDependencies,
    async (input, dependencies): Promise<BatchRound> => {
      const request = { actionId: input.actionId, action: input.action, index: input.batch };
      const { round, finished } =
        input.failure === undefined
          ? await advanceBatch(request, dependencies, () => new Date())
          : await failBatch(request, dependencies.store, input.failure, new Date());
      // The audit trail gets each session once, in the round that finished it.
      for (const result of finished) auditTargetOutcome(result);
      return round;
    },
  );

export const handler = audited(
  createAdvanceSessionBatchHandler(() => ({
    controller: awsDaasClient(),
    jobs: awsDaasClient(),
    gate: awsThrottleGate(),
    store: awsSessionBatches(),
    settings: sessionWorkflowSettingsFromEnv(process.env),
  })),
  awsAuditLog,
  awsActionRecordWrites,
);
