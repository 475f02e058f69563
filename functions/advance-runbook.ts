import { audited } from '../lib/audit/audited.ts';
import {
  type AdvanceRunbookDependencies,
  AdvanceRunbookInputSchema,
  advanceRunbook,
  type RunbookRound,
} from '../lib/runbooks/run.ts';
import { awsActionRecordWrites } from '../lib/runtime/clients/action-record-writes.ts';
import { awsActionStore } from '../lib/runtime/clients/action-store.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { awsRunbookRuns } from '../lib/runtime/clients/runbook-runs.ts';
import { awsStepWorkflowStarter } from '../lib/runtime/clients/step-workflows.ts';
import { recordRetentionDaysFromEnv } from '../lib/runtime/env.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';

export type { AdvanceRunbookDependencies } from '../lib/runbooks/run.ts';

/**
 * Task: one round of a runbook run. It records how the running step ended and starts the next
 * one as its own action (the step workflows' state machines, never its own).
 */
export const createAdvanceRunbookHandler = (getDependencies: () => AdvanceRunbookDependencies) =>
  createTaskHandler(
    'AdvanceRunbook',
    AdvanceRunbookInputSchema,
    getDependencies,
    (input, dependencies): Promise<RunbookRound> => advanceRunbook(input, dependencies, new Date()),
  );

export const handler = audited(
  createAdvanceRunbookHandler(() => ({
    actions: awsActionStore(),
    runs: awsRunbookRuns(),
    workflows: awsStepWorkflowStarter(),
    audit: awsAuditLog(),
    retentionDays: recordRetentionDaysFromEnv(process.env),
  })),
  awsAuditLog,
  awsActionRecordWrites,
);
