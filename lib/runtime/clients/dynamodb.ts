import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * The one DynamoDB client of a function that reads or writes a table, built at module load (in
 * Lambda's init phase) and shared by every store the function uses. Region and credentials come
 * from the Lambda environment when the first command is sent.
 */
export const dynamoDBClient = new DynamoDBClient({});
