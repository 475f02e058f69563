import {
  CreateTableCommand,
  type DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { AUDIT_TABLE_KEYS } from './audit-log.ts';

/**
 * Creates the audit table as the CDK stack should define it (partition `actionId`, sort `sortKey`),
 * for dynalite and tests. TTL on `expiresAt` is the stack's job: dynalite does not expire items.
 */
export async function createAuditTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [
        { AttributeName: AUDIT_TABLE_KEYS.partitionKey, AttributeType: 'S' },
        { AttributeName: AUDIT_TABLE_KEYS.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: AUDIT_TABLE_KEYS.partitionKey, KeyType: 'HASH' },
        { AttributeName: AUDIT_TABLE_KEYS.sortKey, KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 10, minDelay: 0.05 }, { TableName: tableName });
}
