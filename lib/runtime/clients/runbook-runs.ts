import { DynamoRunbookRunStore } from '../../runbooks/store.ts';
import { requiredEnv } from '../env.ts';
import { once } from '../once.ts';
import { dynamoDBClient } from './dynamodb.ts';

/** Runbook runs' steps, in their action records (`ACTIONS_TABLE_NAME`). */
export const awsRunbookRuns = once(
  () => new DynamoRunbookRunStore(dynamoDBClient, requiredEnv(process.env, 'ACTIONS_TABLE_NAME')),
);
