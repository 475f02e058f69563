import * as z from 'zod';
import type { ActionStore, NotificationClaims } from '../lib/actions/store.ts';
import { audited } from '../lib/audit/audited.ts';
import { auditEvent } from '../lib/audit/context.ts';
import {
  type NotificationDependencies,
  type NotificationOutcome,
  notifyActionOutcome,
} from '../lib/callbacks/notify.ts';
import { awsActionRecords } from '../lib/runtime/clients/action-records.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { awsNotificationDependencies } from '../lib/runtime/clients/notifications.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';

export interface NotifyActionOutcomeDependencies {
  readonly actions: Pick<ActionStore, 'get' | 'recordNotifications'> & NotificationClaims;
  readonly notifications: NotificationDependencies;
}

const InputSchema = z.object({ actionId: z.string() });

/**
 * Task: once the action has ended, writes the work note on its ServiceNow incident and sends its
 * signed callback, if it asked for them, and records how each went. Delivery failures are
 * recorded, never thrown: they do not change the action's outcome. The workflow retries the task
 * when the store is unavailable; a retry sends nothing already recorded, and never a work note an
 * earlier attempt claimed (see notifyActionOutcome).
 */
export const createNotifyActionOutcomeHandler = (
  getDependencies: () => NotifyActionOutcomeDependencies,
) =>
  createTaskHandler(
    'NotifyActionOutcome',
    InputSchema,
    getDependencies,
    async (
      input,
      { actions, notifications },
    ): Promise<{ notifications: NotificationOutcome[] }> => {
      const record = await actions.get(input.actionId);
      if (record === undefined) return { notifications: [] };
      const outcomes = await notifyActionOutcome(notifications, record, () => new Date(), actions);
      // Outcomes already on the record come back as the same objects: write only if one is new.
      const recorded = record.notifications ?? [];
      if (outcomes.some((outcome) => !recorded.includes(outcome))) {
        await actions.recordNotifications(input.actionId, outcomes);
      }
      for (const outcome of outcomes) {
        auditEvent('notification', `${outcome.channel} ${outcome.destination}: ${outcome.status}`, {
          channel: outcome.channel,
          destination: outcome.destination,
          status: outcome.status,
        });
      }
      return { notifications: outcomes };
    },
  );

export const handler = audited(
  createNotifyActionOutcomeHandler(() => ({
    actions: awsActionRecords(),
    notifications: awsNotificationDependencies(),
  })),
  awsAuditLog,
  awsActionRecords,
);
