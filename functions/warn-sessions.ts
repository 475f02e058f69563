import * as z from 'zod';
import { CaughtErrorSchema, summarizeCaughtError } from '../lib/actions/outcome.ts';
import { SessionWarningSchema } from '../lib/actions/schema.ts';
import { audited } from '../lib/audit/audited.ts';
import { auditFailedWarnings } from '../lib/audit/events.ts';
import { awsActionRecordWrites } from '../lib/runtime/clients/action-record-writes.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { awsDaasClient } from '../lib/runtime/clients/daas.ts';
import { awsSessionBatches } from '../lib/runtime/clients/session-batches.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';
import {
  recordWarningFailure,
  type WarningDependencies,
  warnBatchedSessions,
} from '../lib/sessions/warnings.ts';

export interface WarnSessionsDependencies {
  readonly messenger: WarningDependencies['messenger'];
  readonly batches: WarningDependencies['store'];
  readonly sleep?: WarningDependencies['sleep'];
}

const InputSchema = z.object({
  actionId: z.string(),
  warning: SessionWarningSchema,
  /** The action's batch numbers (from ResolveTargets): the sessions are read from them. */
  batches: z.array(z.number().int().min(0)),
  /**
   * Set by RecordWarningFailure: the WarnSessions task failed as a whole with this error, so
   * nothing is sent and every warning not yet decided is recorded.
   */
  failure: CaughtErrorSchema.optional(),
});

/**
 * Task: warns each session's user with Citrix `$sendMessage` (a few at a time), never twice for
 * one action however often it is retried (lib/sessions/warnings.ts); failures are recorded per
 * session in its batch and in the audit trail, never thrown. Given `failure`, it only records
 * that the warning task failed.
 */
export const createWarnSessionsHandler = (getDependencies: () => WarnSessionsDependencies) =>
  createTaskHandler(
    'WarnSessions',
    InputSchema,
    getDependencies,
    async (input, { messenger, batches, sleep }) => {
      const run =
        input.failure === undefined
          ? await warnBatchedSessions(
              { messenger, store: batches, ...(sleep ? { sleep } : {}) },
              input.actionId,
              input.batches.length,
              input.warning,
            )
          : await recordWarningFailure(
              batches,
              input.actionId,
              input.batches.length,
              summarizeCaughtError(input.failure),
            );
      auditFailedWarnings(run.decided);
      // Only counts go back to the workflow's state; the warnings are in the batches.
      const failed = run.warnings.filter((warning) => warning.status === 'failed');
      return {
        sent: run.warnings.length - failed.length,
        failed: failed.length,
        ...(failed[0]?.error === undefined ? {} : { firstError: failed[0].error }),
      };
    },
  );

export const handler = audited(
  createWarnSessionsHandler(() => ({
    messenger: awsDaasClient(),
    batches: awsSessionBatches(),
  })),
  awsAuditLog,
  awsActionRecordWrites,
);
