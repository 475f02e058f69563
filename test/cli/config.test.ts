import { describe, expect, it } from 'vitest';
import {
  configFilePath,
  InvalidSettingError,
  LOCAL_API_URL,
  regionOfApiUrl,
  resolveEndpoint,
} from '../../cli/config.ts';
import { DEFAULT_API_PORT } from '../../local/defaults.ts';

const GATEWAY = 'https://abc123defg.execute-api.ap-southeast-2.amazonaws.com/prod/';
const saved = { api: 'https://api.example.com/', region: 'eu-west-2' };

describe('resolveEndpoint', () => {
  it('defaults to the API npm start serves, signed for us-east-1', () => {
    const endpoint = resolveEndpoint({}, {}, undefined);

    expect(endpoint.api.href).toBe(`http://127.0.0.1:${DEFAULT_API_PORT}/`);
    expect(LOCAL_API_URL).toBe(`http://127.0.0.1:${DEFAULT_API_PORT}`);
    expect(endpoint.region).toBe('us-east-1');
  });

  it('takes --api over CITRIX_RESPONSE_API over the saved configuration', () => {
    const env = { CITRIX_RESPONSE_API: 'http://127.0.0.1:4000' };

    expect(resolveEndpoint({ api: 'http://127.0.0.1:5000' }, env, saved).api.port).toBe('5000');
    expect(resolveEndpoint({}, env, saved).api.port).toBe('4000');
    expect(resolveEndpoint({}, {}, saved).api.href).toBe(saved.api);
  });

  it('signs for the region of an API Gateway URL, whatever AWS_REGION says; --region wins', () => {
    expect(regionOfApiUrl(new URL(GATEWAY))).toBe('ap-southeast-2');
    expect(resolveEndpoint({ api: GATEWAY }, { AWS_REGION: 'us-west-2' }, undefined).region).toBe(
      'ap-southeast-2',
    );
    expect(resolveEndpoint({ api: GATEWAY, region: 'eu-north-1' }, {}, undefined).region).toBe(
      'eu-north-1',
    );
  });

  it('uses the saved region for the saved API only, then AWS_REGION', () => {
    expect(resolveEndpoint({}, { AWS_REGION: 'us-west-2' }, saved).region).toBe('eu-west-2');
    expect(
      resolveEndpoint({ api: 'https://other.example.com' }, { AWS_REGION: 'us-west-2' }, saved)
        .region,
    ).toBe('us-west-2');
    expect(resolveEndpoint({}, { AWS_DEFAULT_REGION: 'ca-central-1' }, undefined).region).toBe(
      'ca-central-1',
    );
  });

  it('refuses what is not an http(s) URL or a region, naming where it came from', () => {
    expect(() => resolveEndpoint({ api: 'file:///etc/passwd' }, {}, undefined)).toThrow(
      InvalidSettingError,
    );
    expect(() => resolveEndpoint({}, { CITRIX_RESPONSE_API: 'nope' }, undefined)).toThrow(
      /^CITRIX_RESPONSE_API: /,
    );
    expect(() => resolveEndpoint({ region: 'Europe' }, {}, undefined)).toThrow(/^--region: /);
  });
});

describe('configFilePath', () => {
  it('follows XDG_CONFIG_HOME, else ~/.config', () => {
    expect(configFilePath({ XDG_CONFIG_HOME: '/x' })).toBe('/x/citrix-response/config.json');
    expect(configFilePath({ HOME: '/home/jane' })).toBe(
      '/home/jane/.config/citrix-response/config.json',
    );
  });
});
