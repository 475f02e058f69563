import * as z from 'zod';
import { CaughtErrorSchema } from '../lib/actions/outcome.ts';
import {
  DeviceActionTypeSchema,
  DeviceReadBackSchema,
  type DeviceTargetResult,
  ResolvedDeviceSchema,
} from '../lib/actions/schema.ts';
import type { ActionStore } from '../lib/actions/store.ts';
import { audited } from '../lib/audit/audited.ts';
import { auditTargetOutcome } from '../lib/audit/events.ts';
import { buildDeviceTargetResult, SentCommandSchema } from '../lib/devices/device-actions.ts';
import { awsActionRecordWrites } from '../lib/runtime/clients/action-record-writes.ts';
import { awsActionStore } from '../lib/runtime/clients/action-store.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';

export interface RecordDeviceResultDependencies {
  readonly actions: Pick<ActionStore, 'recordTargetResult'>;
}

/** The Map iteration's whole state: what each step produced, or the error that ended it. */
const InputSchema = z.object({
  actionId: z.string(),
  action: DeviceActionTypeSchema,
  target: ResolvedDeviceSchema,
  command: SentCommandSchema.optional(),
  readBack: DeviceReadBackSchema.optional(),
  error: CaughtErrorSchema.optional(),
  readBackError: CaughtErrorSchema.optional(),
});

/**
 * Task: turns one device's steps into its result, stores it, and returns it. A command that may
 * have gone out without an answer is recorded as confirmed by its read-back or as unconfirmed.
 */
export const createRecordDeviceResultHandler = (
  getDependencies: () => RecordDeviceResultDependencies,
) =>
  createTaskHandler(
    'RecordDeviceResult',
    InputSchema,
    getDependencies,
    async (input, { actions }): Promise<DeviceTargetResult> => {
      const result = buildDeviceTargetResult(input.target, input, new Date());
      await actions.recordTargetResult(input.actionId, result);
      auditTargetOutcome(result);
      return result;
    },
  );

export const handler = audited(
  createRecordDeviceResultHandler(() => ({ actions: awsActionStore() })),
  awsAuditLog,
  awsActionRecordWrites,
);
