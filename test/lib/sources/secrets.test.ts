import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, describe, expect, it } from 'vitest';
import { SecretFormatError } from '../../../lib/runtime/secrets.ts';
import { ALERT_SOURCES } from '../../../lib/sources/alert-sources.ts';
import { SourceNotConfiguredError } from '../../../lib/sources/errors.ts';
import { SecretsManagerSourceSecrets } from '../../../lib/sources/secret-reader.ts';
import { SOURCE_SECRET_SCHEMAS, sourceSecretsFromEnv } from '../../../lib/sources/secrets.ts';
import { LOCAL_DEMO_SOURCE_SECRETS } from '../../../local/defaults.ts';
import { rejection } from '../../support/rejection.ts';

const secretsManager = mockClient(SecretsManagerClient);
afterAll(() => secretsManager.restore());

describe('source secrets', () => {
  it('treats the PagerDuty secret as not configured until PagerDuty’s secret is stored', async () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:1:secret:pagerduty-empty';
    secretsManager
      .on(GetSecretValueCommand, { SecretId: arn })
      .resolves({ SecretString: JSON.stringify({ signingSecrets: [] }) });
    const reader = new SecretsManagerSourceSecrets(ALERT_SOURCES, { PAGERDUTY_SECRET_ARN: arn });
    expect(await rejection(reader.read('pagerduty'))).toBeInstanceOf(SourceNotConfiguredError);
    // No variable for its secret, or not a source this function serves: not configured.
    expect(await rejection(reader.read('splunk'))).toBeInstanceOf(SourceNotConfiguredError);
    expect(await rejection(reader.read('servicenow'))).toBeInstanceOf(SourceNotConfiguredError);
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
      new SecretsManagerSourceSecrets(ALERT_SOURCES, { PAGERDUTY_SECRET_ARN: arn }).read(
        'pagerduty',
      ),
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
      standard: { signingSecret: 'w'.repeat(16) },
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

  it('locally, refuses a placeholder or short value, naming the variable and never the value', () => {
    const values = {
      SPLUNK_TOKEN: 'changeme',
      SENTINEL_API_KEY: 'set-me-to-the-sentinel-api-key-value',
      SERVICENOW_USERNAME: 'servicenow',
      SERVICENOW_PASSWORD: 'short-pass',
      PAGERDUTY_SIGNING_SECRETS: 'Zk3q9WbT1mXr7LpA2sVd, replace-with-the-pagerduty-secret',
      WEBHOOK_SECRET: 'whsec_not*base64*at*all',
    };
    let error: unknown;
    try {
      sourceSecretsFromEnv(values, LOCAL_DEMO_SOURCE_SECRETS);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SecretFormatError);
    const message = (error as Error).message;
    for (const variable of [
      'SPLUNK_TOKEN',
      'SENTINEL_API_KEY',
      'SERVICENOW_PASSWORD',
      'PAGERDUTY_SIGNING_SECRETS (entry 2)',
      'WEBHOOK_SECRET',
    ]) {
      expect(message).toContain(`${variable}:`);
    }
    expect(message).not.toContain('SERVICENOW_USERNAME');
    for (const value of [
      'changeme',
      'set-me-to-the-sentinel',
      'short-pass',
      'Zk3q9WbT1mXr7LpA2sVd',
      'replace-with',
      'not*base64',
    ]) {
      expect(message).not.toContain(value);
    }
  });

  it('locally, accepts the demo values, set or as defaults, and an empty PagerDuty list is not configured', async () => {
    for (const source of Object.keys(
      LOCAL_DEMO_SOURCE_SECRETS,
    ) as (keyof typeof SOURCE_SECRET_SCHEMAS)[]) {
      expect(
        SOURCE_SECRET_SCHEMAS[source].safeParse(LOCAL_DEMO_SOURCE_SECRETS[source]).success,
        source,
      ).toBe(true);
    }
    const demo = LOCAL_DEMO_SOURCE_SECRETS;
    const asEnv = {
      SERVICENOW_USERNAME: demo.servicenow.username,
      SERVICENOW_PASSWORD: demo.servicenow.password,
      SPLUNK_TOKEN: demo.splunk.token,
      SENTINEL_API_KEY: demo.sentinel.apiKey,
      PAGERDUTY_SIGNING_SECRETS: demo.pagerduty.signingSecrets.join(','),
      WEBHOOK_SECRET: demo.standard.signingSecret,
    };
    const reader = sourceSecretsFromEnv(asEnv, undefined);
    expect(await reader.read('splunk')).toEqual(demo.splunk);
    expect(await reader.read('standard')).toEqual(demo.standard);
    expect(await reader.read('pagerduty')).toEqual(demo.pagerduty);
    expect(await sourceSecretsFromEnv({}, demo).read('servicenow')).toEqual(demo.servicenow);

    const none = sourceSecretsFromEnv({ PAGERDUTY_SIGNING_SECRETS: ' , ' }, demo);
    expect(await rejection(none.read('pagerduty'))).toBeInstanceOf(SourceNotConfiguredError);
  });
});
