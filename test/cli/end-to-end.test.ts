import { describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/exit-codes.ts';
import type { RecordedRequest } from '../../local/simulator/server.ts';
import { useLocalStack } from '../support/local-stack.ts';
import { TEST_PEOPLE, type TestPerson } from '../support/signed-request.ts';
import { DEVICES, SESSIONS } from '../support/simulator-fixture.ts';
import { runCli } from './support/fake-api.ts';

/** The local stack as `npm start` runs it, with full wipes held for approval. */
const local = useLocalStack({
  reason: 'CLI end to end',
  env: { APPROVAL_REQUIRED: 'device.wipe' },
  // compromised-user warns users 30 s ahead, and a run looks at its steps every 5 s or more.
  waitTimeOverrides: { WaitGracePeriod: 0, WaitForStep: 25 },
});

/** `citrix-response <argv>` against the local stack, signed as a test person. */
function cli(argv: readonly string[], as: TestPerson = 'requester@example.com') {
  return runCli(['--api', local.stack.apiUrl, ...argv], {
    person: TEST_PEOPLE[as],
    sleep: (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds / 20)),
  });
}

/** The Citrix calls that change something: log offs and device commands. */
const mutating = (request: RecordedRequest) =>
  request.method !== 'GET' &&
  (request.path.endsWith('/$logoff') || /\/device\/(?!filter$)[a-z/]+$/.test(request.path));

const actionIdIn = (stdout: string) => /^(act_[0-9a-f]{32}) /.exec(stdout)?.[1] ?? '';

describe('citrix-response against npm start', () => {
  it('logs off a user after its plan, and list --json finds the action by its ticket', async () => {
    const run = await cli([
      'act',
      'session.logoff',
      '--user',
      'alice@example.com',
      '--reason',
      'Rehearsal',
      '--ticket',
      'INC-CLI-1',
      '--yes',
    ]);

    expect(run.stderr).not.toMatch(/^error/m);
    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toMatch(/^act_[0-9a-f]{32} session\.logoff succeeded: /);
    expect(
      local
        .calls(mutating)
        .map((request) => request.path)
        .sort(),
    ).toEqual([
      `/cvad/manage/Sessions/${SESSIONS.alice1}/$logoff`,
      `/cvad/manage/Sessions/${SESSIONS.alice2}/$logoff`,
    ]);

    const list = await cli(['--json', 'list', '--ticket', 'INC-CLI-1']);
    const listed = JSON.parse(list.stdout) as {
      actionId: string;
      dryRun: boolean;
      requestedBy?: string;
    }[];
    expect(listed.map((action) => [action.actionId, action.dryRun])).toContainEqual([
      actionIdIn(run.stdout),
      false,
    ]);
    expect(listed).toHaveLength(2);
  });

  it('a wipe asked by one person is refused to them, and approved by a second person', async () => {
    const held = await cli([
      'act',
      'device.wipe',
      '--device-id',
      DEVICES.bobPhone,
      '--reason',
      'Rehearsal',
      '--yes',
    ]);
    const actionId = actionIdIn(held.stdout);

    expect(held.code).toBe(EXIT.awaitingApproval);
    expect(held.stdout).toContain(`citrix-response approve|reject ${actionId}`);

    const self = await cli(['approve', actionId]);
    expect(self.code).toBe(EXIT.failed);
    expect(self.stderr).toMatch(/^error: self_approval: /);
    expect(local.calls(mutating)).toEqual([]);

    const second = await cli(
      ['approve', actionId, '--comment', 'Confirmed', '--follow'],
      'approver@example.com',
    );
    expect(second.stderr).toContain(`${actionId} running, decided by`);
    expect(second.code).toBe(EXIT.ok);
    expect(local.calls(mutating).map((request) => request.path)).toEqual([
      expect.stringMatching(/\/device\/wipe$/),
    ]);
  });

  it('runs compromised-user: its dry run sends no mutating call, its run logs off and wipes', async () => {
    const plan = await cli([
      'runbook',
      'run',
      'compromised-user',
      '--user',
      'alice@example.com',
      '--reason',
      'Rehearsal',
      '--dry-run',
    ]);

    expect(plan.stderr).not.toMatch(/^error/m);
    expect(plan.code).toBe(EXIT.ok);
    expect(plan.stdout).toMatch(/^act_[0-9a-f]{32} runbook\.run planned/);
    expect(local.calls(mutating)).toEqual([]);

    const run = await cli([
      'runbook',
      'run',
      'compromised-user',
      '--user',
      'alice@example.com',
      '--reason',
      'Rehearsal',
      '--yes',
    ]);

    expect(run.stderr).toContain('logoff-sessions (session.logoff) planned');
    expect(
      local
        .calls(mutating)
        .map((request) => request.path)
        .sort(),
    ).toEqual(
      [
        `/cvad/manage/Sessions/${SESSIONS.alice1}/$logoff`,
        `/cvad/manage/Sessions/${SESSIONS.alice2}/$logoff`,
        expect.stringMatching(/\/device\/sel(ective)?wipe$/),
      ].sort(),
    );
    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toMatch(/^act_[0-9a-f]{32} runbook\.run succeeded: /);
  });

  it('pauses lost-device at its full wipe; a second person approves that step by the run id', async () => {
    const held = await cli([
      'runbook',
      'run',
      'lost-device',
      '--device',
      DEVICES.bobPhone,
      '--reason',
      'Rehearsal',
      '--yes',
    ]);
    const runId = actionIdIn(held.stdout);

    expect(held.code).toBe(EXIT.awaitingApproval);
    expect(held.stdout).toContain('step erase-device (device.wipe) waits for approval');
    expect(local.calls(mutating).map((request) => request.path)).toEqual([
      expect.stringMatching(/\/device\/sel(ective)?wipe$/),
    ]);

    const approved = await cli(['approve', runId, '--follow'], 'approver@example.com');

    expect(approved.stdout).toMatch(new RegExp(`^${runId} runbook\\.run succeeded: `));
    expect(approved.code).toBe(EXIT.ok);
    expect(local.calls(mutating).map((request) => request.path)).toEqual([
      expect.stringMatching(/\/device\/sel(ective)?wipe$/),
      expect.stringMatching(/\/device\/wipe$/),
    ]);
  });
});
