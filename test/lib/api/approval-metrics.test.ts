import { describe, expect, it } from 'vitest';
import type { ActionRecord } from '../../../lib/actions/schema.ts';
import type { ApprovalDependencies } from '../../../lib/api/approvals.ts';
import { type Person, personFromIdentity } from '../../../lib/identity/principal.ts';
import { IN_LAMBDA, useEmfCapture } from '../../support/emf.ts';
import { iamUser } from '../../support/signed-request.ts';

/**
 * ApprovalWaitSeconds: the time from an action's approval request to the decision on it,
 * recorded by the decision that takes effect (not by a repeat of it).
 */
const emf = useEmfCapture();

const REQUESTER: Person = personFromIdentity(iamUser('requester@example.com'));
const APPROVER: Person = personFromIdentity(iamUser('approver@example.com'));
const WAITED_SECONDS = 90;

function heldRecord(): ActionRecord {
  const requestedAt = new Date(Date.now() - WAITED_SECONDS * 1000).toISOString();
  return {
    actionId: `act_${'a'.repeat(32)}`,
    action: 'device.wipe',
    target: { deviceId: '1042' },
    reason: 'approval metrics test',
    dryRun: false,
    status: 'awaiting_approval',
    createdAt: requestedAt,
    updatedAt: requestedAt,
    results: {},
    expiresAt: 1_900_000_000,
    requestedBy: REQUESTER.name,
    requester: REQUESTER,
    approval: { reasons: ['device.wipe needs approval'], requestedAt, expiresAt: requestedAt },
    approvalTaskToken: 'task-token',
  } as ActionRecord;
}

function dependencies(record: ActionRecord): ApprovalDependencies {
  return {
    actions: { get: async () => record, decideApproval: async () => 'task-token' },
    tokens: { succeed: async () => {}, fail: async () => {} },
    audit: { append: async () => {} },
  };
}

async function load() {
  const metrics = await emf.load(IN_LAMBDA);
  const { decideOnAction } = await import('../../../lib/api/approvals.ts');
  return { metrics, decideOnAction };
}

describe('an approval decision', () => {
  it.each(['approved', 'rejected'] as const)(
    'records how long the action waited when %s',
    async (decision) => {
      const { metrics, decideOnAction } = await load();
      const record = heldRecord();

      await decideOnAction(dependencies(record), record.actionId, decision, {}, APPROVER);
      metrics.publishMetrics();

      const [wait, ...others] = emf.emitted();
      expect(others).toEqual([]);
      expect(wait).toMatchObject({
        name: 'ApprovalWaitSeconds',
        unit: 'Seconds',
        dimensions: { service: 'citrix-response', action: 'device.wipe' },
      });
      expect(wait?.value).toBeGreaterThanOrEqual(WAITED_SECONDS);
      expect(wait?.value).toBeLessThan(WAITED_SECONDS + 30);
    },
  );

  it('records nothing for a repeated decision or a refused one', async () => {
    const { metrics, decideOnAction } = await load();
    const decided: ActionRecord = {
      ...heldRecord(),
      status: 'running',
      approval: {
        ...(heldRecord().approval as NonNullable<ActionRecord['approval']>),
        decision: 'approved',
        decidedBy: APPROVER.name,
      },
    };
    await decideOnAction(dependencies(decided), decided.actionId, 'approved', {}, APPROVER);
    // Approving one's own action is refused before anything is recorded.
    const own = heldRecord();
    await decideOnAction(dependencies(own), own.actionId, 'approved', {}, REQUESTER).catch(
      () => undefined,
    );
    metrics.publishMetrics();

    expect(emf.emitted()).toEqual([]);
  });
});
