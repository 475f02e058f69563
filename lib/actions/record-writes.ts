import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type UpdateCommandInput,
  type UpdateCommandOutput,
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

/**
 * How many times a conditional write is sent while the record, read back after each refusal,
 * still meets its condition: a writer's change in between has passed by the next attempt.
 */
export const CONDITIONAL_WRITE_ATTEMPTS = 3;

/**
 * A conditional write kept being refused while the record, read back each time, met its
 * condition (another writer kept changing it): transient, the workflow's Retry matches the name.
 */
export class ActionStoreContentionError extends ActionStoreUnavailableError {
  override name = 'ActionStoreContentionError';
}

/** An action's record as DynamoDB gives it back, before any schema: what a condition reads. */
export type StoredItem = Readonly<Record<string, unknown>>;

/**
 * The condition of a write on an action's record, declared once for both of its uses: the
 * ConditionExpression DynamoDB evaluates, and the same test on the record read back after a
 * refusal, which tells a record that really refuses the write from a conflict that has passed.
 */
export interface RecordCondition {
  readonly expression: string;
  readonly names: Readonly<Record<string, string>>;
  readonly values: Readonly<Record<string, unknown>>;
  /** Whether the record as read back (undefined: there is none) meets the condition. */
  readonly holds: (record: StoredItem | undefined) => boolean;
  /** What the record is when it does not, for the typed error: `Action <id> <refusedAs>`. */
  readonly refusedAs: string;
}

const statusOf = (record: StoredItem | undefined): unknown => record?.status;

/** The action exists. */
export const RECORD_EXISTS: RecordCondition = {
  expression: 'attribute_exists(actionId)',
  names: {},
  values: {},
  holds: (record) => record !== undefined,
  refusedAs: 'does not exist',
};

/** No action has the id yet. */
const RECORD_ABSENT: RecordCondition = {
  expression: 'attribute_not_exists(actionId)',
  names: {},
  values: {},
  holds: (record) => record === undefined,
  refusedAs: 'already exists',
};

/** The action exists and has not ended: only such an action may take the write. */
const RECORD_UNFINISHED: RecordCondition = {
  expression: `attribute_exists(actionId) AND NOT (#status IN (${TERMINAL_ACTION_STATUSES.map((_, i) => `:terminal${i}`).join(', ')}))`,
  names: { '#status': 'status' },
  values: Object.fromEntries(
    TERMINAL_ACTION_STATUSES.map((status, i) => [`:terminal${i}`, status]),
  ),
  holds: (record) =>
    record !== undefined && !TERMINAL_ACTION_STATUSES.some((status) => status === statusOf(record)),
  refusedAs: 'does not exist or has ended',
};

/** The action exists and its status is one of `statuses`. */
export function recordStatusIn(statuses: readonly ActionStatus[]): RecordCondition {
  return {
    expression: `attribute_exists(actionId) AND #status IN (${statuses.map((_, i) => `:ifStatus${i}`).join(', ')})`,
    names: { '#status': 'status' },
    values: Object.fromEntries(statuses.map((status, i) => [`:ifStatus${i}`, status])),
    holds: (record) =>
      record !== undefined && statuses.some((status) => status === statusOf(record)),
    refusedAs: `does not exist or is not ${statuses.join(' or ')}`,
  };
}

/** The audit failures the action can still take: fewer than MAX_AUDIT_FAILURES_PER_ACTION. */
const ROOM_FOR_AUDIT_FAILURES: RecordCondition = {
  expression:
    'attribute_exists(actionId) AND (attribute_not_exists(auditFailures) OR size(auditFailures) < :maxAuditFailures)',
  names: {},
  values: { ':maxAuditFailures': MAX_AUDIT_FAILURES_PER_ACTION },
  holds: (record) => {
    const failures = record?.auditFailures;
    return (
      record !== undefined &&
      (failures === undefined ||
        (Array.isArray(failures) && failures.length < MAX_AUDIT_FAILURES_PER_ACTION))
    );
  },
  refusedAs: `does not exist or holds ${MAX_AUDIT_FAILURES_PER_ACTION} audit failures`,
};

type StoreErrorClass = new (message: string, options?: ErrorOptions) => ActionStoreError;

/** The condition's expression, with the write's own names and values and the condition's. */
function conditionParts(
  condition: RecordCondition,
  own: {
    readonly ExpressionAttributeNames?: Record<string, string> | undefined;
    readonly ExpressionAttributeValues?: Record<string, unknown> | undefined;
  } = {},
) {
  const names = { ...own.ExpressionAttributeNames, ...condition.names };
  const values = { ...own.ExpressionAttributeValues, ...condition.values };
  return {
    ConditionExpression: condition.expression,
    // DynamoDB refuses an empty map of names or values.
    ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
    ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
  };
}

/** A DynamoDB failure on an action's record as a typed store error. */
function storeErrorOf(actionId: string, error: unknown): ActionStoreError {
  if (isTransientDynamoDbError(error)) {
    return new ActionStoreUnavailableError(`Action store unavailable for ${actionId}`, {
      cause: error,
    });
  }
  return new ActionStoreError(`Action store request failed for ${actionId}`, { cause: error });
}

/**
 * Action records in one table, and the conditional writes on them. A write its condition refuses
 * is not taken at its word: a ConditionalCheckFailed may be another writer's change that has
 * passed (a version bumped, an attribute written in between), so the record is read back,
 * consistently, and the condition tested on it. Only a record that really fails it gets the
 * typed refusal (an action that has ended, say); otherwise the write is sent again, at most
 * CONDITIONAL_WRITE_ATTEMPTS times in all, so that a result is never lost to a passing conflict.
 */
export class ActionRecordTable {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(client: DynamoDBClient, tableName: string) {
    this.#documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.#tableName = tableName;
  }

  /**
   * The record as stored now (a consistent read), before any schema; with `projection`, only the
   * attributes it names.
   */
  async read(
    actionId: string,
    projection?: { readonly expression: string; readonly names: Record<string, string> },
  ): Promise<StoredItem | undefined> {
    try {
      const output = await this.#documents.send(
        new GetCommand({
          TableName: this.#tableName,
          Key: { actionId },
          ConsistentRead: true,
          ...(projection === undefined
            ? {}
            : {
                ProjectionExpression: projection.expression,
                ExpressionAttributeNames: projection.names,
              }),
        }),
      );
      return output.Item;
    } catch (error) {
      throw storeErrorOf(actionId, error);
    }
  }

  /** Creates the record of a new action (`refusal` when one has its id). */
  async create(item: StoredItem & { readonly actionId: string }, refusal: StoreErrorClass) {
    await this.#conditional(item.actionId, RECORD_ABSENT, refusal, () =>
      this.#documents.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: item,
          ...conditionParts(RECORD_ABSENT),
        }),
      ),
    );
  }

  /** Updates an action's record while `condition` holds; `refusal` when it really does not. */
  update(
    actionId: string,
    update: Omit<UpdateCommandInput, 'TableName' | 'Key' | 'ConditionExpression'>,
    condition: RecordCondition,
    refusal: StoreErrorClass,
  ): Promise<UpdateCommandOutput> {
    return this.#conditional(actionId, condition, refusal, () =>
      this.#documents.send(
        new UpdateCommand({
          ...update,
          TableName: this.#tableName,
          Key: { actionId },
          ...conditionParts(condition, update),
        }),
      ),
    );
  }

  async #conditional<Output>(
    actionId: string,
    condition: RecordCondition,
    refusal: StoreErrorClass,
    write: () => Promise<Output>,
  ): Promise<Output> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await write();
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) {
          throw storeErrorOf(actionId, error);
        }
        if (!condition.holds(await this.read(actionId))) {
          throw new refusal(`Action ${actionId} ${condition.refusedAs}`, { cause: error });
        }
        if (attempt >= CONDITIONAL_WRITE_ATTEMPTS) {
          throw new ActionStoreContentionError(
            `Action ${actionId}: ${attempt} writes refused while the record met their condition`,
            { cause: error },
          );
        }
      }
    }
  }
}

/** A failure as the last resort records it: the action ends `failed` with this summary and error. */
export interface UnfinishedActionFailure {
  readonly summary: string;
  readonly error: ErrorSummary;
}

/**
 * Creates and completes action records in DynamoDB (`ACTIONS_TABLE_NAME`), and notes the audit
 * entries a task could not write.
 */
export class DynamoActionRecordWrites implements ActionRecordWrites, AuditFailureRecorder {
  readonly #table: ActionRecordTable;
  readonly #now: () => Date;

  constructor(
    client: DynamoDBClient,
    tableName: string,
    options: { readonly now?: () => Date } = {},
  ) {
    this.#table = new ActionRecordTable(client, tableName);
    this.#now = options.now ?? (() => new Date());
  }

  async create(record: ActionRecord): Promise<void> {
    // `listMonth` places the record in the byCreatedAt index; `ticket` in byTicket.
    await this.#table.create(
      { ...record, listMonth: listMonthOf(record.createdAt) },
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
    await this.#table.update(
      actionId,
      {
        // A finished action waits on nothing: its approval task token (if any) goes.
        UpdateExpression: `SET ${assignments.join(', ')} REMOVE approvalTaskToken`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
      RECORD_EXISTS,
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
      await this.#table.update(
        actionId,
        {
          UpdateExpression:
            'SET #status = :failed, summary = :summary, #error = :error, updatedAt = :now REMOVE approvalTaskToken',
          ExpressionAttributeNames: { '#status': 'status', '#error': 'error' },
          ExpressionAttributeValues: {
            ':failed': 'failed',
            ':summary': failure.summary,
            ':error': failure.error,
            ':now': this.#now().toISOString(),
          },
        },
        RECORD_UNFINISHED,
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
      await this.#table.update(
        actionId,
        {
          UpdateExpression:
            'SET auditFailures = list_append(if_not_exists(auditFailures, :none), :failure)',
          ExpressionAttributeValues: { ':none': [], ':failure': [failure] },
        },
        ROOM_FOR_AUDIT_FAILURES,
        ActionNotFoundError,
      );
    } catch (error) {
      // Full, or no such action (a request refused before its record was created): nothing to add.
      if (error instanceof ActionNotFoundError) return;
      throw error;
    }
  }
}
