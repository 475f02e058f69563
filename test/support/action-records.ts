import type { ActionRecord } from '../../lib/actions/schema.ts';

let counter = 0;

/**
 * An action record as the store holds one while its workflow runs, each with a new action id:
 * a session log off unless `overrides` say otherwise.
 */
export function runningActionRecord(overrides: Partial<ActionRecord> = {}): ActionRecord {
  counter += 1;
  const now = new Date('2026-12-03T03:00:00.000Z').toISOString();
  return {
    actionId: `act_${counter.toString(16).padStart(32, '0')}`,
    action: 'session.logoff',
    target: { user: 'alice@example.com' },
    reason: 'Impossible travel',
    requestedBy: 'soc@example.com',
    dryRun: false,
    status: 'running',
    createdAt: now,
    updatedAt: now,
    results: {},
    expiresAt: 1_900_000_000,
    ...overrides,
  };
}
