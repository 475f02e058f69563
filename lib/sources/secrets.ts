import type * as z from 'zod';
import { SecretFormatError } from '../runtime/secrets.ts';
import { SOURCE_DECLARATIONS } from './declarations.ts';
import { SourceNotConfiguredError } from './errors.ts';
import { assertSourceConfigured, type SourceSecretReader } from './secret-reader.ts';
import { SOURCES, type SourceName, type SourceSecrets } from './types.ts';

/** Each source's secret, in Secrets Manager as JSON with these keys. */
export const SOURCE_SECRET_SCHEMAS = Object.fromEntries(
  SOURCES.map((source) => [source, SOURCE_DECLARATIONS[source].secret.schema]),
) as { readonly [S in SourceName]: z.ZodType<SourceSecrets[S]> };

/**
 * Locally: `SERVICENOW_USERNAME`/`SERVICENOW_PASSWORD`, `SPLUNK_TOKEN`, `SENTINEL_API_KEY`,
 * `PAGERDUTY_SIGNING_SECRETS` (comma-separated) and `WEBHOOK_SECRET` (the `standard` source): each
 * source's `secret.variables`. Without `defaults` (a real tenant: the demo values are public) a
 * source whose variables are unset is not configured. Each value set must pass the same rules as
 * the secret in AWS (no placeholder, long enough): otherwise this throws `SecretFormatError`
 * naming the variable and the rule, never the value.
 */
export function sourceSecretsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  defaults: SourceSecrets | undefined,
): SourceSecretReader {
  const given: { [S in SourceName]?: SourceSecrets[S] } = {};
  const problems: string[] = [];
  for (const source of SOURCES) {
    const { fromEnv, schema, variables } = SOURCE_DECLARATIONS[source].secret as {
      fromEnv: (env: Readonly<Record<string, string | undefined>>) => unknown;
      schema: z.ZodType;
      variables: Readonly<Record<string, string>>;
    };
    const value = fromEnv(env);
    if (value === undefined) continue;
    (given as Record<SourceName, unknown>)[source] = value;
    const parsed = schema.safeParse(value);
    for (const issue of parsed.success ? [] : parsed.error.issues) {
      const [field, index] = issue.path;
      const variable = variables[String(field)] ?? source;
      const entry = typeof index === 'number' ? ` (entry ${index + 1})` : '';
      problems.push(`${variable}${entry}: ${issue.message}`);
    }
  }
  if (problems.length > 0) {
    throw new SecretFormatError(`Source credentials not usable: ${problems.join('; ')}`);
  }
  return {
    read: async <S extends SourceName>(source: S): Promise<SourceSecrets[S]> => {
      const secret = (given[source] as SourceSecrets[S] | undefined) ?? defaults?.[source];
      if (secret === undefined) {
        throw new SourceNotConfiguredError(`The ${source} endpoint is not configured`);
      }
      return assertSourceConfigured(source, secret);
    },
  };
}
