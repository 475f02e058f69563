import { acceptAction } from '../../lib/actions/accept.ts';
import {
  type ActionRecord,
  type ActionRequest,
  ActionRequestSchema,
} from '../../lib/actions/schema.ts';
import type { LocalStack } from '../../local/stack.ts';

export interface WorkflowRun {
  readonly record: ActionRecord;
  /** The execution's status in the engine: SUCCEEDED or FAILED. */
  readonly status: string;
  /** The execution's output, or the error that failed it. */
  readonly output: unknown;
}

/**
 * Parses and accepts an action as the API would (defaults included), waits for its workflow to
 * end, and reads the record.
 */
export async function runAction(
  stack: LocalStack,
  request: Omit<ActionRequest, 'reason' | 'dryRun'> & { dryRun?: boolean },
): Promise<WorkflowRun> {
  const { actionId } = await acceptAction(
    { actions: stack.actions, workflows: stack.runner, retentionDays: 1 },
    ActionRequestSchema.parse({ reason: 'workflow test', ...request }),
    new Date(),
  );
  const done = await stack.runner.execution(actionId)?.done;
  if (done === undefined) throw new Error('execution was not started');
  const record = await stack.actions.get(actionId);
  if (record === undefined) throw new Error('record missing');
  return {
    record,
    status: done.status,
    output: done.status === 'SUCCEEDED' ? done.output : done.error,
  };
}
