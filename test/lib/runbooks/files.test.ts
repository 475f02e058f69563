import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  isDestructiveRunbook,
  listRunbooks,
  RUNBOOKS_DIR,
  RunbookFileError,
  readRunbookFile,
  runbooksDirFrom,
} from '../../../lib/runbooks/index.ts';

/**
 * Runbook files as `npm start`, synth and the CLI read them: YAML or JSON, their shape, then each
 * step against the catalog, every problem naming the file and the field.
 */

const folder = () => mkdtempSync(join(tmpdir(), 'runbooks-test-'));
function file(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
async function errorOf(path: string): Promise<RunbookFileError> {
  const error = await readRunbookFile(path).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(RunbookFileError);
  return error as RunbookFileError;
}

const VALID = `name: lock-out
description: Log off a user
inputs:
  user:
    description: The user
    example: alice@example.com
steps:
  - id: logoff
    action: session.logoff
    target: { user: "{{inputs.user}}" }
`;

describe('a runbook file', () => {
  it('reads YAML and JSON alike', async () => {
    const dir = folder();
    const yaml = await readRunbookFile(file(dir, 'lock-out.yaml', VALID));
    const json = await readRunbookFile(file(dir, 'lock-out.json', JSON.stringify(yaml)));
    expect(json).toEqual(yaml);
    expect(yaml.steps[0]).toMatchObject({ id: 'logoff', action: 'session.logoff' });
  });

  it.each([
    [
      'its name is not the file name',
      'other.yaml',
      VALID,
      'name',
      'must be "other", the file\'s name',
    ],
    [
      'a step names an action the catalog does not have',
      'lock-out.yaml',
      VALID.replace('session.logoff', 'session.nuke'),
      'steps[0] (step "logoff").action',
      'step "logoff" action: Invalid option',
    ],
    [
      "a step's target is not one its action takes",
      'lock-out.yaml',
      VALID.replace('{ user: "{{inputs.user}}" }', '{ deviceId: "1042" }'),
      'steps[0] (step "logoff").target.deviceId',
      'step "logoff" target.deviceId: is not a field of this request',
    ],
    [
      "a step's options are not its action's",
      'lock-out.yaml',
      `${VALID}    options: { mode: delete }\n`,
      'steps[0] (step "logoff").options',
      'step "logoff" options: is not a field of this request',
    ],
    [
      "an input's example is not a value its steps can take",
      'lock-out.yaml',
      VALID.replace('example: alice@example.com', 'example: not a user'),
      'inputs.user.example',
      'step "logoff" target.user: must be a UPN',
    ],
    ['it is not YAML', 'lock-out.yaml', 'name: [unclosed', undefined, 'is not valid YAML'],
    [
      'it has the wrong extension',
      'lock-out.txt',
      VALID,
      undefined,
      'must end in .yaml, .yml, .json',
    ],
  ])(
    'is refused when %s, naming the file and the field',
    async (_why, name, text, field, message) => {
      const dir = folder();
      const error = await errorOf(file(dir, name, text));

      expect(error.file).toBe(join(dir, name));
      expect(error.field).toBe(field);
      expect(error.message).toContain(join(dir, name));
      expect(error.message).toContain(message);
    },
  );

  it('is refused when it is too large, before it is parsed', async () => {
    const dir = folder();
    const error = await errorOf(file(dir, 'big.yaml', `${VALID}# ${'x'.repeat(70_000)}\n`));
    expect(error.message).toContain('is over 65536 bytes');
  });

  it('checks a field filled from an input without an example when a run gives the input', async () => {
    const dir = folder();
    const runbook = await readRunbookFile(
      file(dir, 'lock-out.yaml', VALID.replace('    example: alice@example.com\n', '')),
    );
    expect(runbook.inputs.user).toEqual({ description: 'The user', required: true });
  });
});

describe('a runbooks folder', () => {
  it('lists its runbooks by name, and refuses two files for one runbook', async () => {
    const dir = folder();
    file(dir, 'lock-out.yaml', VALID);
    file(dir, 'notes.txt', 'not a runbook');
    expect((await listRunbooks(dir)).map((runbook) => runbook.name)).toEqual(['lock-out']);

    file(dir, 'lock-out.json', JSON.stringify(await readRunbookFile(join(dir, 'lock-out.yaml'))));
    await expect(listRunbooks(dir)).rejects.toThrow('has two files for runbook "lock-out"');
  });

  it("is the repository's runbooks/ unless RUNBOOKS_DIR names another", () => {
    expect(runbooksDirFrom({})).toBe(RUNBOOKS_DIR);
    expect(RUNBOOKS_DIR).toBe(fileURLToPath(new URL('../../../runbooks', import.meta.url)));
    const dir = folder();
    mkdirSync(join(dir, 'mine'));
    expect(runbooksDirFrom({ RUNBOOKS_DIR: join(dir, 'mine') })).toBe(join(dir, 'mine'));
  });
});

describe('the shipped runbooks', () => {
  it('are compromised-user, departing-administrator and lost-device, each valid for the catalog', async () => {
    const runbooks = await listRunbooks(RUNBOOKS_DIR);
    expect(runbooks.map((runbook) => runbook.name)).toEqual([
      'compromised-user',
      'departing-administrator',
      'lost-device',
    ]);
    // Each erases data or cuts someone off: a person is shown the plan and asked first.
    expect(runbooks.map(isDestructiveRunbook)).toEqual([true, true, true]);
  });

  it('contain a compromised user as the issue says: warn and log off, selective wipe, revoke admin access if any', async () => {
    const runbook = await readRunbookFile(join(RUNBOOKS_DIR, 'compromised-user.yaml'));
    expect(runbook.steps.map((step) => [step.id, step.action, step.dryRun ?? false])).toEqual([
      ['logoff-sessions', 'session.logoff', false],
      ['wipe-devices', 'device.selectiveWipe', false],
      ['find-admin-access', 'admin.revoke', true],
      ['revoke-admin-access', 'admin.revoke', false],
    ]);
    expect(runbook.steps[0]?.notify).toMatchObject({ title: expect.any(String) });
    expect(runbook.steps[3]).toMatchObject({
      options: { mode: 'strip' },
      if: { step: 'find-admin-access', targets: { min: 1 } },
    });
  });
});
