import type { Context } from 'aws-lambda';
import { logger } from '../runtime/logger.ts';
import type { AuditLog } from './audit-log.ts';
import { runWithAudit, unwrapAuditRun } from './context.ts';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** The action a task works for: `actionId` in its input, or in a waitForTaskToken Payload. */
function actionIdOf(event: unknown): string | undefined {
  const input = event as { actionId?: unknown; Payload?: { actionId?: unknown } } | null;
  const id = input?.actionId ?? input?.Payload?.actionId;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Runs a task with an audit collector bound to its action, then writes what it collected (its
 * Citrix calls, decisions and outcomes) to the audit log, whether the task succeeded or threw.
 * A failed audit write is logged and does not fail the containment.
 */
export function audited<H extends Handler>(handler: H, log: () => AuditLog | undefined): H {
  return (async (event: unknown, context: Context) => {
    const actionId = actionIdOf(event);
    const auditLog = log();
    if (actionId === undefined || auditLog === undefined) return handler(event, context);
    const run = await runWithAudit(actionId, () => handler(event, context));
    if (run.entries.length > 0) {
      try {
        await auditLog.append(run.entries);
      } catch (error) {
        logger.error('audit entries could not be written', error as Error);
      }
    }
    return unwrapAuditRun(run);
  }) as H;
}
