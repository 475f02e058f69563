/**
 * Every setting read from the environment, for the local stack and the tests. A Lambda entry point
 * imports the one module its settings live in instead, so that its bundle carries no other.
 */
export {
  administratorGuardsFromEnv,
  administratorReportSettingsFromEnv,
} from './administrator-settings.ts';
export { deviceWorkflowSettingsFromEnv } from './device-settings.ts';
export {
  callbackNamesFromEnv,
  type Env,
  InvalidSettingsError,
  idempotencyWindowSecondsFromEnv,
  recordRetentionDaysFromEnv,
  requiredEnv,
} from './env.ts';
export { sessionWorkflowSettingsFromEnv } from './session-settings.ts';
