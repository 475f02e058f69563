import { readFileSync } from 'node:fs';
import type * as z from 'zod';

/**
 * The operator's JSON configuration files (routing rules, sweeps): read whole, parsed, and each
 * problem named by its path, with the entry's own name where it has one
 * (`routes.splunk[0] (route "x").target.user: …`).
 */
export function describeConfigIssue(
  issue: z.core.$ZodIssue,
  input: unknown,
  entry: string,
): string {
  let text = '';
  let node: unknown = input;
  for (const key of issue.path) {
    node = (node as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey];
    if (typeof key === 'number') {
      const name = (node as { name?: unknown } | undefined)?.name;
      text += typeof name === 'string' ? `[${key}] (${entry} "${name}")` : `[${key}]`;
    } else text += text === '' ? String(key) : `.${String(key)}`;
  }
  return `${text || '(file)'}: ${issue.message}`;
}

/** The file's JSON; a file that cannot be read or parsed throws `failure`, the reason as cause. */
export function readJsonConfig(
  path: string | URL,
  what: string,
  failure: new (message: string, options?: ErrorOptions) => Error,
  maxBytes = Number.POSITIVE_INFINITY,
): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new failure(`Cannot read the ${what} file ${String(path)}`, { cause: error });
  }
  if (Buffer.byteLength(text) > maxBytes) {
    throw new failure(`The ${what} file ${String(path)} is over ${maxBytes} bytes`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new failure(`The ${what} file ${String(path)} is not valid JSON`, { cause: error });
  }
}
