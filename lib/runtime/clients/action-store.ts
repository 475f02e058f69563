import { DynamoActionStore } from '../../actions/store.ts';
import { requiredEnv } from '../env.ts';
import { once } from '../once.ts';
import { dynamoDBClient } from './dynamodb.ts';

/**
 * The action records (`ACTIONS_TABLE_NAME`), for functions that create and update them: reading
 * back a session action kept in batches is refused (see awsActionRecords).
 */
export const awsActionStore = once(
  () => new DynamoActionStore(dynamoDBClient, requiredEnv(process.env, 'ACTIONS_TABLE_NAME')),
);
