import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import {
  CITRIX_CUSTOMER_ID_PLACEHOLDER,
  InvalidContextError,
  readConfig,
} from '../../infra/config.ts';

const fromContext = (context: Record<string, unknown>) => readConfig((key) => context[key]);

describe('readConfig', () => {
  it('falls back to the defaults and the placeholder customer id', () => {
    expect(fromContext({})).toEqual({
      citrixApiUrl: 'https://api.cloud.com',
      citrixCustomerId: CITRIX_CUSTOMER_ID_PLACEHOLDER,
      maxConcurrency: 10,
      logRetention: RetentionDays.THREE_MONTHS,
    });
  });

  it('accepts the strings that `cdk -c key=value` passes', () => {
    const config = fromContext({
      citrixApiUrl: 'https://api.citrixcloud.jp/',
      citrixCustomerId: 'abc123',
      citrixSiteId: '1b8e3f1c-0000-4000-8000-000000000001',
      maxConcurrency: '25',
      logRetentionDays: '365',
    });

    expect(config).toEqual({
      citrixApiUrl: 'https://api.citrixcloud.jp',
      citrixCustomerId: 'abc123',
      citrixSiteId: '1b8e3f1c-0000-4000-8000-000000000001',
      maxConcurrency: 25,
      logRetention: RetentionDays.ONE_YEAR,
    });
  });

  it('treats an empty site id as not set', () => {
    expect(fromContext({ citrixSiteId: '' })).not.toHaveProperty('citrixSiteId');
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
