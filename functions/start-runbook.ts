import { audited } from '../lib/audit/audited.ts';
import {
  type RunbookStart,
  type StartRunbookDependencies,
  StartRunbookInputSchema,
  startRunbook,
} from '../lib/runbooks/run.ts';
import { awsActionRecordWrites } from '../lib/runtime/clients/action-record-writes.ts';
import { awsActionStore } from '../lib/runtime/clients/action-store.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { awsGuardrails } from '../lib/runtime/clients/guardrails.ts';
import { awsRunbookRuns } from '../lib/runtime/clients/runbook-runs.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';

export type { StartRunbookDependencies } from '../lib/runbooks/run.ts';

/**
 * Task: records a run's runbook and steps, and applies the run's own guardrails. A named runbook
 * is read from `runbooks.json`, which synth checked and wrote beside this bundle.
 */
export const createStartRunbookHandler = (getDependencies: () => StartRunbookDependencies) =>
  createTaskHandler(
    'StartRunbook',
    StartRunbookInputSchema,
    getDependencies,
    (input, dependencies): Promise<RunbookStart> => startRunbook(input, dependencies, new Date()),
  );

export const handler = audited(
  createStartRunbookHandler(() => {
    const { settings, counter } = awsGuardrails();
    return { actions: awsActionStore(), runs: awsRunbookRuns(), guardrails: { settings, counter } };
  }),
  awsAuditLog,
  awsActionRecordWrites,
);
