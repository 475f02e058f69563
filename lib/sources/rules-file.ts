import type * as z from 'zod';
import { describeConfigIssue, readJsonConfig } from '../runtime/json-config.ts';
import { RoutingRulesError } from './errors.ts';

/**
 * The routing rules file (config/routes.json), read with a schema of the part the reader uses:
 * the whole file at synth and at `npm start` (lib/sources/routing.ts), the alert routes in the
 * source webhooks function, the allowed actions in the source requests function.
 */
export function parseRules<T>(schema: z.ZodType<T>, input: unknown, source: string): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => describeConfigIssue(issue, input, 'route'));
    throw new RoutingRulesError(`Invalid ${source}: ${problems.join('; ')}`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

export function loadRules<T>(schema: z.ZodType<T>, path: string | URL): T {
  const json = readJsonConfig(path, 'routing rules', RoutingRulesError);
  return parseRules(schema, json, `routing rules file ${String(path)}`);
}
