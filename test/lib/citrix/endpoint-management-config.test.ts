import { describe, expect, it } from 'vitest';
import {
  endpointManagementConnectionFromEnv,
  endpointManagementCredentialsFrom,
  parseEndpointManagementUrl,
} from '../../../lib/citrix/endpoint-management-config.ts';
import { CitrixConfigurationError } from '../../../lib/citrix/errors.ts';

describe('Endpoint Management configuration', () => {
  it('reads CITRIX_EM_URL, CITRIX_EM_AUTH and CITRIX_EM_BODY_SHAPE with their defaults', () => {
    const connection = endpointManagementConnectionFromEnv({
      CITRIX_EM_URL: 'https://mdm.example.com:4443/xenmobile/api/v1/',
    });
    expect(connection.baseUrl.href).toBe('https://mdm.example.com:4443/xenmobile/api/v1');
    expect(connection).toMatchObject({ auth: 'cloud', bodyShape: 'object' });
    expect(
      endpointManagementConnectionFromEnv({
        CITRIX_EM_URL: 'https://mdm.example.com:4443/xenmobile/api/v1',
        CITRIX_EM_AUTH: 'credentials',
        CITRIX_EM_BODY_SHAPE: 'id-array',
      }),
    ).toMatchObject({ auth: 'credentials', bodyShape: 'id-array' });
  });

  it.each([
    [{}, /CITRIX_EM_URL/],
    [{ CITRIX_EM_URL: 'http://mdm.example.com/xenmobile/api/v1' }, /must be https/],
    [{ CITRIX_EM_URL: 'https://admin:pw@mdm.example.com/x' }, /must not carry credentials/],
    [{ CITRIX_EM_URL: 'https://mdm.example.com/x?debug=1' }, /query/],
    [{ CITRIX_EM_URL: 'https://mdm.example.com', CITRIX_EM_AUTH: 'ldap' }, /CITRIX_EM_AUTH/],
    [
      { CITRIX_EM_URL: 'https://mdm.example.com', CITRIX_EM_BODY_SHAPE: 'xml' },
      /CITRIX_EM_BODY_SHAPE/,
    ],
  ])('refuses %j', (env, message) => {
    expect(() => endpointManagementConnectionFromEnv(env)).toThrow(CitrixConfigurationError);
    expect(() => endpointManagementConnectionFromEnv(env)).toThrow(message);
  });

  it('allows plain http only to a loopback simulator', () => {
    expect(parseEndpointManagementUrl('http://127.0.0.1:3001/xenmobile/api/v1').protocol).toBe(
      'http:',
    );
  });

  it('names missing credentials without echoing any value', () => {
    expect(
      endpointManagementCredentialsFrom(
        { CITRIX_EM_USERNAME: 'api-admin', CITRIX_EM_PASSWORD: 'pw-1' },
        'the environment',
      ),
    ).toEqual({ username: 'api-admin', password: 'pw-1' });
    const attempt = () =>
      endpointManagementCredentialsFrom(
        { CITRIX_EM_USERNAME: 'secret-admin-name' },
        'the environment',
      );
    expect(attempt).toThrow(/CITRIX_EM_PASSWORD is required/);
    expect(attempt).not.toThrow(/secret-admin-name/);
  });
});
