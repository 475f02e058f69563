import { DynamoActionRecordWrites } from '../../actions/record-writes.ts';
import { requiredEnv } from '../env.ts';
import { once } from '../once.ts';
import { dynamoDBClient } from './dynamodb.ts';

/**
 * The action records (`ACTIONS_TABLE_NAME`) as accepting an action writes them: created, or ended
 * when the workflow cannot start. The functions that only accept actions need no more of the store.
 */
export const awsActionRecordWrites = once(
  () =>
    new DynamoActionRecordWrites(dynamoDBClient, requiredEnv(process.env, 'ACTIONS_TABLE_NAME')),
);
