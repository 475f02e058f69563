import { randomUUID } from 'node:crypto';
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import type { ActionRecord, ActionRequest } from '../actions/schema.ts';

/** One idempotent acceptance: the same key within the window returns the first answer. */
export interface AcceptanceRequest {
  /** Per source: `webhook-id`; Splunk `sid` + target; Sentinel incident + action + target; … */
  readonly idempotencyKey: string;
  readonly request: ActionRequest;
  readonly source: NonNullable<ActionRecord['source']>;
}

export interface Acceptance {
  readonly actionId: string;
  /** True when this delivery repeated an earlier one: nothing new was started. */
  readonly duplicate: boolean;
}

/** A delivery whose key is being processed right now by a concurrent request. */
export class DeliveryInProgressError extends Error {
  override name = 'DeliveryInProgressError';
}

/** The same delivery key arrived again with different content. */
export class DeliveryConflictError extends Error {
  override name = 'DeliveryConflictError';
}

export interface IdempotentAcceptorOptions {
  readonly accept: (
    request: ActionRequest,
    source: AcceptanceRequest['source'],
  ) => Promise<{ actionId: string }>;
  readonly persistenceStore: BasePersistenceLayer;
  /** How long a key is remembered (default 24 h). */
  readonly expiresAfterSeconds: number;
  /** How long a concurrent duplicate waits for the first one to finish (default 3 s). */
  readonly inProgressWaitMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export type IdempotentAcceptor = (
  acceptance: AcceptanceRequest,
  context: Context,
) => Promise<Acceptance>;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Accepts each action at most once per key with Powertools idempotency (DynamoDB): a repeat
 * delivery gets the first delivery's action id and starts nothing. A concurrent duplicate waits
 * briefly for the first to finish, so that it too can answer with the action id.
 */
export function createIdempotentAcceptor(options: IdempotentAcceptorOptions): IdempotentAcceptor {
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'idempotencyKey',
    // The same key with a different request is a conflict, not a silent repeat.
    payloadValidationJmesPath: 'request',
    expiresAfterSeconds: options.expiresAfterSeconds,
    throwOnNoIdempotencyKey: true,
    responseHook: (response) => ({ ...(response as Record<string, unknown>), duplicate: true }),
  });
  const accept = makeIdempotent(
    async (acceptance: AcceptanceRequest): Promise<Acceptance> => {
      const { actionId } = await options.accept(acceptance.request, acceptance.source);
      return { actionId, duplicate: false };
    },
    { persistenceStore: options.persistenceStore, config },
  );
  const sleep = options.sleep ?? defaultSleep;
  const waitMs = options.inProgressWaitMs ?? 3000;
  return async (acceptance, context) => {
    config.registerLambdaContext(context);
    const deadline = Date.now() + waitMs;
    for (let delay = 25; ; delay = Math.min(delay * 2, 400)) {
      try {
        return await accept(acceptance);
      } catch (error) {
        if (error instanceof IdempotencyValidationError) {
          throw new DeliveryConflictError(
            'This delivery id was already used for a different request',
            { cause: error },
          );
        }
        if (!(error instanceof IdempotencyAlreadyInProgressError)) throw error;
        if (Date.now() + delay > deadline) {
          throw new DeliveryInProgressError('The same delivery is still being accepted; retry', {
            cause: error,
          });
        }
        await sleep(delay);
      }
    }
  };
}

/** What became of one delivery to a source endpoint: the record kept of every delivery. */
export interface DeliveryRecord {
  readonly deliveryId: string;
  readonly source: string;
  readonly receivedAt: string;
  readonly deliveryKey: string;
  readonly title: string;
  readonly outcome: 'accepted' | 'ignored';
  readonly route?: string;
  readonly reason?: string;
  readonly actionIds: readonly string[];
  readonly rejectedTargets?: readonly { readonly target: string; readonly reason: string }[];
}

export interface DeliveryLog {
  record(delivery: DeliveryRecord): Promise<void>;
}

export function newDeliveryId(): string {
  return `dlv_${randomUUID().replaceAll('-', '')}`;
}

/** Deliveries in DynamoDB (partition key `deliveryId`), removed by TTL after `retentionDays`. */
export class DynamoDeliveryLog implements DeliveryLog {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #retentionDays: number;

  constructor(client: DynamoDBClient, tableName: string, retentionDays: number) {
    this.#documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.#tableName = tableName;
    this.#retentionDays = retentionDays;
  }

  async record(delivery: DeliveryRecord): Promise<void> {
    const expiresAt =
      Math.floor(Date.parse(delivery.receivedAt) / 1000) + this.#retentionDays * 86_400;
    await this.#documents.send(
      new PutCommand({ TableName: this.#tableName, Item: { ...delivery, expiresAt } }),
    );
  }
}
