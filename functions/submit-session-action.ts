import * as z from 'zod';
import { SessionActionTypeSchema } from '../lib/actions/schema.ts';
import { audited } from '../lib/audit/audited.ts';
import { SessionIdSchema } from '../lib/citrix/ids.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { awsDaasClient } from '../lib/runtime/clients/daas.ts';
import { sessionWorkflowSettingsFromEnv } from '../lib/runtime/session-settings.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';
import {
  type SessionController,
  type SessionProgress,
  type SessionWorkflowSettings,
  submitSessionAction,
} from '../lib/sessions/session-actions.ts';

export interface SubmitSessionActionDependencies {
  readonly controller: SessionController;
  readonly settings: SessionWorkflowSettings;
}

const InputSchema = z.object({
  actionId: z.string(),
  action: SessionActionTypeSchema,
  sessionId: SessionIdSchema,
});

/** Task: sends `$disconnect` or `$logoff` for one session; a log off hands back its job to poll. */
export const createSubmitSessionActionHandler = (
  getDependencies: () => SubmitSessionActionDependencies,
) =>
  createTaskHandler(
    'SubmitSessionAction',
    InputSchema,
    getDependencies,
    (input, { controller, settings }): Promise<SessionProgress> =>
      submitSessionAction(
        controller,
        input.action,
        input.sessionId,
        settings,
        { transactionId: input.actionId },
        new Date(),
      ),
  );

export const handler = audited(
  createSubmitSessionActionHandler(() => ({
    controller: awsDaasClient(),
    settings: sessionWorkflowSettingsFromEnv(process.env),
  })),
  awsAuditLog,
);
