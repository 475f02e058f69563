import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { LIMITS_TABLE_PARTITION_KEY } from '../guardrails/limits.ts';
import {
  AdministratorChangeInProgressError,
  type AdministratorChangeLease,
  type AdministratorChangeLock,
} from './admin-actions.ts';

/**
 * How long a lease lasts unless released: above the apply function's Lambda timeout (60 s), so a
 * live holder never loses it, and short enough that a crashed one blocks others only briefly.
 */
export const ADMINISTRATOR_CHANGE_LEASE_MS = 120_000;

/**
 * The lease's item in the limits table, one per Citrix Cloud customer. Hourly counters are keyed
 * by action type (`admin.revoke`, ...), which never contains a colon after `lease`.
 */
export function administratorChangeLeaseKey(customerId: string): string {
  return `lease:administrator-changes:${customerId}`;
}

/** DynamoDB failed while taking the lease (not a lease held by someone else). */
export class AdministratorChangeLockError extends Error {
  override name = 'AdministratorChangeLockError';
}

export interface DynamoAdministratorChangeLockOptions {
  readonly leaseMs?: number;
  readonly now?: () => number;
}

/**
 * The administrator change lease as one item in the limits table: a conditional PutItem takes
 * it when there is none, it has expired or the same owner holds it; a DeleteItem conditional on
 * the owner gives it back.
 */
export class DynamoAdministratorChangeLock implements AdministratorChangeLock {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #key: string;
  readonly #leaseMs: number;
  readonly #now: () => number;

  constructor(
    client: DynamoDBClient,
    tableName: string,
    customerId: string,
    options: DynamoAdministratorChangeLockOptions = {},
  ) {
    this.#documents = DynamoDBDocumentClient.from(client);
    this.#tableName = tableName;
    this.#key = administratorChangeLeaseKey(customerId);
    this.#leaseMs = options.leaseMs ?? ADMINISTRATOR_CHANGE_LEASE_MS;
    this.#now = options.now ?? Date.now;
  }

  async acquire(owner: string): Promise<AdministratorChangeLease> {
    const now = this.#now();
    try {
      await this.#documents.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: {
            [LIMITS_TABLE_PARTITION_KEY]: this.#key,
            owner,
            expiresAt: now + this.#leaseMs,
          },
          ConditionExpression:
            'attribute_not_exists(#key) OR #expiresAt <= :now OR #owner = :owner',
          ExpressionAttributeNames: {
            '#key': LIMITS_TABLE_PARTITION_KEY,
            '#expiresAt': 'expiresAt',
            '#owner': 'owner',
          },
          ExpressionAttributeValues: { ':now': now, ':owner': owner },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new AdministratorChangeInProgressError(
          'Another administrator change in this Citrix Cloud tenant is in progress; try again shortly',
        );
      }
      throw new AdministratorChangeLockError('Could not take the administrator change lease', {
        cause: error,
      });
    }
    return { release: () => this.#release(owner) };
  }

  async #release(owner: string): Promise<void> {
    try {
      await this.#documents.send(
        new DeleteCommand({
          TableName: this.#tableName,
          Key: { [LIMITS_TABLE_PARTITION_KEY]: this.#key },
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch {
      // Expired and taken by another owner, or DynamoDB failed: the lease expires on its own.
    }
  }
}
