import { describe, expect, it } from 'vitest';
import { EXIT } from '../../../cli/exit-codes.ts';
import { fakeActions, runCli, useFakeApi, viewOf } from '../support/fake-api.ts';

const startFakeApi = useFakeApi();

/** Runs `act …` against an API where every action succeeds; the bodies it received. */
async function act(argv: readonly string[]) {
  const actions = fakeActions((body) =>
    viewOf({
      status: body.dryRun === true ? 'planned' : 'succeeded',
      dryRun: body.dryRun === true,
    }),
  );
  const fake = await startFakeApi(actions.route);
  const run = await runCli(['--api', fake.server.baseUrl.href, 'act', ...argv, '--yes']);
  return { run, bodies: actions.accepted.map((request) => request.body) };
}

describe('act', () => {
  it('turns the flags into the action request, without requestedBy: the signer is the requester', async () => {
    const { run, bodies } = await act([
      'session.logoff',
      '--users',
      'alice@example.com, bob@example.com',
      '--reason',
      'INC-7: phishing',
      '--ticket',
      'INC-7',
      '--notify',
      'Save your work: IT security logs you off in 2 minutes',
      '--grace-seconds',
      '120',
      '--callback',
      'soar',
    ]);

    expect(run.code).toBe(EXIT.ok);
    expect(bodies.at(-1)).toEqual({
      action: 'session.logoff',
      target: { users: ['alice@example.com', 'bob@example.com'] },
      reason: 'INC-7: phishing',
      ticket: 'INC-7',
      notify: {
        title: 'Your session will be logged off',
        text: 'Save your work: IT security logs you off in 2 minutes',
        graceSeconds: 120,
      },
      callback: 'soar',
      dryRun: false,
    });
  });

  it('sends the mode of an action that has modes; a mode needing approval shows the plan first', async () => {
    const { bodies } = await act([
      'admin.revoke',
      '--admin',
      'mallory@example.com',
      '--mode',
      'delete',
      '--reason',
      'r',
    ]);

    expect(bodies.map((body) => [body.dryRun, body.options])).toEqual([
      [true, { mode: 'delete' }],
      [false, { mode: 'delete' }],
    ]);
  });

  it('an action that always needs approval shows its plan first', async () => {
    const { bodies } = await act(['device.wipe', '--device-id', '42', '--reason', 'r']);

    expect(bodies.map((body) => body.dryRun)).toEqual([true, false]);
    expect(bodies[1]?.target).toEqual({ deviceId: '42' });
  });

  it('names the flag of a value the catalog refuses, before sending anything', async () => {
    const { run, bodies } = await act([
      'session.logoff',
      '--user',
      'a@example.com',
      '--notify',
      'Bye',
      '--grace-seconds',
      '5000',
      '--reason',
      'r',
    ]);

    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr.split('\n')[0]).toMatch(/^error: --grace-seconds: /);
    expect(bodies).toEqual([]);
  });

  it("reports the API's refusal in one line, with the fields it names, exit 1", async () => {
    const fake = await startFakeApi(() => ({
      status: 400,
      body: {
        error: {
          code: 'invalid_request',
          message: 'Invalid request: target.user',
          fields: [{ field: 'target.user', message: 'is protected' }],
        },
      },
    }));

    const run = await runCli([
      '--api',
      fake.server.baseUrl.href,
      'act',
      'session.disconnect',
      '--user',
      'a@example.com',
      '--reason',
      'r',
    ]);

    expect(run.code).toBe(EXIT.failed);
    expect(run.stderr).toBe(
      'error: invalid_request: Invalid request: target.user (target.user: is protected)\n',
    );
  });

  it('refuses an empty --users list', async () => {
    const { run, bodies } = await act(['session.logoff', '--users', ' , ', '--reason', 'r']);

    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toMatch(/^error: --users: /);
    expect(bodies).toEqual([]);
  });
});
