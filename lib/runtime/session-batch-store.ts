import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import pLimit from 'p-limit';
import {
  type SessionBatch,
  SessionBatchSchema,
  type SessionBatchStore,
  type ThrottleGate,
} from '../sessions/batch-items.ts';
import { isTransientDynamoDbError } from './dynamodb-errors.ts';

/**
 * Batch items live in the actions table beside their action, under `<actionId>#batch#<n>`: one
 * table to grant, and the action's TTL (`expiresAt`) removes them with it.
 */
export const batchKey = (actionId: string, index: number): string =>
  `${actionId}#batch#${String(index).padStart(4, '0')}`;

/** Base class of the batch store's errors. */
export class SessionBatchStoreError extends Error {
  override name = 'SessionBatchStoreError';
}

/** DynamoDB was throttled or unreachable: the workflow's Retry matches this name. */
export class SessionBatchStoreUnavailableError extends SessionBatchStoreError {
  override name = 'SessionBatchStoreUnavailableError';
}

/** Another round saved the batch first (a round ran twice): this round's save is refused. */
export class SessionBatchConflictError extends SessionBatchStoreError {
  override name = 'SessionBatchConflictError';
}

export class SessionBatchNotFoundError extends SessionBatchStoreError {
  override name = 'SessionBatchNotFoundError';
}

const BATCH_GET_LIMIT = 100;
/** Saves sent while the stored batch is still the version a save replaces (a refusal that passed). */
const SAVE_ATTEMPTS = 3;
const WRITES_IN_FLIGHT = 10;

export class DynamoSessionBatchStore implements SessionBatchStore {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #retentionDays: number;
  readonly #now: () => Date;

  /** `retentionDays`: kept as long as action records (RECORD_RETENTION_DAYS), then TTL removes them. */
  constructor(
    client: DynamoDBClient,
    tableName: string,
    retentionDays: number,
    now: () => Date = () => new Date(),
  ) {
    this.#documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.#tableName = tableName;
    this.#retentionDays = retentionDays;
    this.#now = now;
  }

  #expiresAt(): number {
    return Math.floor(this.#now().getTime() / 1000) + this.#retentionDays * 86_400;
  }

  async write(batches: readonly SessionBatch[]): Promise<void> {
    // One PutItem per batch (at most 50 for 10,000 sessions), a few at a time: the functions that
    // write actions are granted PutItem, never BatchWriteItem, which could also delete.
    const expiresAt = this.#expiresAt();
    const limit = pLimit(WRITES_IN_FLIGHT);
    await Promise.all(
      batches.map((batch) =>
        limit(() =>
          this.#send(batchKey(batch.actionId, batch.index), () =>
            this.#documents.send(
              new PutCommand({ TableName: this.#tableName, Item: this.#item(batch, expiresAt) }),
            ),
          ),
        ),
      ),
    );
  }

  async read(actionId: string, index: number): Promise<SessionBatch> {
    const output = await this.#send(batchKey(actionId, index), () =>
      this.#documents.send(
        new GetCommand({
          TableName: this.#tableName,
          Key: { actionId: batchKey(actionId, index) },
          ConsistentRead: true,
        }),
      ),
    );
    if (output.Item === undefined) {
      throw new SessionBatchNotFoundError(`No batch ${index} for action ${actionId}`);
    }
    return parseBatch(output.Item);
  }

  async readAll(actionId: string, count: number): Promise<SessionBatch[]> {
    const found = new Map<number, SessionBatch>();
    for (let start = 0; start < count; start += BATCH_GET_LIMIT) {
      let keys = Array.from({ length: Math.min(BATCH_GET_LIMIT, count - start) }, (_, offset) => ({
        actionId: batchKey(actionId, start + offset),
      }));
      for (let attempt = 0; keys.length > 0; attempt += 1) {
        if (attempt > 0) await backoff(attempt);
        const output = await this.#send(actionId, () =>
          this.#documents.send(
            new BatchGetCommand({
              RequestItems: { [this.#tableName]: { Keys: keys, ConsistentRead: true } },
            }),
          ),
        );
        for (const item of output.Responses?.[this.#tableName] ?? []) {
          const batch = parseBatch(item);
          found.set(batch.index, batch);
        }
        keys = (output.UnprocessedKeys?.[this.#tableName]?.Keys ?? []) as typeof keys;
        if (keys.length > 0 && attempt >= 8) {
          throw new SessionBatchStoreUnavailableError(`Batches of ${actionId} stayed unprocessed`);
        }
      }
    }
    return Array.from({ length: count }, (_, index) => {
      const batch = found.get(index);
      if (batch === undefined) {
        throw new SessionBatchNotFoundError(`No batch ${index} for action ${actionId}`);
      }
      return batch;
    });
  }

  async save(batch: SessionBatch): Promise<void> {
    const key = batchKey(batch.actionId, batch.index);
    // A refused save is checked against the batch read back: another round's save (a newer
    // version) is a conflict; a refusal that has passed (the stored version is still the one
    // this save replaces) is sent again, a few times, so that a round's claims are not lost.
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.#send(key, () =>
          this.#documents.send(
            new PutCommand({
              TableName: this.#tableName,
              Item: this.#item(batch, this.#expiresAt()),
              ConditionExpression: 'version = :previous',
              ExpressionAttributeValues: { ':previous': batch.version - 1 },
            }),
          ),
        );
        return;
      } catch (error) {
        if (
          !(error instanceof SessionBatchStoreError) ||
          !(error.cause instanceof ConditionalCheckFailedException)
        ) {
          throw error;
        }
        const stored = await this.#storedVersion(key);
        if (stored !== batch.version - 1) {
          throw new SessionBatchConflictError(`Batch ${key} was saved by another round`, {
            cause: error.cause,
          });
        }
        if (attempt >= SAVE_ATTEMPTS) {
          throw new SessionBatchStoreUnavailableError(
            `Batch ${key}: ${attempt} saves refused while it stayed at version ${stored}`,
            { cause: error.cause },
          );
        }
      }
    }
  }

  /** The version of the batch as stored now (a consistent read); undefined when there is none. */
  async #storedVersion(key: string): Promise<number | undefined> {
    const output = await this.#send(key, () =>
      this.#documents.send(
        new GetCommand({
          TableName: this.#tableName,
          Key: { actionId: key },
          ConsistentRead: true,
          ProjectionExpression: 'version',
        }),
      ),
    );
    const version = output.Item?.version;
    return typeof version === 'number' ? version : undefined;
  }

  #item(batch: SessionBatch, expiresAt: number) {
    return {
      ...batch,
      actionId: batchKey(batch.actionId, batch.index),
      batchOf: batch.actionId,
      expiresAt,
    };
  }

  async #send<Output>(what: string, operation: () => Promise<Output>): Promise<Output> {
    try {
      return await operation();
    } catch (error) {
      if (isTransientDynamoDbError(error)) {
        throw new SessionBatchStoreUnavailableError(`Batch store unavailable for ${what}`, {
          cause: error,
        });
      }
      throw new SessionBatchStoreError(`Batch store request failed for ${what}`, { cause: error });
    }
  }
}

function parseBatch(item: Record<string, unknown>): SessionBatch {
  const parsed = SessionBatchSchema.safeParse({ ...item, actionId: item.batchOf });
  if (!parsed.success) {
    // Never echo the stored item: it names users and sessions.
    throw new SessionBatchStoreError('A stored session batch does not match the schema', {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

const backoff = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 2000) * Math.random()));

/** The item of the limits table (key `counter`) that holds DaaS's shared throttle gate. */
export const DAAS_THROTTLE_GATE_KEY = 'throttle-gate#daas';

/** The gate in one item of the limits table; it only ever moves later, never earlier. */
export class DynamoThrottleGate implements ThrottleGate {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(client: DynamoDBClient, tableName: string) {
    this.#documents = DynamoDBDocumentClient.from(client);
    this.#tableName = tableName;
  }

  async closedUntil(now: Date): Promise<number | undefined> {
    const output = await this.#documents.send(
      new GetCommand({
        TableName: this.#tableName,
        Key: { counter: DAAS_THROTTLE_GATE_KEY },
        ConsistentRead: true,
      }),
    );
    const until = (output.Item as { closedUntil?: unknown } | undefined)?.closedUntil;
    return typeof until === 'number' && until > now.getTime() ? until : undefined;
  }

  async close(untilMs: number): Promise<void> {
    try {
      await this.#documents.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: { counter: DAAS_THROTTLE_GATE_KEY },
          UpdateExpression: 'SET closedUntil = :until',
          ConditionExpression: 'attribute_not_exists(closedUntil) OR closedUntil < :until',
          ExpressionAttributeValues: { ':until': untilMs },
        }),
      );
    } catch (error) {
      // Another batch closed it for longer already.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
