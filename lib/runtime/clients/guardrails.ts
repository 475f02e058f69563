import type { GuardrailDependencies } from '../../guardrails/apply.ts';
import { guardrailsFromEnv } from '../../guardrails/config.ts';
import { DynamoHourlyLimitCounter } from '../../guardrails/limits.ts';
import { requiredEnv } from '../env.ts';
import { once } from '../once.ts';
import { awsActionStore } from './action-store.ts';
import { dynamoDBClient } from './dynamodb.ts';

/** The hourly limit counters (`LIMITS_TABLE_NAME`): reserved by the resolvers, released on rejection. */
export const awsLimitCounter = once(
  () => new DynamoHourlyLimitCounter(dynamoDBClient, requiredEnv(process.env, 'LIMITS_TABLE_NAME')),
);

/** Limits, approval rules and protected targets, with the hourly counter in DynamoDB. */
export const awsGuardrails = once(
  (): GuardrailDependencies => ({
    settings: guardrailsFromEnv(process.env),
    counter: awsLimitCounter(),
    actions: awsActionStore(),
  }),
);
