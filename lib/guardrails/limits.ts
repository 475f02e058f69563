import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  type DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { ActionType } from '../actions/schema.ts';
import { isTransientDynamoDbError } from '../runtime/dynamodb-errors.ts';

export interface HourlyReservation {
  /**
   * Whether `count` more targets fit within the limit (or this action id had already reserved
   * them within it). With `evenOverLimit` the targets are reserved either way.
   */
  readonly allowed: boolean;
  /**
   * Targets already counted in the hour before `now`, not counting this reservation (nor, when
   * the same action id reserves again, its own earlier entry).
   */
  readonly used: number;
}

export interface ReserveOptions {
  /**
   * Reserve the targets even when they exceed the limit (an action held for approval counts
   * from the moment it is held, so approving it cannot take the hour past its limit unseen).
   * `allowed` still says whether they fit.
   */
  readonly evenOverLimit?: boolean;
}

/** Counts targets acted on per action type over a sliding hour. */
export interface HourlyLimitCounter {
  /**
   * Reserves `count` targets for `actionId` if the last hour's total stays within `limit`
   * (or, with `evenOverLimit`, whatever the total); otherwise reserves nothing. Reserving again
   * for the same action id within the hour (a retried task) counts nothing more, whatever the
   * count, and answers as the first reservation did: allowed only if that one fit the limit.
   */
  reserve(
    action: ActionType,
    count: number,
    limit: number,
    actionId: string,
    now: Date,
    options?: ReserveOptions,
  ): Promise<HourlyReservation>;
  /**
   * Gives back what `actionId` reserved for the targets it never acted on: all of it for an
   * action that ended without doing anything (rejected, expired, failed before acting), or all
   * but `keep` targets for one that failed as a whole after acting on some. Never raises a
   * reservation. Idempotent: true only when a reservation was removed or lowered.
   */
  release(action: ActionType, actionId: string, options?: ReleaseOptions): Promise<boolean>;
}

export interface ReleaseOptions {
  /** Targets that stay counted (they may have been acted on); 0, the default, removes it all. */
  readonly keep?: number;
}

export class GuardrailStoreError extends Error {
  override name = 'GuardrailStoreError';
}

/**
 * DynamoDB was throttled or unreachable, or too many reservations raced for one action type:
 * safe to retry (a workflow Retry can match the name).
 */
export class GuardrailStoreUnavailableError extends GuardrailStoreError {
  override name = 'GuardrailStoreUnavailableError';
}

/** A stored counter no longer matches the schema (its contents are never echoed). */
export class GuardrailCounterCorruptError extends GuardrailStoreError {
  override name = 'GuardrailCounterCorruptError';
}

/** The limits table's partition key: one item per action type. */
export const LIMITS_TABLE_PARTITION_KEY = 'counter';

export const HOUR_MS = 3_600_000;

/**
 * Actions of one type reserved in an hour: one entry each in the counter's DynamoDB item (about
 * 80 bytes), so 2,000 keep it far below 400 KB. Past them the hour is over its limit, whatever
 * the target counts: that many separate actions in an hour is itself a reason to stop and look.
 */
export const MAX_RESERVATIONS_PER_HOUR = 2000;

const CounterItemSchema = z.object({
  counter: z.string(),
  version: z.number().int().min(0),
  entries: z.array(
    z.object({
      at: z.number(),
      count: z.number().int().min(0),
      actionId: z.string(),
      /** Reserved over the limit for an action held for approval (see ReserveOptions). */
      overLimit: z.boolean().optional(),
    }),
  ),
});
type CounterEntry = z.infer<typeof CounterItemSchema>['entries'][number];

export interface DynamoHourlyLimitCounterOptions {
  /** Attempts at the read-check-write cycle before giving up on contention (default 20). */
  readonly maxAttempts?: number;
  /** Waits before a retry after a lost race; jittered so racers spread out. */
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * An hourly counter in DynamoDB. Each action type has one item holding the last hour's
 * reservations and a version; a reservation reads it consistently, prunes entries older than an
 * hour and writes it back only if the version is unchanged (optimistic locking), so concurrent
 * reservations never together exceed the limit.
 */
export class DynamoHourlyLimitCounter implements HourlyLimitCounter {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #maxAttempts: number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(
    client: DynamoDBClient,
    tableName: string,
    options: DynamoHourlyLimitCounterOptions = {},
  ) {
    this.#documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.#tableName = tableName;
    this.#maxAttempts = options.maxAttempts ?? 20;
    this.#sleep = options.sleep ?? defaultSleep;
  }

  async reserve(
    action: ActionType,
    count: number,
    limit: number,
    actionId: string,
    now: Date,
    options: ReserveOptions = {},
  ): Promise<HourlyReservation> {
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`count must be a positive integer, got ${count}`);
    }
    const nowMs = now.getTime();
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt += 1) {
      const stored = await this.#read(action);
      // Entries dated after `now` (another caller's clock) still count.
      const recent = stored.entries.filter((entry) => entry.at > nowMs - HOUR_MS);
      const mine = recent.find((entry) => entry.actionId === actionId);
      const others = recent.filter((entry) => entry !== mine);
      const used = others.reduce((total, entry) => total + entry.count, 0);
      if (mine !== undefined) return { allowed: mine.overLimit !== true, used };
      const fits = used + count <= limit && others.length < MAX_RESERVATIONS_PER_HOUR;
      if (!fits && options.evenOverLimit !== true) return { allowed: false, used };
      const entry: CounterEntry = fits
        ? { at: nowMs, count, actionId }
        : { at: nowMs, count, actionId, overLimit: true };
      if (await this.#write(action, stored.version, [...recent, entry])) {
        return { allowed: fits, used };
      }
      await this.#backOff(attempt);
    }
    throw this.#contended(action);
  }

  async release(
    action: ActionType,
    actionId: string,
    options: ReleaseOptions = {},
  ): Promise<boolean> {
    const keep = options.keep ?? 0;
    if (!Number.isInteger(keep) || keep < 0) {
      throw new RangeError(`keep must be a non-negative integer, got ${keep}`);
    }
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt += 1) {
      const stored = await this.#read(action);
      const mine = stored.entries.find((entry) => entry.actionId === actionId);
      if (mine === undefined || mine.count <= keep) return false;
      const entries =
        keep === 0
          ? stored.entries.filter((entry) => entry !== mine)
          : stored.entries.map((entry) => (entry === mine ? { ...entry, count: keep } : entry));
      if (await this.#write(action, stored.version, entries)) return true;
      await this.#backOff(attempt);
    }
    throw this.#contended(action);
  }

  /** Waits before a retry after a lost race; jittered so racers spread out. */
  async #backOff(attempt: number): Promise<void> {
    if (attempt < this.#maxAttempts) {
      await this.#sleep(Math.random() * Math.min(200, 5 * 2 ** attempt));
    }
  }

  #contended(action: ActionType): GuardrailStoreUnavailableError {
    return new GuardrailStoreUnavailableError(
      `Hourly limit counter for ${action}: still contended after ${this.#maxAttempts} attempts`,
    );
  }

  async #read(action: ActionType): Promise<{ version: number; entries: CounterEntry[] }> {
    const output = await this.#send(action, () =>
      this.#documents.send(
        new GetCommand({
          TableName: this.#tableName,
          Key: { [LIMITS_TABLE_PARTITION_KEY]: action },
          ConsistentRead: true,
        }),
      ),
    );
    if (output.Item === undefined) return { version: 0, entries: [] };
    const parsed = CounterItemSchema.safeParse(output.Item);
    if (!parsed.success) {
      throw new GuardrailCounterCorruptError(
        `Stored hourly limit counter for ${action} does not match the schema`,
        { cause: parsed.error },
      );
    }
    return parsed.data;
  }

  /** Writes the counter if nobody else did since it was read; false when the race was lost. */
  async #write(action: ActionType, readVersion: number, entries: CounterEntry[]): Promise<boolean> {
    try {
      await this.#send(action, () =>
        this.#documents.send(
          new PutCommand({
            TableName: this.#tableName,
            Item: { [LIMITS_TABLE_PARTITION_KEY]: action, version: readVersion + 1, entries },
            ConditionExpression: 'attribute_not_exists(#counter) OR #version = :version',
            ExpressionAttributeNames: {
              '#counter': LIMITS_TABLE_PARTITION_KEY,
              '#version': 'version',
            },
            ExpressionAttributeValues: { ':version': readVersion },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Runs one DynamoDB call and turns its failure into a typed error (a lost race passes through). */
  async #send<Output>(action: ActionType, operation: () => Promise<Output>): Promise<Output> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw error;
      if (isTransientDynamoDbError(error)) {
        throw new GuardrailStoreUnavailableError(`Hourly limit counter unavailable for ${action}`, {
          cause: error,
        });
      }
      throw new GuardrailStoreError(`Hourly limit counter request failed for ${action}`, {
        cause: error,
      });
    }
  }
}

/**
 * The limits table as the stack should define it: partition key `counter` (S), on demand. For
 * local runs and tests against dynalite (`startLocalDynamo` in local/dynamodb.ts).
 */
export async function createLimitsTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: LIMITS_TABLE_PARTITION_KEY, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: LIMITS_TABLE_PARTITION_KEY, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 10, minDelay: 0.05 }, { TableName: tableName });
}
