import type { ActionRecord } from '../actions/schema.ts';
import { TERMINAL_ACTION_STATUSES } from '../actions/schema.ts';
import type { NotificationClaims } from '../actions/store.ts';
import { toActionView } from '../actions/view.ts';
import { type ServiceNowClient, workNoteFor } from './servicenow.ts';
import type { SignedCallbackSender } from './signed-callback.ts';

/** One notification about an action's outcome, as recorded on the action. */
export interface NotificationOutcome {
  channel: 'servicenow' | 'callback';
  /** The incident's sys_id, or the callback destination's name. */
  destination: string;
  /** `unknown`: an earlier attempt sent it but its outcome was not recorded; not sent again. */
  status: 'delivered' | 'failed' | 'unknown';
  attempts: number;
  at: string;
  error?: { name: string; message: string };
}

/** The action record with what its source asked to be told (fields the lead adds to the schema). */
export type NotifiableActionRecord = ActionRecord & {
  source?: { serviceNowIncident?: { sysId: string; number?: string } };
  /** The name of an operator-configured callback destination. */
  callback?: string;
};

export interface NotificationDependencies {
  serviceNow?: Pick<ServiceNowClient, 'addWorkNote'>;
  callbacks?: Pick<SignedCallbackSender, 'send'>;
}

/** A channel the record asks for has no client in this deployment. */
export class NotificationNotConfiguredError extends Error {
  override name = 'NotificationNotConfiguredError';
}

/** Recorded (never thrown) for a work note an earlier attempt claimed but did not record. */
export class NotificationOutcomeUnknownError extends Error {
  override name = 'NotificationOutcomeUnknownError';
}

const MAX_ERROR_MESSAGE = 500;

function errorSummary(error: unknown): { name: string; message: string } {
  if (error instanceof Error) {
    return { name: error.name, message: error.message.slice(0, MAX_ERROR_MESSAGE) };
  }
  return { name: 'Error', message: String(error).slice(0, MAX_ERROR_MESSAGE) };
}

/** Attempts made before the failure, when the error says (ServiceNowError, CallbackDeliveryError). */
function attemptsOf(error: unknown): number {
  const attempts = (error as { attempts?: unknown } | null)?.attempts;
  return typeof attempts === 'number' && Number.isSafeInteger(attempts) ? attempts : 0;
}

/**
 * Tells the action's source how it ended: a work note on its ServiceNow incident and/or a signed
 * callback to the destination it named. Every delivery failure is caught and returned as a `failed`
 * outcome (it never changes the action's own outcome); outcomes come in that order. Nothing is sent
 * for an action that has not reached a terminal status.
 *
 * Safe to run again (the workflow retries the task when recording fails): a channel the record
 * already has an outcome for is not sent again, and with `claims` a work note (an append, not
 * idempotent) is claimed before it is sent, so a retry after a sent but unrecorded note reports
 * `unknown` instead of writing it twice. Callbacks carry a stable `webhook-id`
 * (`<actionId>:<status>`) that receivers deduplicate on, so an unrecorded one is sent again.
 */
export async function notifyActionOutcome(
  deps: NotificationDependencies,
  record: NotifiableActionRecord,
  now: () => Date,
  claims?: NotificationClaims,
): Promise<NotificationOutcome[]> {
  if (!TERMINAL_ACTION_STATUSES.includes(record.status)) return [];
  const outcomes: NotificationOutcome[] = [];

  const deliver = async (
    channel: NotificationOutcome['channel'],
    destination: string,
    send: () => Promise<{ attempts: number }>,
  ): Promise<void> => {
    const recorded = record.notifications?.find(
      (outcome) => outcome.channel === channel && outcome.destination === destination,
    );
    if (recorded !== undefined) {
      outcomes.push(recorded);
      return;
    }
    // A claim that cannot be made (the store is unavailable) throws: the task is retried.
    if (
      channel === 'servicenow' &&
      claims !== undefined &&
      !(await claims.claimNotification(record.actionId, channel, destination))
    ) {
      outcomes.push({
        channel,
        destination,
        status: 'unknown',
        attempts: 0,
        at: now().toISOString(),
        error: errorSummary(
          new NotificationOutcomeUnknownError(
            'An earlier attempt sent this work note but could not record how it went; it is not sent again, so that the incident does not get it twice',
          ),
        ),
      });
      return;
    }
    try {
      const { attempts } = await send();
      outcomes.push({
        channel,
        destination,
        status: 'delivered',
        attempts,
        at: now().toISOString(),
      });
    } catch (error) {
      outcomes.push({
        channel,
        destination,
        status: 'failed',
        attempts: attemptsOf(error),
        at: now().toISOString(),
        error: errorSummary(error),
      });
    }
  };

  const incident = record.source?.serviceNowIncident;
  if (incident !== undefined) {
    const serviceNow = deps.serviceNow;
    await deliver('servicenow', incident.sysId, async () => {
      if (serviceNow === undefined) {
        throw new NotificationNotConfiguredError(
          'ServiceNow work notes are not configured in this deployment (no ServiceNow client)',
        );
      }
      return serviceNow.addWorkNote(incident.sysId, workNoteFor(record));
    });
  }

  const callback = record.callback;
  if (callback !== undefined) {
    const callbacks = deps.callbacks;
    await deliver('callback', callback, async () => {
      if (callbacks === undefined) {
        throw new NotificationNotConfiguredError(
          'signed callbacks are not configured in this deployment (no callback sender)',
        );
      }
      return callbacks.send(callback, toActionView(record), `${record.actionId}:${record.status}`);
    });
  }
  return outcomes;
}
