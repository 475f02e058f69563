import { isIP } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as z from 'zod';
import { parseCallbackDestinations } from '../lib/callbacks/signed-callback.ts';
import { parseCitrixBaseUrl } from '../lib/citrix/config.ts';
import {
  EM_AUTH_MODES,
  EM_BODY_SHAPES,
  type EmAuthMode,
  type EmBodyShape,
  parseEndpointManagementUrl,
} from '../lib/citrix/endpoint-management-config.ts';
import { type GUARDRAIL_VARIABLES, guardrailsFromEnv } from '../lib/guardrails/config.ts';
import { loadRoutingRules } from '../lib/sources/routing.ts';
import { SOURCES, type SourceName } from '../lib/sources/types.ts';

/**
 * Stands in for the Citrix Cloud customer id so that `cdk synth` and the tests work without one.
 * A stack built with it carries a CloudFormation rule that refuses to deploy.
 */
export const CITRIX_CUSTOMER_ID_PLACEHOLDER = 'set-citrix-customer-id';

/** Deployment settings, read from CDK context (`cdk.json` or `-c key=value`). */
export interface CitrixResponseConfig {
  /** Citrix Cloud API host, without a trailing slash. */
  readonly citrixApiUrl: string;
  readonly citrixCustomerId: string;
  /** DaaS site (`Citrix-InstanceId`); when absent the functions look it up. */
  readonly citrixSiteId?: string;
  /**
   * Endpoint Management base URL, e.g. `https://mdm.example.com:4443/xenmobile/api/v1`. Without it
   * the device workflow is deployed but every device action fails, saying it is not configured.
   */
  readonly citrixEmUrl?: string;
  readonly citrixEmAuth: EmAuthMode;
  readonly citrixEmBodyShape: EmBodyShape;
  /**
   * Email, userId or ucOid of the administrator who created the Citrix Cloud API client: the
   * administrator actions never touch it. Without it every administrator action fails, saying so.
   */
  readonly citrixApiClientOwner?: string;
  /** Administrators no action may touch (emails, userIds or ucOids). */
  readonly protectedAdministrators: readonly string[];
  /** EventBridge schedule expression of the administrator report. */
  readonly adminReportSchedule: string;
  /** Invitations pending longer than this are reported. */
  readonly adminReportPendingDays: number;
  /** The routing rules file, validated at synth and bundled with the source endpoint. */
  readonly routesFile: string;
  /**
   * Source IP ranges (CIDR) allowed per source endpoint, and for `api` (POST /v1/actions and the
   * approve and reject routes); an entry not listed is open.
   */
  readonly sourceIpAllowlists: Readonly<Partial<Record<AllowlistName, readonly string[]>>>;
  /** Named signed-callback destinations (https URLs) a request may ask for by name. */
  readonly callbackDestinations: Readonly<Record<string, string>>;
  /** How long a delivery key is remembered, in seconds. */
  readonly idempotencyWindowSeconds: number;
  /**
   * The guardrails as the functions read them (GUARDRAIL_LIMITS, APPROVAL_REQUIRED,
   * APPROVAL_TIMEOUT_SECONDS, PROTECTED_USERS, PROTECTED_DEVICES), validated at synth.
   */
  readonly guardrailEnvironment: Readonly<Record<string, string>>;
  /** How long an approval may wait; also the waitForTaskToken tasks' TimeoutSeconds. */
  readonly approvalTimeoutSeconds: number;
  /** Upper bound on sessions or devices acted on at once by one action. */
  readonly maxConcurrency: number;
  readonly logRetention: RetentionDays;
}

/** What `sourceIpAllowlists` may restrict: each source endpoint, and `api` for the signed API. */
export const ALLOWLIST_NAMES = ['api', ...SOURCES] as const;
export type AllowlistName = SourceName | 'api';

/** Context keys that are no longer read, and where their setting lives now. */
const RETIRED_CONTEXT: Readonly<Record<string, string>> = {
  serviceNowInstanceUrl:
    'the ServiceNow instance URL is read from the ServiceNowApiCredentials secret (JSON key instanceUrl, with username and password); remove the context key and put the URL in the secret',
};

export const CONTEXT_DEFAULTS = {
  citrixApiUrl: 'https://api.cloud.com',
  citrixCustomerId: CITRIX_CUSTOMER_ID_PLACEHOLDER,
  citrixEmAuth: 'cloud',
  citrixEmBodyShape: 'object',
  adminReportSchedule: 'rate(1 day)',
  adminReportPendingDays: 14,
  routesFile: 'config/routes.json',
  idempotencyWindowSeconds: 86_400,
  maxConcurrency: 10,
  logRetentionDays: 90,
} as const;

/** Inline Map states run at most 40 iterations at once; a higher MaxConcurrency only misleads. */
const MAX_CONCURRENCY_LIMIT = 40;
// The same patterns the functions enforce on CITRIX_CUSTOMER_ID and CITRIX_SITE_ID.
const CITRIX_ID_PATTERNS = {
  citrixCustomerId: {
    pattern: /^[A-Za-z0-9_-]{1,64}$/,
    description: 'letters, digits, "_" or "-"',
  },
  citrixSiteId: { pattern: /^[A-Za-z0-9-]{1,64}$/, description: 'letters, digits or "-"' },
} as const;
// A numeric enum also maps names back from values, so keep only the numbers.
const RETENTION_DAYS = new Set<number>(
  Object.values(RetentionDays).filter((value): value is RetentionDays => typeof value === 'number'),
);

export class InvalidContextError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidContextError';
  }
}

/** Reads and validates the context; `tryGetContext` is usually `app.node.tryGetContext`. */
export function readConfig(tryGetContext: (key: string) => unknown): CitrixResponseConfig {
  const citrixSiteId = optionalString(tryGetContext, 'citrixSiteId');
  const citrixEmUrl = optionalString(tryGetContext, 'citrixEmUrl');
  const citrixApiClientOwner = optionalString(tryGetContext, 'citrixApiClientOwner');
  refuseRetiredContext(tryGetContext);
  const guardrails = readGuardrails(tryGetContext);
  const config: CitrixResponseConfig = {
    ...guardrails,
    routesFile: readRoutesFile(
      optionalString(tryGetContext, 'routesFile') ?? CONTEXT_DEFAULTS.routesFile,
    ),
    sourceIpAllowlists: readIpAllowlists(tryGetContext('sourceIpAllowlists')),
    callbackDestinations: readCallbackDestinations(tryGetContext('callbackDestinations')),
    idempotencyWindowSeconds: readInteger(
      'idempotencyWindowSeconds',
      tryGetContext('idempotencyWindowSeconds') ?? CONTEXT_DEFAULTS.idempotencyWindowSeconds,
      60,
      7 * 86_400,
    ),
    citrixApiUrl: readApiUrl(
      optionalString(tryGetContext, 'citrixApiUrl') ?? CONTEXT_DEFAULTS.citrixApiUrl,
    ),
    citrixCustomerId: readCitrixId(
      'citrixCustomerId',
      optionalString(tryGetContext, 'citrixCustomerId') ?? CONTEXT_DEFAULTS.citrixCustomerId,
    ),
    ...(citrixEmUrl === undefined ? {} : { citrixEmUrl: readEmUrl(citrixEmUrl) }),
    citrixEmAuth: readChoice(
      'citrixEmAuth',
      optionalString(tryGetContext, 'citrixEmAuth') ?? CONTEXT_DEFAULTS.citrixEmAuth,
      EM_AUTH_MODES,
    ),
    citrixEmBodyShape: readChoice(
      'citrixEmBodyShape',
      optionalString(tryGetContext, 'citrixEmBodyShape') ?? CONTEXT_DEFAULTS.citrixEmBodyShape,
      EM_BODY_SHAPES,
    ),
    ...(citrixApiClientOwner === undefined
      ? {}
      : {
          citrixApiClientOwner: readAdministratorKey('citrixApiClientOwner', citrixApiClientOwner),
        }),
    protectedAdministrators: (optionalString(tryGetContext, 'protectedAdministrators') ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '')
      .map((entry) => readAdministratorKey('protectedAdministrators', entry)),
    adminReportSchedule: readSchedule(
      optionalString(tryGetContext, 'adminReportSchedule') ?? CONTEXT_DEFAULTS.adminReportSchedule,
    ),
    adminReportPendingDays: readInteger(
      'adminReportPendingDays',
      tryGetContext('adminReportPendingDays') ?? CONTEXT_DEFAULTS.adminReportPendingDays,
      1,
      365,
    ),
    maxConcurrency: readInteger(
      'maxConcurrency',
      tryGetContext('maxConcurrency') ?? CONTEXT_DEFAULTS.maxConcurrency,
      1,
      MAX_CONCURRENCY_LIMIT,
    ),
    logRetention: readRetention(
      tryGetContext('logRetentionDays') ?? CONTEXT_DEFAULTS.logRetentionDays,
    ),
  };
  return citrixSiteId === undefined
    ? config
    : { ...config, citrixSiteId: readCitrixId('citrixSiteId', citrixSiteId) };
}

/** A retired key fails synth rather than being ignored: the operator would think it still applies. */
function refuseRetiredContext(tryGetContext: (key: string) => unknown): void {
  for (const [key, instead] of Object.entries(RETIRED_CONTEXT)) {
    const value = tryGetContext(key);
    if (value !== undefined && value !== null && value !== '') {
      throw new InvalidContextError(`Context "${key}" is no longer supported: ${instead}`);
    }
  }
}

function optionalString(tryGetContext: (key: string) => unknown, key: string): string | undefined {
  const value = tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new InvalidContextError(`Context "${key}" must be a string, got ${typeof value}`);
  }
  return value.trim();
}

/** The functions accept only Citrix Cloud hosts (lib/citrix/config.ts): fail at synth, not at run time. */
function readApiUrl(value: string): string {
  let url: URL;
  try {
    url = parseCitrixBaseUrl(value);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidContextError(`Context "citrixApiUrl" is invalid: ${reason}`, { cause: error });
  }
  if (url.protocol !== 'https:') {
    throw new InvalidContextError(`Context "citrixApiUrl" must be an https URL, got ${value}`);
  }
  return url.origin;
}

function readEmUrl(value: string): string {
  let url: URL;
  try {
    url = parseEndpointManagementUrl(value);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidContextError(`Context "citrixEmUrl" is invalid: ${reason}`, { cause: error });
  }
  if (url.protocol !== 'https:') {
    throw new InvalidContextError(`Context "citrixEmUrl" must be an https URL, got ${value}`);
  }
  return url.href;
}

/** The rules must load at synth: an invalid file fails `cdk synth`, naming the rule and field. */
function readRoutesFile(value: string): string {
  const path = isAbsolute(value)
    ? value
    : join(fileURLToPath(new URL('..', import.meta.url)), value);
  try {
    loadRoutingRules(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidContextError(`Context "routesFile": ${reason}`, { cause: error });
  }
  return path;
}

/** An IPv4 or IPv6 range with a prefix length the family allows. */
function isCidr(value: string): boolean {
  const [address = '', prefix = '', ...rest] = value.split('/');
  const family = isIP(address);
  const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : Number.NaN;
  return rest.length === 0 && family !== 0 && bits >= 0 && bits <= (family === 4 ? 32 : 128);
}

/** CDK JSON context or a `-c` string holding JSON. */
function jsonContext(key: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new InvalidContextError(`Context "${key}" must be JSON`, { cause: error });
  }
}

function readIpAllowlists(value: unknown): Partial<Record<AllowlistName, string[]>> {
  if (value === undefined || value === null || value === '') return {};
  const parsed = z
    .partialRecord(
      z.enum(ALLOWLIST_NAMES),
      z.array(z.string().refine(isCidr, 'must be an IPv4 or IPv6 CIDR range')).min(1),
    )
    .safeParse(jsonContext('sourceIpAllowlists', value));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new InvalidContextError(
      `Context "sourceIpAllowlists" is invalid: ${problems.join('; ')}`,
    );
  }
  return parsed.data;
}

function readCallbackDestinations(value: unknown): Record<string, string> {
  if (value === undefined || value === null || value === '') return {};
  const json = JSON.stringify(jsonContext('callbackDestinations', value));
  try {
    return Object.fromEntries(
      [...parseCallbackDestinations(json)].map(([name, url]) => {
        if (url.protocol !== 'https:') throw new Error(`destination "${name}" must be https`);
        return [name, url.href];
      }),
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidContextError(`Context "callbackDestinations" is invalid: ${reason}`, {
      cause: error,
    });
  }
}

/** The guardrail context keys, passed to the functions under the names they read. */
const GUARDRAIL_CONTEXT = {
  guardrailLimits: 'GUARDRAIL_LIMITS',
  approvalRequired: 'APPROVAL_REQUIRED',
  approvalTimeoutSeconds: 'APPROVAL_TIMEOUT_SECONDS',
  protectedUsers: 'PROTECTED_USERS',
  protectedDevices: 'PROTECTED_DEVICES',
} as const satisfies Record<string, (typeof GUARDRAIL_VARIABLES)[number]>;

function readGuardrails(tryGetContext: (key: string) => unknown): {
  guardrailEnvironment: Record<string, string>;
  approvalTimeoutSeconds: number;
} {
  const environment: Record<string, string> = {};
  for (const [key, variable] of Object.entries(GUARDRAIL_CONTEXT)) {
    const value = tryGetContext(key);
    if (value === undefined || value === null || value === '') continue;
    environment[variable] = LIST_CONTEXT.has(key)
      ? readList(key, value)
      : typeof value === 'string'
        ? value
        : JSON.stringify(value);
  }
  try {
    const settings = guardrailsFromEnv(environment);
    return {
      guardrailEnvironment: environment,
      approvalTimeoutSeconds: settings.approvalTimeoutSeconds,
    };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    // The message names the variable the functions read; say which context key sets it too.
    const keys = Object.entries(GUARDRAIL_CONTEXT)
      .filter(([, variable]) => reason.includes(variable))
      .map(([key]) => `"${key}"`);
    throw new InvalidContextError(
      `Guardrail context${keys.length > 0 ? ` ${keys.join(', ')}` : ''} is invalid: ${reason}`,
      { cause: error },
    );
  }
}

/** Guardrail keys the functions read as comma-separated lists. */
const LIST_CONTEXT: ReadonlySet<string> = new Set([
  'approvalRequired',
  'protectedUsers',
  'protectedDevices',
]);

/**
 * A list key as the functions read it: a comma-separated string as given, or a cdk.json array of
 * strings joined with commas. Anything else is refused rather than passed on as JSON text, which
 * would split into names like `["ceo@example.com"` and protect nobody.
 */
function readList(key: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (
    Array.isArray(value) &&
    value.every((entry) => typeof entry === 'string' && entry.trim() !== '' && !entry.includes(','))
  ) {
    return value.join(',');
  }
  throw new InvalidContextError(
    `Context "${key}" must be a comma-separated string or an array of non-empty strings without commas, got ${JSON.stringify(value)}`,
  );
}

function readAdministratorKey(key: string, value: string): string {
  if (!/^[^\s,\p{Cc}]{1,256}$/u.test(value)) {
    throw new InvalidContextError(
      `Context "${key}" must hold emails, userIds or ucOids (no spaces), got "${value}"`,
    );
  }
  return value;
}

/**
 * `rate(1 day)`, `rate(6 hours)` or `cron(0 6 * * ? *)`, as EventBridge takes them: a singular
 * unit for 1 and a plural one above, and six cron fields. Anything else fails at synth, not deploy.
 */
function readSchedule(value: string): string {
  const rate = /^rate\((\d+) (minute|hour|day)(s?)\)$/.exec(value);
  const valid = rate
    ? Number(rate[1]) >= 1 && (Number(rate[1]) === 1) === (rate[3] === '')
    : /^cron\(\S+( \S+){5}\)$/.test(value);
  if (!valid) {
    throw new InvalidContextError(
      `Context "adminReportSchedule" must be an EventBridge rate(...) or cron(...) expression, got "${value}"`,
    );
  }
  return value;
}

function readChoice<const Choice extends string>(
  key: string,
  value: string,
  choices: readonly Choice[],
): Choice {
  if (!(choices as readonly string[]).includes(value)) {
    throw new InvalidContextError(
      `Context "${key}" must be one of ${choices.join(', ')}, got "${value}"`,
    );
  }
  return value as Choice;
}

function readCitrixId(key: keyof typeof CITRIX_ID_PATTERNS, value: string): string {
  const { pattern, description } = CITRIX_ID_PATTERNS[key];
  if (!pattern.test(value)) {
    throw new InvalidContextError(`Context "${key}" must be 1-64 ${description}, got "${value}"`);
  }
  return value;
}

/** CLI context (`-c key=value`) arrives as strings, cdk.json values as numbers: accept both. */
function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return Number(value);
  return Number.NaN;
}

function readInteger(key: string, value: unknown, min: number, max: number): number {
  const number = toNumber(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new InvalidContextError(
      `Context "${key}" must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return number;
}

function readRetention(value: unknown): RetentionDays {
  const days = toNumber(value);
  if (!RETENTION_DAYS.has(days)) {
    const allowed = [...RETENTION_DAYS].sort((a, b) => a - b).join(', ');
    throw new InvalidContextError(
      `Context "logRetentionDays" must be one of the CloudWatch Logs retention periods (${allowed}), got ${JSON.stringify(value)}`,
    );
  }
  return days as RetentionDays;
}
