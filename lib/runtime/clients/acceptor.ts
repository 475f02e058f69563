import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { acceptAction } from '../../actions/accept.ts';
import { createIdempotentAcceptor } from '../../sources/intake.ts';
import {
  idempotencyWindowSecondsFromEnv,
  recordRetentionDaysFromEnv,
  requiredEnv,
} from '../env.ts';
import { once } from '../once.ts';
import { awsActionRecordWrites } from './action-record-writes.ts';
import { dynamoDBClient } from './dynamodb.ts';
import { awsWorkflowStarter } from './workflows.ts';

/** Each action accepted once per delivery key, remembered for `IDEMPOTENCY_WINDOW_SECONDS`. */
export const awsIdempotentAcceptor = once(() => {
  const retentionDays = recordRetentionDaysFromEnv(process.env);
  return createIdempotentAcceptor({
    accept: (request, source, actionId, requester) =>
      acceptAction(
        { actions: awsActionRecordWrites(), workflows: awsWorkflowStarter(), retentionDays },
        request,
        new Date(),
        actionId,
        source,
        requester,
      ),
    persistenceStore: new DynamoDBPersistenceLayer({
      tableName: requiredEnv(process.env, 'IDEMPOTENCY_TABLE_NAME'),
      awsSdkV3Client: dynamoDBClient,
    }),
    expiresAfterSeconds: idempotencyWindowSecondsFromEnv(process.env),
  });
});
