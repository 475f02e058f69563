import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import {
  ACTIONS_TABLE_INDEX_NAMES,
  ACTIONS_TABLE_INDEXES,
  projectedAttributesOf,
} from '../lib/actions/list.ts';

export interface LocalDynamo {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  close(): Promise<void>;
}

const DYNALITE_OPTIONS = { createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 };

/**
 * dynalite on a thread of its own: DynamoDB is a service of its own in AWS, and the tables'
 * work then no longer shares the event loop of the workflow engine and the handlers.
 */
const DYNALITE_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const dynalite = require(workerData.dynalite);
const server = dynalite(workerData.options);
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;

/**
 * An in-memory DynamoDB-compatible engine (dynalite) on loopback, with a client pointed at it; on
 * its own thread with `ownThread`.
 */
export async function startLocalDynamo(
  options: { readonly ownThread?: boolean } = {},
): Promise<LocalDynamo> {
  const started = options.ownThread ? await dynaliteThread() : await dynaliteHere();
  const client = new DynamoDBClient({
    endpoint: started.endpoint,
    region: 'us-east-1',
    // dynalite accepts any credentials; fixed ones keep the SDK from looking for real ones.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    endpoint: started.endpoint,
    client,
    close: async () => {
      client.destroy();
      await started.close();
    },
  };
}

async function dynaliteHere() {
  const server = dynalite(DYNALITE_OPTIONS);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function dynaliteThread() {
  const worker = new Worker(DYNALITE_THREAD, {
    eval: true,
    workerData: {
      dynalite: createRequire(import.meta.url).resolve('dynalite'),
      options: DYNALITE_OPTIONS,
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      await worker.terminate();
    },
  };
}

/**
 * The actions table as the CDK stack defines it: partition key `actionId`, and the listing's
 * indexes (lib/actions/list.ts) with the same keys and projections.
 */
export async function createActionsTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const indexKeys = [
    ...new Set(
      ACTIONS_TABLE_INDEX_NAMES.flatMap((index) => Object.values(ACTIONS_TABLE_INDEXES[index])),
    ),
  ];
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: ['actionId', ...indexKeys].map((name) => ({
        AttributeName: name,
        AttributeType: 'S',
      })),
      KeySchema: [{ AttributeName: 'actionId', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: ACTIONS_TABLE_INDEX_NAMES.map((index) => ({
        IndexName: index,
        KeySchema: [
          { AttributeName: ACTIONS_TABLE_INDEXES[index].partitionKey, KeyType: 'HASH' },
          { AttributeName: ACTIONS_TABLE_INDEXES[index].sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: projectedAttributesOf(index) },
      })),
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 10, minDelay: 0.05 }, { TableName: tableName });
}

/** The administrator snapshots table as the CDK stack defines it: `kind` + `takenAt`. */
export async function createSnapshotsTable(
  client: DynamoDBClient,
  tableName: string,
): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [
        { AttributeName: 'kind', AttributeType: 'S' },
        { AttributeName: 'takenAt', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'kind', KeyType: 'HASH' },
        { AttributeName: 'takenAt', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 10, minDelay: 0.05 }, { TableName: tableName });
}

/** A table with one string partition key, as the CDK stack defines the idempotency and deliveries tables. */
export async function createKeyTable(
  client: DynamoDBClient,
  tableName: string,
  key: string,
): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 10, minDelay: 0.05 }, { TableName: tableName });
}
