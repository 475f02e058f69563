import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { isTransientDynamoDbError } from '../../../lib/runtime/dynamodb-errors.ts';

function named(name: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(name), { name, ...extra });
}

describe('isTransientDynamoDbError', () => {
  it.each([
    named('ThrottlingException'),
    named('ProvisionedThroughputExceededException'),
    named('SomethingNew', { $metadata: { httpStatusCode: 503 } }),
    named('SomethingNew', { $retryable: {} }),
    named('Error', { code: 'ECONNREFUSED' }),
  ])('retries %s', (error) => {
    expect(isTransientDynamoDbError(error)).toBe(true);
  });

  it.each([
    new ConditionalCheckFailedException({ message: 'no', $metadata: { httpStatusCode: 400 } }),
    named('ValidationException', { $metadata: { httpStatusCode: 400 } }),
    named('AccessDeniedException', { $metadata: { httpStatusCode: 403 } }),
    'ThrottlingException',
    undefined,
  ])('does not retry %s', (error) => {
    expect(isTransientDynamoDbError(error)).toBe(false);
  });
});
