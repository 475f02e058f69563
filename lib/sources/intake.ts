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
import { newActionId } from '../actions/accept.ts';
import type { ActionRecord, ActionRequest } from '../actions/schema.ts';
import type { Requester } from '../identity/requester.ts';

/**
 * One idempotent acceptance: the same key within the window returns the first answer. Only what
 * would change what is done (action, target, options, dry run, urgency, session warning and
 * callback) must match: a repeat whose reason or requester was re-templated (an edited alert
 * title, another analyst) is the same action.
 */
export interface AcceptanceRequest {
  /**
   * Per source: `webhook-id`; Splunk `sid` + action + target; Sentinel incident + action + target;
   * PagerDuty event + action + target; ServiceNow `sys_id` + action.
   */
  readonly idempotencyKey: string;
  readonly request: ActionRequest;
  readonly source: NonNullable<ActionRecord['source']>;
  /** Who asks, as authenticated: a person, a source (`source:<name>`) or a sweep. */
  readonly requester: Requester;
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

/**
 * The same delivery key arrived again asking for something else (another target, options, dry
 * run, urgency, session warning or callback). The message says what the key is, never a
 * credential.
 */
export class DeliveryConflictError extends Error {
  override name = 'DeliveryConflictError';
}

/** `accept` did not use the action id it was given, so the audit entries would not match. */
export class AcceptedUnderAnotherIdError extends Error {
  override name = 'AcceptedUnderAnotherIdError';
}

/**
 * Called inside the idempotent step, before the action is recorded or its workflow started (the
 * audit's `request` entry): when it fails nothing was started, the key is released, and the
 * sender's retry runs it again instead of being answered as a repeat.
 */
export type BeforeAccept = (actionId: string) => Promise<void>;

export interface IdempotentAcceptorOptions {
  /** Records the action under `actionId`, with who asked, and starts its workflow. */
  readonly accept: (
    request: ActionRequest,
    source: AcceptanceRequest['source'],
    actionId: string,
    requester: Requester,
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
  beforeAccept?: BeforeAccept,
) => Promise<Acceptance>;

/**
 * What a repeat must match: what would change what is done (urgency skips the approval wait,
 * the warning is shown to users, the callback is told the outcome, a runbook's inputs fill its
 * steps). Not the reason or requester,
 * which sources template from alert fields that change between resends.
 */
export const ACCEPTANCE_VALIDATION_JMESPATH =
  'request.[action, target, options, dryRun, urgency, notify, callback, inputs]';

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Accepts each action at most once per key with Powertools idempotency (DynamoDB): a repeat
 * delivery gets the first delivery's action id and starts nothing. A concurrent duplicate waits
 * briefly for the first to finish, so that it too can answer with the action id.
 */
export function createIdempotentAcceptor(options: IdempotentAcceptorOptions): IdempotentAcceptor {
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'idempotencyKey',
    // The same key asking for something else is a conflict, not a silent repeat.
    payloadValidationJmesPath: ACCEPTANCE_VALIDATION_JMESPATH,
    expiresAfterSeconds: options.expiresAfterSeconds,
    throwOnNoIdempotencyKey: true,
    responseHook: (response) => ({ ...(response as Record<string, unknown>), duplicate: true }),
  });
  // Only the first argument is the idempotency payload; the hook rides along unhashed.
  const accept = makeIdempotent(
    async (
      acceptance: AcceptanceRequest,
      beforeAccept: BeforeAccept | undefined,
    ): Promise<Acceptance> => {
      const actionId = newActionId();
      await beforeAccept?.(actionId);
      const accepted = await options.accept(
        acceptance.request,
        acceptance.source,
        actionId,
        acceptance.requester,
      );
      if (accepted.actionId !== actionId) {
        throw new AcceptedUnderAnotherIdError(
          `The action was accepted as ${accepted.actionId}, not the id ${actionId} it was given`,
        );
      }
      return { actionId, duplicate: false };
    },
    { persistenceStore: options.persistenceStore, config },
  );
  const sleep = options.sleep ?? defaultSleep;
  const waitMs = options.inProgressWaitMs ?? 3000;
  return async (acceptance, context, beforeAccept) => {
    config.registerLambdaContext(context);
    const deadline = Date.now() + waitMs;
    for (let delay = 25; ; delay = Math.min(delay * 2, 400)) {
      try {
        return await accept(acceptance, beforeAccept);
      } catch (error) {
        if (error instanceof IdempotencyValidationError) {
          throw new DeliveryConflictError(
            'This delivery key was already used to ask for a different action, target, options, dry run, urgency, session warning, callback or runbook inputs',
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
