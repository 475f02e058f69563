import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod';
import type { CitrixCredentials } from '../citrix/config.ts';
import {
  type EndpointManagementCredentials,
  EndpointManagementCredentialsEnvSchema,
} from '../citrix/endpoint-management-config.ts';

/** A secret that is missing or not in the expected JSON shape. Never carries the value. */
export class SecretFormatError extends Error {
  override name = 'SecretFormatError';
}

/**
 * Secrets are read from Secrets Manager through Powertools Parameters, which caches each value for
 * `maxAge` seconds: one fetch per warm container in practice, while a rotated value is still picked up.
 */
export const SECRET_CACHE_SECONDS = 900;

export const WebhookSecretSchema = z.object({ signingSecret: z.string().min(16) });
export const CitrixCredentialsSecretSchema = z.object({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
});

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

export async function readCitrixCredentials(secretId: string): Promise<CitrixCredentials> {
  return readJsonSecret(secretId, CitrixCredentialsSecretSchema);
}

/** The Endpoint Management administrator: JSON keys named like the local variables. */
export async function readEndpointManagementCredentials(
  secretId: string,
): Promise<EndpointManagementCredentials> {
  const secret = await readJsonSecret(secretId, EndpointManagementCredentialsEnvSchema);
  return { username: secret.CITRIX_EM_USERNAME, password: secret.CITRIX_EM_PASSWORD };
}
