import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ServiceNowApiSecretSchema } from '../../../lib/callbacks/servicenow.ts';
import {
  readCitrixCredentials,
  readEndpointManagementCredentials,
} from '../../../lib/runtime/citrix-secrets.ts';
import {
  readJsonSecret,
  readSigningSecret,
  SecretFormatError,
} from '../../../lib/runtime/secrets.ts';

const secretsManager = mockClient(SecretsManagerClient);
const CITRIX_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:citrix-AbCdEf';
const WEBHOOK_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:webhook-AbCdEf';

beforeEach(() => {
  secretsManager.reset();
});

afterAll(() => {
  secretsManager.restore();
});

describe('secrets from Secrets Manager', () => {
  it('fetches a secret once and serves it from the cache afterwards', async () => {
    secretsManager.on(GetSecretValueCommand, { SecretId: CITRIX_ARN }).resolves({
      SecretString: JSON.stringify({ clientId: 'id-1', clientSecret: 'very-secret-1' }),
    });
    expect(await readCitrixCredentials(CITRIX_ARN)).toEqual({
      clientId: 'id-1',
      clientSecret: 'very-secret-1',
    });
    expect(await readCitrixCredentials(CITRIX_ARN)).toEqual({
      clientId: 'id-1',
      clientSecret: 'very-secret-1',
    });
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('names the missing field of a malformed secret, never its value', async () => {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: WEBHOOK_ARN })
      .resolves({ SecretString: JSON.stringify({ signing: 'leaky-value-123' }) });
    const error = await readSigningSecret(WEBHOOK_ARN).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretFormatError);
    expect((error as Error).message).toContain('signingSecret');
    expect(JSON.stringify(error)).not.toContain('leaky-value-123');
    expect((error as Error).message).not.toContain('leaky-value-123');
  });

  it('reads the ServiceNow instance and account from one secret, refusing the placeholder without quoting it', async () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:servicenow-api-AbCdEf';
    const placeholder =
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:servicenow-new-AbCdEf';
    secretsManager.on(GetSecretValueCommand, { SecretId: arn }).resolves({
      SecretString: JSON.stringify({
        instanceUrl: 'https://acme.service-now.com',
        username: 'citrix.response',
        password: 'sn-api-password-9',
      }),
    });
    secretsManager.on(GetSecretValueCommand, { SecretId: placeholder }).resolves({
      // As the stack generates it, before the operator stores the real values.
      SecretString: JSON.stringify({
        instanceUrl: 'https://<instance>.service-now.com',
        username: 'set-me',
        password: 'generated-password-leak-check',
      }),
    });

    const connection = await readJsonSecret(arn, ServiceNowApiSecretSchema);
    expect(connection.instanceUrl.origin).toBe('https://acme.service-now.com');
    expect(connection).toMatchObject({
      username: 'citrix.response',
      password: 'sn-api-password-9',
    });

    const error = await readJsonSecret(placeholder, ServiceNowApiSecretSchema).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SecretFormatError);
    expect((error as Error).message).toMatch(/not in the expected format \(instanceUrl\)$/);
    expect(JSON.stringify(error)).not.toContain('generated-password-leak-check');
    expect((error as Error).message).not.toContain('generated-password-leak-check');
  });

  it('reads the Endpoint Management administrator under the same names as the local variables', async () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:em-AbCdEf';
    secretsManager.on(GetSecretValueCommand, { SecretId: arn }).resolves({
      SecretString: JSON.stringify({ CITRIX_EM_USERNAME: 'api-admin', CITRIX_EM_PASSWORD: 'pw-7' }),
    });
    expect(await readEndpointManagementCredentials(arn)).toEqual({
      username: 'api-admin',
      password: 'pw-7',
    });
  });
});
