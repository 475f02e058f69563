import * as z from 'zod';
import type { AdministratorGuards } from '../administrators/admin-actions.ts';
import {
  DEFAULT_DEVICE_WORKFLOW_SETTINGS,
  type DeviceWorkflowSettings,
  DeviceWorkflowSettingsSchema,
} from '../devices/device-actions.ts';
import {
  DEFAULT_SESSION_WORKFLOW_SETTINGS,
  type SessionWorkflowSettings,
  SessionWorkflowSettingsSchema,
} from '../sessions/session-actions.ts';

export class InvalidSettingsError extends Error {
  override name = 'InvalidSettingsError';
}

type Env = Readonly<Record<string, string | undefined>>;

const optionalInt = z.coerce.number().int().optional();

const SessionSettingsEnvSchema = z.object({
  SESSION_MAX_TARGETS: optionalInt,
  LOGOFF_INITIAL_WAIT_SECONDS: optionalInt,
  LOGOFF_MAX_WAIT_SECONDS: optionalInt,
  LOGOFF_DEADLINE_SECONDS: optionalInt,
});

function fail(error: z.ZodError, prefix = ''): never {
  const fields = error.issues.map((issue) => `${prefix}${issue.path.join('.')}: ${issue.message}`);
  throw new InvalidSettingsError(`Invalid settings: ${fields.join('; ')}`);
}

/** Session workflow settings from the environment, each variable optional over the defaults. */
export function sessionWorkflowSettingsFromEnv(env: Env): SessionWorkflowSettings {
  const raw = SessionSettingsEnvSchema.safeParse(env);
  if (!raw.success) fail(raw.error);
  const defaults = DEFAULT_SESSION_WORKFLOW_SETTINGS;
  const settings = SessionWorkflowSettingsSchema.safeParse({
    maxTargets: raw.data.SESSION_MAX_TARGETS ?? defaults.maxTargets,
    initialWaitSeconds: raw.data.LOGOFF_INITIAL_WAIT_SECONDS ?? defaults.initialWaitSeconds,
    maxWaitSeconds: raw.data.LOGOFF_MAX_WAIT_SECONDS ?? defaults.maxWaitSeconds,
    deadlineSeconds: raw.data.LOGOFF_DEADLINE_SECONDS ?? defaults.deadlineSeconds,
  });
  if (!settings.success) fail(settings.error, 'session workflow ');
  return settings.data;
}

/** Device workflow settings: `DEVICE_MAX_TARGETS` (default 20). */
export function deviceWorkflowSettingsFromEnv(env: Env): DeviceWorkflowSettings {
  const raw = z.object({ DEVICE_MAX_TARGETS: optionalInt }).safeParse(env);
  if (!raw.success) fail(raw.error);
  const settings = DeviceWorkflowSettingsSchema.safeParse({
    maxTargets: raw.data.DEVICE_MAX_TARGETS ?? DEFAULT_DEVICE_WORKFLOW_SETTINGS.maxTargets,
  });
  if (!settings.success) fail(settings.error, 'device workflow ');
  return settings.data;
}

/**
 * The administrator guards: `CITRIX_API_CLIENT_OWNER` (required: the email, userId or ucOid of
 * the administrator who created the API client) and `CITRIX_PROTECTED_ADMINS` (comma-separated).
 */
export function administratorGuardsFromEnv(env: Env): AdministratorGuards {
  const owner = env.CITRIX_API_CLIENT_OWNER?.trim();
  if (!owner) {
    throw new InvalidSettingsError(
      'CITRIX_API_CLIENT_OWNER is not set: administrator actions need the email, userId or ucOid of the administrator who owns the Citrix Cloud API client, so that they never remove it',
    );
  }
  const protectedAdmins = (env.CITRIX_PROTECTED_ADMINS ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  return { apiClientOwner: owner, protected: protectedAdmins };
}

/** Scheduled administrator report: `ADMIN_REPORT_PENDING_DAYS` (14), `SNAPSHOT_RETENTION_DAYS` (400). */
export function administratorReportSettingsFromEnv(env: Env): {
  pendingInvitationMaxDays: number;
  snapshotRetentionDays: number;
} {
  const parsed = z
    .object({
      ADMIN_REPORT_PENDING_DAYS: z.coerce.number().int().min(1).max(365).default(14),
      SNAPSHOT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(400),
    })
    .safeParse({
      ADMIN_REPORT_PENDING_DAYS: env.ADMIN_REPORT_PENDING_DAYS || undefined,
      SNAPSHOT_RETENTION_DAYS: env.SNAPSHOT_RETENTION_DAYS || undefined,
    });
  if (!parsed.success) fail(parsed.error);
  return {
    pendingInvitationMaxDays: parsed.data.ADMIN_REPORT_PENDING_DAYS,
    snapshotRetentionDays: parsed.data.SNAPSHOT_RETENTION_DAYS,
  };
}

/** How long a delivery key is remembered: `IDEMPOTENCY_WINDOW_SECONDS` (default 24 h). */
export function idempotencyWindowSecondsFromEnv(env: Env): number {
  const parsed = z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 86_400)
    .default(86_400)
    .safeParse(env.IDEMPOTENCY_WINDOW_SECONDS || undefined);
  if (!parsed.success) fail(parsed.error, 'IDEMPOTENCY_WINDOW_SECONDS ');
  return parsed.data;
}

/** How long action records are kept (DynamoDB TTL), in days. */
export function recordRetentionDaysFromEnv(env: Env): number {
  const parsed = z.coerce
    .number()
    .int()
    .min(1)
    .max(3650)
    .default(400)
    .safeParse(env.ACTION_RECORD_TTL_DAYS);
  if (!parsed.success) fail(parsed.error, 'ACTION_RECORD_TTL_DAYS ');
  return parsed.data;
}

/** Reads a required environment variable at cold start, failing fast with its name. */
export function requiredEnv(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new InvalidSettingsError(`Environment variable ${name} is required`);
  }
  return value;
}
