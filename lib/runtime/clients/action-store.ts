import { DynamoActionStore } from '../../actions/store.ts';
import { requiredEnv } from '../env.ts';
import { once } from '../once.ts';
import { dynamoDBClient } from './dynamodb.ts';

/** The action records (`ACTIONS_TABLE_NAME`). */
export const awsActionStore = once(
  () => new DynamoActionStore(dynamoDBClient, requiredEnv(process.env, 'ACTIONS_TABLE_NAME')),
);
