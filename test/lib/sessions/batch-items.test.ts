import { describe, expect, it } from 'vitest';
import { type SessionBatch, SessionBatchSchema } from '../../../lib/sessions/batch-items.ts';
import { MAX_BATCH_SIZE } from '../../../lib/sessions/session-actions.ts';

/** DynamoDB's item size limit, which one batch item must stay under. */
const DYNAMODB_ITEM_LIMIT = 400 * 1024;

/** A session as long as a real tenant makes them: long UPNs, FQDNs, a failed job and a warning. */
function fullBatch(size: number): SessionBatch {
  const entries = Array.from({ length: size }, (_, index) => {
    const upn = `${'firstname.lastname'.padEnd(40, 'x')}${index}@subsidiary.example-corporation.com`;
    const target = {
      sessionId: `f1ee7000-0000-4000-8000-${String(index).padStart(12, '0')}`,
      userName: upn,
      userNames: [upn, `EXAMPLECORP\\${'firstname.lastname'.padEnd(40, 'x')}${index}`],
      machineName: `vda-${String(index).padStart(4, '0')}.workspaces.subsidiary.example-corporation.com`,
      deliveryGroup: 'Finance and Accounting Published Desktops (EMEA)',
      state: 'Disconnected',
      actionable: true,
    };
    return {
      target,
      step: 'finished' as const,
      jobId: `0a1b2c3d-4e5f-4071-8293-${String(index).padStart(12, '0')}`,
      jobStatus: 'Failed',
      polls: 24,
      deadline: '2026-12-02T03:10:00.000Z',
      warning: {
        status: 'failed' as const,
        error: { name: 'CitrixUnavailableError', message: 'x'.repeat(200) },
      },
      result: {
        ...target,
        outcome: 'failed' as const,
        job: { id: `0a1b2c3d-4e5f-4071-8293-${String(index).padStart(12, '0')}` },
        error: { name: 'LogoffJobFailedError', message: 'y'.repeat(300) },
        finishedAt: '2026-12-02T03:09:58.000Z',
      },
    };
  });
  return SessionBatchSchema.parse({
    actionId: `act_${'0'.repeat(32)}`,
    index: 0,
    version: 40,
    rounds: 36,
    throttledRounds: 10,
    waitSeconds: 30,
    entries,
  });
}

describe('session batch items', () => {
  it('a full batch of long-named sessions with errors stays under the DynamoDB item limit', () => {
    const item = { ...fullBatch(MAX_BATCH_SIZE), batchOf: 'act_x', expiresAt: 1 };
    // DynamoDB counts attribute names and values; JSON adds quotes and braces, so it is an upper
    // bound of the stored size.
    const size = Buffer.byteLength(JSON.stringify(item));
    expect(size).toBeLessThan(DYNAMODB_ITEM_LIMIT);
  });

  it('refuses a batch larger than MAX_BATCH_SIZE', () => {
    expect(() => fullBatch(MAX_BATCH_SIZE + 1)).toThrow();
  });
});
