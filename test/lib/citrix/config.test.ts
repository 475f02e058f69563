import { describe, expect, it } from 'vitest';
import {
  CITRIX_API_HOSTS,
  CitrixConnectionEnvSchema,
  citrixConnectionFromEnv,
  parseCitrixBaseUrl,
} from '../../../lib/citrix/config.ts';
import { CitrixConfigurationError } from '../../../lib/citrix/errors.ts';
import { DEFAULT_RETRY_POLICY } from '../../../lib/citrix/retry.ts';

describe('parseCitrixBaseUrl', () => {
  it.each(CITRIX_API_HOSTS.map((host) => `https://${host}`))('accepts %s', (value) => {
    expect(parseCitrixBaseUrl(value).origin).toBe(value);
  });

  it.each([
    'https://api.cloud.com/',
    'http://127.0.0.1:8080',
    'http://localhost:3000/',
    'http://[::1]:9999',
  ])('accepts %s', (value) => {
    expect(parseCitrixBaseUrl(value).pathname).toBe('/');
  });

  it.each([
    ['http://api.cloud.com', 'api.cloud.com'],
    ['https://evil.example.com', 'evil.example.com'],
    ['https://api.cloud.com.evil.example', 'api.cloud.com.evil.example'],
    ['https://api.cloud.com:8443', 'api.cloud.com:8443'],
    ['https://127.0.0.1:8443', '127.0.0.1:8443'],
    ['http://10.0.0.1:8080', '10.0.0.1:8080'],
    ['http://127.0.0.1', '127.0.0.1'],
  ])('rejects %s naming its host', (value, host) => {
    expect(() => parseCitrixBaseUrl(value)).toThrow(CitrixConfigurationError);
    expect(() => parseCitrixBaseUrl(value)).toThrow(`"${host}"`);
  });

  it.each([
    'https://api.cloud.com/cvad/manage',
    'https://api.cloud.com/?x=1',
    'https://api.cloud.com/?',
    'https://api.cloud.com/#x',
    'https://user:pass@api.cloud.com',
  ])('rejects anything but an origin: %s', (value) => {
    expect(() => parseCitrixBaseUrl(value)).toThrow(/origin only/);
  });

  it('never echoes credentials embedded in the URL', () => {
    expect(() => parseCitrixBaseUrl('https://user:hunter2@evil.example.com')).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    );
  });

  it('rejects a value that is not a URL', () => {
    expect(() => parseCitrixBaseUrl('api.cloud.com')).toThrow(CitrixConfigurationError);
  });
});

describe('citrixConnectionFromEnv', () => {
  it('applies defaults', () => {
    const connection = citrixConnectionFromEnv({ CITRIX_CUSTOMER_ID: 'loy6oujtu6a4' });
    expect(connection.baseUrl.href).toBe('https://api.cloud.com/');
    expect(connection.customerId).toBe('loy6oujtu6a4');
    expect(connection.siteId).toBeUndefined();
    expect('siteId' in connection).toBe(false);
    expect(connection.requestTimeoutMs).toBe(10_000);
    expect(connection.retry).toEqual(DEFAULT_RETRY_POLICY);
  });

  it('reads every variable', () => {
    const connection = citrixConnectionFromEnv({
      CITRIX_API_URL: 'http://127.0.0.1:4010',
      CITRIX_CUSTOMER_ID: 'acme_1',
      CITRIX_SITE_ID: '22ded57c-0306-47e4-b6e8-fed6252759e1',
      CITRIX_REQUEST_TIMEOUT_MS: '2500',
      CITRIX_MAX_ATTEMPTS: '2',
    });
    expect(connection).toEqual({
      baseUrl: new URL('http://127.0.0.1:4010'),
      customerId: 'acme_1',
      siteId: '22ded57c-0306-47e4-b6e8-fed6252759e1',
      requestTimeoutMs: 2500,
      retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: 2 },
    });
  });

  it('treats empty strings as unset', () => {
    const connection = citrixConnectionFromEnv({
      CITRIX_API_URL: '',
      CITRIX_CUSTOMER_ID: 'acme',
      CITRIX_SITE_ID: '',
      CITRIX_MAX_ATTEMPTS: '',
    });
    expect(connection.baseUrl.host).toBe('api.cloud.com');
    expect(connection.siteId).toBeUndefined();
    expect(connection.retry.maxAttempts).toBe(4);
  });

  it('lists every invalid variable', () => {
    let error: unknown;
    try {
      citrixConnectionFromEnv({
        CITRIX_API_URL: 'https://evil.example.com',
        CITRIX_SITE_ID: 'bad/site',
        CITRIX_REQUEST_TIMEOUT_MS: 'soon',
        CITRIX_MAX_ATTEMPTS: '11',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CitrixConfigurationError);
    const message = (error as Error).message;
    for (const name of [
      'CITRIX_API_URL',
      'CITRIX_CUSTOMER_ID',
      'CITRIX_SITE_ID',
      'CITRIX_REQUEST_TIMEOUT_MS',
      'CITRIX_MAX_ATTEMPTS',
    ]) {
      expect(message).toContain(name);
    }
    expect(message).toContain('evil.example.com');
  });

  it('rejects a customer id that could break a URL path', () => {
    expect(() => citrixConnectionFromEnv({ CITRIX_CUSTOMER_ID: '../root' })).toThrow(
      /CITRIX_CUSTOMER_ID/,
    );
  });

  it('exposes the schema for composition', () => {
    expect(CitrixConnectionEnvSchema.safeParse({ CITRIX_CUSTOMER_ID: 'acme' }).success).toBe(true);
  });
});
