import { DynamoDeliveryLog } from '../../sources/intake.ts';
import type { ReceiveDependencies } from '../../sources/receive.ts';
import { loadRoutingRules } from '../../sources/routing.ts';
import { SecretsManagerSourceSecrets } from '../../sources/secrets.ts';
import { callbackNamesFromEnv, recordRetentionDaysFromEnv, requiredEnv } from '../env.ts';
import { once } from '../once.ts';
import { awsIdempotentAcceptor } from './acceptor.ts';
import { awsAuditLog } from './audit-log.ts';
import { dynamoDBClient } from './dynamodb.ts';

/**
 * The source endpoints' dependencies. The routing rules file is bundled next to the function
 * (`routes.json`, validated at synth) unless `ROUTES_FILE` names another.
 */
export const awsSourceReceiveDependencies = once((): ReceiveDependencies => {
  const env = process.env;
  return {
    secrets: new SecretsManagerSourceSecrets({
      ...(env.SERVICENOW_SECRET_ARN ? { servicenow: env.SERVICENOW_SECRET_ARN } : {}),
      ...(env.SPLUNK_SECRET_ARN ? { splunk: env.SPLUNK_SECRET_ARN } : {}),
      ...(env.SENTINEL_SECRET_ARN ? { sentinel: env.SENTINEL_SECRET_ARN } : {}),
      ...(env.PAGERDUTY_SECRET_ARN ? { pagerduty: env.PAGERDUTY_SECRET_ARN } : {}),
      // The Standard Webhooks source signs with the shared webhook secret.
      ...(env.WEBHOOK_SECRET_ARN ? { standard: env.WEBHOOK_SECRET_ARN } : {}),
    }),
    rules: loadRoutingRules(env.ROUTES_FILE ?? new URL('./routes.json', import.meta.url)),
    acceptor: awsIdempotentAcceptor(),
    audit: awsAuditLog(),
    callbackNames: callbackNamesFromEnv(env),
    deliveries: new DynamoDeliveryLog(
      dynamoDBClient,
      requiredEnv(env, 'DELIVERIES_TABLE_NAME'),
      recordRetentionDaysFromEnv(env),
    ),
  };
});
