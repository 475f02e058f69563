import { describe, expect, it } from 'vitest';
import { CitrixUnavailableError } from '../../../lib/citrix/errors.ts';
import { warnSessions } from '../../../lib/sessions/warnings.ts';

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
});
