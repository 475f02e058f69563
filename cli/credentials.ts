import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { LOCAL_DEMO_PEOPLE } from '../lib/identity/demo-people.ts';

/** Signing as `npm start`'s first demo person when nothing else is configured (loopback only). */
export interface LocalDemoFallback {
  /** Says so, once, on stderr. */
  readonly notice: (line: string) => void;
}

/** Whether an API URL is `npm start` on this machine: plain http to a loopback host. */
export function isLoopbackApi(url: URL): boolean {
  const { protocol, hostname } = url;
  return protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(hostname);
}

/** AWS credentials, as the SigV4 signer takes them. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
  readonly expiration?: Date | undefined;
}

/** Which credentials a request was signed with, for error messages: never the secret. */
export interface CredentialsOrigin {
  /** The named profile, when one was chosen (`--profile` or `AWS_PROFILE`). */
  readonly profile?: string | undefined;
  /** Where the chain found them, as `fromNodeProviderChain` walks it. */
  readonly source: 'environment' | 'profile' | 'default chain' | 'local demo';
  /** The demo person signed as, when the chain had nothing and the API is on loopback. */
  readonly demoPerson?: string | undefined;
}

export interface PersonCredentials {
  readonly origin: CredentialsOrigin;
  /** Resolves the credentials; rejects with CredentialsUnavailableError. */
  readonly provide: () => Promise<Credentials>;
}

/** No credentials could be found or loaded: nothing was sent. */
export class CredentialsUnavailableError extends Error {
  override name = 'CredentialsUnavailableError';
}

/**
 * The AWS standard credential chain, read from `env` (the CLI's environment, so tests need no
 * process): a profile (`--profile`, else `AWS_PROFILE`) wins, as in the SDK's own chain; else the
 * `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`(/`AWS_SESSION_TOKEN`) pair; else the rest of the
 * chain (SSO, shared files, process, container and instance credentials). The first step is
 * written out only because the SDK reads `process.env` and the CLI reads `env`.
 */
export function personCredentials(
  env: Readonly<Record<string, string | undefined>>,
  profileOption: string | undefined,
  options: { readonly localDemo?: LocalDemoFallback } = {},
): PersonCredentials {
  const profile = profileOption ?? (env.AWS_PROFILE || undefined);
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (profile === undefined && accessKeyId && secretAccessKey) {
    const credentials = {
      accessKeyId,
      secretAccessKey,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
    return { origin: { source: 'environment' }, provide: async () => credentials };
  }
  // The chain caches what it found and refreshes credentials that expire (SSO, roles).
  const chain = fromNodeProviderChain(profile === undefined ? {} : { profile });
  const origin: { -readonly [K in keyof CredentialsOrigin]: CredentialsOrigin[K] } =
    profile === undefined ? { source: 'default chain' } : { source: 'profile', profile };
  const localDemo = profile === undefined ? options.localDemo : undefined;
  let demo: Credentials | undefined;
  return {
    origin,
    provide: () =>
      demo !== undefined
        ? Promise.resolve(demo)
        : chain().catch((error: unknown) => {
            // Nothing configured, against `npm start` on this machine: its first demo person, said
            // on stderr. Demo keys are public and `npm start` accepts them only with the simulator.
            if (localDemo !== undefined) {
              const [name, credentials] = Object.entries(LOCAL_DEMO_PEOPLE)[0] ?? [];
              if (name !== undefined && credentials !== undefined) {
                origin.source = 'local demo';
                origin.demoPerson = name;
                localDemo.notice(
                  `No AWS credentials found: signing as the local demo person ${name} (loopback API only; set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or --profile to be someone else)`,
                );
                demo = { ...credentials };
                return demo;
              }
            }
            const why = error instanceof Error ? error.message : String(error);
            throw new CredentialsUnavailableError(
              `No AWS credentials to sign with${profile === undefined ? '' : ` (profile ${profile})`}: ${why}`,
              { cause: error },
            );
          }),
  };
}

/** `access key …WXYZ from the environment`: enough to tell people apart, never the secret. */
export function describeCredentials(origin: CredentialsOrigin, accessKeyId?: string): string {
  const key = accessKeyId === undefined ? 'credentials' : `access key …${accessKeyId.slice(-4)}`;
  switch (origin.source) {
    case 'environment':
      return `${key} from AWS_ACCESS_KEY_ID`;
    case 'profile':
      return `${key} of profile ${origin.profile ?? ''}`;
    case 'default chain':
      return `${key} from the default credential chain`;
    case 'local demo':
      return `${key} of the local demo person ${origin.demoPerson ?? ''}`;
  }
}
