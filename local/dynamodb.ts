import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  TransactionCanceledException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import * as z from 'zod';
import {
  ACTIONS_TABLE_INDEX_NAMES,
  ACTIONS_TABLE_INDEXES,
  projectedAttributesOf,
} from '../lib/actions/list.ts';

export interface LocalDynamo {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  /** Conditional-write conflicts to inject into this client's requests. */
  readonly faults: LocalDynamoFaults;
  close(): Promise<void>;
}

const ConflictFaultSchema = z.strictObject({
  table: z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name'),
  count: z.int().min(1).max(1000),
  skip: z.int().min(0).max(1000),
});

interface ConditionalWrite {
  readonly TableName?: string;
  readonly ConditionExpression?: string;
}
type TransactItem = Partial<
  Record<'Put' | 'Update' | 'Delete' | 'ConditionCheck', ConditionalWrite | undefined>
>;

/**
 * DynamoDB conditional-write conflicts, as a concurrent writer causes them: after `skip`
 * conditional writes to a table go through, the next `count` (PutItem, UpdateItem or DeleteItem
 * with a ConditionExpression) fail with ConditionalCheckFailedException, and a transaction with a
 * conditional item on that table fails with TransactionCanceledException (reason
 * `ConditionalCheckFailed` on that item). The write is not made, as DynamoDB makes none.
 */
export class LocalDynamoFaults {
  readonly #pending = new Map<string, { skip: number; count: number }>();
  #fired = 0;

  conflictNext(table: string, count = 1, skip = 0): void {
    const fault = ConflictFaultSchema.parse({ table, count, skip });
    this.#pending.set(fault.table, { skip: fault.skip, count: fault.count });
  }

  /** How many writes the fault has failed so far. */
  get fired(): number {
    return this.#fired;
  }

  clear(): void {
    this.#pending.clear();
    this.#fired = 0;
  }

  /** The exception to throw instead of sending this request, if a conflict is due. */
  conflictFor(input: unknown): Error | undefined {
    if (this.#pending.size === 0 || input === null || typeof input !== 'object') return undefined;
    const items = (input as { TransactItems?: TransactItem[] }).TransactItems;
    const writes = items
      ? items.map((item) => Object.values(item).find((write) => write !== undefined))
      : [input as ConditionalWrite];
    const hit = writes.findIndex((write) => write !== undefined && this.#strikes(write));
    if (hit < 0) return undefined;
    this.#fired += 1;
    if (items === undefined) {
      return new ConditionalCheckFailedException({
        message: 'The conditional request failed (fault injected)',
        $metadata: {},
      });
    }
    const codes = items.map((_, i) => (i === hit ? 'ConditionalCheckFailed' : 'None'));
    return new TransactionCanceledException({
      message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}] (fault injected)`,
      $metadata: {},
      CancellationReasons: codes.map((Code) =>
        Code === 'None' ? { Code } : { Code, Message: 'The conditional request failed' },
      ),
    });
  }

  /** Whether the fault strikes this write: a conditional one on a faulted table, past the skips. */
  #strikes(write: ConditionalWrite): boolean {
    if (write.ConditionExpression === undefined || write.TableName === undefined) return false;
    const pending = this.#pending.get(write.TableName);
    if (pending === undefined) return false;
    if (pending.skip > 0) {
      pending.skip -= 1;
      return false;
    }
    pending.count -= 1;
    if (pending.count <= 0) this.#pending.delete(write.TableName);
    return true;
  }
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
  options: { readonly ownThread?: boolean; readonly faults?: LocalDynamoFaults } = {},
): Promise<LocalDynamo> {
  const started = options.ownThread ? await dynaliteThread() : await dynaliteHere();
  const client = new DynamoDBClient({
    endpoint: started.endpoint,
    region: 'us-east-1',
    // dynalite accepts any credentials; fixed ones keep the SDK from looking for real ones.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const faults = options.faults ?? new LocalDynamoFaults();
  // Document clients built from this client share its middleware, so they see the faults too.
  client.middlewareStack.add(
    (next) => async (args) => {
      const conflict = faults.conflictFor(args.input);
      if (conflict !== undefined) throw conflict;
      return next(args);
    },
    { step: 'initialize', name: 'localDynamoFaults' },
  );
  return {
    endpoint: started.endpoint,
    client,
    faults,
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
