import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
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
  ActionRecordTable,
  type ActionRecordWrites,
  ActionStoreError,
  DynamoActionRecordWrites,
  RECORD_EXISTS,
  type RecordCondition,
  recordStatusIn,
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
  ActionStoreContentionError,
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

/** The action exists and no attempt has claimed `claim` (`channel:destination`) on it yet. */
function unclaimed(claim: string): RecordCondition {
  return {
    expression: 'attribute_exists(actionId) AND NOT contains(notificationClaims, :claim)',
    names: {},
    values: { ':claim': claim },
    // A string set comes back from the document client as a Set.
    holds: (record) =>
      record !== undefined &&
      !(record.notificationClaims instanceof Set && record.notificationClaims.has(claim)),
    refusedAs: `does not exist or has ${claim} claimed`,
  };
}

const RUNNING_OR_ACCEPTED = recordStatusIn(['accepted', 'running']);
const RUNNING_OR_AWAITING = recordStatusIn(['running', 'awaiting_approval']);
const AWAITING_APPROVAL = recordStatusIn(['awaiting_approval']);

export class DynamoActionStore implements ActionStore, NotificationClaims {
  readonly #table: ActionRecordTable;
  readonly #now: () => Date;
  readonly #batched: BatchedTargets | undefined;
  readonly #writes: DynamoActionRecordWrites;

  constructor(
    client: DynamoDBClient,
    tableName: string,
    options: { readonly now?: () => Date; readonly batched?: BatchedTargets } = {},
  ) {
    this.#table = new ActionRecordTable(client, tableName);
    this.#now = options.now ?? (() => new Date());
    this.#batched = options.batched;
    this.#writes = new DynamoActionRecordWrites(client, tableName, { now: this.#now });
  }

  create(record: ActionRecord): Promise<void> {
    return this.#writes.create(record);
  }

  async get(actionId: string): Promise<StoredActionRecord | undefined> {
    const item = await this.#table.read(actionId);
    if (item === undefined) return undefined;
    const parsed = StoredActionRecordSchema.safeParse(item);
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
      await this.#update(
        actionId,
        {
          UpdateExpression:
            'SET #status = :running, batches = :batches, #scope = :scope, updatedAt = :now',
          ExpressionAttributeNames: { '#status': 'status', '#scope': 'scope' },
          ExpressionAttributeValues: {
            ':running': 'running',
            ':batches': options.batches,
            ':scope': planScopeOf(targets),
            ':now': this.#now().toISOString(),
          },
        },
        RUNNING_OR_ACCEPTED,
      );
      return;
    }
    await this.#update(
      actionId,
      {
        UpdateExpression:
          'SET #status = :running, targets = :targets, #plan = :plan, updatedAt = :now',
        ExpressionAttributeNames: { '#status': 'status', '#plan': 'plan' },
        ExpressionAttributeValues: {
          ':running': 'running',
          ':targets': targets,
          ':plan': planOf(targets),
          ':now': this.#now().toISOString(),
        },
      },
      RUNNING_OR_ACCEPTED,
    );
  }

  async recordTargetResult(actionId: string, result: TargetResult): Promise<void> {
    // Not only while the action runs: what was done to a target is recorded whenever it is known.
    await this.#update(
      actionId,
      {
        UpdateExpression: 'SET results.#targetId = :result, updatedAt = :now',
        ExpressionAttributeNames: { '#targetId': targetKey(result) },
        ExpressionAttributeValues: { ':result': result, ':now': this.#now().toISOString() },
      },
      RECORD_EXISTS,
    );
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
    await this.#update(
      actionId,
      {
        UpdateExpression:
          'SET #status = :awaiting, approval = :approval, approvalTaskToken = :token, updatedAt = :now',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':awaiting': 'awaiting_approval',
          ':approval': { reasons: hold.reasons, requestedAt: now, expiresAt: hold.expiresAt },
          ':token': hold.taskToken,
          ':now': now,
        },
      },
      RUNNING_OR_AWAITING,
    );
  }

  async decideApproval(actionId: string, decision: ApprovalDecision): Promise<string> {
    const now = this.#now().toISOString();
    const output = await this.#table.update(
      actionId,
      {
        // Approved actions run again; rejected ones end here. Either way, decided once. The token
        // stays until the action completes, so that the API can resend a decision whose first
        // delivery to the workflow failed (a repeat by the same approver).
        UpdateExpression:
          'SET #status = :next, approval.decision = :decision, approval.decidedBy = :by, approval.decidedAt = :now, approval.#comment = :comment, updatedAt = :now',
        ExpressionAttributeNames: { '#status': 'status', '#comment': 'comment' },
        ExpressionAttributeValues: {
          ':next': decision.decision === 'approved' ? 'running' : 'rejected',
          ':decision': decision.decision,
          ':by': decision.by,
          ':comment': decision.comment ?? '',
          ':now': now,
        },
        ReturnValues: 'ALL_OLD',
      },
      AWAITING_APPROVAL,
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
    await this.#update(
      actionId,
      {
        UpdateExpression: 'SET warnings = :warnings, updatedAt = :now',
        ExpressionAttributeValues: { ':warnings': warnings, ':now': this.#now().toISOString() },
      },
      RECORD_EXISTS,
    );
  }

  async recordNotifications(
    actionId: string,
    notifications: NonNullable<ActionRecord['notifications']>,
  ): Promise<void> {
    await this.#update(
      actionId,
      {
        UpdateExpression: 'SET notifications = :notifications, updatedAt = :now',
        ExpressionAttributeValues: {
          ':notifications': notifications,
          ':now': this.#now().toISOString(),
        },
      },
      RECORD_EXISTS,
    );
  }

  async claimNotification(
    actionId: string,
    channel: string,
    destination: string,
  ): Promise<boolean> {
    const claim = `${channel}:${destination}`;
    try {
      // A string set: ADD creates it, and the condition makes the claim a compare-and-set.
      await this.#table.update(
        actionId,
        {
          UpdateExpression: 'ADD notificationClaims :claims SET updatedAt = :now',
          ExpressionAttributeValues: {
            ':claims': new Set([claim]),
            ':now': this.#now().toISOString(),
          },
        },
        unclaimed(claim),
        NotificationAlreadyClaimedError,
      );
      return true;
    } catch (error) {
      if (error instanceof NotificationAlreadyClaimedError) return false;
      throw error;
    }
  }

  /** A conditional update of the record: ActionNotFoundError when the record really fails it. */
  async #update(
    actionId: string,
    update: Parameters<ActionRecordTable['update']>[1],
    condition: RecordCondition,
  ): Promise<void> {
    await this.#table.update(actionId, update, condition, ActionNotFoundError);
  }
}
