import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  PutCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  type AuditFailure,
  type AuditFailureRecorder,
  MAX_AUDIT_FAILURES_PER_ACTION,
} from '../audit/audit-log.ts';
import { isTransientDynamoDbError } from '../runtime/dynamodb-errors.ts';
import { listMonthOf } from './list-month.ts';
import {
  type ActionRecord,
  type ActionStatus,
  type ErrorSummary,
  type ResolvedTarget,
  type TargetResult,
  TERMINAL_ACTION_STATUSES,
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

/** A failure as the last resort records it: the action ends `failed` with this summary and error. */
export interface UnfinishedActionFailure {
  readonly summary: string;
  readonly error: ErrorSummary;
}

/** The condition of a write that only an action that has not ended may take. */
const UNFINISHED = {
  condition: `attribute_exists(actionId) AND NOT (#status IN (${TERMINAL_ACTION_STATUSES.map((_, i) => `:terminal${i}`).join(', ')}))`,
  values: Object.fromEntries(
    TERMINAL_ACTION_STATUSES.map((status, i) => [`:terminal${i}`, status]),
  ),
} as const;

/**
 * Creates and completes action records in DynamoDB (`ACTIONS_TABLE_NAME`), and notes the audit
 * entries a task could not write.
 */
export class DynamoActionRecordWrites implements ActionRecordWrites, AuditFailureRecorder {
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

  /**
   * The last resort when the action's completion cannot be recorded: status `failed` with one
   * small write, only while the action has not ended (an outcome already recorded stays). False
   * when there was nothing unfinished to mark.
   */
  async failUnfinished(actionId: string, failure: UnfinishedActionFailure): Promise<boolean> {
    try {
      await sendToActionStore(
        actionId,
        () =>
          this.#documents.send(
            new UpdateCommand({
              TableName: this.#tableName,
              Key: { actionId },
              UpdateExpression:
                'SET #status = :failed, summary = :summary, #error = :error, updatedAt = :now REMOVE approvalTaskToken',
              ConditionExpression: UNFINISHED.condition,
              ExpressionAttributeNames: { '#status': 'status', '#error': 'error' },
              ExpressionAttributeValues: {
                ...UNFINISHED.values,
                ':failed': 'failed',
                ':summary': failure.summary,
                ':error': failure.error,
                ':now': this.#now().toISOString(),
              },
            }),
          ),
        ActionNotFoundError,
      );
      return true;
    } catch (error) {
      if (error instanceof ActionNotFoundError) return false;
      throw error;
    }
  }

  /**
   * Adds an audit failure to the action's `auditFailures`, up to MAX_AUDIT_FAILURES_PER_ACTION
   * (past them the record keeps the first ones: the timeline is incomplete either way).
   */
  async recordAuditFailure(actionId: string, failure: AuditFailure): Promise<void> {
    try {
      await sendToActionStore(
        actionId,
        () =>
          this.#documents.send(
            new UpdateCommand({
              TableName: this.#tableName,
              Key: { actionId },
              UpdateExpression:
                'SET auditFailures = list_append(if_not_exists(auditFailures, :none), :failure)',
              ConditionExpression:
                'attribute_exists(actionId) AND (attribute_not_exists(auditFailures) OR size(auditFailures) < :max)',
              ExpressionAttributeValues: {
                ':none': [],
                ':failure': [failure],
                ':max': MAX_AUDIT_FAILURES_PER_ACTION,
              },
            }),
          ),
        ActionNotFoundError,
      );
    } catch (error) {
      // Full, or no such action (a request refused before its record was created): nothing to add.
      if (error instanceof ActionNotFoundError) return;
      throw error;
    }
  }
}
