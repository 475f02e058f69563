import { describe, expect, it } from 'vitest';
import { createCompleteActionHandler } from '../../functions/complete-action.ts';
import type { ActionType } from '../../lib/actions/schema.ts';
import type { ActionCompletion } from '../../lib/actions/store.ts';
import {
  ADMIN_ACTION_WORKFLOW,
  DEVICE_ACTION_WORKFLOW,
  SESSION_ACTION_WORKFLOW,
  type WorkflowDefinition,
} from '../../lib/workflow/definition.ts';
import { type LocalTaskHandler, LocalWorkflowRunner } from '../../local/workflow-runner.ts';

/**
 * Each workflow's `.asl.json` in the local engine, held for approval, with a hold that fails
 * (the record of the hold could not be written): nothing was done, so the real complete-action
 * task records the failure and gives the hourly reservation back. Every other task is a stand-in.
 */
const ACTION_ID = `act_${'0'.repeat(31)}7`;

const cases: [string, WorkflowDefinition, ActionType, Record<string, unknown>][] = [
  ['device-action', DEVICE_ACTION_WORKFLOW, 'device.wipe', { deviceId: '42' }],
  ['session-action', SESSION_ACTION_WORKFLOW, 'session.logoff', { user: 'alice@example.com' }],
  ['admin-action', ADMIN_ACTION_WORKFLOW, 'admin.revoke', { admin: 'mallory@example.com' }],
];

describe('a hold that fails before anything was done', () => {
  it.each(cases)(
    '%s records the failure and gives the reservation back',
    async (_name, workflow, action, target) => {
      const completed: ActionCompletion[] = [];
      const released: string[] = [];
      const acted: string[] = [];
      const handlers: Record<string, LocalTaskHandler> = {};
      for (const fn of workflow.functions) {
        handlers[fn.name] = async () => {
          acted.push(fn.name);
          throw new Error(`${fn.name} must not run after a failed hold`);
        };
      }
      const resolver = workflow.functions.find((fn) => fn.name.startsWith('resolve-'));
      // The session resolver hands over batch numbers and a count, the others the targets.
      const resolved =
        workflow === SESSION_ACTION_WORKFLOW ? { batches: [0], targets: 1 } : { targets: [] };
      handlers[resolver?.name ?? 'resolve'] = async () => ({
        ...resolved,
        guardrails: {
          outcome: 'approval',
          reasons: ['needs approval'],
          approvalTimeoutSeconds: 60,
        },
      });
      handlers['request-approval'] = async () => {
        throw Object.assign(new Error('The hold could not be recorded'), {
          name: 'ActionStoreUnavailableError',
        });
      };
      handlers['complete-action'] = createCompleteActionHandler(() => ({
        actions: {
          complete: async (_actionId, completion) => {
            completed.push(completion);
          },
          get: async () => {
            throw new Error('a failed hold did nothing: no need to read what it did');
          },
          failUnfinished: async () => {
            throw new Error('the failure was recorded: no last resort');
          },
        },
        counter: {
          release: async (releasedAction, actionId, options) => {
            released.push(`${releasedAction} ${actionId} keep ${options?.keep}`);
            return true;
          },
        },
        // Nothing was sent: the session's batch holds no result.
        batched: { read: async () => ({ results: {} }) },
      }));
      handlers['notify-action-outcome'] = async () => ({ notifications: [] });
      const runner = new LocalWorkflowRunner(workflow, {
        handlers,
        retryIntervalOverrides: { RequestApproval: 1 },
      });

      await runner.start(ACTION_ID, {
        actionId: ACTION_ID,
        action,
        target,
        dryRun: false,
        options: { mode: 'strip' },
      });
      const done = await runner.execution(ACTION_ID)?.done;

      expect(done?.status).toBe('FAILED');
      expect(completed).toEqual([
        expect.objectContaining({
          status: 'failed',
          error: { name: 'ActionStoreUnavailableError', message: 'The hold could not be recorded' },
        }),
      ]);
      expect(released).toEqual([`${action} ${ACTION_ID} keep 0`]);
      expect(acted).toEqual([]);
    },
  );
});
