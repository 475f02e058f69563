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
  parseEndpointManagementUrl,
} from '../lib/citrix/endpoint-management-config.ts';
import { type GUARDRAIL_VARIABLES, guardrailsFromEnv } from '../lib/guardrails/config.ts';
import { loadRoutingRules } from '../lib/sources/routing.ts';
import { SOURCES, type SourceName } from '../lib/sources/types.ts';
import { DEFAULT_SWEEPS_FILE, loadSweeps, sweepCallbackProblems } from '../lib/sweeps/config.ts';

/**
 * The deployment settings: CDK context (`cdk.json` or `-c key=value`) read by one schema,
 * `ContextSchema` below. Each problem fails synth with one line, `Context "<key>" <problem>`,
 * which also names the environment variable where the functions read the value under that name.
 */

/**
 * Stands in for the Citrix Cloud customer id so that `cdk synth` and the tests work without one.
 * A stack built with it carries a CloudFormation rule that refuses to deploy.
 */
export const CITRIX_CUSTOMER_ID_PLACEHOLDER = 'set-citrix-customer-id';

export const CONTEXT_DEFAULTS = {
  citrixApiUrl: 'https://api.cloud.com',
  citrixCustomerId: CITRIX_CUSTOMER_ID_PLACEHOLDER,
  citrixEmAuth: 'cloud',
  citrixEmBodyShape: 'object',
  adminReportSchedule: 'rate(1 day)',
  adminReportPendingDays: 14,
  routesFile: 'config/routes.json',
  sweepsFile: DEFAULT_SWEEPS_FILE,
  idempotencyWindowSeconds: 86_400,
  maxConcurrency: 10,
  logRetentionDays: 90,
  apiRateLimitPerAddress: 1500,
} as const;

/**
 * What `sourceIpAllowlists` may restrict: each source endpoint, and `api` for the routes that
 * start or decide actions (the people's POST routes and the Standard Webhooks source).
 */
export const ALLOWLIST_NAMES = ['api', ...SOURCES] as const;
export type AllowlistName = SourceName | 'api';

export class InvalidContextError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidContextError';
  }
}

// --- Building blocks. A problem reads after `Context "<key>" `: "must be ...", "is invalid: ...".

type Check = z.RefinementCtx;

/** Records a problem with the value; a library error that explains it becomes the cause. */
function problem(check: Check, message: string, cause?: unknown): typeof z.NEVER {
  check.addIssue({
    code: 'custom',
    message,
    ...(cause === undefined ? {} : { params: { cause } }),
  });
  return z.NEVER;
}

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

const text = z.string({ error: (issue) => `must be a string, got ${typeof issue.input}` }).trim();

const oneOf = <const Choice extends string>(choices: readonly [Choice, ...Choice[]]) =>
  text.pipe(
    z.enum(choices, {
      error: (issue) => `must be one of ${choices.join(', ')}, got "${String(issue.input)}"`,
    }),
  );

/** A string `pattern` matches; `rule` says what it must be. */
const matching = (pattern: RegExp, rule: string) =>
  text.refine((value) => pattern.test(value), {
    error: (issue) => `${rule}, got "${String(issue.input)}"`,
  });

/** CLI context (`-c key=value`) arrives as strings, cdk.json values as numbers: accept both. */
function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return Number(value);
  return Number.NaN;
}

const integer = (min: number, max: number) =>
  z.unknown().transform((value, check) => {
    const number = toNumber(value);
    return Number.isInteger(number) && number >= min && number <= max
      ? number
      : problem(check, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  });

/** A URL the functions' own parser accepts, and https (a parser allows http for loopback only). */
const httpsUrl = (parse: (value: string) => URL) =>
  text.transform((value, check) => {
    let url: URL;
    try {
      url = parse(value);
    } catch (error) {
      return problem(check, `is invalid: ${reasonOf(error)}`, error);
    }
    return url.protocol === 'https:' ? url : problem(check, `must be an https URL, got ${value}`);
  });

/** CDK JSON context, or a `-c` string holding JSON. */
const json = z.unknown().transform((value, check) => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch (error) {
    return problem(check, 'must be JSON', error);
  }
});

/** A structured value: each of zod's problems inside it named by its path in the value. */
const structured = <T extends z.ZodType>(schema: T) =>
  json.transform((value, check): z.output<T> => {
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    const problems = parsed.error.issues.map((issue) =>
      issue.path.length === 0 ? issue.message : `${issue.path.join('.')}: ${issue.message}`,
    );
    return problem(check, `is invalid: ${problems.join('; ')}`, parsed.error);
  });

/** An IPv4 or IPv6 range with a prefix length the family allows. */
function isCidr(value: string): boolean {
  const [address = '', prefix = '', ...rest] = value.split('/');
  const family = isIP(address);
  const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : Number.NaN;
  return rest.length === 0 && family !== 0 && bits >= 0 && bits <= (family === 4 ? 32 : 128);
}

/** Emails, userIds or ucOids, as the administrator functions compare them. */
const administratorKey = matching(
  /^[^\s,\p{Cc}]{1,256}$/u,
  'must hold emails, userIds or ucOids (no spaces)',
);

/**
 * `rate(1 day)`, `rate(6 hours)` or `cron(0 6 * * ? *)`, as EventBridge takes them: a singular
 * unit for 1 and a plural one above, and six cron fields. Anything else fails at synth, not deploy.
 */
function isSchedule(value: string): boolean {
  const rate = /^rate\((\d+) (minute|hour|day)(s?)\)$/.exec(value);
  return rate
    ? Number(rate[1]) >= 1 && (Number(rate[1]) === 1) === (rate[3] === '')
    : /^cron\(\S+( \S+){5}\)$/.test(value);
}

// A numeric enum also maps names back from values, so keep only the numbers.
const RETENTION_DAYS: readonly number[] = Object.values(RetentionDays)
  .filter((value) => typeof value === 'number')
  .sort((a, b) => a - b);

const retention = z.unknown().transform((value, check) => {
  const days = toNumber(value);
  return RETENTION_DAYS.includes(days)
    ? (days as RetentionDays)
    : problem(
        check,
        `must be one of the CloudWatch Logs retention periods (${RETENTION_DAYS.join(', ')}), got ${JSON.stringify(value)}`,
      );
});

/** A path as given, or resolved from the project root (not the working directory). */
const fromProjectRoot = (path: string) =>
  isAbsolute(path) ? path : join(fileURLToPath(new URL('..', import.meta.url)), path);

/**
 * The routing rules file. The rules must load at synth: an invalid file fails `cdk synth`,
 * naming the rule and field.
 */
const routesFile = text.transform((value, check) => {
  const path = fromProjectRoot(value);
  try {
    loadRoutingRules(path);
    return path;
  } catch (error) {
    return problem(check, `is invalid: ${reasonOf(error)}`, error);
  }
});

/**
 * The sweeps file and the sweeps it declares. They must load at synth: an invalid file fails
 * `cdk synth` with `loadSweeps`'s message, naming the sweep and field.
 */
const sweepsFile = text.transform((value, check) => {
  const path = fromProjectRoot(value);
  try {
    return { path, sweeps: loadSweeps(path) };
  } catch (error) {
    return problem(check, `is invalid: ${reasonOf(error)}`, error);
  }
});

/**
 * The environment variable that overrides the `sweepsFile` context, as it overrides the file
 * `npm start` reads: one variable names the sweeps wherever they run.
 */
export const SWEEPS_FILE_VARIABLE = 'SWEEPS_FILE';

/** Named https destinations, as the notification task will read them back. */
const callbackDestinations = json.transform((value, check) => {
  try {
    const destinations = [...parseCallbackDestinations(JSON.stringify(value))];
    const plain = destinations.find(([, url]) => url.protocol !== 'https:');
    if (plain !== undefined) throw new Error(`destination "${plain[0]}" must be https`);
    return Object.fromEntries(destinations.map(([name, url]) => [name, url.href]));
  } catch (error) {
    return problem(check, `is invalid: ${reasonOf(error)}`, error);
  }
});

/**
 * A list the functions read comma-separated: a string as given, or a cdk.json array of strings
 * joined with commas. Anything else is refused rather than passed on as JSON text, which would
 * split into names like `["ceo@example.com"` and protect nobody.
 */
const commaList = z.unknown().transform((value, check) => {
  if (typeof value === 'string') return value;
  if (
    Array.isArray(value) &&
    value.every((entry) => typeof entry === 'string' && entry.trim() !== '' && !entry.includes(','))
  ) {
    return value.join(',');
  }
  return problem(
    check,
    `must be a comma-separated string or an array of non-empty strings without commas, got ${JSON.stringify(value)}`,
  );
});

/** A value as an environment variable holds it: a string as given, a cdk.json value as JSON. */
const asVariable = z
  .unknown()
  .transform((value) => (typeof value === 'string' ? value : JSON.stringify(value)));

type GuardrailVariable = (typeof GUARDRAIL_VARIABLES)[number];

/**
 * A guardrail, passed to the resolve functions as `variable` exactly as given, and validated at
 * synth by the parser they run (whose message names the variable).
 */
const guardrail = (variable: GuardrailVariable, value: z.ZodType<string> = asVariable) =>
  value
    .transform((setting, check) => {
      try {
        guardrailsFromEnv({ [variable]: setting });
        return setting;
      } catch (error) {
        return problem(check, `is invalid: ${reasonOf(error)}`, error);
      }
    })
    .optional();

/** A context key that is no longer read: refused rather than ignored, saying where it went. */
const retired = (instead: string) =>
  z.never({ error: `is no longer supported: ${instead}` }).optional();

// --- The schema: every context key the stack reads, with its default.

const ContextSchema = z
  .object({
    /** Citrix Cloud API host (https, one of the Citrix Cloud hosts), without a trailing slash. */
    citrixApiUrl: httpsUrl(parseCitrixBaseUrl)
      .transform((url) => url.origin)
      .prefault(CONTEXT_DEFAULTS.citrixApiUrl),
    // The same patterns the functions enforce on CITRIX_CUSTOMER_ID and CITRIX_SITE_ID.
    citrixCustomerId: matching(
      /^[A-Za-z0-9_-]{1,64}$/,
      'must be 1-64 letters, digits, "_" or "-"',
    ).prefault(CONTEXT_DEFAULTS.citrixCustomerId),
    /** DaaS site (`Citrix-InstanceId`); when absent the functions look it up. */
    citrixSiteId: matching(
      /^[A-Za-z0-9-]{1,64}$/,
      'must be 1-64 letters, digits or "-"',
    ).optional(),
    /**
     * Endpoint Management base URL, e.g. `https://mdm.example.com:4443/xenmobile/api/v1`. Without
     * it the device workflow is deployed but every device action fails, saying it is not
     * configured.
     */
    citrixEmUrl: httpsUrl(parseEndpointManagementUrl)
      .transform((url) => url.href)
      .optional(),
    citrixEmAuth: oneOf(EM_AUTH_MODES).prefault(CONTEXT_DEFAULTS.citrixEmAuth),
    citrixEmBodyShape: oneOf(EM_BODY_SHAPES).prefault(CONTEXT_DEFAULTS.citrixEmBodyShape),
    /**
     * Email, userId or ucOid of the administrator who created the Citrix Cloud API client: the
     * administrator actions never touch it. Without it every administrator action fails, saying so.
     */
    citrixApiClientOwner: administratorKey.optional(),
    /** Administrators no action may touch (emails, userIds or ucOids), comma-separated. */
    protectedAdministrators: text
      .transform((value) =>
        value
          .split(',')
          .map((entry) => entry.trim())
          .filter((entry) => entry !== ''),
      )
      .pipe(z.array(administratorKey))
      .prefault(''),
    /** EventBridge schedule expression of the administrator report. */
    adminReportSchedule: text
      .refine(isSchedule, {
        error: (issue) =>
          `must be an EventBridge rate(...) or cron(...) expression, got "${String(issue.input)}"`,
      })
      .prefault(CONTEXT_DEFAULTS.adminReportSchedule),
    /** Invitations pending longer than this are reported. */
    adminReportPendingDays: integer(1, 365).prefault(CONTEXT_DEFAULTS.adminReportPendingDays),
    /** The routing rules file, validated at synth and bundled with the source endpoint. */
    routesFile: routesFile.prefault(CONTEXT_DEFAULTS.routesFile),
    /**
     * The sweeps file (`SWEEPS_FILE` overrides it), validated at synth and bundled with the
     * run-sweep function; each enabled sweep gets a schedule.
     */
    sweepsFile: sweepsFile.prefault(CONTEXT_DEFAULTS.sweepsFile),
    /**
     * Source IP ranges (CIDR) allowed per source endpoint, and for `api` (POST /v1/actions, the
     * approve and reject routes, and POST /v1/webhooks/standard); an entry not listed is open.
     */
    sourceIpAllowlists: structured(
      z.partialRecord(
        z.enum(ALLOWLIST_NAMES),
        z.array(z.string().refine(isCidr, 'must be an IPv4 or IPv6 CIDR range')).min(1),
      ),
    ).prefault({}),
    /** Named signed-callback destinations (https URLs) a request may ask for by name. */
    callbackDestinations: callbackDestinations.prefault({}),
    /** How long a delivery key is remembered, in seconds. */
    idempotencyWindowSeconds: integer(60, 7 * 86_400).prefault(
      CONTEXT_DEFAULTS.idempotencyWindowSeconds,
    ),
    guardrailLimits: guardrail('GUARDRAIL_LIMITS'),
    approvalRequired: guardrail('APPROVAL_REQUIRED', commaList),
    approvalTimeoutSeconds: guardrail('APPROVAL_TIMEOUT_SECONDS'),
    protectedUsers: guardrail('PROTECTED_USERS', commaList),
    protectedDevices: guardrail('PROTECTED_DEVICES', commaList),
    /**
     * Upper bound on sessions or devices acted on at once by one action. Inline Map states run
     * at most 40 iterations at once; a higher MaxConcurrency would only mislead.
     */
    maxConcurrency: integer(1, 40).prefault(CONTEXT_DEFAULTS.maxConcurrency),
    logRetentionDays: retention.prefault(CONTEXT_DEFAULTS.logRetentionDays),
    /**
     * Requests one source address may send to the API in any 5 minutes before WAF answers 429
     * (WAF's rate-based rules take 10 to 2,000,000,000; below 100 a person's CLI would trip it).
     */
    apiRateLimitPerAddress: integer(100, 2_000_000_000).prefault(
      CONTEXT_DEFAULTS.apiRateLimitPerAddress,
    ),
    /** Subscribed to the alarm topic; AWS mails it a confirmation link first. */
    alarmEmail: text
      .pipe(z.email({ error: (issue) => `must be an email address, got "${String(issue.input)}"` }))
      .optional(),
    serviceNowInstanceUrl: retired(
      'the ServiceNow instance URL is read from the ServiceNowApiCredentials secret (JSON key instanceUrl, with username and password); remove the context key and put the URL in the secret',
    ),
  })
  .superRefine(({ sweepsFile, callbackDestinations }, check) => {
    // A sweep's callback must name a configured destination, as a route's must.
    const problems = sweepCallbackProblems(
      sweepsFile.sweeps,
      new Set(Object.keys(callbackDestinations)),
    );
    if (problems.length > 0) {
      check.addIssue({
        code: 'custom',
        path: ['sweepsFile'],
        message: `is invalid: Invalid sweeps file ${sweepsFile.path}: ${problems.join('; ')}`,
      });
    }
  })
  .transform(
    ({
      guardrailLimits,
      approvalRequired,
      approvalTimeoutSeconds,
      protectedUsers,
      protectedDevices,
      logRetentionDays,
      sweepsFile,
      serviceNowInstanceUrl: _retired,
      ...settings
    }) => {
      // Only what is set: the resolve functions apply the defaults to the rest.
      const guardrailEnvironment = definedOnly({
        GUARDRAIL_LIMITS: guardrailLimits,
        APPROVAL_REQUIRED: approvalRequired,
        APPROVAL_TIMEOUT_SECONDS: approvalTimeoutSeconds,
        PROTECTED_USERS: protectedUsers,
        PROTECTED_DEVICES: protectedDevices,
      } satisfies Record<GuardrailVariable, string | undefined>);
      return {
        ...definedOnly(settings),
        /**
         * The guardrails as the resolve functions read them (GUARDRAIL_LIMITS, APPROVAL_REQUIRED,
         * APPROVAL_TIMEOUT_SECONDS, PROTECTED_USERS, PROTECTED_DEVICES): only those set.
         */
        guardrailEnvironment: guardrailEnvironment as Readonly<Record<string, string>>,
        /** How long an approval may wait; also the waitForTaskToken tasks' TimeoutSeconds. */
        approvalTimeoutSeconds: guardrailsFromEnv(guardrailEnvironment).approvalTimeoutSeconds,
        logRetention: logRetentionDays,
        /** The sweeps file, bundled beside the run-sweep function. */
        sweepsFile: sweepsFile.path,
        /** The sweeps it declares, as validated at synth: each enabled one gets a schedule. */
        sweeps: sweepsFile.sweeps,
      };
    },
  );

/** Deployment settings, as the constructs use them. */
export type CitrixResponseConfig = Readonly<z.output<typeof ContextSchema>>;

/** The object without its undefined entries: an optional setting that is not set is absent. */
function definedOnly<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
}

/**
 * Reads and validates the context; `tryGetContext` is usually `app.node.tryGetContext`. Unset,
 * `null` and `""` (what `-c key=` passes) all mean "not set". `SWEEPS_FILE` in `environment`
 * (the process's own by default), when set, overrides the `sweepsFile` context, and a problem
 * with it is named after the variable. Throws `InvalidContextError`.
 */
export function readConfig(
  tryGetContext: (key: string) => unknown,
  environment: Readonly<Record<string, string | undefined>> = process.env,
): CitrixResponseConfig {
  const isSet = (value: unknown) => value !== undefined && value !== null && value !== '';
  const context = Object.fromEntries(
    Object.keys(ContextSchema.in.shape).flatMap((key) => {
      const value = tryGetContext(key);
      return isSet(value) ? [[key, value]] : [];
    }),
  );
  const sweepsFileVariable = environment[SWEEPS_FILE_VARIABLE];
  const sweepsFromEnvironment = isSet(sweepsFileVariable?.trim());
  if (sweepsFromEnvironment) context.sweepsFile = sweepsFileVariable;
  const parsed = ContextSchema.safeParse(context);
  if (parsed.success) return parsed.data;
  // One line per problem, each naming its key; the first library error behind one is the cause.
  const { issues } = parsed.error;
  const nameOf = (key: string) =>
    key === 'sweepsFile' && sweepsFromEnvironment
      ? `${SWEEPS_FILE_VARIABLE} (which overrides context "sweepsFile")`
      : `Context "${key}"`;
  const message = issues.map((issue) => `${nameOf(String(issue.path[0]))} ${issue.message}`);
  const cause = issues
    .map((issue) => (issue.code === 'custom' ? issue.params?.cause : undefined))
    .find((found) => found !== undefined);
  throw new InvalidContextError(message.join('\n'), { cause: cause ?? parsed.error });
}
