import { describe, expect, it } from 'vitest';
import { estimateRunbookHistoryEvents, runSchedule } from '../../lib/runbooks/schedule.ts';
import { useLocalStack } from '../support/local-stack.ts';
import { DEVICES } from '../support/simulator-fixture.ts';

/**
 * Approvals inside a runbook run: the lost-device runbook's full wipe needs approval (the
 * default), so the run waits while its step does; only a second person can approve the step's
 * action, and the run itself is not what is approved.
 */
const local = useLocalStack({
  reason: 'runbook approval test',
  // Empty: the defaults (device.wipe needs approval).
  env: { APPROVAL_REQUIRED: '', APPROVAL_TIMEOUT_SECONDS: '30' },
  waitTimeOverrides: { WaitForStep: 20 },
});
const { request, decide, finished, awaitingApproval, calls } = local;
const commandsTo = (command: 'wipe' | 'selectivewipe') =>
  calls((r) => r.method === 'POST' && r.path.endsWith(`/device/${command}`));

async function heldRun() {
  const runId = await request({
    action: 'runbook.run',
    target: { runbook: 'lost-device' },
    inputs: { device: DEVICES.bobPhone },
  });
  const held = await awaitingApproval(runId);
  const step = held.steps?.find((candidate) => candidate.status === 'awaiting_approval');
  if (step?.childActionId === undefined) throw new Error('no step awaits approval');
  return { runId, held, step, childActionId: step.childActionId };
}

describe('a runbook step that needs approval', () => {
  it('pauses the run until a second person approves the step, then the run goes on', async () => {
    const { runId, held, step, childActionId } = await heldRun();
    expect(step.id).toBe('erase-device');
    expect(held.steps?.[0]).toMatchObject({ id: 'remove-corporate-data', status: 'succeeded' });
    expect(commandsTo('selectivewipe')).toHaveLength(1);
    expect(commandsTo('wipe')).toEqual([]);

    // The requester of the run is the requester of its steps: no self-approval.
    const self = await decide(childActionId, 'approve', {}, 'requester@example.com');
    expect(self.status).toBe(403);
    expect(self.body).toMatchObject({ error: { code: 'self_approval' } });
    // The run is not what is approved: its step's action is.
    const run = await decide(runId, 'approve');
    expect(run.status).toBe(409);
    expect(JSON.stringify(run.body)).toContain(childActionId);
    expect(commandsTo('wipe')).toEqual([]);

    const approved = await decide(childActionId, 'approve');
    expect(approved.status).toBe(200);
    const done = await finished(runId);
    expect(done.status).toBe('succeeded');
    expect(done.steps?.map((s) => s.status)).toEqual(['succeeded', 'succeeded']);
    expect(commandsTo('wipe')).toHaveLength(1);
    // However long the step waited, the run's history stays within its bound.
    const events = local.stack.runner.execution(runId)?.events ?? [];
    const runbook = local.stack.runbooks.get('lost-device');
    if (runbook === undefined) throw new Error('lost-device is not deployed');
    const schedule = runSchedule(runbook, 30);
    expect(events.length).toBeGreaterThan(0);
    expect(events.length).toBeLessThanOrEqual(
      estimateRunbookHistoryEvents(schedule.stepDeadlineSeconds, schedule.maxWaitSeconds),
    );
  });

  it('ends the run rejected when the step is rejected', async () => {
    const { runId, childActionId } = await heldRun();
    expect((await decide(childActionId, 'reject', { comment: 'Phone found' })).status).toBe(200);
    const done = await finished(runId);
    expect(done.status).toBe('rejected');
    expect(done.steps?.map((s) => s.status)).toEqual(['succeeded', 'rejected']);
    expect(done.summary).toMatch(/^Stopped at step erase-device: /);
    expect(commandsTo('wipe')).toEqual([]);
  });
});
