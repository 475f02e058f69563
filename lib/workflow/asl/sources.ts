import type { WorkflowName } from '../../actions/schema.ts';
import { ADMIN_ACTION } from './admin-action.ts';
import { DEVICE_ACTION } from './device-action.ts';
import { RUNBOOK } from './runbook.ts';
import { SESSION_ACTION } from './session-action.ts';
import type { StateMachine } from './types.ts';

/**
 * The source of each `state-machines/<name>.asl.json`. The ASL files are what CDK and the local
 * runner read (`readDefinition`); `npm run workflows` writes them from these, and a test fails
 * when a committed file differs from its source.
 */
export const WORKFLOW_SOURCES: Readonly<Record<WorkflowName, StateMachine>> = {
  'session-action': SESSION_ACTION,
  'device-action': DEVICE_ACTION,
  'admin-action': ADMIN_ACTION,
  runbook: RUNBOOK,
};

/** The file's text before formatting (biome formats it as the rest of the project's JSON). */
export function aslText(machine: StateMachine): string {
  return `${JSON.stringify(machine, null, 2)}\n`;
}
