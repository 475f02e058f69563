import { describe, expect, it } from 'vitest';
import type { ActionRecord } from '../../lib/actions/schema.ts';
import type { RecordedRequest } from '../../local/simulator/server.ts';
import { useLocalStack } from '../support/local-stack.ts';
import { ADMINS, DEVICES, SESSIONS } from '../support/simulator-fixture.ts';

/**
 * Runbook runs end to end over the signed API, through the runbook workflow file in the local
 * engine: the shipped compromised-user runbook against the simulator, its dry run, a step that
 * fails (stopping the run, or not), and conditions over earlier steps.
 */
const local = useLocalStack({
  reason: 'runbook test',
  // The steps' warnings announce a grace period; the rounds wait 5 s and more: both shortened.
  waitTimeOverrides: { WaitForStep: 20, WaitGracePeriod: 10 },
});
const { request, finished, calls } = local;

/** What changes something in Citrix: an action on a session, a device command, an admin change. */
const MUTATING =
  /\/\$(logoff|disconnect|sendMessage)$|\/device\/(wipe|selectivewipe|selwipe)|policy/;
const mutatingCalls = () =>
  calls(
    (r: RecordedRequest) =>
      ['PUT', 'DELETE', 'PATCH'].includes(r.method) ||
      (r.method === 'POST' && MUTATING.test(r.path)),
  );
const logoffsOf = (sessionId: string) =>
  calls((r) => r.method === 'POST' && r.path === `/cvad/manage/Sessions/${sessionId}/$logoff`);
const selectiveWipes = () =>
  calls((r) => r.method === 'POST' && /\/device\/(selectivewipe|selwipe)$/.test(r.path));

async function children(run: ActionRecord): Promise<ActionRecord[]> {
  const ids = (run.steps ?? []).flatMap((step) => (step.childActionId ? [step.childActionId] : []));
  const records = await Promise.all(ids.map((id) => local.stack.actions.get(id)));
  return records.filter((record): record is ActionRecord => record !== undefined);
}

const statuses = (run: ActionRecord) => (run.steps ?? []).map((step) => [step.id, step.status]);

describe('the compromised-user runbook', () => {
  it("warns and logs off alice's sessions, selectively wipes her devices, and skips the admin revoke", async () => {
    const runId = await request({
      action: 'runbook.run',
      target: { runbook: 'compromised-user' },
      inputs: { user: 'alice@example.com' },
      ticket: 'INC-RUNBOOK-1',
    });
    const run = await finished(runId);

    expect(run.status).toBe('succeeded');
    expect(statuses(run)).toEqual([
      ['logoff-sessions', 'succeeded'],
      ['wipe-devices', 'succeeded'],
      ['find-admin-access', 'failed'],
      ['revoke-admin-access', 'skipped'],
    ]);
    expect(run.summary).toMatch(
      /^Runbook compromised-user: logoff-sessions succeeded \(2 of 2 sessions logged off\); /,
    );
    // The simulator got the warning, then the log off, of both of alice's sessions.
    for (const sessionId of [SESSIONS.alice1, SESSIONS.alice2]) {
      expect(
        calls((r) => r.path === `/cvad/manage/Sessions/${sessionId}/$sendMessage`),
      ).toHaveLength(1);
      expect(logoffsOf(sessionId)).toHaveLength(1);
    }
    expect(selectiveWipes().map((r) => JSON.stringify(r.body))).toEqual([
      expect.stringContaining(DEVICES.aliceLaptop),
    ]);
    expect(calls((r) => r.path.includes('/administrators') && r.method !== 'GET')).toEqual([]);

    // Each step is its own action: the run's requester and ticket, and the run it belongs to.
    const steps = await children(run);
    expect(steps.map((step) => [step.action, step.status, step.dryRun])).toEqual([
      ['session.logoff', 'succeeded', false],
      ['device.selectiveWipe', 'succeeded', false],
      ['admin.revoke', 'failed', true],
    ]);
    for (const step of steps) {
      expect(step.parentActionId).toBe(runId);
      expect(step.requester).toEqual(run.requester);
      expect(step.ticket).toBe('INC-RUNBOOK-1');
    }
    // The view shows the steps, and the run's timeline has each step's start and end.
    const view = await local.signed(`/v1/actions/${runId}`);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({
      status: 'succeeded',
      inputs: { user: 'alice@example.com' },
      steps: run.steps,
    });
    const summaries = (view.body.timeline as { summary: string }[]).map((entry) => entry.summary);
    const [logoffId, wipeId] = steps.map((step) => step.actionId);
    expect(summaries).toEqual(
      expect.arrayContaining([
        `Step logoff-sessions started: session.logoff ${logoffId}`,
        'Step logoff-sessions succeeded: 2 of 2 sessions logged off',
        `Step wipe-devices started: device.selectiveWipe ${wipeId}`,
        expect.stringMatching(/^Step find-admin-access failed: Action failed: No administrator/),
        'Step revoke-admin-access skipped: find-admin-access counted at least 1 target did not hold',
      ]),
    );
    // The run's plan lists what each step did.
    expect(run.plan).toEqual(
      expect.arrayContaining([
        { target: 'logoff-sessions: 2 of 2 sessions', act: true },
        expect.objectContaining({ target: `wipe-devices: ${DEVICES.aliceLaptop}`, act: true }),
        expect.objectContaining({ target: 'revoke-admin-access', act: false }),
      ]),
    );
  });

  it('revokes the administrator access of a user who has some', async () => {
    const run = await finished(
      await request({
        action: 'runbook.run',
        target: { runbook: 'compromised-user' },
        inputs: { user: ADMINS.mallory.email },
      }),
    );
    expect(statuses(run)).toEqual([
      ['logoff-sessions', 'succeeded'],
      ['wipe-devices', 'succeeded'],
      ['find-admin-access', 'planned'],
      ['revoke-admin-access', 'succeeded'],
    ]);
    expect(run.steps?.[2]?.targets).toBe(1);
    expect(run.status).toBe('succeeded');
    expect(
      calls((r) => r.method === 'PUT' && r.path.includes('/administrators/access')),
    ).toHaveLength(1);
  });

  it('plans every step in a dry run and sends no mutating Citrix call', async () => {
    const run = await finished(
      await request({
        action: 'runbook.run',
        target: { runbook: 'compromised-user' },
        inputs: { user: 'alice@example.com' },
        dryRun: true,
      }),
    );
    expect(run.status).toBe('planned');
    expect(statuses(run)).toEqual([
      ['logoff-sessions', 'planned'],
      ['wipe-devices', 'planned'],
      ['find-admin-access', 'failed'],
      ['revoke-admin-access', 'skipped'],
    ]);
    expect(run.summary).toMatch(
      /^Dry run of compromised-user: logoff-sessions planned \(Dry run: would log off 2 sessions\); /,
    );
    expect(run.steps?.slice(0, 2).map((step) => step.targets)).toEqual([2, 1]);
    expect((await children(run)).every((step) => step.dryRun)).toBe(true);
    expect(mutatingCalls()).toEqual([]);
  });
});

describe('a runbook the caller holds', () => {
  /** Dave's device refuses every command; bob has one session. */
  const definition = (continueOnFailure: boolean) => ({
    name: 'wipe-then-logoff',
    description: 'A test runbook: a device command that fails, then a log off',
    inputs: { user: { description: 'The user whose device is wiped' } },
    steps: [
      {
        id: 'wipe-dave',
        action: 'device.selectiveWipe',
        target: { user: '{{inputs.user}}' },
        continueOnFailure,
      },
      { id: 'logoff-bob', action: 'session.logoff', target: { user: 'bob@example.com' } },
    ],
  });

  it('stops at the first failure its step does not continue past', async () => {
    const run = await finished(
      await request({
        action: 'runbook.run',
        target: { definition: definition(false) },
        inputs: { user: 'dave@example.com' },
      }),
    );
    expect(run.status).toBe('failed');
    expect(statuses(run)).toEqual([
      ['wipe-dave', 'failed'],
      ['logoff-bob', 'not_run'],
    ]);
    expect(run.summary).toMatch(/^Stopped at step wipe-dave: /);
    expect(logoffsOf(SESSIONS.bob)).toEqual([]);
  });

  it('goes on after a failure its step continues past, and partially succeeds', async () => {
    const run = await finished(
      await request({
        action: 'runbook.run',
        target: { definition: definition(true) },
        inputs: { user: 'dave@example.com' },
      }),
    );
    expect(run.status).toBe('partially_succeeded');
    expect(statuses(run)).toEqual([
      ['wipe-dave', 'failed'],
      ['logoff-bob', 'succeeded'],
    ]);
    expect(logoffsOf(SESSIONS.bob)).toHaveLength(1);
  });

  it('runs a step only when its condition holds over the earlier steps', async () => {
    const run = await finished(
      await request({
        action: 'runbook.run',
        target: {
          definition: {
            name: 'conditions',
            description: 'A test runbook: a probe, and two steps that depend on it',
            steps: [
              {
                id: 'count-bob',
                action: 'session.logoff',
                dryRun: true,
                target: { user: 'bob@example.com' },
              },
              {
                id: 'if-many',
                action: 'session.logoff',
                target: { user: 'bob@example.com' },
                if: { step: 'count-bob', targets: { min: 2 } },
              },
              {
                id: 'if-one',
                action: 'session.disconnect',
                target: { user: 'bob@example.com' },
                if: {
                  all: [
                    { step: 'count-bob', status: ['planned'], targets: { max: 1 } },
                    { not: { step: 'if-many', status: ['succeeded'] } },
                  ],
                },
              },
            ],
          },
        },
      }),
    );
    expect(statuses(run)).toEqual([
      ['count-bob', 'planned'],
      ['if-many', 'skipped'],
      ['if-one', 'succeeded'],
    ]);
    expect(run.status).toBe('succeeded');
    expect(logoffsOf(SESSIONS.bob)).toEqual([]);
    expect(
      calls((r) => r.path === `/cvad/manage/Sessions/${SESSIONS.bob}/$disconnect`),
    ).toHaveLength(1);
  });
});

describe('a runbook request', () => {
  it('is refused, naming the field, before anything starts', async () => {
    const refused = await local.signed(
      '/v1/actions',
      JSON.stringify({
        action: 'runbook.run',
        target: { runbook: 'compromised-user' },
        inputs: { user: 'not a user name' },
        reason: 'bad input',
      }),
    );
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('inputs.user');
    const unknown = await local.signed(
      '/v1/actions',
      JSON.stringify({
        action: 'runbook.run',
        target: { runbook: 'no-such-runbook' },
        reason: 'x',
      }),
    );
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toContain('no runbook named \\"no-such-runbook\\"');
    expect(mutatingCalls()).toEqual([]);
  });
});
