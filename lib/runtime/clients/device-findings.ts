import { DynamoDeviceFindings } from '../../devices/findings.ts';
import { requiredEnv } from '../env.ts';
import { once } from '../once.ts';
import { dynamoDBClient } from './dynamodb.ts';

/** Device sweeps' findings, kept in the limits table (`LIMITS_TABLE_NAME`) under `sweep-findings#`. */
export const awsDeviceFindings = once(
  () => new DynamoDeviceFindings(dynamoDBClient, requiredEnv(process.env, 'LIMITS_TABLE_NAME')),
);
