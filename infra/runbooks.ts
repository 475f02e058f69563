import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRunbookLibrary, runbooksDirFrom } from '../lib/runbooks/files.ts';
import {
  installRunbooks,
  type RunbookLibrary,
  runbookBundleText,
} from '../lib/runbooks/library.ts';

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * The runbooks the stack deploys: every file of the runbooks folder (`RUNBOOKS_DIR`, as `npm
 * start` reads it; default runbooks/), checked against the catalog at synth (a bad file fails the
 * synth, naming the file and the field). They are installed as the runbooks requests may name, so
 * that the routing rules and sweeps that run one are checked against them too.
 */
export function installDeployedRunbooks(environment: Environment = process.env): RunbookLibrary {
  const runbooks = loadRunbookLibrary(runbooksDirFrom(environment));
  installRunbooks(runbooks);
  return runbooks;
}

/**
 * The deployed runbooks as one `runbooks.json`, which the functions that run runbooks by name
 * carry beside their bundle (no YAML parser in a Lambda): its path, in a folder of its own.
 */
export function deployedRunbooksFile(environment: Environment = process.env): string {
  const runbooks = installDeployedRunbooks(environment);
  const file = join(mkdtempSync(join(tmpdir(), 'citrix-response-runbooks-')), 'runbooks.json');
  writeFileSync(file, runbookBundleText(runbooks.all));
  return file;
}

/** How a function carries the deployed runbooks: `runbooks.json` beside its bundle. */
export const runbooksBeside = (file: string) => ({ from: file, name: 'runbooks.json' }) as const;
