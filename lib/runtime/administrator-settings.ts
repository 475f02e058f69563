import * as z from 'zod';
import type { AdministratorGuards } from '../administrators/admin-actions.ts';
import { type Env, InvalidSettingsError, invalidSettings } from './env.ts';

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

const ReportSettingsEnvSchema = z.object({
  ADMIN_REPORT_PENDING_DAYS: z.coerce.number().int().min(1).max(365).default(14),
  SNAPSHOT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(400),
});

/** Scheduled administrator report: `ADMIN_REPORT_PENDING_DAYS` (14), `SNAPSHOT_RETENTION_DAYS` (400). */
export function administratorReportSettingsFromEnv(env: Env): {
  pendingInvitationMaxDays: number;
  snapshotRetentionDays: number;
} {
  const parsed = ReportSettingsEnvSchema.safeParse({
    ADMIN_REPORT_PENDING_DAYS: env.ADMIN_REPORT_PENDING_DAYS || undefined,
    SNAPSHOT_RETENTION_DAYS: env.SNAPSHOT_RETENTION_DAYS || undefined,
  });
  if (!parsed.success) invalidSettings(parsed.error);
  return {
    pendingInvitationMaxDays: parsed.data.ADMIN_REPORT_PENDING_DAYS,
    snapshotRetentionDays: parsed.data.SNAPSHOT_RETENTION_DAYS,
  };
}
