import * as z from 'zod';
import type { CitrixCredentials } from '../citrix/config.ts';
import {
  type EndpointManagementCredentials,
  EndpointManagementCredentialsEnvSchema,
} from '../citrix/endpoint-management-config.ts';
import { readJsonSecret } from './secrets.ts';

/** The Citrix secrets (Cloud API client, Endpoint Management administrator), for the tasks that call Citrix. */

export const CitrixCredentialsSecretSchema = z.object({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
});

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
