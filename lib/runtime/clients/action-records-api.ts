import { DynamoActionList } from '../../actions/list-store.ts';
import { requiredEnv } from '../env.ts';
import { once } from '../once.ts';
import { awsActionRecords } from './action-records.ts';
import { awsAuditLog } from './audit-log.ts';
import { dynamoDBClient } from './dynamodb.ts';
import { awsTaskTokens } from './workflows.ts';

/**
 * The dependencies of the people's reading and deciding routes, built on their first request:
 * the action records (batches read back in), their listing (the table's indexes), the approval
 * task tokens and the audit trail. No secret: API Gateway authenticates every caller (IAM).
 */
export const awsActionRecordsApiDependencies = once(() => ({
  actions: awsActionRecords(),
  listing: new DynamoActionList(dynamoDBClient, requiredEnv(process.env, 'ACTIONS_TABLE_NAME')),
  tokens: awsTaskTokens(),
  audit: awsAuditLog(),
}));
