import { auditCitrixCall } from '../../audit/context.ts';
import { endpointManagementConnectionFromEnv } from '../../citrix/endpoint-management-config.ts';
import type { CitrixCallRecord } from '../../citrix/http.ts';
import { readEndpointManagementCredentials } from '../citrix-secrets.ts';
import { buildEndpointManagementClient } from '../endpoint-management.ts';
import { inLambdaInit, requiredEnv } from '../env.ts';
import { citrixCallMetrics } from '../metrics.ts';
import { once } from '../once.ts';
import { awsCitrixConnection, awsCitrixCredentials } from './citrix-cloud.ts';

const recordEndpointManagementCall = citrixCallMetrics('endpoint-management');

/** Every Endpoint Management call, recorded in the audit trail and counted in the metrics. */
const onCall = (call: CitrixCallRecord): void => {
  auditCitrixCall(call);
  recordEndpointManagementCall(call);
};

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
      onCall,
      cloud: { connection: awsCitrixConnection(), credentials: awsCitrixCredentials },
    });
  }
  return buildEndpointManagementClient({
    connection,
    onCall,
    credentials: () =>
      readEndpointManagementCredentials(
        requiredEnv(process.env, 'CITRIX_EM_CREDENTIALS_SECRET_ARN'),
      ),
  });
});

// Checked at init: a bad CITRIX_EM_URL (or auth or body shape) fails the cold start with a message
// naming it, before any device action reaches Endpoint Management; so does the tenant's URL when
// the login goes through Citrix Cloud.
if (
  inLambdaInit(process.env) &&
  endpointManagementConnectionFromEnv(process.env).auth === 'cloud'
) {
  awsCitrixConnection();
}
