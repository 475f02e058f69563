import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import {
  CITRIX_CUSTOMER_ID_PLACEHOLDER,
  InvalidContextError,
  readConfig,
} from '../../infra/config.ts';
import { parseEndpointManagementUrl } from '../../lib/citrix/endpoint-management-config.ts';
import { CitrixConfigurationError } from '../../lib/citrix/errors.ts';

const fromContext = (context: Record<string, unknown>) => readConfig((key) => context[key]);

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
      maxConcurrency: 10,
      logRetention: RetentionDays.THREE_MONTHS,
    });
    // No owner: the administrator functions then refuse every action.
    expect(fromContext({})).not.toHaveProperty('citrixApiClientOwner');
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
      maxConcurrency: 25,
      logRetention: RetentionDays.ONE_YEAR,
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
});
