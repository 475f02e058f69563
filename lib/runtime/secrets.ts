import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod';

/** A secret that is missing or not in the expected JSON shape. Never carries the value. */
export class SecretFormatError extends Error {
  override name = 'SecretFormatError';
}

/**
 * Secrets are read from Secrets Manager through Powertools Parameters, which caches each value for
 * `maxAge` seconds: one fetch per warm container in practice, while a rotated value is still picked up.
 * The Citrix credentials' shapes are in lib/runtime/citrix-secrets.ts, apart: a function that reads
 * no Citrix secret (the source endpoints) carries none of the Citrix configuration.
 */
export const SECRET_CACHE_SECONDS = 900;

export const WebhookSecretSchema = z.object({ signingSecret: z.string().min(16) });

export async function readJsonSecret<T>(secretId: string, schema: z.ZodType<T>): Promise<T> {
  const value = await getSecret(secretId, { maxAge: SECRET_CACHE_SECONDS, transform: 'json' });
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    // Only the field names are reported: the value itself must never reach a log.
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
    throw new SecretFormatError(`Secret ${secretId} is not in the expected format (${fields})`);
  }
  return parsed.data;
}

export async function readSigningSecret(secretId: string): Promise<string> {
  return (await readJsonSecret(secretId, WebhookSecretSchema)).signingSecret;
}
