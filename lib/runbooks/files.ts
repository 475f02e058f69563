import { resolve } from 'node:path';
import type { Runbook } from './definition.ts';
import { RunbookLibrary } from './library.ts';
import {
  fileProblem,
  RunbookFileError,
  readRunbookShape,
  runbookFilesIn,
  runbooksDirFrom,
} from './read.ts';
import { runbookProblems } from './validate.ts';

/**
 * Runbook files, as `npm start`, synth and the CLI read them: each file's shape
 * (lib/runbooks/read.ts), then each step against the catalog; a problem names the file and the
 * field.
 */

export { RUNBOOKS_DIR, RunbookFileError, runbooksDirFrom } from './read.ts';

/** Reads and checks one runbook file; its `name` must be the file's name without extension. */
export function readRunbookFileSync(path: string): Runbook {
  const { runbook, input, file } = readRunbookShape(path);
  const problems = runbookProblems(runbook);
  if (problems.length > 0) throw fileProblem(file, problems, input);
  return runbook;
}

/** Reads and checks one runbook file (`runbook run ./my-runbook.yaml`). */
export async function readRunbookFile(path: string): Promise<Runbook> {
  return readRunbookFileSync(path);
}

/** Every runbook of a folder, by name; two files with one name (x.yaml, x.json) are refused. */
export function listRunbooksSync(dir: string): Runbook[] {
  const runbooks = runbookFilesIn(dir).map(readRunbookFileSync);
  const seen = new Set<string>();
  for (const runbook of runbooks) {
    if (seen.has(runbook.name)) {
      throw new RunbookFileError(
        resolve(dir),
        undefined,
        `has two files for runbook "${runbook.name}"`,
      );
    }
    seen.add(runbook.name);
  }
  return runbooks.sort((a, b) => a.name.localeCompare(b.name));
}

/** Every runbook of a folder (default: `RUNBOOKS_DIR`, or the variable of that name). */
export async function listRunbooks(dir: string = runbooksDirFrom(process.env)): Promise<Runbook[]> {
  return listRunbooksSync(dir);
}

/** The runbooks of a folder, checked, as the runbooks requests may name. */
export function loadRunbookLibrary(dir: string): RunbookLibrary {
  return new RunbookLibrary(listRunbooksSync(dir));
}
