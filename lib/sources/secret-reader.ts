import { readJsonSecret } from '../runtime/secrets.ts';
import { SourceNotConfiguredError } from './errors.ts';
import type { SourceDeclaration, SourceName, SourceSecrets } from './types.ts';

/** Reads a source's secret (Secrets Manager in AWS, the environment locally), cached. */
export interface SourceSecretReader {
  read<S extends SourceName>(source: S): Promise<SourceSecrets[S]>;
}

/** Each served source's secret schema: the declarations of a function's sources. */
export type SourceSecretSchemas<S extends SourceName> = {
  readonly [K in S]: Pick<SourceDeclaration<K, never>, 'secret'>;
};

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

/**
 * In AWS: each served source's secret, whose ARN is in its variable (`SPLUNK_SECRET_ARN`…),
 * cached 15 minutes by Powertools. A source the function does not serve, or whose variable is
 * unset, is not configured.
 */
export class SecretsManagerSourceSecrets<Served extends SourceName> implements SourceSecretReader {
  readonly #sources: SourceSecretSchemas<Served>;
  readonly #env: Readonly<Record<string, string | undefined>>;

  constructor(
    sources: SourceSecretSchemas<Served>,
    env: Readonly<Record<string, string | undefined>>,
  ) {
    this.#sources = sources;
    this.#env = env;
  }

  async read<S extends SourceName>(source: S): Promise<SourceSecrets[S]> {
    const declaration = Object.hasOwn(this.#sources, source)
      ? (this.#sources as unknown as Record<S, Pick<SourceDeclaration<S, never>, 'secret'>>)[source]
      : undefined;
    const arn = declaration === undefined ? undefined : this.#env[declaration.secret.arnVariable];
    if (declaration === undefined || !arn) {
      throw new SourceNotConfiguredError(`The ${source} endpoint is not configured`);
    }
    return assertSourceConfigured(source, await readJsonSecret(arn, declaration.secret.schema));
  }
}
