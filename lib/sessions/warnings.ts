import type { ActionRecord, ResolvedSession, SessionWarning } from '../actions/schema.ts';
import type { CallContext, SessionMessage } from '../citrix/daas-client.ts';

export interface SessionMessenger {
  sendMessage(sessionId: string, message: SessionMessage, context?: CallContext): Promise<void>;
}

type Warnings = NonNullable<ActionRecord['warnings']>;

/**
 * Warns the user of each session that will be acted on (protected sessions are left alone).
 * A failed warning is recorded and never stops the containment that follows.
 */
export async function warnSessions(
  messenger: SessionMessenger,
  targets: readonly ResolvedSession[],
  warning: SessionWarning,
  context: CallContext,
): Promise<Warnings> {
  const warnings: Warnings = [];
  for (const target of targets) {
    if (target.actionable === false) continue;
    try {
      await messenger.sendMessage(
        target.sessionId,
        { title: warning.title, text: warning.text, style: 'Exclamation' },
        context,
      );
      warnings.push({ sessionId: target.sessionId, status: 'sent' });
    } catch (error) {
      const summary =
        error instanceof Error
          ? { name: error.name, message: error.message.slice(0, 500) }
          : { name: 'Error', message: String(error).slice(0, 500) };
      warnings.push({ sessionId: target.sessionId, status: 'failed', error: summary });
    }
  }
  return warnings;
}
