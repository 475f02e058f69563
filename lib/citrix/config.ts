import * as z from 'zod';
import { CitrixConfigurationError } from './errors.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.ts';

/** Citrix Cloud API hosts (global, US, EU, AP-S, Japan). Tokens are only ever sent to these. */
export const CITRIX_API_HOSTS = [
  'api.cloud.com',
  'api-us.cloud.com',
  'api-eu.cloud.com',
  'api-ap-s.cloud.com',
  'api.citrixcloud.jp',
] as const;

/** Plain http is allowed only to these hosts: a simulator on this machine. */
export const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * Accepts a Citrix Cloud API origin, or a loopback simulator (`http://127.0.0.1:<port>`), so a
 * misconfiguration can never send a bearer token or client secret to an arbitrary host.
 */
export function parseCitrixBaseUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CitrixConfigurationError('Citrix API base URL is not a valid URL');
  }
  const host = url.host;
  const isCitrixHost =
    url.protocol === 'https:' &&
    url.port === '' &&
    (CITRIX_API_HOSTS as readonly string[]).includes(url.hostname);
  const isLoopback =
    url.protocol === 'http:' && url.port !== '' && LOOPBACK_HOSTS.includes(url.hostname);
  if (!isCitrixHost && !isLoopback) {
    throw new CitrixConfigurationError(
      `Citrix API base URL host "${host}" is not allowed; use https://${CITRIX_API_HOSTS.join(', https://')} or a loopback simulator http://127.0.0.1:<port>`,
    );
  }
  const extras =
    url.username !== '' ||
    url.password !== '' ||
    url.pathname !== '/' ||
    url.search !== '' ||
    url.hash !== '' ||
    /[?#]/.test(value);
  if (extras) {
    throw new CitrixConfigurationError(
      `Citrix API base URL for host "${host}" must be an origin only (no credentials, path, query or fragment)`,
    );
  }
  return url;
}

export interface CitrixConnection {
  readonly baseUrl: URL;
  readonly customerId: string;
  /** DaaS site id (Citrix-InstanceId); discovered through /cvad/manage/me when absent. */
  readonly siteId?: string;
  readonly requestTimeoutMs: number;
  readonly retry: RetryPolicy;
}

export interface CitrixCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

export type CredentialsSource = () => Promise<CitrixCredentials>;

// Deployment tools often write unset variables as ''; treat that as "not set".
export const emptyAsUndefined = (value: unknown): unknown => (value === '' ? undefined : value);

/** Timeout and attempts of every Citrix request, shared by the DaaS and Endpoint Management clients. */
export const CitrixTransportEnvSchema = z.object({
  CITRIX_REQUEST_TIMEOUT_MS: z.preprocess(
    emptyAsUndefined,
    z.coerce.number().int().min(1).max(300_000).default(10_000),
  ),
  CITRIX_MAX_ATTEMPTS: z.preprocess(
    emptyAsUndefined,
    z.coerce.number().int().min(1).max(10).default(DEFAULT_RETRY_POLICY.maxAttempts),
  ),
});

export const CitrixConnectionEnvSchema = z.object({
  CITRIX_API_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .prefault('https://api.cloud.com')
      .transform((value, ctx) => {
        try {
          return parseCitrixBaseUrl(value);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message });
          return z.NEVER;
        }
      }),
  ),
  CITRIX_CUSTOMER_ID: z.preprocess(
    emptyAsUndefined,
    z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-"'),
  ),
  CITRIX_SITE_ID: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9-]{1,64}$/, 'must be 1-64 letters, digits or "-"')
      .optional(),
  ),
  ...CitrixTransportEnvSchema.shape,
});

export function citrixConnectionFromEnv(env: Record<string, string | undefined>): CitrixConnection {
  const parsed = CitrixConnectionEnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.')}: ${issue.message}`,
    );
    throw new CitrixConfigurationError(`Invalid Citrix configuration: ${problems.join('; ')}`, {
      cause: parsed.error,
    });
  }
  const config = parsed.data;
  return {
    baseUrl: config.CITRIX_API_URL,
    customerId: config.CITRIX_CUSTOMER_ID,
    ...(config.CITRIX_SITE_ID === undefined ? {} : { siteId: config.CITRIX_SITE_ID }),
    requestTimeoutMs: config.CITRIX_REQUEST_TIMEOUT_MS,
    retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: config.CITRIX_MAX_ATTEMPTS },
  };
}
