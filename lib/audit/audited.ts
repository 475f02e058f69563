import type { Context } from 'aws-lambda';
import { logger } from '../runtime/logger.ts';
import { recordAuditAppendFailure } from '../runtime/metrics.ts';
import {
  type AuditEntry,
  type AuditFailure,
  type AuditFailureRecorder,
  type AuditLog,
  redactSecretsInText,
} from './audit-log.ts';
import { runWithAudit, unwrapAuditRun } from './context.ts';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** The action a task works for: `actionId` in its input, or in a waitForTaskToken Payload. */
function actionIdOf(event: unknown): string | undefined {
  const input = event as { actionId?: unknown; Payload?: { actionId?: unknown } } | null;
  const id = input?.actionId ?? input?.Payload?.actionId;
  return typeof id === 'string' ? id : undefined;
}

const MAX_ERROR_MESSAGE = 500;

/** What the action records about entries that could not be written: never their contents. */
export function auditFailureOf(
  entries: readonly AuditEntry[],
  error: unknown,
  now: Date,
): AuditFailure {
  const { name, message } =
    error instanceof Error ? error : { name: 'Error', message: String(error) };
  return {
    at: now.toISOString(),
    entries: entries.length,
    types: [...new Set(entries.map((entry) => entry.type))],
    error: { name, message: redactSecretsInText(message).slice(0, MAX_ERROR_MESSAGE) },
  };
}

/**
 * Runs a task with an audit collector bound to its action, then writes what it collected (its
 * Citrix calls, decisions and outcomes) to the audit log, whether the task succeeded or threw.
 * A failed audit write does not fail the containment, and is not swallowed either: it is logged,
 * counted (the `AuditAppendFailures` metric, alarmed) and, given `failures`, noted on the action
 * (`auditFailures` in `GET /v1/actions/{id}`), so that nobody reads a timeline with a gap as whole.
 */
export function audited<H extends Handler>(
  handler: H,
  log: () => AuditLog | undefined,
  failures?: () => AuditFailureRecorder | undefined,
): H {
  return (async (event: unknown, context: Context) => {
    const actionId = actionIdOf(event);
    const auditLog = log();
    if (actionId === undefined || auditLog === undefined) return handler(event, context);
    const run = await runWithAudit(actionId, () => handler(event, context));
    if (run.entries.length > 0) {
      try {
        await auditLog.append(run.entries);
      } catch (error) {
        const failure = auditFailureOf(run.entries, error, new Date());
        await reportAuditFailure(actionId, failure, error, failures);
      }
    }
    return unwrapAuditRun(run);
  }) as H;
}

async function reportAuditFailure(
  actionId: string,
  failure: AuditFailure,
  error: unknown,
  failures: (() => AuditFailureRecorder | undefined) | undefined,
): Promise<void> {
  logger.error('audit entries could not be written', {
    error: error as Error,
    entries: failure.entries,
    types: failure.types,
  });
  recordAuditAppendFailure();
  try {
    await failures?.()?.recordAuditFailure(actionId, failure);
  } catch (recordError) {
    // The metric and the log line above still tell: the task's own outcome is not changed.
    logger.error('audit failure could not be noted on the action', recordError as Error);
  }
}
