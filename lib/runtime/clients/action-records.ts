import { DynamoActionStore } from '../../actions/store.ts';
import { SessionBatchContents } from '../../sessions/batch-items.ts';
import { requiredEnv } from '../env.ts';
import { once } from '../once.ts';
import { dynamoDBClient } from './dynamodb.ts';
import { awsSessionBatches } from './session-batches.ts';

/** The action records as people and sources read them, session actions' batches read back in. */
export const awsActionRecords = once(
  () =>
    new DynamoActionStore(dynamoDBClient, requiredEnv(process.env, 'ACTIONS_TABLE_NAME'), {
      batched: new SessionBatchContents(awsSessionBatches()),
    }),
);
