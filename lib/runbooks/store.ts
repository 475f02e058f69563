import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { type ActionRecord, ActionRecordSchema } from '../actions/schema.ts';
import {
  ActionNotFoundError,
  ActionRecordCorruptError,
  ActionStoreError,
  ActionStoreUnavailableError,
} from '../actions/store.ts';
import { isTransientDynamoDbError } from '../runtime/dynamodb-errors.ts';
import type { Runbook, RunbookStepRecord } from './definition.ts';

/** How a step's action stands, as much of its record as the run reads each round. */
export type StepActionState = Pick<ActionRecord, 'status' | 'summary' | 'plan' | 'scope' | 'error'>;

const StepActionStateSchema = ActionRecordSchema.pick({
  status: true,
  summary: true,
  plan: true,
  scope: true,
  error: true,
});

/** What a run records as it goes: its steps, its status while they run, its plan so far. */
export interface RunbookProgress {
  readonly status: 'running' | 'awaiting_approval';
  readonly steps: readonly RunbookStepRecord[];
  readonly plan: NonNullable<ActionRecord['plan']>;
}

/** The run's part of an action record (its runbook and steps), in the actions table. */
export interface RunbookRunStore {
  /**
   * Marks the run running with its runbook and its steps, all pending. A retried start keeps the
   * steps already recorded; a finished run is never reopened.
   */
  start(actionId: string, runbook: Runbook, steps: readonly RunbookStepRecord[]): Promise<void>;
  /** Records the steps, the run's status and plan; only while the run runs or awaits approval. */
  recordProgress(actionId: string, progress: RunbookProgress): Promise<void>;
  /** A step's action: its status, summary and plan, without its targets or results. */
  stepAction(actionId: string): Promise<StepActionState | undefined>;
}

export class DynamoRunbookRunStore implements RunbookRunStore {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #now: () => Date;

  constructor(client: DynamoDBClient, tableName: string, now: () => Date = () => new Date()) {
    this.#documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.#tableName = tableName;
    this.#now = now;
  }

  async start(
    actionId: string,
    runbook: Runbook,
    steps: readonly RunbookStepRecord[],
  ): Promise<void> {
    await this.#update(actionId, {
      UpdateExpression:
        'SET #status = :running, runbook = if_not_exists(runbook, :runbook), steps = if_not_exists(steps, :steps), updatedAt = :now',
      ConditionExpression: 'attribute_exists(actionId) AND #status IN (:accepted, :running)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':running': 'running',
        ':accepted': 'accepted',
        ':runbook': runbook,
        ':steps': steps,
        ':now': this.#now().toISOString(),
      },
    });
  }

  async recordProgress(actionId: string, progress: RunbookProgress): Promise<void> {
    await this.#update(actionId, {
      UpdateExpression: 'SET #status = :status, steps = :steps, #plan = :plan, updatedAt = :now',
      ConditionExpression: 'attribute_exists(actionId) AND #status IN (:running, :awaiting)',
      ExpressionAttributeNames: { '#status': 'status', '#plan': 'plan' },
      ExpressionAttributeValues: {
        ':status': progress.status,
        ':steps': progress.steps,
        ':plan': progress.plan,
        ':running': 'running',
        ':awaiting': 'awaiting_approval',
        ':now': this.#now().toISOString(),
      },
    });
  }

  async stepAction(actionId: string): Promise<StepActionState | undefined> {
    const output = await this.#send(actionId, () =>
      this.#documents.send(
        new GetCommand({
          TableName: this.#tableName,
          Key: { actionId },
          ConsistentRead: true,
          // A session action's targets stay in its batch items: its scope counts them.
          ProjectionExpression: '#status, summary, #plan, #scope, #error',
          ExpressionAttributeNames: {
            '#status': 'status',
            '#plan': 'plan',
            '#scope': 'scope',
            '#error': 'error',
          },
        }),
      ),
    );
    if (output.Item === undefined) return undefined;
    const parsed = StepActionStateSchema.safeParse(output.Item);
    if (!parsed.success) {
      throw new ActionRecordCorruptError(`Stored action ${actionId} does not match the schema`, {
        cause: parsed.error,
      });
    }
    return parsed.data;
  }

  async #update(
    actionId: string,
    update: Omit<UpdateCommandInput, 'TableName' | 'Key'>,
  ): Promise<void> {
    await this.#send(actionId, () =>
      this.#documents.send(
        new UpdateCommand({ ...update, TableName: this.#tableName, Key: { actionId } }),
      ),
    );
  }

  /** One DynamoDB call, its failure as the action store's typed errors (the workflow retries by name). */
  async #send<Output>(actionId: string, operation: () => Promise<Output>): Promise<Output> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new ActionNotFoundError(`Run ${actionId} does not exist or has ended`, {
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
}
