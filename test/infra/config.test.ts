import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/citrix-response-function.ts';
import {
  CITRIX_CUSTOMER_ID_PLACEHOLDER,
  InvalidContextError,
  readConfig,
} from '../../infra/config.ts';
import {
  CallbackConfigurationError,
  parseCallbackDestinations,
} from '../../lib/callbacks/signed-callback.ts';
import { parseEndpointManagementUrl } from '../../lib/citrix/endpoint-management-config.ts';
import { CitrixConfigurationError } from '../../lib/citrix/errors.ts';
import {
  DEFAULT_GUARDRAIL_SETTINGS,
  guardrailsFromEnv,
  InvalidGuardrailsError,
} from '../../lib/guardrails/config.ts';
import { RoutingRulesError } from '../../lib/sources/routing.ts';
import { loadSweeps, SweepsFileError } from '../../lib/sweeps/config.ts';

/** The context alone: no SWEEPS_FILE, whatever the shell running the tests has. */
const fromContext = (
  context: Record<string, unknown>,
  environment: Record<string, string | undefined> = {},
) => readConfig((key) => context[key], environment);

/** The rules file the project ships, as readConfig resolves the default `config/routes.json`. */
const DEFAULT_ROUTES_FILE = join(PROJECT_ROOT, 'config', 'routes.json');

/** The sweeps file the project ships, as readConfig resolves the default `config/sweeps.json`. */
const DEFAULT_SWEEPS_FILE = join(PROJECT_ROOT, 'config', 'sweeps.json');

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The error `run` throws; fails the test when it throws nothing. */
function errorFrom(run: () => unknown): Error {
  try {
    run();
  } catch (caught) {
    return caught as Error;
  }
  throw new Error('expected an error, but nothing was thrown');
}

describe('readConfig', () => {
  it('falls back to the defaults and the placeholder customer id', () => {
    expect(fromContext({})).toEqual({
      citrixApiUrl: 'https://api.cloud.com',
      citrixCustomerId: CITRIX_CUSTOMER_ID_PLACEHOLDER,
      citrixEmAuth: 'cloud',
      citrixEmBodyShape: 'object',
      protectedAdministrators: [],
      adminReportSchedule: 'rate(1 day)',
      adminReportPendingDays: 14,
      routesFile: DEFAULT_ROUTES_FILE,
      sweepsFile: DEFAULT_SWEEPS_FILE,
      sweeps: loadSweeps(DEFAULT_SWEEPS_FILE),
      sourceIpAllowlists: {},
      callbackDestinations: {},
      idempotencyWindowSeconds: 86_400,
      // No guardrail variable: the resolve tasks enforce the defaults, approvals wait an hour.
      guardrailEnvironment: {},
      approvalTimeoutSeconds: 3600,
      maxConcurrency: 10,
      logRetention: RetentionDays.THREE_MONTHS,
      apiRateLimitPerAddress: 1500,
    });
    // No owner: the administrator functions then refuse every action.
    expect(fromContext({})).not.toHaveProperty('citrixApiClientOwner');
    // No subscriber: the operator subscribes to the alarm topic (docs/operations.md).
    expect(fromContext({})).not.toHaveProperty('alarmEmail');
  });

  it('accepts the strings that `cdk -c key=value` passes', () => {
    const config = fromContext({
      citrixApiUrl: 'https://api.citrixcloud.jp/',
      citrixCustomerId: 'abc123',
      citrixSiteId: '1b8e3f1c-0000-4000-8000-000000000001',
      citrixEmUrl: ' https://mdm.example.com:4443/xenmobile/api/v1/ ',
      citrixEmAuth: 'credentials',
      citrixEmBodyShape: 'id-array',
      citrixApiClientOwner: ' api.owner@example.com ',
      protectedAdministrators: ' break.glass@example.com , OID:/citrix/42,,',
      adminReportSchedule: ' cron(0 6 * * ? *) ',
      adminReportPendingDays: '30',
      maxConcurrency: '25',
      logRetentionDays: '365',
      guardrailLimits: '{"admin.revoke":{"perHour":5}}',
      approvalRequired: 'admin.revoke',
      approvalTimeoutSeconds: '1800',
      protectedUsers: 'ceo@example.com',
      protectedDevices: '1042',
      apiRateLimitPerAddress: '600',
      alarmEmail: ' oncall@example.com ',
    });

    expect(config).toEqual({
      citrixApiUrl: 'https://api.citrixcloud.jp',
      citrixCustomerId: 'abc123',
      citrixSiteId: '1b8e3f1c-0000-4000-8000-000000000001',
      citrixEmUrl: 'https://mdm.example.com:4443/xenmobile/api/v1',
      citrixEmAuth: 'credentials',
      citrixEmBodyShape: 'id-array',
      citrixApiClientOwner: 'api.owner@example.com',
      protectedAdministrators: ['break.glass@example.com', 'OID:/citrix/42'],
      adminReportSchedule: 'cron(0 6 * * ? *)',
      adminReportPendingDays: 30,
      routesFile: DEFAULT_ROUTES_FILE,
      sweepsFile: DEFAULT_SWEEPS_FILE,
      sweeps: loadSweeps(DEFAULT_SWEEPS_FILE),
      sourceIpAllowlists: {},
      callbackDestinations: {},
      idempotencyWindowSeconds: 86_400,
      guardrailEnvironment: {
        GUARDRAIL_LIMITS: '{"admin.revoke":{"perHour":5}}',
        APPROVAL_REQUIRED: 'admin.revoke',
        APPROVAL_TIMEOUT_SECONDS: '1800',
        PROTECTED_USERS: 'ceo@example.com',
        PROTECTED_DEVICES: '1042',
      },
      approvalTimeoutSeconds: 1800,
      maxConcurrency: 25,
      logRetention: RetentionDays.ONE_YEAR,
      apiRateLimitPerAddress: 600,
      alarmEmail: 'oncall@example.com',
    });
  });

  it('accepts the numbers that cdk.json holds', () => {
    const config = fromContext({ adminReportPendingDays: 365, maxConcurrency: 40 });

    expect(config.adminReportPendingDays).toBe(365);
    expect(config.maxConcurrency).toBe(40);
    expect(fromContext({ adminReportPendingDays: 1 }).adminReportPendingDays).toBe(1);
  });

  it('treats empty administrator settings as not set', () => {
    const config = fromContext({
      citrixApiClientOwner: '',
      protectedAdministrators: ' , ,',
      adminReportSchedule: '',
      adminReportPendingDays: null,
    });

    expect(config).not.toHaveProperty('citrixApiClientOwner');
    expect(config.protectedAdministrators).toEqual([]);
    expect(config.adminReportSchedule).toBe('rate(1 day)');
    expect(config.adminReportPendingDays).toBe(14);
  });

  it.each([
    'OID:/citrix/42',
    '8a8b7c6d-1234-4abc-9def-0123456789ab',
    "jane.o'hara+admin@example.co.uk",
  ])('accepts the administrator key %s as owner and as a protected entry', (key) => {
    const config = fromContext({ citrixApiClientOwner: key, protectedAdministrators: key });

    expect(config.citrixApiClientOwner).toBe(key);
    expect(config.protectedAdministrators).toEqual([key]);
  });

  it.each(['rate(1 day)', 'rate(6 hours)', 'rate(30 minutes)', 'cron(0 6 ? * MON-FRI *)'])(
    'accepts the schedule %s',
    (schedule) => {
      expect(fromContext({ adminReportSchedule: schedule }).adminReportSchedule).toBe(schedule);
    },
  );

  // EventBridge refuses these at deploy time; synth refuses them first.
  it.each(['rate(1 days)', 'rate(2 day)', 'rate(0 days)', 'cron(0 6 * * *)', 'cron(a b)'])(
    'refuses the schedule %s that EventBridge would reject',
    (schedule) => {
      expect(() => fromContext({ adminReportSchedule: schedule })).toThrow(
        /must be an EventBridge rate\(\.\.\.\) or cron\(\.\.\.\) expression/,
      );
    },
  );

  it.each([
    [
      { citrixApiClientOwner: 'Jane Doe' },
      'Context "citrixApiClientOwner" must hold emails, userIds or ucOids (no spaces), got "Jane Doe"',
    ],
    [
      { citrixApiClientOwner: 'a@example.com,b@example.com' },
      'Context "citrixApiClientOwner" must hold emails, userIds or ucOids (no spaces), got "a@example.com,b@example.com"',
    ],
    [
      { citrixApiClientOwner: 'owner@example.com\u0000' },
      'Context "citrixApiClientOwner" must hold emails, userIds or ucOids (no spaces), got "owner@example.com\u0000"',
    ],
    [
      { citrixApiClientOwner: 'x'.repeat(257) },
      `Context "citrixApiClientOwner" must hold emails, userIds or ucOids (no spaces), got "${'x'.repeat(257)}"`,
    ],
    [{ citrixApiClientOwner: 42 }, 'Context "citrixApiClientOwner" must be a string, got number'],
    [
      { protectedAdministrators: 'break.glass@example.com, Jane Doe' },
      'Context "protectedAdministrators" must hold emails, userIds or ucOids (no spaces), got "Jane Doe"',
    ],
    [
      { protectedAdministrators: ['break.glass@example.com'] },
      'Context "protectedAdministrators" must be a string, got object',
    ],
    [
      { adminReportSchedule: 'daily' },
      'Context "adminReportSchedule" must be an EventBridge rate(...) or cron(...) expression, got "daily"',
    ],
    [
      { adminReportSchedule: 'rate(1 week)' },
      'Context "adminReportSchedule" must be an EventBridge rate(...) or cron(...) expression, got "rate(1 week)"',
    ],
    [
      { adminReportSchedule: 'at(2030-01-01T00:00:00)' },
      'Context "adminReportSchedule" must be an EventBridge rate(...) or cron(...) expression, got "at(2030-01-01T00:00:00)"',
    ],
    [
      { adminReportSchedule: 'rate(1 day) ; cron(0 0 * * ? *)' },
      'Context "adminReportSchedule" must be an EventBridge rate(...) or cron(...) expression, got "rate(1 day) ; cron(0 0 * * ? *)"',
    ],
    [
      { adminReportPendingDays: 0 },
      'Context "adminReportPendingDays" must be an integer from 1 to 365, got 0',
    ],
    [
      { adminReportPendingDays: 366 },
      'Context "adminReportPendingDays" must be an integer from 1 to 365, got 366',
    ],
    [
      { adminReportPendingDays: '7.5' },
      'Context "adminReportPendingDays" must be an integer from 1 to 365, got "7.5"',
    ],
    [
      { adminReportPendingDays: 'two weeks' },
      'Context "adminReportPendingDays" must be an integer from 1 to 365, got "two weeks"',
    ],
  ])('rejects the administrator setting %j', (context, message) => {
    expect(() => fromContext(context)).toThrow(new InvalidContextError(message));
  });

  it('treats an empty site id as not set', () => {
    expect(fromContext({ citrixSiteId: '' })).not.toHaveProperty('citrixSiteId');
  });

  it('treats empty Endpoint Management settings as not set', () => {
    const config = fromContext({ citrixEmUrl: '', citrixEmAuth: '', citrixEmBodyShape: '' });

    expect(config).not.toHaveProperty('citrixEmUrl');
    expect(config.citrixEmAuth).toBe('cloud');
    expect(config.citrixEmBodyShape).toBe('object');
  });

  it.each([
    [
      'https://mdm.example.com:4443/xenmobile/api/v1/',
      'https://mdm.example.com:4443/xenmobile/api/v1',
    ],
    ['https://MDM.Example.com:443/xenmobile//', 'https://mdm.example.com/xenmobile'],
    ['https://mdm.example.com', 'https://mdm.example.com/'],
  ])(
    'stores Endpoint Management URL %s as %s, which the functions read back unchanged',
    (value, stored) => {
      const config = fromContext({ citrixEmUrl: value });

      expect(config.citrixEmUrl).toBe(stored);
      expect(parseEndpointManagementUrl(stored).href).toBe(stored);
    },
  );

  it.each([
    [
      'mdm.example.com',
      'Context "citrixEmUrl" is invalid: the Endpoint Management URL is not a valid URL',
    ],
    [
      'http://mdm.example.com/xenmobile/api/v1',
      'Context "citrixEmUrl" is invalid: the Endpoint Management URL must be https (http only for a loopback simulator), got http://mdm.example.com',
    ],
    [
      'ftp://mdm.example.com',
      'Context "citrixEmUrl" is invalid: the Endpoint Management URL must be https (http only for a loopback simulator), got ftp://mdm.example.com',
    ],
    [
      'https://mdm.example.com/xenmobile?tenant=1',
      'Context "citrixEmUrl" is invalid: the Endpoint Management URL for host "mdm.example.com" must not carry credentials, a query or a fragment',
    ],
  ])('rejects the Endpoint Management URL %s', (value, message) => {
    const error = errorFrom(() => fromContext({ citrixEmUrl: value }));

    expect(error).toBeInstanceOf(InvalidContextError);
    expect(error.message).toBe(message);
    expect(error.cause).toBeInstanceOf(CitrixConfigurationError);
  });

  it('rejects a loopback http URL, which only the local simulator may use', () => {
    expect(() => fromContext({ citrixEmUrl: 'http://127.0.0.1:4443/xenmobile/api/v1' })).toThrow(
      new InvalidContextError(
        'Context "citrixEmUrl" must be an https URL, got http://127.0.0.1:4443/xenmobile/api/v1',
      ),
    );
  });

  it('never repeats credentials embedded in the Endpoint Management URL', () => {
    const error = errorFrom(() =>
      fromContext({ citrixEmUrl: 'https://admin:hunter2@mdm.example.com' }),
    );

    expect(error).toBeInstanceOf(InvalidContextError);
    expect(error.message).toMatch(/must not carry credentials/);
    expect(error.message).not.toMatch(/admin|hunter2/);
  });

  it.each([
    [
      { citrixEmAuth: 'password' },
      'Context "citrixEmAuth" must be one of cloud, credentials, got "password"',
    ],
    [
      { citrixEmAuth: 'Cloud' },
      'Context "citrixEmAuth" must be one of cloud, credentials, got "Cloud"',
    ],
    [{ citrixEmAuth: true }, 'Context "citrixEmAuth" must be a string, got boolean'],
    [
      { citrixEmBodyShape: 'array' },
      'Context "citrixEmBodyShape" must be one of object, id-array, got "array"',
    ],
    [{ citrixEmBodyShape: 1 }, 'Context "citrixEmBodyShape" must be a string, got number'],
  ])('rejects %j', (context, message) => {
    expect(() => fromContext(context)).toThrow(new InvalidContextError(message));
  });

  it('names the key and the bad value in its error', () => {
    const error = (() => {
      try {
        fromContext({ maxConcurrency: '1e3' });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();

    expect(error).toBeInstanceOf(InvalidContextError);
    expect((error as Error).name).toBe('InvalidContextError');
    expect((error as Error).message).toBe(
      'Context "maxConcurrency" must be an integer from 1 to 40, got "1e3"',
    );
  });

  it('rejects a non-string customer id', () => {
    expect(() => fromContext({ citrixCustomerId: 42 })).toThrow(
      'Context "citrixCustomerId" must be a string, got number',
    );
  });

  it.each([
    [{ maxConcurrency: 0 }, 'Context "maxConcurrency" must be an integer from 1 to 40, got 0'],
    [{ maxConcurrency: 41 }, 'Context "maxConcurrency" must be an integer from 1 to 40, got 41'],
    [{ maxConcurrency: 2.5 }, 'Context "maxConcurrency" must be an integer from 1 to 40, got 2.5'],
    [
      { maxConcurrency: 'ten' },
      'Context "maxConcurrency" must be an integer from 1 to 40, got "ten"',
    ],
    [
      { citrixApiUrl: 'http://127.0.0.1:8080' },
      'Context "citrixApiUrl" must be an https URL, got http://127.0.0.1:8080',
    ],
    [
      { citrixCustomerId: 'bad id' },
      'Context "citrixCustomerId" must be 1-64 letters, digits, "_" or "-", got "bad id"',
    ],
    [
      { citrixSiteId: 'site_with_underscore' },
      'Context "citrixSiteId" must be 1-64 letters, digits or "-", got "site_with_underscore"',
    ],
  ])('rejects %j', (context, message) => {
    expect(() => fromContext(context)).toThrow(new InvalidContextError(message));
  });

  it.each([42, 'forever', 0])(
    'rejects a log retention of %j days, listing the periods CloudWatch Logs has',
    (days) => {
      expect(() => fromContext({ logRetentionDays: days })).toThrow(
        new RegExp(
          `^Context "logRetentionDays" must be one of the CloudWatch Logs retention periods \\(1, 3, 5, 7, 14, 30, 60, 90, .*\\), got ${JSON.stringify(days)}$`,
        ),
      );
    },
  );

  it("rejects an API host that is not Citrix Cloud, with the functions' own reason", () => {
    const error = errorFrom(() => fromContext({ citrixApiUrl: 'https://evil.example.com' }));

    expect(error).toBeInstanceOf(InvalidContextError);
    expect(error.message).toMatch(/^Context "citrixApiUrl" is invalid: /);
    expect(error.cause).toBeInstanceOf(CitrixConfigurationError);
  });

  it('names every invalid key at once, one line each', () => {
    const error = errorFrom(() =>
      fromContext({ maxConcurrency: 0, citrixEmAuth: 'password', protectedUsers: [42] }),
    );

    expect(error).toBeInstanceOf(InvalidContextError);
    expect(error.message.split('\n')).toEqual([
      'Context "citrixEmAuth" must be one of cloud, credentials, got "password"',
      'Context "protectedUsers" must be a comma-separated string or an array of non-empty strings without commas, got [42]',
      'Context "maxConcurrency" must be an integer from 1 to 40, got 0',
    ]);
  });
});

describe('readConfig: operations', () => {
  it('takes the rate limit per address from cdk.json as a number, and treats an empty one as the default', () => {
    expect(fromContext({ apiRateLimitPerAddress: 100 }).apiRateLimitPerAddress).toBe(100);
    expect(fromContext({ apiRateLimitPerAddress: 2_000_000_000 }).apiRateLimitPerAddress).toBe(
      2_000_000_000,
    );
    expect(fromContext({ apiRateLimitPerAddress: '' }).apiRateLimitPerAddress).toBe(1500);
  });

  it.each([99, 2_000_000_001, '1.5', 'many', -1])(
    'refuses the rate limit %s, naming the key and the range',
    (value) => {
      expect(() => fromContext({ apiRateLimitPerAddress: value })).toThrow(
        new InvalidContextError(
          `Context "apiRateLimitPerAddress" must be an integer from 100 to 2000000000, got ${JSON.stringify(value)}`,
        ),
      );
    },
  );

  it.each([
    'on-call',
    'oncall@',
    'oncall@example.com,boss@example.com',
    'On Call <oncall@example.com>',
  ])('refuses the alarm email %s, naming the key and the value', (value) => {
    expect(() => fromContext({ alarmEmail: value })).toThrow(
      new InvalidContextError(`Context "alarmEmail" must be an email address, got "${value}"`),
    );
  });

  it('rejects an alarm email that is not a string', () => {
    expect(() => fromContext({ alarmEmail: ['oncall@example.com'] })).toThrow(
      new InvalidContextError('Context "alarmEmail" must be a string, got object'),
    );
  });
});

describe('readConfig: the routing rules file', () => {
  let directory: string;
  /** Writes `rules` as JSON (or `text` as is) to a file of its own and returns its path. */
  const rulesFile = (name: string, rules: unknown, text = JSON.stringify(rules)): string => {
    const path = join(directory, name);
    writeFileSync(path, text);
    return path;
  };

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'citrix-response-routes-'));
  });

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('resolves a relative path from the project root, not the working directory', () => {
    expect(isAbsolute(DEFAULT_ROUTES_FILE)).toBe(true);
    expect(fromContext({ routesFile: 'config/routes.json' }).routesFile).toBe(DEFAULT_ROUTES_FILE);
    expect(fromContext({ routesFile: '' }).routesFile).toBe(DEFAULT_ROUTES_FILE);
  });

  it('takes a valid file by its absolute path', () => {
    const path = rulesFile('valid.json', {
      version: 1,
      routes: {
        sentinel: [
          {
            name: 'compromised-user',
            action: 'session.disconnect',
            target: { user: 'accounts[*].upn' },
            reason: 'Sentinel incident {{incidentNumber}}',
          },
        ],
      },
    });

    expect(fromContext({ routesFile: path }).routesFile).toBe(path);
  });

  it('fails synth on a route whose target kind does not fit its action, naming the route and field', () => {
    const path = rulesFile('wrong-target.json', {
      version: 1,
      routes: {
        splunk: [
          {
            name: 'impossible-travel',
            action: 'session.logoff',
            target: { user: 'result.user' },
            reason: 'Splunk alert {{search_name}}',
          },
          {
            name: 'lost-laptop',
            action: 'session.logoff',
            target: { deviceId: 'result.device_id' },
            reason: 'Splunk alert {{search_name}}',
          },
        ],
      },
    });
    const error = errorFrom(() => fromContext({ routesFile: path }));

    expect(error).toBeInstanceOf(InvalidContextError);
    // The kinds listed come from the catalog's session targets, which grow.
    expect(error.message).toMatch(
      new RegExp(
        `^${escapeRegExp(`Context "routesFile" is invalid: Invalid routing rules file ${path}: routes.splunk[1] (route "lost-laptop").target.deviceId: session.logoff takes a target of kind sessionId or user`)}( or \\w+)*$`,
      ),
    );
    expect(error.cause).toBeInstanceOf(RoutingRulesError);
  });

  it('names every invalid field of every route at once', () => {
    const path = rulesFile('two-problems.json', {
      version: 1,
      routes: {
        pagerduty: [
          {
            name: 'revoke-admin',
            action: 'admin.revoke',
            target: { email: 'event.data.title' },
            reason: 'PagerDuty',
          },
          {
            name: 'wipe',
            action: 'device.wipe',
            target: { deviceId: 'event.data.device' },
            options: { mode: 'strip' },
            reason: 'PagerDuty',
          },
        ],
      },
    });
    const message = errorFrom(() => fromContext({ routesFile: path })).message;

    expect(message).toContain(
      'routes.pagerduty[0] (route "revoke-admin").target.email: admin.revoke takes a target of kind admin',
    );
    expect(message).toContain(
      'routes.pagerduty[1] (route "wipe").options: only admin.revoke takes options',
    );
  });

  it.each([
    ['missing.json', undefined, 'Cannot read the routing rules file'],
    ['not-json.json', '{"version": 1,', 'is not valid JSON'],
    ['wrong-version.json', '{"version": 2}', 'version: Invalid input: expected 1'],
  ])('fails synth on %s', (name, text, reason) => {
    const path = join(directory, name);
    if (text !== undefined) writeFileSync(path, text);
    const error = errorFrom(() => fromContext({ routesFile: path }));

    expect(error).toBeInstanceOf(InvalidContextError);
    expect(error.message).toMatch(/^Context "routesFile" is invalid: /);
    expect(error.message).toContain(reason);
    expect(error.message).toContain(path);
  });
});

describe('readConfig: the sweeps file', () => {
  let directory: string;
  /** Writes `sweeps` as a sweeps file of its own and returns its path. */
  const sweepsFile = (name: string, sweeps: unknown[], text?: string): string => {
    const path = join(directory, name);
    writeFileSync(path, text ?? JSON.stringify({ sweeps }));
    return path;
  };
  const sweep = (overrides: Record<string, unknown> = {}) => ({
    name: 'night-logoff',
    schedule: 'cron(30 1 * * ? *)',
    find: { sessions: { state: 'Disconnected', olderThan: 'PT4H' } },
    action: 'session.logoff',
    mode: 'enforce',
    maxTargets: 100,
    enabled: true,
    ...overrides,
  });

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'citrix-response-sweeps-'));
  });

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('reads config/sweeps.json from the project root by default, with its sweeps as validated', () => {
    expect(isAbsolute(DEFAULT_SWEEPS_FILE)).toBe(true);
    for (const config of [
      fromContext({}),
      fromContext({ sweepsFile: 'config/sweeps.json' }),
      fromContext({ sweepsFile: '' }),
    ]) {
      expect(config.sweepsFile).toBe(DEFAULT_SWEEPS_FILE);
      expect(config.sweeps).toEqual(loadSweeps(DEFAULT_SWEEPS_FILE));
    }
  });

  it('takes a valid file by its absolute path, time zones defaulting to UTC', () => {
    const path = sweepsFile('valid.json', [sweep()]);
    const config = fromContext({ sweepsFile: path });

    expect(config.sweepsFile).toBe(path);
    expect(config.sweeps.sweeps).toEqual([{ ...sweep(), timezone: 'UTC' }]);
  });

  it('lets SWEEPS_FILE override the context, as npm start reads it', () => {
    const fromContextFile = sweepsFile('context.json', [sweep({ name: 'from-context' })]);
    const fromVariable = sweepsFile('variable.json', [sweep({ name: 'from-variable' })]);
    const names = (config: ReturnType<typeof fromContext>) =>
      config.sweeps.sweeps.map((entry) => entry.name);

    const overridden = fromContext({ sweepsFile: fromContextFile }, { SWEEPS_FILE: fromVariable });
    expect(overridden.sweepsFile).toBe(fromVariable);
    expect(names(overridden)).toEqual(['from-variable']);
    // Over the default as well; a relative path is read from the project root.
    expect(fromContext({}, { SWEEPS_FILE: fromVariable }).sweepsFile).toBe(fromVariable);
    expect(fromContext({}, { SWEEPS_FILE: 'config/sweeps.json' }).sweepsFile).toBe(
      DEFAULT_SWEEPS_FILE,
    );
    // Set but empty is not set.
    expect(names(fromContext({ sweepsFile: fromContextFile }, { SWEEPS_FILE: ' ' }))).toEqual([
      'from-context',
    ]);
  });

  it('reads SWEEPS_FILE from the process environment unless told otherwise', () => {
    const path = sweepsFile('process.json', [sweep({ name: 'from-process' })]);
    const previous = process.env.SWEEPS_FILE;
    process.env.SWEEPS_FILE = path;
    try {
      expect(readConfig(() => undefined).sweepsFile).toBe(path);
    } finally {
      if (previous === undefined) delete process.env.SWEEPS_FILE;
      else process.env.SWEEPS_FILE = previous;
    }
  });

  it('fails synth on an action that cannot run over what the sweep finds, naming the sweep and field', () => {
    const path = sweepsFile('wrong-action.json', [
      sweep(),
      sweep({
        name: 'lost-phones',
        action: 'session.logoff',
        find: { devices: { jailbroken: true } },
      }),
    ]);
    const error = errorFrom(() => fromContext({ sweepsFile: path }));

    expect(error).toBeInstanceOf(InvalidContextError);
    expect(error.message).toMatch(
      new RegExp(
        `^${escapeRegExp(`Context "sweepsFile" is invalid: Invalid sweeps file ${path}: sweeps[1] (sweep "lost-phones").action: session.logoff cannot run over find.devices; use one of `)}`,
      ),
    );
    expect(error.message.split('\n')).toHaveLength(1);
    expect(error.cause).toBeInstanceOf(SweepsFileError);
  });

  it('names SWEEPS_FILE when the file it names is invalid', () => {
    const path = sweepsFile('bad-schedule.json', [sweep({ schedule: 'rate(1 hours)' })]);
    const error = errorFrom(() => fromContext({}, { SWEEPS_FILE: path }));

    expect(error).toBeInstanceOf(InvalidContextError);
    expect(error.message).toMatch(
      new RegExp(
        `^${escapeRegExp(`SWEEPS_FILE (which overrides context "sweepsFile") is invalid: Invalid sweeps file ${path}: sweeps[0] (sweep "night-logoff").schedule: `)}`,
      ),
    );
  });

  it('fails synth on a sweep whose callback is not a configured destination, naming it', () => {
    const path = sweepsFile('callback.json', [sweep({ callback: 'soar' })]);
    const destinations = { soar: 'https://soar.example.com/hooks/citrix' };

    expect(fromContext({ sweepsFile: path, callbackDestinations: destinations }).sweeps).toEqual(
      loadSweeps(path),
    );
    expect(errorFrom(() => fromContext({ sweepsFile: path })).message).toBe(
      `Context "sweepsFile" is invalid: Invalid sweeps file ${path}: sweeps[0] (sweep "night-logoff").callback: no callback destination named "soar"`,
    );
  });

  it.each([
    ['missing.json', undefined, 'Cannot read the sweeps file'],
    ['not-json.json', '{"sweeps": [', 'is not valid JSON'],
    ['duplicate.json', 'duplicate', 'is declared twice'],
  ])('fails synth on %s', (name, text, reason) => {
    const path = join(directory, name);
    if (text === 'duplicate') sweepsFile(name, [sweep(), sweep()]);
    else if (text !== undefined) writeFileSync(path, text);
    const error = errorFrom(() => fromContext({ sweepsFile: path }));

    expect(error).toBeInstanceOf(InvalidContextError);
    expect(error.message).toMatch(/^Context "sweepsFile" is invalid: /);
    expect(error.message).toContain(reason);
    expect(error.message).toContain(path);
  });
});

describe('readConfig: source IP allowlists', () => {
  it('accepts per-source CIDR lists as cdk.json objects and as -c JSON strings', () => {
    const allowlists = {
      splunk: ['203.0.113.0/24'],
      sentinel: ['198.51.100.7/32', '2001:db8::/32'],
      api: ['192.0.2.10/32'],
    };

    expect(fromContext({ sourceIpAllowlists: allowlists }).sourceIpAllowlists).toEqual(allowlists);
    expect(
      fromContext({ sourceIpAllowlists: JSON.stringify(allowlists) }).sourceIpAllowlists,
    ).toEqual(allowlists);
    expect(fromContext({ sourceIpAllowlists: '' }).sourceIpAllowlists).toEqual({});
  });

  it.each([
    [{ jira: ['203.0.113.0/24'] }, /Unrecognized key: "jira"/],
    [{ splunk: [] }, /splunk: Too small/],
    [{ splunk: '203.0.113.0/24' }, /splunk: Invalid input: expected array/],
    [{ splunk: ['203.0.113.0'] }, /splunk\.0: must be an IPv4 or IPv6 CIDR range/],
    [{ splunk: ['203.0.113.0/33'] }, /splunk\.0: must be an IPv4 or IPv6 CIDR range/],
    [{ pagerduty: ['10.0.0.0/8', 'any'] }, /pagerduty\.1: must be an IPv4 or IPv6 CIDR range/],
    [{ api: [] }, /api: Too small/],
    [{ api: ['192.0.2.10'] }, /api\.0: must be an IPv4 or IPv6 CIDR range/],
    [{ actions: ['192.0.2.0/24'] }, /Unrecognized key: "actions"/],
  ])('rejects %j', (allowlists, message) => {
    const error = errorFrom(() => fromContext({ sourceIpAllowlists: allowlists }));

    expect(error).toBeInstanceOf(InvalidContextError);
    expect(error.message).toMatch(/^Context "sourceIpAllowlists" is invalid: /);
    expect(error.message).toMatch(message);
  });

  it('rejects a -c value that is not JSON', () => {
    expect(() => fromContext({ sourceIpAllowlists: 'splunk=203.0.113.0/24' })).toThrow(
      new InvalidContextError('Context "sourceIpAllowlists" must be JSON'),
    );
  });
});

describe('readConfig: callback destinations', () => {
  it('accepts named https destinations, as the notification task reads them back', () => {
    const destinations = {
      soar: 'https://soar.example.com/hooks/citrix',
      'ticketing-2': 'https://hooks.example.org/in?channel=sec',
    };
    const config = fromContext({ callbackDestinations: destinations });

    expect(config.callbackDestinations).toEqual(destinations);
    expect(fromContext({ callbackDestinations: JSON.stringify(destinations) })).toEqual(config);
    const readBack = parseCallbackDestinations(JSON.stringify(config.callbackDestinations));
    expect(Object.fromEntries([...readBack].map(([name, url]) => [name, url.href]))).toEqual(
      destinations,
    );
  });

  it('treats an empty setting as no destination', () => {
    expect(fromContext({ callbackDestinations: '' }).callbackDestinations).toEqual({});
    expect(fromContext({ callbackDestinations: {} }).callbackDestinations).toEqual({});
  });

  it.each([
    [
      { soar: 'http://127.0.0.1:9000/hook' },
      'Context "callbackDestinations" is invalid: destination "soar" must be https',
    ],
    [
      { Soar: 'https://soar.example.com' },
      'Context "callbackDestinations" is invalid: callback destination name "Soar" must be 1-40 characters of a-z, 0-9 and -',
    ],
    [
      { soar: 'soar.example.com' },
      'Context "callbackDestinations" is invalid: callback destination "soar" is not a valid URL',
    ],
    [
      { soar: 42 },
      'Context "callbackDestinations" is invalid: callback destination "soar" must be a URL string',
    ],
    [
      ['https://soar.example.com'],
      'Context "callbackDestinations" is invalid: callback destinations must be a JSON object of name to URL',
    ],
    ['soar=https://soar.example.com', 'Context "callbackDestinations" must be JSON'],
  ])('rejects %j', (destinations, message) => {
    expect(() => fromContext({ callbackDestinations: destinations })).toThrow(
      new InvalidContextError(message),
    );
  });

  it('never repeats a token from a rejected URL', () => {
    const error = errorFrom(() =>
      fromContext({
        callbackDestinations: { soar: 'http://soar.example.com/hooks/s3cr3t-path?token=s3cr3t' },
      }),
    );
    const withCredentials = errorFrom(() =>
      fromContext({ callbackDestinations: { soar: 'https://bot:hunter2@soar.example.com/hook' } }),
    );

    expect(error).toBeInstanceOf(InvalidContextError);
    expect(error.cause).toBeInstanceOf(CallbackConfigurationError);
    expect(error.message).not.toContain('s3cr3t');
    expect(withCredentials.message).toBe(
      'Context "callbackDestinations" is invalid: callback destination "soar" must not carry credentials in its URL',
    );
  });
});

describe('readConfig: ServiceNow instance', () => {
  it('reads no instance URL from the context: it is in the ServiceNow API secret', () => {
    expect(Object.keys(fromContext({}))).not.toContain('serviceNowInstanceUrl');
    // An empty value, as `-c serviceNowInstanceUrl=` passes it, is no setting at all.
    expect(Object.keys(fromContext({ serviceNowInstanceUrl: '' }))).not.toContain(
      'serviceNowInstanceUrl',
    );
  });

  it.each(['https://acme.service-now.com', 'http://acme.service-now.com'])(
    'refuses the retired serviceNowInstanceUrl (%s) rather than ignoring it, pointing at the secret',
    (value) => {
      const error = errorFrom(() => fromContext({ serviceNowInstanceUrl: value }));

      expect(error).toBeInstanceOf(InvalidContextError);
      expect(error.message).toMatch(/^Context "serviceNowInstanceUrl" is no longer supported: /);
      expect(error.message).toContain('ServiceNowApiCredentials secret (JSON key instanceUrl');
    },
  );
});

describe('readConfig: guardrails', () => {
  const LIMITS = {
    'device.wipe': { perRequest: 2, perHour: 6, overLimit: 'refuse' },
    'session.logoff': { perHour: 200 },
  };

  it('passes each guardrail setting on under the variable the resolve tasks read, as given', () => {
    const config = fromContext({
      guardrailLimits: LIMITS,
      approvalRequired: 'device.wipe, admin.revoke:delete',
      approvalTimeoutSeconds: 900,
      protectedUsers: ' ceo@example.com , CORP\\ciso',
      protectedDevices: '8d5f2a71-3c4b-4e8a-9f10-2b3c4d5e6f70,1042',
    });

    // cdk.json objects and numbers become the strings an environment variable holds.
    expect(config.guardrailEnvironment).toEqual({
      GUARDRAIL_LIMITS: JSON.stringify(LIMITS),
      APPROVAL_REQUIRED: 'device.wipe, admin.revoke:delete',
      APPROVAL_TIMEOUT_SECONDS: '900',
      PROTECTED_USERS: ' ceo@example.com , CORP\\ciso',
      PROTECTED_DEVICES: '8d5f2a71-3c4b-4e8a-9f10-2b3c4d5e6f70,1042',
    });
    expect(config.approvalTimeoutSeconds).toBe(900);
    // The resolve tasks read exactly what synth validated.
    const settings = guardrailsFromEnv(config.guardrailEnvironment);
    expect(settings.limits['device.wipe']).toEqual(LIMITS['device.wipe']);
    expect(settings.limits['session.logoff']).toEqual({
      ...DEFAULT_GUARDRAIL_SETTINGS.limits['session.logoff'],
      perHour: 200,
    });
    expect(settings.approvalRequired).toEqual(['device.wipe', 'admin.revoke:delete']);
    expect(settings.approvalTimeoutSeconds).toBe(config.approvalTimeoutSeconds);
    expect(settings.protectedUsers).toEqual(['ceo@example.com', 'CORP\\ciso']);
    expect(settings.protectedDevices).toEqual(['8d5f2a71-3c4b-4e8a-9f10-2b3c4d5e6f70', '1042']);
  });

  it('takes the limits as a -c JSON string unchanged', () => {
    const json = JSON.stringify(LIMITS);

    expect(fromContext({ guardrailLimits: json }).guardrailEnvironment).toEqual({
      GUARDRAIL_LIMITS: json,
    });
  });

  it('treats empty guardrail settings as not set: the defaults, an hour to approve', () => {
    const config = fromContext({
      guardrailLimits: '',
      approvalRequired: null,
      approvalTimeoutSeconds: '',
      protectedUsers: '',
    });

    expect(config.guardrailEnvironment).toEqual({});
    expect(config.approvalTimeoutSeconds).toBe(3600);
    expect(guardrailsFromEnv(config.guardrailEnvironment)).toEqual(DEFAULT_GUARDRAIL_SETTINGS);
  });

  it('passes "none" on, so that no action type needs approval', () => {
    const config = fromContext({ approvalRequired: 'none' });

    expect(config.guardrailEnvironment).toEqual({ APPROVAL_REQUIRED: 'none' });
    expect(guardrailsFromEnv(config.guardrailEnvironment).approvalRequired).toEqual([]);
  });

  it('reads protectedUsers, protectedDevices and approvalRequired given as cdk.json arrays', () => {
    const users = ['ceo@example.com', 'CORP\\ciso'];
    const config = fromContext({
      protectedUsers: users,
      protectedDevices: ['42', '7'],
      approvalRequired: ['device.wipe', 'device.selectiveWipe'],
    });
    const settings = guardrailsFromEnv(config.guardrailEnvironment);

    expect(settings.protectedUsers).toEqual(users);
    expect(settings.protectedDevices).toEqual(['42', '7']);
    expect(settings.approvalRequired).toEqual(['device.wipe', 'device.selectiveWipe']);
  });

  it.each([
    [{ protectedUsers: [42] }, /"protectedUsers" must be a comma-separated string or an array/],
    [{ protectedUsers: ['a@example.com,b@example.com'] }, /"protectedUsers"/],
    [{ protectedDevices: { id: '42' } }, /"protectedDevices" .* got \{"id":"42"\}/],
    [{ approvalRequired: [''] }, /"approvalRequired"/],
  ])('refuses the list context %j', (context, message) => {
    expect(() => fromContext(context)).toThrow(InvalidContextError);
    expect(() => fromContext(context)).toThrow(message);
  });

  it('names the context key of an invalid guardrail setting', () => {
    expect(() => fromContext({ approvalTimeoutSeconds: 0 })).toThrow(
      /^Context "approvalTimeoutSeconds" is invalid: .*APPROVAL_TIMEOUT_SECONDS/,
    );
  });

  it.each([
    [{ approvalTimeoutSeconds: '60' }, 60],
    [{ approvalTimeoutSeconds: 604_800 }, 604_800],
  ])('accepts the approval timeout %j', (context, seconds) => {
    expect(fromContext(context).approvalTimeoutSeconds).toBe(seconds);
  });

  it.each([
    [{ guardrailLimits: '{"device.wipe":' }, 'Invalid GUARDRAIL_LIMITS: must be JSON'],
    [
      { guardrailLimits: { 'session.nuke': { perHour: 1 } } },
      'Invalid GUARDRAIL_LIMITS: session.nuke: unknown action type session.nuke',
    ],
    [
      { guardrailLimits: '["device.wipe"]' },
      'Invalid GUARDRAIL_LIMITS: must be a JSON object keyed by action type',
    ],
    [
      { guardrailLimits: { 'device.wipe': { perMinute: 1 } } },
      'Invalid GUARDRAIL_LIMITS: device.wipe.perMinute: is not a limit field',
    ],
    [
      { guardrailLimits: { 'device.wipe': { perRequest: 20, perHour: 10 } } },
      'Invalid GUARDRAIL_LIMITS: device.wipe.perRequest: perRequest must not exceed perHour',
    ],
    [{ approvalTimeoutSeconds: 0 }, 'Invalid APPROVAL_TIMEOUT_SECONDS: must be at least 1'],
    [{ approvalTimeoutSeconds: '0' }, 'Invalid APPROVAL_TIMEOUT_SECONDS: must be at least 1'],
    [
      { approvalTimeoutSeconds: 604_801 },
      'Invalid APPROVAL_TIMEOUT_SECONDS: must be at most 604800 (7 days)',
    ],
    [
      { approvalTimeoutSeconds: 900.5 },
      'Invalid APPROVAL_TIMEOUT_SECONDS: must be a whole number of seconds',
    ],
    [
      { approvalRequired: 'device.wipe,admin.nuke' },
      'Invalid APPROVAL_REQUIRED: admin.nuke: is not an action type',
    ],
    [
      { protectedDevices: 'laptop-42' },
      'Invalid PROTECTED_DEVICES: laptop-42: must be an Endpoint Management device id',
    ],
  ])('rejects %j at synth, naming the setting', (context, message) => {
    const error = errorFrom(() => fromContext(context));

    expect(error).toBeInstanceOf(InvalidContextError);
    expect(error.cause).toBeInstanceOf(InvalidGuardrailsError);
    // Named twice: the context key to fix, and the variable the functions read.
    expect(error.message.startsWith(`Context "${Object.keys(context)[0]}" is invalid: `)).toBe(
      true,
    );
    expect(error.message).toContain(message);
  });
});

describe('readConfig: idempotency window', () => {
  it.each([
    [60, 60],
    ['3600', 3600],
    [604_800, 604_800],
  ])('accepts %j seconds', (value, seconds) => {
    expect(fromContext({ idempotencyWindowSeconds: value }).idempotencyWindowSeconds).toBe(seconds);
  });

  it.each([
    [59, '59'],
    [604_801, '604801'],
    [1.5, '1.5'],
    ['a day', '"a day"'],
  ])('rejects %j', (value, shown) => {
    expect(() => fromContext({ idempotencyWindowSeconds: value })).toThrow(
      new InvalidContextError(
        `Context "idempotencyWindowSeconds" must be an integer from 60 to 604800, got ${shown}`,
      ),
    );
  });
});

describe('sourceIpAllowlists CIDR ranges', () => {
  it.each(['300.1.1.1/8', 'cafe/8', '::/200', '10.0.0.0/8/1', '10.0.0.0'])(
    'refuses %s',
    (range) => {
      expect(() => fromContext({ sourceIpAllowlists: { splunk: [range] } })).toThrow(
        /must be an IPv4 or IPv6 CIDR range/,
      );
    },
  );

  it.each(['203.0.113.0/24', '2001:db8::/32', '0.0.0.0/0'])('accepts %s', (range) => {
    expect(fromContext({ sourceIpAllowlists: { splunk: [range] } }).sourceIpAllowlists).toEqual({
      splunk: [range],
    });
  });
});
