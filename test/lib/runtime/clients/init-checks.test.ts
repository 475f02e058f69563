import { afterEach, describe, expect, it, vi } from 'vitest';

/** Loads a client module afresh, as a cold start does, under `env`. */
async function coldStart(module: string, env: Record<string, string>): Promise<unknown> {
  vi.resetModules();
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  return import(module);
}

describe('Citrix URLs checked at Lambda init', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('fails the cold start on a CITRIX_EM_URL that is not https, naming the variable', async () => {
    await expect(
      coldStart('../../../../lib/runtime/clients/endpoint-management.ts', {
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        CITRIX_EM_URL: 'http://mdm.example.com',
        CITRIX_EM_AUTH: 'credentials',
      }),
    ).rejects.toMatchObject({
      name: 'CitrixConfigurationError',
      message: expect.stringContaining('CITRIX_EM_URL'),
    });
  });

  it('fails the cold start of a Citrix Cloud login on a bad CITRIX_API_URL too', async () => {
    await expect(
      coldStart('../../../../lib/runtime/clients/endpoint-management.ts', {
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        CITRIX_EM_URL: 'https://mdm.example.com',
        CITRIX_EM_AUTH: 'cloud',
        CITRIX_API_URL: 'https://api.example.com',
        CITRIX_CUSTOMER_ID: 'customer',
      }),
    ).rejects.toMatchObject({ message: expect.stringContaining('CITRIX_API_URL') });
  });

  it('fails the cold start on a CITRIX_API_URL off the Citrix Cloud hosts, naming the variable', async () => {
    await expect(
      coldStart('../../../../lib/runtime/clients/daas.ts', {
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        CITRIX_API_URL: 'https://api.example.com',
        CITRIX_CUSTOMER_ID: 'customer',
      }),
    ).rejects.toMatchObject({
      name: 'CitrixConfigurationError',
      message: expect.stringContaining('CITRIX_API_URL'),
    });
  });

  it('loads with a good URL at a root or under a path, and outside Lambda without any', async () => {
    for (const url of [
      'https://mdm.example.com',
      'https://mdm.example.com:4443/xenmobile/api/v1',
    ]) {
      await expect(
        coldStart('../../../../lib/runtime/clients/endpoint-management.ts', {
          AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
          CITRIX_EM_URL: url,
          CITRIX_EM_AUTH: 'credentials',
        }),
      ).resolves.toHaveProperty('awsEndpointManagementClient');
    }
    vi.unstubAllEnvs();
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', undefined);
    await expect(
      coldStart('../../../../lib/runtime/clients/endpoint-management.ts', {}),
    ).resolves.toHaveProperty('awsEndpointManagementClient');
    await expect(coldStart('../../../../lib/runtime/clients/daas.ts', {})).resolves.toHaveProperty(
      'awsDaasClient',
    );
  });
});
