import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listRunbooksSync, RUNBOOKS_DIR } from '../../../lib/runbooks/files.ts';
import {
  deployedRunbooks,
  RunbookLibrary,
  RunbookLibraryError,
  readRunbookBundle,
  runbookBundleText,
} from '../../../lib/runbooks/library.ts';

/** The runbooks a Lambda runs by name: the `runbooks.json` synth writes beside its bundle. */

describe('the runbooks of a deployment', () => {
  it('are read back from runbooks.json exactly as synth wrote them', () => {
    const runbooks = listRunbooksSync(RUNBOOKS_DIR);
    const file = join(mkdtempSync(join(tmpdir(), 'runbooks-bundle-')), 'runbooks.json');
    writeFileSync(file, runbookBundleText(runbooks));

    const library = readRunbookBundle(file);
    expect(library.all).toEqual(runbooks);
    expect(library.get('lost-device')).toEqual(
      runbooks.find((runbook) => runbook.name === 'lost-device'),
    );
    expect(library.get('nope')).toBeUndefined();
  });

  it('are none without a runbooks.json, and a broken one is refused by field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'runbooks-bundle-'));
    expect(readRunbookBundle(join(dir, 'runbooks.json')).names).toEqual([]);
    writeFileSync(join(dir, 'runbooks.json'), JSON.stringify({ runbooks: [{ name: 'X' }] }));
    expect(() => readRunbookBundle(join(dir, 'runbooks.json'))).toThrow(
      /runbooks\[0\] \(runbook "X"\)\.name: must be 1-48 lower-case/,
    );
  });

  it('never holds two runbooks of one name', () => {
    const [runbook] = listRunbooksSync(RUNBOOKS_DIR);
    if (runbook === undefined) throw new Error('no runbook');
    expect(() => new RunbookLibrary([runbook, runbook])).toThrow(RunbookLibraryError);
  });

  it('are, in the tests, the repository runbooks (installed as npm start and synth do)', () => {
    expect(deployedRunbooks().names).toEqual([
      'compromised-user',
      'departing-administrator',
      'lost-device',
    ]);
  });
});
