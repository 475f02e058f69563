import { existsSync } from 'node:fs';
import * as z from 'zod';
import { describeConfigIssue, readJsonConfig } from '../runtime/json-config.ts';
import { RUNBOOK_LIMITS, type Runbook, RunbookSchema } from './definition.ts';

/**
 * The runbooks a deployment runs by name (`runbook.run` with `target.runbook`). `npm start`, the
 * CLI and synth read them from the runbooks folder (YAML or JSON, `lib/runbooks/files.ts`) and
 * check every step against the catalog; a Lambda reads what synth checked and wrote beside its
 * bundle, `runbooks.json`, so no function carries a YAML parser.
 */
export class RunbookLibrary {
  readonly #byName: ReadonlyMap<string, Runbook>;

  constructor(runbooks: readonly Runbook[]) {
    const byName = new Map<string, Runbook>();
    for (const runbook of runbooks) {
      if (byName.has(runbook.name)) {
        throw new RunbookLibraryError(`Two runbooks are named "${runbook.name}"`);
      }
      byName.set(runbook.name, runbook);
    }
    this.#byName = byName;
  }

  get(name: string): Runbook | undefined {
    return this.#byName.get(name);
  }

  /** Every runbook, by name. */
  get all(): readonly Runbook[] {
    return [...this.#byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get names(): readonly string[] {
    return this.all.map((runbook) => runbook.name);
  }
}

export class RunbookLibraryError extends Error {
  override name = 'RunbookLibraryError';
}

/** The most runbooks one deployment carries (each at most RUNBOOK_LIMITS.maxBytes). */
export const MAX_RUNBOOKS = 50;

/** `runbooks.json`: the deployment's runbooks, as synth checked them. */
export const RunbookBundleSchema = z.strictObject({
  runbooks: z.array(RunbookSchema).max(MAX_RUNBOOKS),
});

/** The JSON a function reads its runbooks from. */
export function runbookBundleText(runbooks: readonly Runbook[]): string {
  return `${JSON.stringify({ runbooks })}\n`;
}

/** Reads a `runbooks.json`; a missing file is a deployment without runbooks. */
export function readRunbookBundle(path: string | URL): RunbookLibrary {
  if (!existsSync(path)) return new RunbookLibrary([]);
  const json = readJsonConfig(
    path,
    'runbooks',
    RunbookLibraryError,
    MAX_RUNBOOKS * RUNBOOK_LIMITS.maxBytes,
  );
  const parsed = RunbookBundleSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) =>
      describeConfigIssue(issue, json, 'runbook'),
    );
    throw new RunbookLibraryError(`Invalid runbooks file ${String(path)}: ${problems.join('; ')}`, {
      cause: parsed.error,
    });
  }
  return new RunbookLibrary(parsed.data.runbooks);
}

let installed: RunbookLibrary | undefined;

/**
 * Makes `library` the runbooks requests may name: `npm start` and the tests install what they
 * read from the runbooks folder, before any request is checked.
 */
export function installRunbooks(library: RunbookLibrary): void {
  installed = library;
}

/**
 * The runbooks requests may name: those installed, or else those synth wrote beside the
 * function's bundle (`runbooks.json`), read once.
 */
export function deployedRunbooks(): RunbookLibrary {
  installed ??= readRunbookBundle(new URL('./runbooks.json', import.meta.url));
  return installed;
}
