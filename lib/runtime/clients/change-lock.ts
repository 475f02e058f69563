import type { AdministratorChangeLock } from '../../administrators/admin-actions.ts';
import { DynamoAdministratorChangeLock } from '../../administrators/change-lock.ts';
import { requiredEnv } from '../env.ts';
import { once } from '../once.ts';
import { awsCitrixConnection } from './citrix-cloud.ts';
import { dynamoDBClient } from './dynamodb.ts';

/** The administrator change lease in the limits table (`LIMITS_TABLE_NAME`), per `CITRIX_CUSTOMER_ID`. */
export const awsAdministratorChangeLock = once(
  (): AdministratorChangeLock =>
    new DynamoAdministratorChangeLock(
      dynamoDBClient,
      requiredEnv(process.env, 'LIMITS_TABLE_NAME'),
      awsCitrixConnection().customerId,
    ),
);
