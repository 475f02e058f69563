import { describe, expect, it } from 'vitest';
import { CitrixUnavailableError } from '../../../lib/citrix/errors.ts';
import { failedWarnings, warnSessions } from '../../../lib/sessions/warnings.ts';

describe('warnSessions', () => {
  const warning = { title: 'Security', text: 'Save your work', graceSeconds: 30 };

  it('warns every actionable session, records a failed warning, and never throws', async () => {
    const sent: string[] = [];
    const messenger = {
      sendMessage: async (sessionId: string) => {
        if (sessionId === 's-2') {
          throw new CitrixUnavailableError({ status: 503, method: 'POST', path: '/x' });
        }
        sent.push(sessionId);
      },
    };
    const warnings = await warnSessions(
      messenger,
      [
        { sessionId: 's-1', actionable: true },
        { sessionId: 's-2', actionable: true },
        { sessionId: 's-3', actionable: false, skipReason: 'protected' },
      ],
      warning,
      { transactionId: 'act_1' },
    );
    expect(sent).toEqual(['s-1']);
    expect(warnings).toEqual([
      { sessionId: 's-1', status: 'sent' },
      {
        sessionId: 's-2',
        status: 'failed',
        error: { name: 'CitrixUnavailableError', message: expect.stringContaining('503') },
      },
    ]);
  });

  it('sends five at a time, keeps the targets’ order, records each failure, and warns only sessions marked actionable', async () => {
    let inFlight = 0;
    let most = 0;
    const messenger = {
      sendMessage: async (sessionId: string) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        // Later sessions answer sooner, so the order of answers differs from the targets'.
        await new Promise((resolve) => setTimeout(resolve, 30 - Number(sessionId.slice(2))));
        inFlight -= 1;
        if (sessionId === 's-7') throw new Error('session ended');
      },
    };
    const targets = Array.from({ length: 12 }, (_, n) => ({
      sessionId: `s-${n + 1}`,
      actionable: true,
    }));
    const warnings = await warnSessions(
      messenger,
      [...targets, { sessionId: 's-13' }, { sessionId: 's-14', actionable: false }],
      warning,
      { transactionId: 'act_1' },
    );
    expect(most).toBe(5);
    expect(warnings.map((w) => w.sessionId)).toEqual(targets.map((t) => t.sessionId));
    expect(warnings.filter((w) => w.status === 'failed')).toEqual([
      { sessionId: 's-7', status: 'failed', error: { name: 'Error', message: 'session ended' } },
    ]);
    expect(warnings.filter((w) => w.status === 'sent')).toHaveLength(11);
  });

  it('records every session it was to warn as failed when the warning task failed as a whole', () => {
    expect(
      failedWarnings(
        [
          { sessionId: 's-1', actionable: true },
          { sessionId: 's-2', actionable: false },
          { sessionId: 's-3', actionable: true },
        ],
        { name: 'States.Timeout', message: 'Task timed out' },
      ),
    ).toEqual(
      ['s-1', 's-3'].map((sessionId) => ({
        sessionId,
        status: 'failed',
        error: { name: 'States.Timeout', message: 'The warning task failed: Task timed out' },
      })),
    );
  });
});
