import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type * as z from 'zod';
import type { RequestIssue } from '../actions/declaration.ts';
import { RUNBOOK_LIMITS, type Runbook, RunbookSchema } from './definition.ts';
import { MAX_RUNBOOKS } from './library.ts';

/**
 * Reading runbook files (`runbooks/<name>.yaml`, `.yml` or `.json`) and checking their shape.
 * Their steps are checked against the catalog by lib/runbooks/files.ts, which the tools use; this
 * module imports no catalog.
 */

/** The repository's runbooks folder, absolute. */
export const RUNBOOKS_DIR = fileURLToPath(new URL('../../runbooks', import.meta.url));

/** Where the runbooks are read from: `RUNBOOKS_DIR` when set (npm start, synth), else the repo's. */
export function runbooksDirFrom(env: Readonly<Record<string, string | undefined>>): string {
  return env.RUNBOOKS_DIR ? resolve(env.RUNBOOKS_DIR) : RUNBOOKS_DIR;
}

const EXTENSIONS = ['.yaml', '.yml', '.json'] as const;

/** A runbook file that cannot be used: the file, the field (when one is to blame) and why. */
export class RunbookFileError extends Error {
  override name = 'RunbookFileError';
  readonly file: string;
  readonly field: string | undefined;

  constructor(file: string, field: string | undefined, message: string, options?: ErrorOptions) {
    super(`${file}${field === undefined ? '' : `: ${field}`}: ${message}`, options);
    this.file = file;
    this.field = field;
  }
}

/** `steps[1] (step "wipe-devices").target.user`: a field as a person finds it in the file. */
function describeField(path: readonly PropertyKey[], input: unknown): string {
  let text = '';
  let node: unknown = input;
  for (const key of path) {
    node = (node as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey];
    if (typeof key === 'number') {
      const id = (node as { id?: unknown } | undefined)?.id;
      text += typeof id === 'string' ? `[${key}] (step "${id}")` : `[${key}]`;
    } else text += text === '' ? String(key) : `.${String(key)}`;
  }
  return text || '(file)';
}

export function fileProblem(
  file: string,
  issues: readonly (RequestIssue | z.core.$ZodIssue)[],
  input: unknown,
  cause?: unknown,
): RunbookFileError {
  const [first] = issues;
  const described = issues.map((issue) => `${describeField(issue.path, input)}: ${issue.message}`);
  return new RunbookFileError(
    file,
    first === undefined ? undefined : describeField(first.path, input),
    issues.length === 1 ? (first?.message ?? 'invalid') : described.join('; '),
    cause === undefined ? undefined : { cause },
  );
}

/** The file's content as data: YAML (a subset of it with no custom tags) or JSON. */
function parseFile(file: string, text: string): unknown {
  try {
    return extname(file).toLowerCase() === '.json'
      ? JSON.parse(text)
      : // Aliases are few in a runbook: a small cap keeps an alias bomb from expanding.
        parseYaml(text, { maxAliasCount: 20, prettyErrors: true });
  } catch (error) {
    throw new RunbookFileError(
      file,
      undefined,
      `is not valid ${extname(file).slice(1).toUpperCase()}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

/** A runbook file's data and its shape checked; the file's name must be the runbook's. */
export function readRunbookShape(path: string): { runbook: Runbook; input: unknown; file: string } {
  const file = resolve(path);
  const extension = extname(file).toLowerCase();
  if (!(EXTENSIONS as readonly string[]).includes(extension)) {
    throw new RunbookFileError(file, undefined, `must end in ${EXTENSIONS.join(', ')}`);
  }
  let text: string;
  try {
    if (statSync(file).size > RUNBOOK_LIMITS.maxBytes) {
      throw new RunbookFileError(file, undefined, `is over ${RUNBOOK_LIMITS.maxBytes} bytes`);
    }
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof RunbookFileError) throw error;
    throw new RunbookFileError(file, undefined, 'cannot be read', { cause: error });
  }
  const input = parseFile(file, text);
  const parsed = RunbookSchema.safeParse(input);
  if (!parsed.success) throw fileProblem(file, parsed.error.issues, input, parsed.error);
  const stem = basename(file, extname(file));
  if (parsed.data.name !== stem) {
    throw new RunbookFileError(file, 'name', `must be "${stem}", the file's name`);
  }
  return { runbook: parsed.data, input, file };
}

/** The runbook files of a folder, by file name. */
export function runbookFilesIn(dir: string): string[] {
  const folder = resolve(dir);
  let names: string[];
  try {
    names = readdirSync(folder).filter((name) =>
      (EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase()),
    );
  } catch (error) {
    throw new RunbookFileError(folder, undefined, 'cannot be read as a runbooks folder', {
      cause: error,
    });
  }
  if (names.length > MAX_RUNBOOKS) {
    throw new RunbookFileError(folder, undefined, `holds more than ${MAX_RUNBOOKS} runbooks`);
  }
  return names.sort().map((name) => join(folder, name));
}
