import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import {
  type AuditFailure,
  type AuditFailureRecorder,
  AuditFailureSchema,
  MAX_AUDIT_FAILURES_PER_ACTION,
} from '../audit/audit-log.ts';
import { planOf, planScopeOf } from './outcome.ts';
import {
  type ActionCompletion,
  ActionNotAwaitingApprovalError,
  ActionNotFoundError,
  ActionRecordCorruptError,
  type ActionRecordWrites,
  ActionStoreError,
  DynamoActionRecordWrites,
  sendToActionStore,
  type UnfinishedActionFailure,
} from './record-writes.ts';
import {
  type ActionRecord,
  ActionRecordSchema,
  type ResolvedTarget,
  type TargetResult,
  targetKey,
} from './schema.ts';

// The errors and the completion are declared with the writes accepting an action needs.
export {
  ActionAlreadyExistsError,
  type ActionCompletion,
  ActionNotAwaitingApprovalError,
  ActionNotFoundError,
  ActionRecordCorruptError,
  ActionStoreError,
  ActionStoreUnavailableError,
  type UnfinishedActionFailure,
} from './record-writes.ts';

/**
 * An action's record as the store reads it: the record, and the audit entries its tasks could
 * not write (`auditFailures`, written by any task, see lib/audit/audited.ts).
 */
export const StoredActionRecordSchema = ActionRecordSchema.extend({
  auditFailures: z.array(AuditFailureSchema).max(MAX_AUDIT_FAILURES_PER_ACTION).optional(),
});
export type StoredActionRecord = z.infer<typeof StoredActionRecordSchema>;

/** The record of every action, as the workflow and the API see it. */
export interface ActionStore extends ActionRecordWrites, AuditFailureRecorder {
  get(actionId: string): Promise<StoredActionRecord | undefined>;
  /**
   * Marks the action running with its targets and plan; with `batches`, the targets are kept in
   * that many batch items instead (see BatchedTargets), so the record only counts them.
   */
  markRunning(
    actionId: string,
    targets: readonly ResolvedTarget[],
    options?: { readonly batches?: number },
  ): Promise<void>;
  recordTargetResult(actionId: string, result: TargetResult): Promise<void>;
  /** The last resort: `failed`, in one small write, unless the action has ended (then false). */
  failUnfinished(actionId: string, failure: UnfinishedActionFailure): Promise<boolean>;
  /** Holds the action for approval: status `awaiting_approval`, the token the workflow waits on. */
  awaitApproval(actionId: string, hold: ApprovalHold): Promise<void>;
  /**
   * Records an approver's decision once: only an action still awaiting approval can be decided.
   * Returns the task token to resume the workflow with; the record keeps it until `complete`, so
   * a decision whose delivery failed can be sent again.
   */
  decideApproval(actionId: string, decision: ApprovalDecision): Promise<string>;
  /** Records the warnings sent to sessions before acting. */
  recordWarnings(actionId: string, warnings: NonNullable<ActionRecord['warnings']>): Promise<void>;
  /** Records how the work notes and callbacks sent at the end went (never the status). */
  recordNotifications(
    actionId: string,
    notifications: NonNullable<ActionRecord['notifications']>,
  ): Promise<void>;
}

/** What a batched action keeps outside its record, read back into it by `get`. */
export type BatchedContents = Pick<ActionRecord, 'targets' | 'results' | 'warnings' | 'plan'>;

/** Reads a batched action's targets, results and warnings (lib/sessions/batches.ts). */
export interface BatchedTargets {
  read(actionId: string, batches: number): Promise<BatchedContents>;
}

/** Which channel an action's outcome is being told on: claimed once, before it is sent. */
export interface NotificationClaims {
  /**
   * Marks `channel:destination` as sent (or being sent) for the action. False when an earlier
   * attempt already claimed it: that attempt may have delivered it, so it must not be sent again.
   */
  claimNotification(actionId: string, channel: string, destination: string): Promise<boolean>;
}

export interface ApprovalHold {
  readonly reasons: readonly string[];
  readonly taskToken: string;
  readonly expiresAt: string;
}

export interface ApprovalDecision {
  readonly decision: 'approved' | 'rejected';
  readonly by: string;
  readonly comment?: string;
}

/** A notification channel an earlier attempt already claimed (internal to claimNotification). */
class NotificationAlreadyClaimedError extends ActionStoreError {
  override name = 'NotificationAlreadyClaimedError';
}

export class DynamoActionStore implements ActionStore, NotificationClaims {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #now: () => Date;
  readonly #batched: BatchedTargets | undefined;
  readonly #writes: DynamoActionRecordWrites;

  constructor(
    client: DynamoDBClient,
    tableName: string,
    options: { readonly now?: () => Date; readonly batched?: BatchedTargets } = {},
  ) {
    this.#documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.#tableName = tableName;
    this.#now = options.now ?? (() => new Date());
    this.#batched = options.batched;
    this.#writes = new DynamoActionRecordWrites(client, tableName, { now: this.#now });
  }

  create(record: ActionRecord): Promise<void> {
    return this.#writes.create(record);
  }

  async get(actionId: string): Promise<StoredActionRecord | undefined> {
    const output = await this.#send(actionId, () =>
      this.#documents.send(
        new GetCommand({ TableName: this.#tableName, Key: { actionId }, ConsistentRead: true }),
      ),
    );
    if (output.Item === undefined) return undefined;
    const parsed = StoredActionRecordSchema.safeParse(output.Item);
    if (!parsed.success) {
      throw new ActionRecordCorruptError(`Stored action ${actionId} does not match the schema`, {
        cause: parsed.error,
      });
    }
    const record = parsed.data;
    if (record.batches === undefined) return record;
    if (this.#batched === undefined) {
      throw new ActionStoreError(
        `Action ${actionId} keeps its targets in batches this store cannot read`,
      );
    }
    const contents = await this.#batched.read(actionId, record.batches);
    return { ...record, ...contents, results: { ...record.results, ...contents.results } };
  }

  async markRunning(
    actionId: string,
    targets: readonly ResolvedTarget[],
    options: { readonly batches?: number } = {},
  ): Promise<void> {
    // A retried task may mark the action running twice; a finished action is never reopened.
    if (options.batches !== undefined) {
      await this.#update(actionId, {
        UpdateExpression:
          'SET #status = :running, batches = :batches, #scope = :scope, updatedAt = :now',
        ConditionExpression: 'attribute_exists(actionId) AND #status IN (:accepted, :running)',
        ExpressionAttributeNames: { '#status': 'status', '#scope': 'scope' },
        ExpressionAttributeValues: {
          ':running': 'running',
          ':accepted': 'accepted',
          ':batches': options.batches,
          ':scope': planScopeOf(targets),
          ':now': this.#now().toISOString(),
        },
      });
      return;
    }
    await this.#update(actionId, {
      UpdateExpression:
        'SET #status = :running, targets = :targets, #plan = :plan, updatedAt = :now',
      ConditionExpression: 'attribute_exists(actionId) AND #status IN (:accepted, :running)',
      ExpressionAttributeNames: { '#status': 'status', '#plan': 'plan' },
      ExpressionAttributeValues: {
        ':running': 'running',
        ':accepted': 'accepted',
        ':targets': targets,
        ':plan': planOf(targets),
        ':now': this.#now().toISOString(),
      },
    });
  }

  async recordTargetResult(actionId: string, result: TargetResult): Promise<void> {
    await this.#update(actionId, {
      UpdateExpression: 'SET results.#targetId = :result, updatedAt = :now',
      ConditionExpression: 'attribute_exists(actionId)',
      ExpressionAttributeNames: { '#targetId': targetKey(result) },
      ExpressionAttributeValues: { ':result': result, ':now': this.#now().toISOString() },
    });
  }

  complete(actionId: string, completion: ActionCompletion): Promise<void> {
    return this.#writes.complete(actionId, completion);
  }

  failUnfinished(actionId: string, failure: UnfinishedActionFailure): Promise<boolean> {
    return this.#writes.failUnfinished(actionId, failure);
  }

  recordAuditFailure(actionId: string, failure: AuditFailure): Promise<void> {
    return this.#writes.recordAuditFailure(actionId, failure);
  }

  async awaitApproval(actionId: string, hold: ApprovalHold): Promise<void> {
    const now = this.#now().toISOString();
    await this.#update(actionId, {
      UpdateExpression:
        'SET #status = :awaiting, approval = :approval, approvalTaskToken = :token, updatedAt = :now',
      ConditionExpression: 'attribute_exists(actionId) AND #status IN (:running, :awaiting)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':awaiting': 'awaiting_approval',
        ':running': 'running',
        ':approval': { reasons: hold.reasons, requestedAt: now, expiresAt: hold.expiresAt },
        ':token': hold.taskToken,
        ':now': now,
      },
    });
  }

  async decideApproval(actionId: string, decision: ApprovalDecision): Promise<string> {
    const now = this.#now().toISOString();
    const output = await this.#send(
      actionId,
      () =>
        this.#documents.send(
          new UpdateCommand({
            TableName: this.#tableName,
            Key: { actionId },
            // Approved actions run again; rejected ones end here. Either way, decided once. The
            // token stays until the action completes, so that the API can resend a decision whose
            // first delivery to the workflow failed (a repeat by the same approver).
            UpdateExpression:
              'SET #status = :next, approval.decision = :decision, approval.decidedBy = :by, approval.decidedAt = :now, approval.#comment = :comment, updatedAt = :now',
            ConditionExpression: 'attribute_exists(actionId) AND #status = :awaiting',
            ExpressionAttributeNames: { '#status': 'status', '#comment': 'comment' },
            ExpressionAttributeValues: {
              ':next': decision.decision === 'approved' ? 'running' : 'rejected',
              ':decision': decision.decision,
              ':by': decision.by,
              ':comment': decision.comment ?? '',
              ':awaiting': 'awaiting_approval',
              ':now': now,
            },
            ReturnValues: 'ALL_OLD',
          }),
        ),
      ActionNotAwaitingApprovalError,
    );
    const token = (output.Attributes as { approvalTaskToken?: unknown } | undefined)
      ?.approvalTaskToken;
    if (typeof token !== 'string') {
      throw new ActionRecordCorruptError(
        `Action ${actionId} awaited approval without a task token`,
      );
    }
    return token;
  }

  async recordWarnings(
    actionId: string,
    warnings: NonNullable<ActionRecord['warnings']>,
  ): Promise<void> {
    await this.#update(actionId, {
      UpdateExpression: 'SET warnings = :warnings, updatedAt = :now',
      ConditionExpression: 'attribute_exists(actionId)',
      ExpressionAttributeValues: { ':warnings': warnings, ':now': this.#now().toISOString() },
    });
  }

  async recordNotifications(
    actionId: string,
    notifications: NonNullable<ActionRecord['notifications']>,
  ): Promise<void> {
    await this.#update(actionId, {
      UpdateExpression: 'SET notifications = :notifications, updatedAt = :now',
      ConditionExpression: 'attribute_exists(actionId)',
      ExpressionAttributeValues: {
        ':notifications': notifications,
        ':now': this.#now().toISOString(),
      },
    });
  }

  async claimNotification(
    actionId: string,
    channel: string,
    destination: string,
  ): Promise<boolean> {
    try {
      // A string set: ADD creates it, and the condition makes the claim a compare-and-set.
      await this.#send(
        actionId,
        () =>
          this.#documents.send(
            new UpdateCommand({
              TableName: this.#tableName,
              Key: { actionId },
              UpdateExpression: 'ADD notificationClaims :claims SET updatedAt = :now',
              ConditionExpression:
                'attribute_exists(actionId) AND NOT contains(notificationClaims, :claim)',
              ExpressionAttributeValues: {
                ':claims': new Set([`${channel}:${destination}`]),
                ':claim': `${channel}:${destination}`,
                ':now': this.#now().toISOString(),
              },
            }),
          ),
        NotificationAlreadyClaimedError,
      );
      return true;
    } catch (error) {
      if (error instanceof NotificationAlreadyClaimedError) return false;
      throw error;
    }
  }

  async #update(
    actionId: string,
    update: Omit<UpdateCommandInput, 'TableName' | 'Key'>,
  ): Promise<void> {
    await this.#send(
      actionId,
      () =>
        this.#documents.send(
          new UpdateCommand({ ...update, TableName: this.#tableName, Key: { actionId } }),
        ),
      ActionNotFoundError,
    );
  }

  /** Runs one DynamoDB call and turns its failure into a typed store error. */
  #send<Output>(
    actionId: string,
    operation: () => Promise<Output>,
    onConditionFailed?: new (message: string, options?: ErrorOptions) => ActionStoreError,
  ): Promise<Output> {
    return sendToActionStore(actionId, operation, onConditionFailed);
  }
}
