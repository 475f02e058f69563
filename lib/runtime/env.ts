import * as z from 'zod';

/** A function's environment, or any record of variables shaped like it (the tests', `.env`). */
export type Env = Readonly<Record<string, string | undefined>>;

export class InvalidSettingsError extends Error {
  override name = 'InvalidSettingsError';
}

/** Turns a failed parse of the environment into one error naming each variable and its problem. */
export function invalidSettings(error: z.ZodError, prefix = ''): never {
  const fields = error.issues.map((issue) => `${prefix}${issue.path.join('.')}: ${issue.message}`);
  throw new InvalidSettingsError(`Invalid settings: ${fields.join('; ')}`);
}

/** Reads a required environment variable at cold start, failing fast with its name. */
export function requiredEnv(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new InvalidSettingsError(`Environment variable ${name} is required`);
  }
  return value;
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
  if (!parsed.success) invalidSettings(parsed.error, 'ACTION_RECORD_TTL_DAYS ');
  return parsed.data;
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
  if (!parsed.success) invalidSettings(parsed.error, 'IDEMPOTENCY_WINDOW_SECONDS ');
  return parsed.data;
}

/** Names of the configured callback destinations (`CALLBACK_DESTINATION_NAMES`, comma-separated). */
export function callbackNamesFromEnv(env: Env): ReadonlySet<string> {
  return new Set(
    (env.CALLBACK_DESTINATION_NAMES ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean),
  );
}

/**
 * Whether this code is loading in a Lambda function's init (the runtime sets the variable before
 * the handler module loads), as opposed to a test or the local stack importing it.
 */
export function inLambdaInit(env: Env): boolean {
  return env.AWS_LAMBDA_INITIALIZATION_TYPE !== undefined;
}
