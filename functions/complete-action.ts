import {
  type CompleteActionDependencies,
  CompletionInputSchema,
  completeAction,
} from '../lib/actions/completion.ts';
import type { ActionCompletion } from '../lib/actions/store.ts';
import { audited } from '../lib/audit/audited.ts';
import { awsActionStore } from '../lib/runtime/clients/action-store.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { awsLimitCounter } from '../lib/runtime/clients/guardrails.ts';
import { awsSessionBatches } from '../lib/runtime/clients/session-batches.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';
import { SessionBatchContents } from '../lib/sessions/batch-items.ts';

export type { CompleteActionDependencies } from '../lib/actions/completion.ts';

/** Task: the action's final status — planned, from the per-target results, or failed as a whole. */
export const createCompleteActionHandler = (getDependencies: () => CompleteActionDependencies) =>
  createTaskHandler(
    'CompleteAction',
    CompletionInputSchema,
    getDependencies,
    (input, dependencies): Promise<ActionCompletion> =>
      completeAction(input, dependencies, new Date()),
  );

export const handler = audited(
  createCompleteActionHandler(() => ({
    actions: awsActionStore(),
    counter: awsLimitCounter(),
    batched: new SessionBatchContents(awsSessionBatches()),
  })),
  awsAuditLog,
);
