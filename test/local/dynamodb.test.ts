import {
  ConditionalCheckFailedException,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyTable, type LocalDynamo, startLocalDynamo } from '../../local/dynamodb.ts';

/** Injected conditional-write conflicts: the write is refused as DynamoDB refuses it, and not made. */
let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startLocalDynamo();
  await createKeyTable(dynamo.client, 'conflicts', 'id');
  await createKeyTable(dynamo.client, 'others', 'id');
});
afterAll(() => dynamo.close());

const documents = () => DynamoDBDocumentClient.from(dynamo.client);
const conditionalPut = (table: string, id: string) =>
  new PutCommand({
    TableName: table,
    Item: { id },
    ConditionExpression: 'attribute_not_exists(id)',
  });
const stored = async (table: string, id: string) =>
  (await documents().send(new GetCommand({ TableName: table, Key: { id } }))).Item;

describe('LocalDynamoFaults', () => {
  it('fails the next conditional write to the table, through document clients too, and makes none', async () => {
    dynamo.faults.conflictNext('conflicts', 1);
    // An unconditional write and a write to another table pass.
    await dynamo.client.send(
      new PutItemCommand({ TableName: 'conflicts', Item: { id: { S: 'plain' } } }),
    );
    await documents().send(conditionalPut('others', 'a'));
    await expect(documents().send(conditionalPut('conflicts', 'a'))).rejects.toBeInstanceOf(
      ConditionalCheckFailedException,
    );
    expect(await stored('conflicts', 'a')).toBeUndefined();
    expect(dynamo.faults.fired).toBe(1);
    await documents().send(conditionalPut('conflicts', 'a'));
    expect(await stored('conflicts', 'a')).toEqual({ id: 'a' });
  });

  it('cancels a transaction with a conditional item on the table, naming that item', async () => {
    dynamo.faults.clear();
    dynamo.faults.conflictNext('conflicts', 1);
    const transaction = new TransactWriteItemsCommand({
      TransactItems: [
        { Put: { TableName: 'others', Item: { id: { S: 't1' } } } },
        {
          Put: {
            TableName: 'conflicts',
            Item: { id: { S: 't2' } },
            ConditionExpression: 'attribute_not_exists(id)',
          },
        },
      ],
    });
    const error = await dynamo.client.send(transaction).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect((error as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual(
      ['None', 'ConditionalCheckFailed'],
    );
    expect(await stored('others', 't1')).toBeUndefined();
    expect(dynamo.faults.fired).toBe(1);
  });

  it('lets `skip` conditional writes through before the conflict', async () => {
    dynamo.faults.clear();
    dynamo.faults.conflictNext('conflicts', 1, 2);
    await documents().send(conditionalPut('conflicts', 's1'));
    await documents().send(conditionalPut('conflicts', 's2'));
    await expect(documents().send(conditionalPut('conflicts', 's3'))).rejects.toBeInstanceOf(
      ConditionalCheckFailedException,
    );
    await documents().send(conditionalPut('conflicts', 's3'));
    expect(dynamo.faults.fired).toBe(1);
  });

  it('refuses a bad table name or count', () => {
    expect(() => dynamo.faults.conflictNext('x', 1)).toThrow(/table/);
    expect(() => dynamo.faults.conflictNext('conflicts', 0)).toThrow(/count/);
  });
});
