import * as z from 'zod';
import { readJsonSecret, SecretFormatError } from '../runtime/secrets.ts';
import { isUsableSigningSecret } from '../webhooks/standard-webhooks.ts';
import type { SourceSecretReader } from './receive.ts';
import type { SourceName, SourceSecrets } from './types.ts';

/**
 * A value someone wrote in a template or a doc ("replace-with-…", "set-me", "changeme") is public:
 * a secret holding one would let anyone who read it authenticate, so it is refused.
 */
const PLACEHOLDER = /^\s*(?:replace[-_ ]?with|set[-_ ]?me|change[-_ ]?me|placeholder)/i;
const credential = (minLength: number) =>
  z
    .string()
    .min(minLength)
    .refine((value) => !PLACEHOLDER.test(value), 'must be the real credential, not a placeholder');

/** Each source's secret, in Secrets Manager as JSON with these keys. */
export const SOURCE_SECRET_SCHEMAS = {
  servicenow: z.object({ username: z.string().min(1), password: credential(16) }),
  splunk: z.object({ token: credential(24) }),
  sentinel: z.object({ apiKey: credential(24) }),
  // Empty until the operator stores PagerDuty's secret: then the endpoint is not configured.
  pagerduty: z.object({ signingSecrets: z.array(credential(16)) }),
  // The shared webhook secret (`WEBHOOK_SECRET_ARN`), in the shape it has always had.
  standard: z.object({
    signingSecret: credential(16).refine(
      isUsableSigningSecret,
      'must be whsec_ followed by base64, or the raw key',
    ),
  }),
} satisfies { [S in SourceName]: z.ZodType<SourceSecrets[S]> };

export class SourceNotConfiguredError extends Error {
  override name = 'SourceNotConfiguredError';
}

/** Throws `SourceNotConfiguredError` for a secret that cannot authenticate anything yet. */
export function assertSourceConfigured<S extends SourceName>(
  source: S,
  secret: SourceSecrets[S],
): SourceSecrets[S] {
  if ('signingSecrets' in secret && secret.signingSecrets.length === 0) {
    throw new SourceNotConfiguredError(`The ${source} endpoint has no signing secret yet`);
  }
  return secret;
}

/** In AWS: the secret whose ARN is in `<SOURCE>_SECRET_ARN`, cached 15 minutes by Powertools. */
export class SecretsManagerSourceSecrets implements SourceSecretReader {
  readonly #arns: Readonly<Partial<Record<SourceName, string>>>;

  constructor(arns: Readonly<Partial<Record<SourceName, string>>>) {
    this.#arns = arns;
  }

  async read<S extends SourceName>(source: S): Promise<SourceSecrets[S]> {
    const arn = this.#arns[source];
    if (arn === undefined)
      throw new SourceNotConfiguredError(`The ${source} endpoint is not configured`);
    const secret = (await readJsonSecret(
      arn,
      SOURCE_SECRET_SCHEMAS[source] as z.ZodType,
    )) as SourceSecrets[S];
    return assertSourceConfigured(source, secret);
  }
}

/** The environment variable each secret field comes from locally. */
const ENV_VARIABLES: { [S in SourceName]: Readonly<Record<string, string>> } = {
  servicenow: { username: 'SERVICENOW_USERNAME', password: 'SERVICENOW_PASSWORD' },
  splunk: { token: 'SPLUNK_TOKEN' },
  sentinel: { apiKey: 'SENTINEL_API_KEY' },
  pagerduty: { signingSecrets: 'PAGERDUTY_SIGNING_SECRETS' },
  standard: { signingSecret: 'WEBHOOK_SECRET' },
};

/**
 * Locally: `SERVICENOW_USERNAME`/`SERVICENOW_PASSWORD`, `SPLUNK_TOKEN`, `SENTINEL_API_KEY`,
 * `PAGERDUTY_SIGNING_SECRETS` (comma-separated) and `WEBHOOK_SECRET` (the `standard` source). Without `defaults` (a real tenant: the demo
 * values are public) a source whose variables are unset is not configured. Each value set must
 * pass the same rules as the secret in AWS (no placeholder, long enough): otherwise this throws
 * `SecretFormatError` naming the variable and the rule, never the value.
 */
export function sourceSecretsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  defaults: SourceSecrets | undefined,
): SourceSecretReader {
  const set = (name: string) => env[name] || undefined;
  const given: { [S in SourceName]: SourceSecrets[S] | undefined } = {
    servicenow:
      set('SERVICENOW_USERNAME') && set('SERVICENOW_PASSWORD')
        ? { username: env.SERVICENOW_USERNAME ?? '', password: env.SERVICENOW_PASSWORD ?? '' }
        : undefined,
    splunk: set('SPLUNK_TOKEN') ? { token: env.SPLUNK_TOKEN ?? '' } : undefined,
    sentinel: set('SENTINEL_API_KEY') ? { apiKey: env.SENTINEL_API_KEY ?? '' } : undefined,
    pagerduty: set('PAGERDUTY_SIGNING_SECRETS')
      ? {
          signingSecrets: (env.PAGERDUTY_SIGNING_SECRETS ?? '')
            .split(',')
            .map((secret) => secret.trim())
            .filter(Boolean),
        }
      : undefined,
    standard: set('WEBHOOK_SECRET') ? { signingSecret: env.WEBHOOK_SECRET ?? '' } : undefined,
  };
  const problems: string[] = [];
  for (const source of Object.keys(given) as SourceName[]) {
    const value = given[source];
    if (value === undefined) continue;
    const parsed = (SOURCE_SECRET_SCHEMAS[source] as z.ZodType).safeParse(value);
    for (const issue of parsed.success ? [] : parsed.error.issues) {
      const [field, index] = issue.path;
      const variable = ENV_VARIABLES[source][String(field)] ?? source;
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
