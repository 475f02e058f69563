import { auditCitrixCall } from '../../audit/context.ts';
import { endpointManagementConnectionFromEnv } from '../../citrix/endpoint-management-config.ts';
import { readEndpointManagementCredentials } from '../citrix-secrets.ts';
import { buildEndpointManagementClient } from '../endpoint-management.ts';
import { requiredEnv } from '../env.ts';
import { once } from '../once.ts';
import { awsCitrixConnection, awsCitrixCredentials } from './citrix-cloud.ts';

/**
 * The Endpoint Management client. Only the secret the configured login needs is read: the Citrix
 * Cloud API client for `CITRIX_EM_AUTH=cloud`, the Endpoint Management administrator for
 * `credentials`.
 */
export const awsEndpointManagementClient = once(() => {
  const connection = endpointManagementConnectionFromEnv(process.env);
  if (connection.auth === 'cloud') {
    return buildEndpointManagementClient({
      connection,
      onCall: auditCitrixCall,
      cloud: { connection: awsCitrixConnection(), credentials: awsCitrixCredentials },
    });
  }
  return buildEndpointManagementClient({
    connection,
    onCall: auditCitrixCall,
    credentials: () =>
      readEndpointManagementCredentials(
        requiredEnv(process.env, 'CITRIX_EM_CREDENTIALS_SECRET_ARN'),
      ),
  });
});
