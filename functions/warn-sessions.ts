import * as z from 'zod';
import { CaughtErrorSchema, summarizeCaughtError } from '../lib/actions/outcome.ts';
import { ResolvedSessionSchema, SessionWarningSchema } from '../lib/actions/schema.ts';
import type { ActionStore } from '../lib/actions/store.ts';
import { audited } from '../lib/audit/audited.ts';
import { auditFailedWarnings } from '../lib/audit/events.ts';
import { awsActionStore } from '../lib/runtime/clients/action-store.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { awsDaasClient } from '../lib/runtime/clients/daas.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';
import { failedWarnings, type SessionMessenger, warnSessions } from '../lib/sessions/warnings.ts';

export interface WarnSessionsDependencies {
  readonly messenger: SessionMessenger;
  readonly actions: Pick<ActionStore, 'recordWarnings'>;
}

const InputSchema = z.object({
  actionId: z.string(),
  warning: SessionWarningSchema,
  targets: z.array(ResolvedSessionSchema),
  /**
   * Set by RecordWarningFailure: the WarnSessions task failed as a whole with this error, so
   * nothing is sent and every warning is recorded as failed.
   */
  failure: CaughtErrorSchema.optional(),
});

/**
 * Task: warns each session's user with Citrix `$sendMessage` (a few at a time); failures are
 * recorded per session on the action record and in the audit trail, never thrown. Given
 * `failure`, it only records that the warning task failed.
 */
export const createWarnSessionsHandler = (getDependencies: () => WarnSessionsDependencies) =>
  createTaskHandler(
    'WarnSessions',
    InputSchema,
    getDependencies,
    async (input, { messenger, actions }) => {
      const warnings =
        input.failure === undefined
          ? await warnSessions(messenger, input.targets, input.warning, {
              transactionId: input.actionId,
            })
          : failedWarnings(input.targets, summarizeCaughtError(input.failure));
      auditFailedWarnings(warnings);
      await actions.recordWarnings(input.actionId, warnings);
      return { warnings };
    },
  );

export const handler = audited(
  createWarnSessionsHandler(() => ({
    messenger: awsDaasClient(),
    actions: awsActionStore(),
  })),
  awsAuditLog,
);
