import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ActionRecordTable, recordStatusIn } from '../actions/record-writes.ts';
import { type ActionRecord, ActionRecordSchema } from '../actions/schema.ts';
import { ActionNotFoundError, ActionRecordCorruptError } from '../actions/store.ts';
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

/** A run starts from `accepted`, or again (a retried start) while `running`. */
const STARTABLE = recordStatusIn(['accepted', 'running']);
/** A run's progress is recorded only while it runs or awaits approval: an ended run stays ended. */
const IN_PROGRESS = recordStatusIn(['running', 'awaiting_approval']);

export class DynamoRunbookRunStore implements RunbookRunStore {
  readonly #table: ActionRecordTable;
  readonly #now: () => Date;

  constructor(client: DynamoDBClient, tableName: string, now: () => Date = () => new Date()) {
    this.#table = new ActionRecordTable(client, tableName);
    this.#now = now;
  }

  async start(
    actionId: string,
    runbook: Runbook,
    steps: readonly RunbookStepRecord[],
  ): Promise<void> {
    await this.#table.update(
      actionId,
      {
        UpdateExpression:
          'SET #status = :running, runbook = if_not_exists(runbook, :runbook), steps = if_not_exists(steps, :steps), updatedAt = :now',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':running': 'running',
          ':runbook': runbook,
          ':steps': steps,
          ':now': this.#now().toISOString(),
        },
      },
      STARTABLE,
      ActionNotFoundError,
    );
  }

  async recordProgress(actionId: string, progress: RunbookProgress): Promise<void> {
    await this.#table.update(
      actionId,
      {
        UpdateExpression: 'SET #status = :status, steps = :steps, #plan = :plan, updatedAt = :now',
        ExpressionAttributeNames: { '#status': 'status', '#plan': 'plan' },
        ExpressionAttributeValues: {
          ':status': progress.status,
          ':steps': progress.steps,
          ':plan': progress.plan,
          ':now': this.#now().toISOString(),
        },
      },
      IN_PROGRESS,
      ActionNotFoundError,
    );
  }

  async stepAction(actionId: string): Promise<StepActionState | undefined> {
    // A session action's targets stay in its batch items: its scope counts them.
    const item = await this.#table.read(actionId, {
      expression: '#status, summary, #plan, #scope, #error',
      names: { '#status': 'status', '#plan': 'plan', '#scope': 'scope', '#error': 'error' },
    });
    if (item === undefined) return undefined;
    const parsed = StepActionStateSchema.safeParse(item);
    if (!parsed.success) {
      throw new ActionRecordCorruptError(`Stored action ${actionId} does not match the schema`, {
        cause: parsed.error,
      });
    }
    return parsed.data;
  }
}
