import { randomUUID } from 'node:crypto';
import type { Requester } from '../identity/requester.ts';
import type { WorkflowStarter } from '../workflow/starter.ts';
import { WORKFLOW_INPUT_FIELDS } from './declaration.ts';
import {
  type ActionRecord,
  type ActionRequest,
  type WorkflowInput,
  workflowFor,
} from './schema.ts';
import type { ActionStore } from './store.ts';

export interface AcceptActionDependencies {
  readonly actions: Pick<ActionStore, 'create' | 'complete'>;
  readonly workflows: WorkflowStarter;
  /** Days an action record is kept before DynamoDB's TTL removes it. */
  readonly retentionDays: number;
}

export function newActionId(): string {
  return `act_${randomUUID().replaceAll('-', '')}`;
}

/**
 * Records the request, then starts one workflow execution named after the action id. The record
 * exists before the workflow does, so every task can update it; a workflow that cannot be started
 * leaves a failed record rather than an orphaned "accepted" one. `requester` is who asked, as
 * authenticated; the record's `requestedBy` shows its name (else the request's, as typed).
 */
export async function acceptAction(
  dependencies: AcceptActionDependencies,
  request: ActionRequest,
  now: Date,
  actionId: string = newActionId(),
  source?: ActionRecord['source'],
  requester?: Requester,
  /** A runbook run's step: the run it belongs to. */
  parentActionId?: string,
): Promise<ActionRecord> {
  const requestedBy = requester?.name ?? request.requestedBy;
  const timestamp = now.toISOString();
  const record: ActionRecord = {
    actionId,
    action: request.action,
    target: request.target,
    reason: request.reason,
    ...(request.ticket === undefined ? {} : { ticket: request.ticket }),
    ...(requestedBy === undefined ? {} : { requestedBy }),
    ...(requester === undefined ? {} : { requester }),
    ...('options' in request ? { options: request.options } : {}),
    ...(request.callback === undefined ? {} : { callback: request.callback }),
    ...('notify' in request && request.notify ? { notify: request.notify } : {}),
    ...('urgency' in request && request.urgency === 'immediate' ? { urgency: 'immediate' } : {}),
    ...(source === undefined ? {} : { source }),
    ...('inputs' in request ? { inputs: request.inputs } : {}),
    ...(parentActionId === undefined ? {} : { parentActionId }),
    dryRun: request.dryRun,
    status: 'accepted',
    createdAt: timestamp,
    updatedAt: timestamp,
    results: {},
    expiresAt: Math.floor(now.getTime() / 1000) + dependencies.retentionDays * 86_400,
  };
  await dependencies.actions.create(record);
  const reads = WORKFLOW_INPUT_FIELDS[workflowFor(request.action)];
  const input: WorkflowInput = {
    actionId,
    action: request.action,
    target: request.target,
    ...(reads.options ? { options: 'options' in request ? request.options : {} } : {}),
    // `warning` is null when no warning is to be sent.
    ...(reads.warning
      ? {
          warning:
            'notify' in request && request.notify && request.urgency !== 'immediate'
              ? request.notify
              : null,
        }
      : {}),
    dryRun: request.dryRun,
  };
  try {
    await dependencies.workflows.start(workflowFor(request.action), actionId, input);
  } catch (error) {
    await dependencies.actions.complete(actionId, {
      status: 'failed',
      summary: 'The workflow could not be started; nothing was done',
      error: { name: 'WorkflowStartError', message: 'The workflow could not be started' },
    });
    throw error;
  }
  return record;
}
