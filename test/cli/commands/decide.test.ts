import { describe, expect, it } from 'vitest';
import { EXIT } from '../../../cli/exit-codes.ts';
import {
  ACTION_ID,
  type FakeAnswer,
  runCli,
  type SignedRequest,
  useFakeApi,
  viewOf,
} from '../support/fake-api.ts';

const startFakeApi = useFakeApi();

const CHILD_ID = 'act_fedcba9876543210fedcba9876543210';

/** An API holding ACTION_ID for approval; `decide` answers the decision. */
async function heldAction(
  decide: (request: SignedRequest) => FakeAnswer,
  view = viewOf({ status: 'awaiting_approval', action: 'device.wipe' }),
) {
  let decided: string | undefined;
  const fake = await startFakeApi((request) => {
    if (request.method === 'POST') {
      const answer = decide(request);
      if (answer.status === 200) decided = request.path.split('/')[4];
      return answer;
    }
    return {
      status: 200,
      body:
        decided === undefined
          ? view
          : viewOf({ status: decided === 'approve' ? 'failed' : 'rejected' }),
    };
  });
  return fake;
}

describe('approve and reject', () => {
  it('approve sends only the comment (the signer decides) and exits 0 on the decision', async () => {
    const fake = await heldAction((request) => ({
      status: 200,
      body: { actionId: ACTION_ID, status: 'running', decidedBy: request.person },
    }));

    const run = await runCli(
      [
        '--api',
        fake.server.baseUrl.href,
        'approve',
        ACTION_ID,
        '--comment',
        'Confirmed with carol',
      ],
      {
        person: 'it.manager',
      },
    );

    expect(run.code).toBe(EXIT.ok);
    const post = fake.requests.find((request) => request.method === 'POST');
    expect(post?.path).toBe(`/v1/actions/${ACTION_ID}/approve`);
    expect(post?.json).toEqual({ comment: 'Confirmed with carol' });
    expect(post?.person).toBe('it.manager');
    expect(run.stdout).toBe(`${ACTION_ID} approved by it.manager: now running\n`);
  });

  it('reports a refused self-approval in one line, exit 1', async () => {
    const fake = await heldAction(() => ({
      status: 403,
      body: {
        error: { code: 'self_approval', message: 'The requester cannot approve their own action' },
      },
    }));

    const run = await runCli(['--api', fake.server.baseUrl.href, 'approve', ACTION_ID]);

    expect(run.code).toBe(EXIT.failed);
    expect(run.stderr).toBe(
      'error: self_approval: The requester cannot approve their own action\n',
    );
  });

  it('--follow follows the action to its end and exits on how it ended', async () => {
    const fake = await heldAction(() => ({
      status: 200,
      body: { actionId: ACTION_ID, status: 'rejected', decidedBy: 'it.manager' },
    }));

    const run = await runCli(['--api', fake.server.baseUrl.href, 'reject', ACTION_ID, '--follow'], {
      person: 'it.manager',
    });

    expect(fake.requests.find((request) => request.method === 'POST')?.path).toBe(
      `/v1/actions/${ACTION_ID}/reject`,
    );
    expect(run.code).toBe(EXIT.failed);
    expect(run.stdout).toMatch(/^act_\w+ session\.logoff rejected/);
  });

  it('approving a runbook run approves the step that waits', async () => {
    const run = viewOf({
      status: 'running',
      action: 'runbook.run',
      target: { runbook: 'lost-device' },
      steps: [
        {
          id: 'lock',
          action: 'device.deployPolicy',
          status: 'succeeded',
          childActionId: 'act_11111111111111111111111111111111',
        },
        { id: 'wipe', action: 'device.wipe', status: 'awaiting_approval', childActionId: CHILD_ID },
      ],
    });
    const fake = await heldAction(
      () => ({
        status: 200,
        body: { actionId: CHILD_ID, status: 'running', decidedBy: 'it.manager' },
      }),
      run,
    );

    const decision = await runCli(['--api', fake.server.baseUrl.href, 'approve', ACTION_ID], {
      person: 'it.manager',
    });

    expect(decision.code).toBe(EXIT.ok);
    expect(fake.requests.find((request) => request.method === 'POST')?.path).toBe(
      `/v1/actions/${CHILD_ID}/approve`,
    );
    expect(decision.stdout).toContain(`(step wipe of runbook run ${ACTION_ID})`);
  });
});
