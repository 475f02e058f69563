import * as z from 'zod';
import {
  DEFAULT_DEVICE_WORKFLOW_SETTINGS,
  type DeviceWorkflowSettings,
  DeviceWorkflowSettingsSchema,
} from '../devices/device-actions.ts';
import { type Env, invalidSettings } from './env.ts';

const DeviceSettingsEnvSchema = z.object({
  DEVICE_MAX_TARGETS: z.coerce.number().int().optional(),
});

/** Device workflow settings: `DEVICE_MAX_TARGETS` (default 20). */
export function deviceWorkflowSettingsFromEnv(env: Env): DeviceWorkflowSettings {
  const raw = DeviceSettingsEnvSchema.safeParse(env);
  if (!raw.success) invalidSettings(raw.error);
  const settings = DeviceWorkflowSettingsSchema.safeParse({
    maxTargets: raw.data.DEVICE_MAX_TARGETS ?? DEFAULT_DEVICE_WORKFLOW_SETTINGS.maxTargets,
  });
  if (!settings.success) invalidSettings(settings.error, 'device workflow ');
  return settings.data;
}
