/** Error names the AWS SDK gives DynamoDB failures that a later attempt may not meet. */
const TRANSIENT_DYNAMODB_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
]);

/**
 * Whether a DynamoDB failure is worth retrying (throttled, 5xx, network), as opposed to one that
 * would fail again (a failed condition, a validation error, missing permissions).
 */
export function isTransientDynamoDbError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  const retryable = (error as { $retryable?: unknown }).$retryable !== undefined;
  return (
    TRANSIENT_DYNAMODB_ERRORS.has(error.name) ||
    retryable ||
    (metadata?.httpStatusCode !== undefined && metadata.httpStatusCode >= 500) ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT'].includes((error as { code?: string }).code ?? '')
  );
}
