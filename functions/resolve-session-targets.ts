import * as z from 'zod';
import { productTargetSchema, SessionActionTypeSchema } from '../lib/actions/schema.ts';
import { audited } from '../lib/audit/audited.ts';
import {
  applyGuardrails,
  type GuardedResolution,
  type GuardrailDependencies,
} from '../lib/guardrails/apply.ts';
import { awsAuditLog } from '../lib/runtime/clients/audit-log.ts';
import { awsDaasClient } from '../lib/runtime/clients/daas.ts';
import { awsGuardrails } from '../lib/runtime/clients/guardrails.ts';
import { sessionWorkflowSettingsFromEnv } from '../lib/runtime/session-settings.ts';
import { createTaskHandler } from '../lib/runtime/task-handler.ts';
import {
  resolveSessionTargets,
  type SessionDirectory,
  type SessionWorkflowSettings,
} from '../lib/sessions/session-actions.ts';

export interface ResolveSessionTargetsDependencies {
  readonly directory: SessionDirectory;
  readonly settings: Pick<SessionWorkflowSettings, 'maxTargets'>;
  readonly guardrails: GuardrailDependencies;
}

const InputSchema = z.object({
  actionId: z.string(),
  action: SessionActionTypeSchema,
  target: productTargetSchema('sessions'),
  dryRun: z.boolean(),
});

/** Task: marks the action running and returns the sessions its target stands for. */
export const createResolveSessionTargetsHandler = (
  getDependencies: () => ResolveSessionTargetsDependencies,
) =>
  createTaskHandler(
    'ResolveSessionTargets',
    InputSchema,
    getDependencies,
    async (input, { directory, settings, guardrails }): Promise<GuardedResolution> => {
      const targets = await resolveSessionTargets(directory, input.target, settings, {
        transactionId: input.actionId,
      });
      return applyGuardrails(guardrails, input, targets, new Date());
    },
  );

export const handler = audited(
  createResolveSessionTargetsHandler(() => ({
    directory: awsDaasClient(),
    settings: sessionWorkflowSettingsFromEnv(process.env),
    guardrails: awsGuardrails(),
  })),
  awsAuditLog,
);
