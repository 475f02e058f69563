import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  PutCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { isTransientDynamoDbError } from '../runtime/dynamodb-errors.ts';
import { listMonthOf } from './list-month.ts';
import {
  type ActionRecord,
  type ActionStatus,
  type ErrorSummary,
  type ResolvedTarget,
  type TargetResult,
  targetKey,
} from './schema.ts';

/**
 * What accepting an action writes to its record (lib/actions/accept.ts): the record, and its end
 * when the workflow cannot start. Apart from the whole store (lib/actions/store.ts), so that a
 * function that only accepts actions (the source endpoints, the people's POST /v1/actions, a
 * sweep's run) carries none of what the workflow's tasks do to a record.
 */
export interface ActionRecordWrites {
  create(record: ActionRecord): Promise<void>;
  complete(actionId: string, completion: ActionCompletion): Promise<void>;
}

export interface ActionCompletion {
  readonly status: ActionStatus;
  readonly summary: string;
  readonly results?: readonly TargetResult[];
  readonly targets?: readonly ResolvedTarget[];
  readonly error?: ErrorSummary;
}

export class ActionStoreError extends Error {
  override name = 'ActionStoreError';
}

/** DynamoDB was throttled or unreachable: safe to retry (the workflow's Retry matches the name). */
export class ActionStoreUnavailableError extends ActionStoreError {
  override name = 'ActionStoreUnavailableError';
}

export class ActionAlreadyExistsError extends ActionStoreError {
  override name = 'ActionAlreadyExistsError';
}

/** Approve or reject arrived for an action that is not (or no longer) awaiting approval. */
export class ActionNotAwaitingApprovalError extends ActionStoreError {
  override name = 'ActionNotAwaitingApprovalError';
}

export class ActionNotFoundError extends ActionStoreError {
  override name = 'ActionNotFoundError';
}

/** Thrown when a stored item no longer matches the schema (never expose its contents). */
export class ActionRecordCorruptError extends ActionStoreError {
  override name = 'ActionRecordCorruptError';
}

/** Runs one DynamoDB call on an action's record and turns its failure into a typed store error. */
export async function sendToActionStore<Output>(
  actionId: string,
  operation: () => Promise<Output>,
  onConditionFailed?: new (message: string, options?: ErrorOptions) => ActionStoreError,
): Promise<Output> {
  try {
    return await operation();
  } catch (error) {
    if (onConditionFailed && error instanceof ConditionalCheckFailedException) {
      throw new onConditionFailed(`Action ${actionId}: ${describeCondition(onConditionFailed)}`, {
        cause: error,
      });
    }
    if (isTransientDynamoDbError(error)) {
      throw new ActionStoreUnavailableError(`Action store unavailable for ${actionId}`, {
        cause: error,
      });
    }
    throw new ActionStoreError(`Action store request failed for ${actionId}`, { cause: error });
  }
}

function describeCondition(errorClass: new (...args: never[]) => ActionStoreError): string {
  return errorClass === ActionAlreadyExistsError
    ? 'already exists'
    : 'does not exist or is already finished';
}

/** Creates and completes action records in DynamoDB (`ACTIONS_TABLE_NAME`). */
export class DynamoActionRecordWrites implements ActionRecordWrites {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #now: () => Date;

  constructor(
    client: DynamoDBClient,
    tableName: string,
    options: { readonly now?: () => Date } = {},
  ) {
    this.#documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.#tableName = tableName;
    this.#now = options.now ?? (() => new Date());
  }

  async create(record: ActionRecord): Promise<void> {
    await sendToActionStore(
      record.actionId,
      () =>
        this.#documents.send(
          new PutCommand({
            TableName: this.#tableName,
            // `listMonth` places the record in the byCreatedAt index; `ticket` in byTicket.
            Item: { ...record, listMonth: listMonthOf(record.createdAt) },
            ConditionExpression: 'attribute_not_exists(actionId)',
          }),
        ),
      ActionAlreadyExistsError,
    );
  }

  async complete(actionId: string, completion: ActionCompletion): Promise<void> {
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = {
      ':status': completion.status,
      ':summary': completion.summary,
      ':now': this.#now().toISOString(),
    };
    const assignments = ['#status = :status', 'summary = :summary', 'updatedAt = :now'];
    if (completion.results !== undefined) {
      assignments.push('results = :results');
      values[':results'] = Object.fromEntries(completion.results.map((r) => [targetKey(r), r]));
    }
    if (completion.targets !== undefined) {
      assignments.push('targets = :targets');
      values[':targets'] = completion.targets;
    }
    if (completion.error !== undefined) {
      assignments.push('#error = :error');
      names['#error'] = 'error';
      values[':error'] = completion.error;
    }
    const update: Omit<UpdateCommandInput, 'TableName' | 'Key'> = {
      // A finished action waits on nothing: its approval task token (if any) goes.
      UpdateExpression: `SET ${assignments.join(', ')} REMOVE approvalTaskToken`,
      ConditionExpression: 'attribute_exists(actionId)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
    await sendToActionStore(
      actionId,
      () =>
        this.#documents.send(
          new UpdateCommand({ ...update, TableName: this.#tableName, Key: { actionId } }),
        ),
      ActionNotFoundError,
    );
  }
}
