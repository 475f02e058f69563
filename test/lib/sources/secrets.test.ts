import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, describe, expect, it } from 'vitest';
import { SecretFormatError } from '../../../lib/runtime/secrets.ts';
import {
  SecretsManagerSourceSecrets,
  SOURCE_SECRET_SCHEMAS,
  SourceNotConfiguredError,
  sourceSecretsFromEnv,
} from '../../../lib/sources/secrets.ts';
import { rejection } from '../../support/rejection.ts';

const secretsManager = mockClient(SecretsManagerClient);
afterAll(() => secretsManager.restore());

describe('source secrets', () => {
  it('treats the PagerDuty secret as not configured until PagerDuty’s secret is stored', async () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:1:secret:pagerduty-empty';
    secretsManager
      .on(GetSecretValueCommand, { SecretId: arn })
      .resolves({ SecretString: JSON.stringify({ signingSecrets: [] }) });
    const reader = new SecretsManagerSourceSecrets({ pagerduty: arn });
    expect(await rejection(reader.read('pagerduty'))).toBeInstanceOf(SourceNotConfiguredError);
    expect(await rejection(reader.read('splunk'))).toBeInstanceOf(SourceNotConfiguredError);
  });

  it('refuses a placeholder from a template or a doc, which anyone could sign with', async () => {
    const placeholder = 'replace-with-the-pagerduty-signing-secret';
    expect(
      SOURCE_SECRET_SCHEMAS.pagerduty.safeParse({ signingSecrets: [placeholder] }).success,
    ).toBe(false);
    // Next to a real secret too: the placeholder would still authenticate.
    expect(
      SOURCE_SECRET_SCHEMAS.pagerduty.safeParse({
        signingSecrets: ['Zk3q9WbT1mXr7LpA2sVd', placeholder],
      }).success,
    ).toBe(false);
    for (const [source, value] of [
      ['splunk', { token: 'Replace-With-Your-Splunk-Token-Value' }],
      ['sentinel', { apiKey: 'set-me-to-the-sentinel-api-key-value' }],
      ['servicenow', { username: 'servicenow', password: 'changeme-changeme-changeme' }],
    ] as const) {
      expect(SOURCE_SECRET_SCHEMAS[source].safeParse(value).success, source).toBe(false);
    }
    expect(
      SOURCE_SECRET_SCHEMAS.pagerduty.safeParse({ signingSecrets: ['Zk3q9WbT1mXr7LpA2sVd'] })
        .success,
    ).toBe(true);

    const arn = 'arn:aws:secretsmanager:eu-west-1:1:secret:pagerduty-placeholder';
    secretsManager
      .on(GetSecretValueCommand, { SecretId: arn })
      .resolves({ SecretString: JSON.stringify({ signingSecrets: [placeholder], unused: 'x' }) });
    const error = await rejection(
      new SecretsManagerSourceSecrets({ pagerduty: arn }).read('pagerduty'),
    );
    expect(error).toBeInstanceOf(SecretFormatError);
    expect(error.message).not.toContain(placeholder);
  });

  it('locally, uses the environment, and the demo values only when given', async () => {
    const demo = {
      servicenow: { username: 'u', password: 'p'.repeat(16) },
      splunk: { token: 't'.repeat(24) },
      sentinel: { apiKey: 'k'.repeat(24) },
      pagerduty: { signingSecrets: ['s'.repeat(16)] },
    };
    const env = { SPLUNK_TOKEN: 'from-env-token-0123456789abcdef' };
    expect(await sourceSecretsFromEnv(env, demo).read('splunk')).toEqual({
      token: 'from-env-token-0123456789abcdef',
    });
    expect(await sourceSecretsFromEnv(env, demo).read('sentinel')).toEqual(demo.sentinel);
    // A real tenant: no public demo credentials, so an unset source is not configured.
    expect(await rejection(sourceSecretsFromEnv(env, undefined).read('sentinel'))).toBeInstanceOf(
      SourceNotConfiguredError,
    );
  });
});
