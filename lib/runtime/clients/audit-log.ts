import { DynamoAuditLog } from '../../audit/audit-log.ts';
import { recordRetentionDaysFromEnv, requiredEnv } from '../env.ts';
import { once } from '../once.ts';
import { dynamoDBClient } from './dynamodb.ts';

/** Every step of every action, under its action id (`AUDIT_TABLE_NAME`), kept like the records. */
export const awsAuditLog = once(
  () =>
    new DynamoAuditLog(
      dynamoDBClient,
      requiredEnv(process.env, 'AUDIT_TABLE_NAME'),
      recordRetentionDaysFromEnv(process.env),
    ),
);
