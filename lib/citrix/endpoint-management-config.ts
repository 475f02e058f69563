import * as z from 'zod';
import { CitrixTransportEnvSchema, emptyAsUndefined, LOOPBACK_HOSTS } from './config.ts';
import { CitrixConfigurationError } from './errors.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.ts';

/** How the client logs in to Endpoint Management (`CITRIX_EM_AUTH`). */
export const EM_AUTH_MODES = ['cloud', 'credentials'] as const;
export type EmAuthMode = (typeof EM_AUTH_MODES)[number];

/**
 * Request bodies of device commands (`CITRIX_EM_BODY_SHAPE`): `object` follows the OpenAPI
 * document (`{"deviceId"}` on /device/wipe and /device/selectivewipe, `{"deviceIds"}` on
 * /device/policy/deploy); `id-array` follows the public REST API that XenMobile servers take (a
 * JSON array of ids on /device/wipe, /device/selwipe and /device/refresh).
 */
export const EM_BODY_SHAPES = ['object', 'id-array'] as const;
export type EmBodyShape = (typeof EM_BODY_SHAPES)[number];

export interface EndpointManagementConnection {
  /** e.g. `https://mdm.example.com:4443/xenmobile/api/v1`, without a trailing slash. */
  readonly baseUrl: URL;
  readonly auth: EmAuthMode;
  readonly bodyShape: EmBodyShape;
  readonly requestTimeoutMs: number;
  readonly retry: RetryPolicy;
}

export interface EndpointManagementCredentials {
  readonly username: string;
  readonly password: string;
}

/**
 * Endpoint Management runs on the customer's own host name, so no host list can be enforced as
 * for Citrix Cloud; the URL must at least be https (plain http only to a loopback simulator) and
 * carry no credentials, query or fragment.
 */
export function parseEndpointManagementUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CitrixConfigurationError('the Endpoint Management URL is not a valid URL');
  }
  const loopback = url.protocol === 'http:' && LOOPBACK_HOSTS.includes(url.hostname);
  if (url.protocol !== 'https:' && !loopback) {
    throw new CitrixConfigurationError(
      `the Endpoint Management URL must be https (http only for a loopback simulator), got ${url.protocol}//${url.host}`,
    );
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new CitrixConfigurationError(
      `the Endpoint Management URL for host "${url.host}" must not carry credentials, a query or a fragment`,
    );
  }
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

const EndpointManagementEnvSchema = z.object({
  CITRIX_EM_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string({
        error:
          'is not set: Endpoint Management is not configured (e.g. https://mdm.example.com:4443/xenmobile/api/v1)',
      })
      .transform((value, ctx) => {
        try {
          return parseEndpointManagementUrl(value);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message });
          return z.NEVER;
        }
      }),
  ),
  CITRIX_EM_AUTH: z.preprocess(emptyAsUndefined, z.enum(EM_AUTH_MODES).default('cloud')),
  CITRIX_EM_BODY_SHAPE: z.preprocess(emptyAsUndefined, z.enum(EM_BODY_SHAPES).default('object')),
  ...CitrixTransportEnvSchema.shape,
});

/** `CITRIX_EM_URL`, `CITRIX_EM_AUTH` and `CITRIX_EM_BODY_SHAPE`, validated together. */
export function endpointManagementConnectionFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): EndpointManagementConnection {
  const parsed = EndpointManagementEnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.')}: ${issue.message}`,
    );
    throw new CitrixConfigurationError(
      `Invalid Endpoint Management configuration: ${problems.join('; ')}`,
      { cause: parsed.error },
    );
  }
  const config = parsed.data;
  return {
    baseUrl: config.CITRIX_EM_URL,
    auth: config.CITRIX_EM_AUTH,
    bodyShape: config.CITRIX_EM_BODY_SHAPE,
    requestTimeoutMs: config.CITRIX_REQUEST_TIMEOUT_MS,
    retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: config.CITRIX_MAX_ATTEMPTS },
  };
}

/** `CITRIX_EM_USERNAME` and `CITRIX_EM_PASSWORD`, for `CITRIX_EM_AUTH=credentials`. */
const requiredForCredentials = z
  .string({ error: 'is required with CITRIX_EM_AUTH=credentials' })
  .min(1, 'is required with CITRIX_EM_AUTH=credentials');

export const EndpointManagementCredentialsEnvSchema = z.object({
  CITRIX_EM_USERNAME: requiredForCredentials,
  CITRIX_EM_PASSWORD: requiredForCredentials,
});

export function endpointManagementCredentialsFrom(
  values: Readonly<Record<string, unknown>>,
  source: string,
): EndpointManagementCredentials {
  const parsed = EndpointManagementCredentialsEnvSchema.safeParse(values);
  if (!parsed.success) {
    // Field names only: never a value.
    const fields = parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
    throw new CitrixConfigurationError(
      `Endpoint Management credentials from ${source} are incomplete: ${fields.join('; ')}`,
    );
  }
  return {
    username: parsed.data.CITRIX_EM_USERNAME,
    password: parsed.data.CITRIX_EM_PASSWORD,
  };
}
