import { CitrixTokenProvider } from '../citrix/cloud-auth.ts';
import type { CitrixConnection, CredentialsSource } from '../citrix/config.ts';
import { EndpointManagementClient } from '../citrix/endpoint-management-client.ts';
import type {
  EndpointManagementConnection,
  EndpointManagementCredentials,
} from '../citrix/endpoint-management-config.ts';
import { CitrixConfigurationError } from '../citrix/errors.ts';
import type { CitrixCallRecord } from '../citrix/http.ts';

export interface EndpointManagementClientSources {
  readonly connection: EndpointManagementConnection;
  /** Citrix Cloud, for `CITRIX_EM_AUTH=cloud`: the bearer token comes from its token client. */
  readonly cloud?: {
    readonly connection: CitrixConnection;
    readonly credentials: CredentialsSource;
  };
  /** Administrator credentials, for `CITRIX_EM_AUTH=credentials`. */
  readonly credentials?: () => Promise<EndpointManagementCredentials>;
  readonly pageSize?: number;
  readonly onCall?: (call: CitrixCallRecord) => void;
}

/** The Endpoint Management client with the login its configuration asks for. */
export function buildEndpointManagementClient(
  sources: EndpointManagementClientSources,
): EndpointManagementClient {
  const { connection } = sources;
  if (connection.auth === 'cloud') {
    if (sources.cloud === undefined) {
      throw new CitrixConfigurationError(
        'CITRIX_EM_AUTH=cloud needs the Citrix Cloud API client (CITRIX_CUSTOMER_ID and its credentials)',
      );
    }
    const bearerTokens = new CitrixTokenProvider({
      baseUrl: sources.cloud.connection.baseUrl,
      customerId: sources.cloud.connection.customerId,
      credentials: sources.cloud.credentials,
      timeoutMs: sources.cloud.connection.requestTimeoutMs,
      retry: sources.cloud.connection.retry,
    });
    return new EndpointManagementClient({
      connection,
      login: { kind: 'cloud', bearerTokens },
      ...(sources.pageSize === undefined ? {} : { pageSize: sources.pageSize }),
      ...(sources.onCall ? { onCall: sources.onCall } : {}),
    });
  }
  if (sources.credentials === undefined) {
    throw new CitrixConfigurationError(
      'CITRIX_EM_AUTH=credentials needs CITRIX_EM_USERNAME and CITRIX_EM_PASSWORD',
    );
  }
  return new EndpointManagementClient({
    connection,
    login: { kind: 'credentials', credentials: sources.credentials },
    ...(sources.pageSize === undefined ? {} : { pageSize: sources.pageSize }),
    ...(sources.onCall ? { onCall: sources.onCall } : {}),
  });
}
