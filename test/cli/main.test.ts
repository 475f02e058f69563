import { describe, expect, it } from 'vitest';
import { flagNameOf } from '../../cli/catalog-flags.ts';
import { EXIT, EXIT_CODE_HELP } from '../../cli/exit-codes.ts';
import { TARGET_FIELDS } from '../../lib/actions/declaration.ts';
import { ACTION_TYPES, declarationOf } from '../../lib/actions/schema.ts';
import { RUNBOOK_ACTION } from '../../lib/runbooks/definition.ts';
import { ACTION_ID, runCli } from './support/fake-api.ts';

/** A fetch that fails the test: usage errors and help must send nothing. */
const noFetch = (() => {
  throw new Error('nothing may be sent');
}) as typeof fetch;

const ACTIONS = ACTION_TYPES.filter((action) => action !== RUNBOOK_ACTION);

describe('help', () => {
  it('lists every command, the exit codes and the environment', async () => {
    const run = await runCli(['--help'], { fetch: noFetch });

    expect(run.code).toBe(EXIT.ok);
    for (const command of [
      'act',
      'runbook',
      'status',
      'timeline',
      'list',
      'approve',
      'reject',
      'configure',
    ]) {
      expect(run.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    for (const [code, meaning] of Object.entries(EXIT_CODE_HELP)) {
      expect(run.stdout).toContain(`${code}  ${meaning}`);
    }
    expect(run.stdout).toContain('AWS_PROFILE');
  });

  it('act --help lists every catalog action with its summary', async () => {
    const run = await runCli(['act', '--help'], { fetch: noFetch });

    expect(run.code).toBe(EXIT.ok);
    const flat = run.stdout.replace(/\s+/g, ' ');
    for (const action of ACTIONS) {
      expect(flat).toContain(`${action} [options] ${declarationOf(action).summary}`);
    }
    expect(flat).toContain('citrix-response runbook run <name> --help');
  });

  it.each(ACTIONS)('act %s --help shows the flags its declaration gives it', async (action) => {
    const declaration = declarationOf(action);
    const run = await runCli(['act', action, '--help'], { fetch: noFetch });

    expect(run.code).toBe(EXIT.ok);
    for (const field of TARGET_FIELDS) {
      const flag = new RegExp(`^\\s+--${flagNameOf(field)} <`, 'm');
      if (declaration.targetFields.includes(field)) expect(run.stdout).toMatch(flag);
      else expect(run.stdout).not.toMatch(flag);
    }
    for (const mode of declaration.modes?.values ?? []) expect(run.stdout).toContain(`"${mode}"`);
    expect(run.stdout.includes('--mode <mode>')).toBe(declaration.modes !== undefined);
    expect(run.stdout.includes('--notify <message>')).toBe(declaration.warnsUsers);
    expect(run.stdout.includes('--urgency <urgency>')).toBe(declaration.warnsUsers);
    expect(run.stdout).toContain('--reason <text>');
    expect(run.stdout).toContain('--dry-run');
    expect(run.stdout).toContain('--json');
  });

  it.each([
    ['status', '--follow'],
    ['timeline', '<actionId>'],
    ['list', '--ticket <id>'],
    ['approve', '--comment <text>'],
    ['reject', '--comment <text>'],
    ['configure', '--stack <name>'],
    ['runbook', 'run a runbook: shows the plan of every step'],
    ['runbook list', '--dir <dir>'],
    ['runbook run', 'compromised-user [options]'],
  ])('%s --help works', async (command, mentions) => {
    const run = await runCli([...command.split(' '), '--help'], { fetch: noFetch });

    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toContain(`Usage: citrix-response ${command}`);
    expect(run.stdout).toContain(mentions);
    expect(run.stderr).toBe('');
  });
});

describe('usage errors', () => {
  it.each([
    ['an unknown command', ['statsu', ACTION_ID], "unknown command 'statsu'"],
    [
      'an unknown flag',
      ['act', 'session.logoff', '--usr', 'a', '--reason', 'r'],
      "unknown option '--usr'",
    ],
    [
      'a flag without its value',
      ['act', 'session.logoff', '--user'],
      "'--user <user>' argument missing",
    ],
    [
      'no --reason',
      ['act', 'session.logoff', '--user', 'alice@example.com'],
      "'--reason <text>' not specified",
    ],
    [
      'two target flags',
      ['act', 'session.logoff', '--user', 'a@example.com', '--machine', 'M', '--reason', 'r'],
      'cannot be used with option',
    ],
    [
      'no target flag',
      ['act', 'session.logoff', '--reason', 'r'],
      'name the target with one of --session-id',
    ],
    [
      'an unknown action',
      ['act', 'session.logof', '--user', 'a', '--reason', 'r'],
      "unknown command 'session.logof'",
    ],
    [
      'an invalid target',
      ['act', 'session.logoff', '--session-id', 'x', '--reason', 'r'],
      '--session-id:',
    ],
    [
      'a mode not declared',
      ['act', 'admin.revoke', '--admin', 'a@example.com', '--mode', 'erase', '--reason', 'r'],
      "'erase' is invalid",
    ],
    ['an invalid action id', ['status', 'act_123'], 'must be an action id'],
    ['an invalid --since', ['list', '--since', 'yesterday'], '--since:'],
    ['an invalid --api', ['--api', 'ftp://x', 'list'], '--api:'],
  ])('%s: one error line, the usage, exit 2, nothing sent', async (_, argv, message) => {
    const run = await runCli(argv, { fetch: noFetch });

    expect(run.code).toBe(EXIT.usage);
    expect(run.stdout).toBe('');
    const [first, ...rest] = run.stderr.trimEnd().split('\n');
    expect(first).toMatch(/^error: /);
    expect(first).toContain(message);
    expect(rest.join('\n')).toMatch(/^Usage: citrix-response /m);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  it('a mistyped action gets a did-you-mean from the catalog', async () => {
    const run = await runCli(['act', 'session.logof', '--user', 'a', '--reason', 'r'], {
      fetch: noFetch,
    });

    expect(run.stderr).toContain('(Did you mean session.logoff?)');
  });

  it('a mistyped flag gets a did-you-mean', async () => {
    const run = await runCli(['act', 'device.wipe', '--devce-id', '1', '--reason', 'r'], {
      fetch: noFetch,
    });

    expect(run.stderr).toContain('(Did you mean --device-id?)');
  });

  it('act alone shows the actions and exits 2', async () => {
    const run = await runCli(['act'], { fetch: noFetch });

    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toContain('session.logoff');
  });
});

describe('unexpected errors', () => {
  it('are one line without a stack trace, unless CITRIX_RESPONSE_DEBUG=1', async () => {
    // An answer whose body cannot be read: nothing the CLI explains.
    const broken = (async () =>
      ({
        ok: true,
        status: 200,
        text: async () => {
          throw new RangeError('the body stream broke');
        },
      }) as unknown as Response) as typeof fetch;
    const quiet = await runCli(['status', ACTION_ID], { fetch: broken });
    const debug = await runCli(['status', ACTION_ID], {
      fetch: broken,
      env: { CITRIX_RESPONSE_DEBUG: '1' },
    });

    expect(quiet.code).toBe(EXIT.failed);
    expect(quiet.stderr).toMatch(/^error: RangeError: the body stream broke/);
    expect(quiet.stderr).not.toMatch(/^\s+at /m);
    expect(debug.stderr).toMatch(/^\s+at /m);
  });
});
