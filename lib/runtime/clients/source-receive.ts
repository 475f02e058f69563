import { DynamoDeliveryLog } from '../../sources/intake.ts';
import type { ReceiveDependencies } from '../../sources/receive.ts';
import {
  SecretsManagerSourceSecrets,
  type SourceSecretSchemas,
} from '../../sources/secret-reader.ts';
import type { SourceName } from '../../sources/types.ts';
import { callbackNamesFromEnv, recordRetentionDaysFromEnv, requiredEnv } from '../env.ts';
import { once } from '../once.ts';
import { awsIdempotentAcceptor } from './acceptor.ts';
import { awsAuditLog } from './audit-log.ts';
import { dynamoDBClient } from './dynamodb.ts';

/**
 * A source function's dependencies, built once: the secrets of the sources it serves (each ARN in
 * its declared variable), its part of the routing rules, the acceptor, the audit and the record of
 * deliveries. The rules file is bundled next to the function (`routes.json`, validated whole at
 * synth) unless `ROUTES_FILE` names another.
 */
export function awsSourceReceiveDependencies<S extends SourceName, Rules>(
  sources: SourceSecretSchemas<S>,
  loadRules: (path: string | URL) => Rules,
): () => ReceiveDependencies<Rules> {
  return once((): ReceiveDependencies<Rules> => {
    const env = process.env;
    return {
      secrets: new SecretsManagerSourceSecrets(sources, env),
      rules: loadRules(env.ROUTES_FILE ?? new URL('./routes.json', import.meta.url)),
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
}
