import {
  type CompleteActionDependencies,
  CompleteActionTaskInputSchema,
  runCompleteActionTask,
} from '../lib/actions/completion.ts';
import { audited } from '../lib/audit/audited.ts';
import { awsActionStore } from '../lib/runtime/clients/action-store.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { awsLimitCounter } from '../lib/runtime/clients/guardrails.ts';
import { awsSessionBatches } from '../lib/runtime/clients/session-batches.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';
import { SessionBatchContents } from '../lib/sessions/batch-items.ts';

export type { CompleteActionDependencies } from '../lib/actions/completion.ts';

/**
 * Task: the action's final status (planned, from the per-target results, or failed as a whole),
 * or, as the workflows' last resort when that could not be recorded, failed in one small write.
 */
export const createCompleteActionHandler = (getDependencies: () => CompleteActionDependencies) =>
  createTaskHandler(
    'CompleteAction',
    CompleteActionTaskInputSchema,
    getDependencies,
    (input, dependencies) => runCompleteActionTask(input, dependencies, new Date()),
  );

export const handler = audited(
  createCompleteActionHandler(() => ({
    actions: awsActionStore(),
    counter: awsLimitCounter(),
    batched: new SessionBatchContents(awsSessionBatches()),
  })),
  awsAuditLog,
  awsActionStore,
);
