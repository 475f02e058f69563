import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { acceptAction } from '../actions/accept.ts';
import { DynamoActionStore } from '../actions/store.ts';
import type { AdministratorGuards } from '../administrators/admin-actions.ts';
import { SnsReportPublisher } from '../administrators/publishers.ts';
import { DynamoSnapshotStore } from '../administrators/snapshot-store.ts';
import { DynamoAuditLog } from '../audit/audit-log.ts';
import { auditCitrixCall } from '../audit/context.ts';
import type { NotificationDependencies } from '../callbacks/notify.ts';
import { ServiceNowApiSecretSchema, ServiceNowClient } from '../callbacks/servicenow.ts';
import { parseCallbackDestinations, SignedCallbackSender } from '../callbacks/signed-callback.ts';
import { CloudAdministratorsClient } from '../citrix/administrators-client.ts';
import { citrixConnectionFromEnv } from '../citrix/config.ts';
import { DaasClient } from '../citrix/daas-client.ts';
import { endpointManagementConnectionFromEnv } from '../citrix/endpoint-management-config.ts';
import { DEFAULT_RETRY_POLICY } from '../citrix/retry.ts';
import type { DeviceWorkflowSettings } from '../devices/device-actions.ts';
import { guardrailsFromEnv } from '../guardrails/config.ts';
import { DynamoHourlyLimitCounter } from '../guardrails/limits.ts';
import type { SessionWorkflowSettings } from '../sessions/session-actions.ts';
import { createIdempotentAcceptor, DynamoDeliveryLog } from '../sources/intake.ts';
import type { ReceiveDependencies } from '../sources/receive.ts';
import { loadRoutingRules } from '../sources/routing.ts';
import { SecretsManagerSourceSecrets } from '../sources/secrets.ts';
import { StepFunctionsTaskTokens, StepFunctionsWorkflowStarter } from '../workflow/starter.ts';
import { buildEndpointManagementClient } from './endpoint-management.ts';
import {
  readCitrixCredentials,
  readEndpointManagementCredentials,
  readJsonSecret,
  readSigningSecret,
} from './secrets.ts';
import {
  administratorGuardsFromEnv,
  administratorReportSettingsFromEnv,
  deviceWorkflowSettingsFromEnv,
  idempotencyWindowSecondsFromEnv,
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
      onCall: auditCitrixCall,
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
      onCall: auditCitrixCall,
      cloud: {
        connection: citrixConnectionFromEnv(env),
        credentials: () => readCitrixCredentials(requiredEnv(env, 'CITRIX_CREDENTIALS_SECRET_ARN')),
      },
    });
  }
  return buildEndpointManagementClient({
    connection,
    onCall: auditCitrixCall,
    credentials: () =>
      readEndpointManagementCredentials(requiredEnv(env, 'CITRIX_EM_CREDENTIALS_SECRET_ARN')),
  });
});

export const awsAdministratorsClient = once(
  () =>
    new CloudAdministratorsClient({
      onCall: auditCitrixCall,
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

const awsDynamoClient = once(() => new DynamoDBClient({}));

/** Each action accepted once per delivery key, remembered for `IDEMPOTENCY_WINDOW_SECONDS`. */
export const awsIdempotentAcceptor = once(() =>
  createIdempotentAcceptor({
    accept: (request, source, actionId) =>
      acceptAction(
        {
          actions: awsActionStore(),
          workflows: awsWorkflowStarter(),
          retentionDays: awsRetentionDays(),
        },
        request,
        new Date(),
        actionId,
        source,
      ),
    persistenceStore: new DynamoDBPersistenceLayer({
      tableName: requiredEnv(env, 'IDEMPOTENCY_TABLE_NAME'),
      awsSdkV3Client: awsDynamoClient(),
    }),
    expiresAfterSeconds: idempotencyWindowSecondsFromEnv(env),
  }),
);

/**
 * The source endpoints' dependencies. The routing rules file is bundled next to the function
 * (`routes.json`, validated at synth) unless `ROUTES_FILE` names another.
 */
export const awsSourceReceiveDependencies = once(
  (): ReceiveDependencies => ({
    secrets: new SecretsManagerSourceSecrets({
      ...(env.SERVICENOW_SECRET_ARN ? { servicenow: env.SERVICENOW_SECRET_ARN } : {}),
      ...(env.SPLUNK_SECRET_ARN ? { splunk: env.SPLUNK_SECRET_ARN } : {}),
      ...(env.SENTINEL_SECRET_ARN ? { sentinel: env.SENTINEL_SECRET_ARN } : {}),
      ...(env.PAGERDUTY_SECRET_ARN ? { pagerduty: env.PAGERDUTY_SECRET_ARN } : {}),
    }),
    rules: loadRoutingRules(env.ROUTES_FILE ?? new URL('./routes.json', import.meta.url)),
    acceptor: awsIdempotentAcceptor(),
    audit: awsAuditLog(),
    callbackNames: awsCallbackNames(),
    deliveries: new DynamoDeliveryLog(
      awsDynamoClient(),
      requiredEnv(env, 'DELIVERIES_TABLE_NAME'),
      awsRetentionDays(),
    ),
  }),
);

const awsCallbackDestinations = once(() => parseCallbackDestinations(env.CALLBACK_DESTINATIONS));

/** Names of the configured callback destinations (`CALLBACK_DESTINATION_NAMES`, comma-separated). */
export const awsCallbackNames = once(
  (): ReadonlySet<string> =>
    new Set(
      (env.CALLBACK_DESTINATION_NAMES ?? '')
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    ),
);

/**
 * The ServiceNow Table API client when `SERVICENOW_API_SECRET_ARN` is set (the secret holds the
 * instance URL and the account), and the signed callback sender when destinations exist.
 */
export const awsNotificationDependencies = once((): NotificationDependencies => {
  const transport = { timeoutMs: 10_000, retry: DEFAULT_RETRY_POLICY };
  const destinations = awsCallbackDestinations();
  return {
    ...(env.SERVICENOW_API_SECRET_ARN
      ? {
          serviceNow: new ServiceNowClient({
            connection: () =>
              readJsonSecret(
                requiredEnv(env, 'SERVICENOW_API_SECRET_ARN'),
                ServiceNowApiSecretSchema,
              ),
            ...transport,
          }),
        }
      : {}),
    ...(destinations.size > 0
      ? {
          callbacks: new SignedCallbackSender({
            destinations,
            signingSecret: () => readSigningSecret(requiredEnv(env, 'CALLBACK_SECRET_ARN')),
            ...transport,
          }),
        }
      : {}),
  };
});

export const awsTaskTokens = once(() => new StepFunctionsTaskTokens(new SFNClient({})));

/** The hourly limit counters (`LIMITS_TABLE_NAME`): reserved by the resolvers, released on rejection. */
export const awsLimitCounter = once(
  () => new DynamoHourlyLimitCounter(awsDynamoClient(), requiredEnv(env, 'LIMITS_TABLE_NAME')),
);

/** Limits, approval rules and protected targets, with the hourly counter in DynamoDB. */
export const awsGuardrails = once(() => ({
  settings: guardrailsFromEnv(env),
  counter: awsLimitCounter(),
  actions: awsActionStore(),
}));

/** Every step of every action, under its action id (`AUDIT_TABLE_NAME`). */
export const awsAuditLog = once(
  () =>
    new DynamoAuditLog(awsDynamoClient(), requiredEnv(env, 'AUDIT_TABLE_NAME'), awsRetentionDays()),
);
