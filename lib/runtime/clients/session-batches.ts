import { recordRetentionDaysFromEnv, requiredEnv } from '../env.ts';
import { once } from '../once.ts';
import { DynamoSessionBatchStore, DynamoThrottleGate } from '../session-batch-store.ts';
import { dynamoDBClient } from './dynamodb.ts';

/** A session action's batches, beside its record in the actions table (`ACTIONS_TABLE_NAME`). */
export const awsSessionBatches = once(
  () =>
    new DynamoSessionBatchStore(
      dynamoDBClient,
      requiredEnv(process.env, 'ACTIONS_TABLE_NAME'),
      recordRetentionDaysFromEnv(process.env),
    ),
);

/** DaaS's throttle gate, one item of the limits table (`LIMITS_TABLE_NAME`). */
export const awsThrottleGate = once(
  () => new DynamoThrottleGate(dynamoDBClient, requiredEnv(process.env, 'LIMITS_TABLE_NAME')),
);
