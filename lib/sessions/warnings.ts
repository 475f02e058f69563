import type {
  ActionRecord,
  ErrorSummary,
  ResolvedSession,
  SessionWarning,
} from '../actions/schema.ts';
import type { CallContext, SessionMessage } from '../citrix/daas-client.ts';

export interface SessionMessenger {
  sendMessage(sessionId: string, message: SessionMessage, context?: CallContext): Promise<void>;
}

type Warnings = NonNullable<ActionRecord['warnings']>;
type Warning = Warnings[number];

/** `$sendMessage` calls in flight at once: a user's sessions are warned in a few rounds. */
export const WARNING_CONCURRENCY = 5;

/** Only a session the guardrails marked actionable is acted on, so only it is warned. */
const warned = (targets: readonly ResolvedSession[]) =>
  targets.filter((target) => target.actionable === true);

/**
 * Warns the user of each session that will be acted on (protected sessions are left alone),
 * `concurrency` messages at a time. A failed warning is recorded per session and never stops
 * the containment that follows; the result keeps the targets' order.
 */
export async function warnSessions(
  messenger: SessionMessenger,
  targets: readonly ResolvedSession[],
  warning: SessionWarning,
  context: CallContext,
  concurrency = WARNING_CONCURRENCY,
): Promise<Warnings> {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  const sessions = warned(targets);
  const warnings: Warning[] = new Array(sessions.length);
  let next = 0;
  const worker = async () => {
    while (next < sessions.length) {
      const index = next;
      next += 1;
      const { sessionId } = sessions[index] as ResolvedSession;
      warnings[index] = await warnOne(messenger, sessionId, warning, context);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, sessions.length) }, worker));
  return warnings;
}

async function warnOne(
  messenger: SessionMessenger,
  sessionId: string,
  warning: SessionWarning,
  context: CallContext,
): Promise<Warning> {
  try {
    await messenger.sendMessage(
      sessionId,
      { title: warning.title, text: warning.text, style: 'Exclamation' },
      context,
    );
    return { sessionId, status: 'sent' };
  } catch (error) {
    const summary =
      error instanceof Error
        ? { name: error.name, message: error.message.slice(0, 500) }
        : { name: 'Error', message: String(error).slice(0, 500) };
    return { sessionId, status: 'failed', error: summary };
  }
}

/**
 * The warnings of a warning task that failed as a whole (timed out, crashed): every session it
 * was to warn is recorded as failed with that error, since none can be known to have been warned.
 */
export function failedWarnings(targets: readonly ResolvedSession[], error: ErrorSummary): Warnings {
  return warned(targets).map((target) => ({
    sessionId: target.sessionId,
    status: 'failed',
    error: { name: error.name, message: `The warning task failed: ${error.message}`.slice(0, 500) },
  }));
}
