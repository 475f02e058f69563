import * as z from 'zod';
import { audited } from '../lib/audit/audited.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { awsDaasClient } from '../lib/runtime/clients/daas.ts';
import { sessionWorkflowSettingsFromEnv } from '../lib/runtime/session-settings.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';
import {
  checkLogoffJob,
  type JobReader,
  type SessionProgress,
  SessionProgressSchema,
  type SessionWorkflowSettings,
} from '../lib/sessions/session-actions.ts';

export interface CheckLogoffJobDependencies {
  readonly jobs: JobReader;
  readonly settings: SessionWorkflowSettings;
}

const InputSchema = z.object({ actionId: z.string(), progress: SessionProgressSchema });

/**
 * Task: reads a log off job once. Returns progress with the next wait while the job runs; throws
 * LogoffJobFailedError or LogoffJobDeadlineExceededError so the workflow's Catch records them.
 */
export const createCheckLogoffJobHandler = (getDependencies: () => CheckLogoffJobDependencies) =>
  createTaskHandler(
    'CheckLogoffJob',
    InputSchema,
    getDependencies,
    (input, { jobs, settings }): Promise<SessionProgress> =>
      checkLogoffJob(jobs, input.progress, settings, { transactionId: input.actionId }, new Date()),
  );

export const handler = audited(
  createCheckLogoffJobHandler(() => ({
    jobs: awsDaasClient(),
    settings: sessionWorkflowSettingsFromEnv(process.env),
  })),
  awsAuditLog,
);
