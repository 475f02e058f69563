import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../../cli/exit-codes.ts';
import { fakeActions, runCli, useFakeApi, viewOf } from '../support/fake-api.ts';

const startFakeApi = useFakeApi();
let dir: string;
let file: string;

const RUNBOOK = `name: test-lockdown
description: Disconnect a user's sessions, then push the policies to their devices
inputs:
  user:
    description: The user to lock down
    example: alice@example.com
  device-owner:
    description: Whose devices get the policies
    required: false
steps:
  - id: disconnect
    action: session.disconnect
    target: { user: "{{inputs.user}}" }
  - id: policies
    action: device.deployPolicy
    target: { user: "{{inputs.user}}" }
    continueOnFailure: true
`;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'citrix-response-runbooks-'));
  file = join(dir, 'test-lockdown.yaml');
  await writeFile(file, RUNBOOK);
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const CHILDREN = ['act_c0000000000000000000000000000001', 'act_c0000000000000000000000000000002'];

/** An API that plans and runs a runbook of two steps, each step a child action. */
async function runbookApi() {
  const actions = fakeActions((body) => {
    const dryRun = body.dryRun === true;
    return viewOf({
      action: 'runbook.run',
      status: dryRun ? 'planned' : 'succeeded',
      dryRun,
      target: body.target as Record<string, unknown>,
      summary: dryRun ? 'Would run 2 steps' : '2 of 2 steps succeeded',
      steps: [
        {
          id: 'disconnect',
          action: 'session.disconnect',
          status: dryRun ? 'planned' : 'succeeded',
          childActionId: CHILDREN[0],
        },
        {
          id: 'policies',
          action: 'device.deployPolicy',
          status: dryRun ? 'planned' : 'succeeded',
          childActionId: CHILDREN[1],
        },
      ],
    });
  });
  const fake = await startFakeApi((request) => {
    const child = CHILDREN.indexOf(request.path.split('/')[3] ?? '');
    if (child === -1) return actions.route(request);
    return {
      status: 200,
      body: viewOf({
        status: 'planned',
        dryRun: true,
        results: [{ sessionId: `s-${child}`, userName: 'alice@example.com', outcome: 'planned' }],
      }),
    };
  });
  return { ...actions, api: fake.server.baseUrl.href };
}

describe('runbook list', () => {
  it('lists the runbooks of a folder: inputs and steps; --json for scripts', async () => {
    const run = await runCli(['runbook', 'list', '--dir', dir]);
    const json = await runCli(['--json', 'runbook', 'list', '--dir', dir]);

    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toBe(
      [
        "test-lockdown: Disconnect a user's sessions, then push the policies to their devices",
        '    --user <value> (required): The user to lock down',
        '    --device-owner <value>: Whose devices get the policies',
        '    steps: disconnect (session.disconnect), policies (device.deployPolicy)',
        '',
      ].join('\n'),
    );
    expect((JSON.parse(json.stdout) as { name: string }[]).map((runbook) => runbook.name)).toEqual([
      'test-lockdown',
    ]);
  });
});

describe('runbook run <name>', () => {
  it("lists the repository's runbooks, each with its inputs as flags", async () => {
    const runs = await runCli(['runbook', 'run', '--help']);
    const compromised = await runCli(['runbook', 'run', 'compromised-user', '--help']);

    expect(runs.code).toBe(EXIT.ok);
    for (const name of ['compromised-user', 'lost-device', 'departing-administrator']) {
      expect(runs.stdout).toMatch(new RegExp(`^  ${name} \\[options\\]`, 'm'));
    }
    expect(compromised.code).toBe(EXIT.ok);
    expect(compromised.stdout).toMatch(/^ {2}--user <value> +The user/m);
  });

  it('a mistyped runbook gets a did-you-mean, exit 2', async () => {
    const run = await runCli(['runbook', 'run', 'compromised-usr', '--user', 'a', '--reason', 'r']);

    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toContain('(Did you mean compromised-user?)');
  });

  it('sends the name and the inputs: the server runs its own copy of the runbook', async () => {
    const api = await runbookApi();

    const run = await runCli([
      '--api',
      api.api,
      'runbook',
      'run',
      'compromised-user',
      '--user',
      'alice@example.com',
      '--reason',
      'r',
      '--dry-run',
    ]);

    expect(run.code).toBe(EXIT.ok);
    expect(api.accepted.map((request) => request.body)).toEqual([
      {
        action: 'runbook.run',
        target: { runbook: 'compromised-user' },
        inputs: { user: 'alice@example.com' },
        reason: 'r',
        dryRun: true,
      },
    ]);
  });
});

describe('runbook run <file>', () => {
  it("--help shows the runbook's inputs as flags, and its steps", async () => {
    const run = await runCli(['runbook', 'run', file, '--help']);

    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toContain('--user <value>');
    expect(run.stdout).toContain('--device-owner <value>');
    expect(run.stdout).toContain(
      '  1. disconnect: session.disconnect\n  2. policies: device.deployPolicy, continues on failure',
    );
  });

  it('sends the whole definition with the inputs: the plan of every step first, then the run', async () => {
    const api = await runbookApi();

    const run = await runCli([
      '--api',
      api.api,
      'runbook',
      'run',
      file,
      '--user',
      'alice@example.com',
      '--device-owner',
      'alice',
      '--reason',
      'INC-3',
      '--ticket',
      'INC-3',
      '--yes',
    ]);

    expect(run.code).toBe(EXIT.ok);
    expect(api.accepted.map((request) => request.body.dryRun)).toEqual([true, false]);
    const body = api.accepted[1]?.body ?? {};
    expect(body).toMatchObject({
      action: 'runbook.run',
      inputs: { user: 'alice@example.com', 'device-owner': 'alice' },
      reason: 'INC-3',
      ticket: 'INC-3',
      dryRun: false,
    });
    expect((body.target as { definition: { name: string } }).definition.name).toBe('test-lockdown');
    expect(run.stderr).toContain('  1. disconnect (session.disconnect) planned');
    expect(run.stderr).toContain('      alice@example.com s-0: planned');
    expect(run.stderr).toContain('  2. policies (device.deployPolicy) planned');
    expect(run.stdout.split('\n')[0]).toMatch(
      /^act_\d+ runbook\.run succeeded: 2 of 2 steps succeeded$/,
    );
  });

  it('refuses a missing required input, and asks before running (no terminal: --yes)', async () => {
    const api = await runbookApi();

    const missing = await runCli([
      '--api',
      api.api,
      'runbook',
      'run',
      file,
      '--reason',
      'r',
      '--yes',
    ]);
    const unconfirmed = await runCli([
      '--api',
      api.api,
      'runbook',
      'run',
      file,
      '--user',
      'a@example.com',
      '--reason',
      'r',
    ]);

    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toMatch(/^error: required option '--user <value>' not specified/);
    expect(unconfirmed.code).toBe(EXIT.usage);
    expect(unconfirmed.stderr).toMatch(/pass --yes/);
    expect(api.accepted).toEqual([]);
  });

  it('names the file and the field of a runbook file that is not valid', async () => {
    const broken = join(dir, 'broken.yaml');
    await writeFile(
      broken,
      RUNBOOK.replace('name: test-lockdown', 'name: broken').replace(
        'session.disconnect',
        'session.nap',
      ),
    );

    const run = await runCli(['runbook', 'run', broken, '--help']);

    expect(run.code).toBe(EXIT.failed);
    expect(run.stderr).toMatch(new RegExp(`^error: ${broken}: steps\\[0\\]`));
  });
});
