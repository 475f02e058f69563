import * as z from 'zod';
import {
  BATCHES_IN_PARALLEL,
  DEFAULT_SESSION_WORKFLOW_SETTINGS,
  type SessionWorkflowSettings,
  SessionWorkflowSettingsSchema,
} from '../sessions/session-actions.ts';
import { type Env, invalidSettings } from './env.ts';

const optionalInt = z.coerce.number().int().optional();

const SessionSettingsEnvSchema = z.object({
  SESSION_MAX_TARGETS: optionalInt,
  SESSION_BATCH_SIZE: optionalInt,
  SESSION_CONCURRENCY: optionalInt,
  LOGOFF_INITIAL_WAIT_SECONDS: optionalInt,
  LOGOFF_MAX_WAIT_SECONDS: optionalInt,
  LOGOFF_DEADLINE_SECONDS: optionalInt,
});

/** Session workflow settings from the environment, each variable optional over the defaults. */
export function sessionWorkflowSettingsFromEnv(env: Env): SessionWorkflowSettings {
  const raw = SessionSettingsEnvSchema.safeParse(env);
  if (!raw.success) invalidSettings(raw.error);
  const defaults = DEFAULT_SESSION_WORKFLOW_SETTINGS;
  const batchSize = raw.data.SESSION_BATCH_SIZE ?? defaults.batchSize;
  const settings = SessionWorkflowSettingsSchema.safeParse({
    maxTargets: raw.data.SESSION_MAX_TARGETS ?? defaults.maxTargets,
    batchSize,
    // By default every session of the batches acted on at once is in flight together.
    concurrency: raw.data.SESSION_CONCURRENCY ?? BATCHES_IN_PARALLEL * batchSize,
    initialWaitSeconds: raw.data.LOGOFF_INITIAL_WAIT_SECONDS ?? defaults.initialWaitSeconds,
    maxWaitSeconds: raw.data.LOGOFF_MAX_WAIT_SECONDS ?? defaults.maxWaitSeconds,
    deadlineSeconds: raw.data.LOGOFF_DEADLINE_SECONDS ?? defaults.deadlineSeconds,
  });
  if (!settings.success) invalidSettings(settings.error, 'session workflow ');
  return settings.data;
}
