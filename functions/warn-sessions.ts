import { z } from 'zod';
import { ResolvedSessionSchema, SessionWarningSchema } from '../lib/actions/schema.ts';
import type { ActionStore } from '../lib/actions/store.ts';
import { audited } from '../lib/audit/audited.ts';
import { awsActionStore, awsAuditLog, awsDaasClient } from '../lib/runtime/aws.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';
import { type SessionMessenger, warnSessions } from '../lib/sessions/warnings.ts';

export interface WarnSessionsDependencies {
  readonly messenger: SessionMessenger;
  readonly actions: Pick<ActionStore, 'recordWarnings'>;
}

const InputSchema = z.object({
  actionId: z.string(),
  warning: SessionWarningSchema,
  targets: z.array(ResolvedSessionSchema),
});

/** Task: warns each session's user with Citrix `$sendMessage`; failures are recorded, not thrown. */
export const createWarnSessionsHandler = (getDependencies: () => WarnSessionsDependencies) =>
  createTaskHandler(
    'WarnSessions',
    InputSchema,
    getDependencies,
    async (input, { messenger, actions }) => {
      const warnings = await warnSessions(messenger, input.targets, input.warning, {
        transactionId: input.actionId,
      });
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
