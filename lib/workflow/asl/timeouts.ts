import type { WorkflowName } from '../../actions/declaration.ts';

/**
 * How long each action workflow may run, as its file says: the approval window the file holds
 * (`FILE_APPROVAL_WINDOW_SECONDS`) plus its own work. `readDefinition` moves both by the window a
 * deployment configures; a runbook run gives each step's action as long (lib/runbooks/schedule.ts).
 */
export const FILE_APPROVAL_WINDOW_SECONDS = 3600;

export const ACTION_WORKFLOW_TIMEOUT_SECONDS = {
  'session-action': 10_800,
  'device-action': 7200,
  'admin-action': 5400,
} as const satisfies Record<Exclude<WorkflowName, 'runbook'>, number>;
