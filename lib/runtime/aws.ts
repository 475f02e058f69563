import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoActionStore } from '../actions/store.ts';
import type { AdministratorGuards } from '../administrators/admin-actions.ts';
import { SnsReportPublisher } from '../administrators/publishers.ts';
import { DynamoSnapshotStore } from '../administrators/snapshot-store.ts';
import { CloudAdministratorsClient } from '../citrix/administrators-client.ts';
import { citrixConnectionFromEnv } from '../citrix/config.ts';
import { DaasClient } from '../citrix/daas-client.ts';
import { endpointManagementConnectionFromEnv } from '../citrix/endpoint-management-config.ts';
import type { DeviceWorkflowSettings } from '../devices/device-actions.ts';
import type { SessionWorkflowSettings } from '../sessions/session-actions.ts';
import { StepFunctionsWorkflowStarter } from '../workflow/starter.ts';
import { buildEndpointManagementClient } from './endpoint-management.ts';
import {
  readCitrixCredentials,
  readEndpointManagementCredentials,
  readSigningSecret,
} from './secrets.ts';
import {
  administratorGuardsFromEnv,
  administratorReportSettingsFromEnv,
  deviceWorkflowSettingsFromEnv,
  recordRetentionDaysFromEnv,
  requiredEnv,
  sessionWorkflowSettingsFromEnv,
} from './settings.ts';

/**
 * Dependencies of the Lambda entry points in AWS, built on first use and kept for the life of the
 * warm container (one DynamoDB client, one Citrix token, one secret fetch per cache period).
 * Each function reads only the variables its own dependencies need.
 */
function once<T>(build: () => T): () => T {
  let value: { readonly built: T } | undefined;
  return () => {
    value ??= { built: build() };
    return value.built;
  };
}

const env = process.env;

export const awsActionStore = once(
  () => new DynamoActionStore(new DynamoDBClient({}), requiredEnv(env, 'ACTIONS_TABLE_NAME')),
);

export const awsWorkflowStarter = once(
  () =>
    new StepFunctionsWorkflowStarter(new SFNClient({}), {
      'session-action': requiredEnv(env, 'SESSION_ACTION_STATE_MACHINE_ARN'),
      'device-action': requiredEnv(env, 'DEVICE_ACTION_STATE_MACHINE_ARN'),
      'admin-action': requiredEnv(env, 'ADMIN_ACTION_STATE_MACHINE_ARN'),
    }),
);

export const awsRetentionDays = once(() => recordRetentionDaysFromEnv(env));

export const awsSessionSettings = once(
  (): SessionWorkflowSettings => sessionWorkflowSettingsFromEnv(env),
);

export const awsSigningSecret = (): Promise<string> =>
  readSigningSecret(requiredEnv(env, 'WEBHOOK_SECRET_ARN'));

export const awsDaasClient = once(
  () =>
    new DaasClient({
      connection: citrixConnectionFromEnv(env),
      credentials: () => readCitrixCredentials(requiredEnv(env, 'CITRIX_CREDENTIALS_SECRET_ARN')),
    }),
);

export const awsDeviceSettings = once(
  (): DeviceWorkflowSettings => deviceWorkflowSettingsFromEnv(env),
);

/**
 * Only the secret the configured login needs is read: the Citrix Cloud API client for
 * `CITRIX_EM_AUTH=cloud`, the Endpoint Management administrator for `credentials`.
 */
export const awsEndpointManagementClient = once(() => {
  const connection = endpointManagementConnectionFromEnv(env);
  if (connection.auth === 'cloud') {
    return buildEndpointManagementClient({
      connection,
      cloud: {
        connection: citrixConnectionFromEnv(env),
        credentials: () => readCitrixCredentials(requiredEnv(env, 'CITRIX_CREDENTIALS_SECRET_ARN')),
      },
    });
  }
  return buildEndpointManagementClient({
    connection,
    credentials: () =>
      readEndpointManagementCredentials(requiredEnv(env, 'CITRIX_EM_CREDENTIALS_SECRET_ARN')),
  });
});

export const awsAdministratorsClient = once(
  () =>
    new CloudAdministratorsClient({
      connection: citrixConnectionFromEnv(env),
      credentials: () => readCitrixCredentials(requiredEnv(env, 'CITRIX_CREDENTIALS_SECRET_ARN')),
    }),
);

export const awsAdministratorGuards = once(
  (): AdministratorGuards => administratorGuardsFromEnv(env),
);

export const awsAdministratorReportSettings = once(() => administratorReportSettingsFromEnv(env));

export const awsSnapshotStore = once(
  () =>
    new DynamoSnapshotStore(
      new DynamoDBClient({}),
      requiredEnv(env, 'SNAPSHOTS_TABLE_NAME'),
      awsAdministratorReportSettings().snapshotRetentionDays,
    ),
);

export const awsReportPublisher = once(
  () => new SnsReportPublisher(new SNSClient({}), requiredEnv(env, 'REPORT_TOPIC_ARN')),
);
