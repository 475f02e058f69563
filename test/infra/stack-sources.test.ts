import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/build-app.ts';
import { InvalidContextError } from '../../infra/config.ts';
import { sourceRulesFiles } from '../../infra/source-endpoints.ts';
import { idempotencyWindowSecondsFromEnv } from '../../lib/runtime/settings.ts';
import { loadAlertRoutingRules } from '../../lib/sources/alert-routing.ts';
import { authenticateDelivery } from '../../lib/sources/authenticate.ts';
import { SourceAuthenticationError, SourceNotConfiguredError } from '../../lib/sources/errors.ts';
import { loadRequestRoutingRules } from '../../lib/sources/request-routing.ts';
import { loadRoutingRules } from '../../lib/sources/routing.ts';
import { assertSourceConfigured } from '../../lib/sources/secret-reader.ts';
import { SOURCE_SECRET_SCHEMAS } from '../../lib/sources/secrets.ts';
import { type InboundDelivery, SOURCES, type SourceName } from '../../lib/sources/types.ts';
import { signStandardWebhook } from '../../lib/webhooks/standard-webhooks.ts';
import { WORKFLOWS } from '../../lib/workflow/definition.ts';
import {
  appContext,
  OPERATOR_ROUTES_FILE,
  POWERTOOLS_VARIABLES,
  SYNTH_TIMEOUT,
  type SynthesizedStack,
  synthesized,
} from './support/stack.ts';

/**
 * The source endpoints (`POST /v1/webhooks/...`), in the `configured` stack (an operator's own
 * routes file whose route calls `soar` back): what the function is told, and the secrets each
 * source authenticates with. Their grants are in stack-iam.test.ts, their routes in
 * stack-api.test.ts.
 */

let stack: SynthesizedStack;
beforeAll(() => {
  stack = synthesized('configured');
}, SYNTH_TIMEOUT);

it.each([
  [
    'alerting sources',
    () => stack.sourceFunction,
    {
      SPLUNK_SECRET_ARN: 'source:splunk',
      SENTINEL_SECRET_ARN: 'source:sentinel',
      PAGERDUTY_SECRET_ARN: 'source:pagerduty',
    },
    'Source endpoints: Splunk, Sentinel and PagerDuty alerts',
  ],
  [
    'requesting sources',
    () => stack.requestSourceFunction,
    {
      SERVICENOW_SECRET_ARN: 'source:servicenow',
      // The standard source signs with the webhook secret, under its usual name.
      WEBHOOK_SECRET_ARN: 'webhook',
    },
    'Source endpoints: ServiceNow and Standard Webhooks requests',
  ],
] as const)(
  "tells the %s' function its tables, the workflows, its sources' secrets, the window and the destination names: nothing else",
  (_, fn, secrets, description) => {
    const environment = stack.environment(fn());

    // No ROUTES_FILE: the function reads its part of the rules bundled next to it (routes.json),
    // written from the file readConfig validated at synth.
    expect(environment).toEqual({
      ...POWERTOOLS_VARIABLES,
      ACTIONS_TABLE_NAME: { Ref: stack.table('actions') },
      IDEMPOTENCY_TABLE_NAME: { Ref: stack.table('idempotency') },
      IDEMPOTENCY_WINDOW_SECONDS: '3600',
      DELIVERIES_TABLE_NAME: { Ref: stack.table('deliveries') },
      AUDIT_TABLE_NAME: { Ref: stack.table('audit') },
      ...Object.fromEntries(
        WORKFLOWS.map((workflow) => [
          `${workflow.name.replaceAll('-', '_').toUpperCase()}_STATE_MACHINE_ARN`,
          { Ref: stack.stateMachine(workflow.name) },
        ]),
      ),
      ...Object.fromEntries(
        Object.entries(secrets).map(([variable, role]) => [variable, { Ref: stack.secret(role) }]),
      ),
      // Names only (a route may ask for one): the URLs may carry the receiver's token.
      CALLBACK_DESTINATION_NAMES: 'soar,ticketing',
    });
    expect(JSON.stringify(environment)).not.toContain('soar.example.com');
    expect(idempotencyWindowSecondsFromEnv(stack.literalEnvironment(fn()))).toBe(3600);
    expect(stack.resource(fn()).Properties.Description).toBe(description);
  },
);

it('gives each source function only its part of the rules file, from the whole file synth validated', () => {
  const rules = JSON.parse(readFileSync(OPERATOR_ROUTES_FILE, 'utf8')) as Record<string, unknown>;
  const { alerts, requests } = sourceRulesFiles(OPERATOR_ROUTES_FILE);

  expect(JSON.parse(readFileSync(alerts, 'utf8'))).toEqual({
    version: rules.version,
    routes: rules.routes,
  });
  expect(JSON.parse(readFileSync(requests, 'utf8'))).toEqual({
    version: rules.version,
    ...(rules.servicenow === undefined ? {} : { servicenow: rules.servicenow }),
    ...(rules.standard === undefined ? {} : { standard: rules.standard }),
  });
  // Each part is what its function loads; the whole file's other keys are not there.
  expect(loadAlertRoutingRules(alerts).routes).toEqual(
    loadRoutingRules(OPERATOR_ROUTES_FILE).routes,
  );
  const whole = loadRoutingRules(OPERATOR_ROUTES_FILE);
  expect(loadRequestRoutingRules(requests)).toEqual({
    version: 1,
    servicenow: whole.servicenow,
    standard: whole.standard,
  });
});

it('fails synth when a route of the rules file names a callback destination that is not configured', () => {
  const build = () => buildApp(appContext({ routesFile: OPERATOR_ROUTES_FILE }));

  expect(build).toThrow(InvalidContextError);
  expect(build).toThrow(
    /^Context "routesFile" is invalid: .*route "impossible-travel"\)\.callback: no callback destination named "soar"/,
  );
});

describe('source secrets', () => {
  /**
   * The template is public (this repository, every synthesized stack), so nothing in it may
   * authenticate a delivery.
   */
  const SAMPLE_BODY = readFileSync(
    new URL('../../docs/sources/samples/pagerduty.json', import.meta.url),
    'utf8',
  );

  /** The JSON key each source authenticates with: the one value that must be generated. */
  const CREDENTIAL_KEY: Record<SourceName, string> = {
    servicenow: 'password',
    splunk: 'token',
    sentinel: 'apiKey',
    pagerduty: 'signingSecrets',
    standard: 'signingSecret',
  };

  /** Every string anywhere in a JSON value. */
  function stringsIn(value: unknown): string[] {
    if (typeof value === 'string') return [value];
    if (Array.isArray(value)) return value.flatMap(stringsIn);
    if (value !== null && typeof value === 'object') {
      return Object.entries(value).flatMap(([key, entry]) => [key, ...stringsIn(entry)]);
    }
    return [];
  }

  /** Deliveries forged with `guess` as every credential the source checks. */
  function forgeries(source: SourceName, guesses: readonly string[]): InboundDelivery[] {
    const base = { source, rawBody: SAMPLE_BODY, headers: {} };
    return guesses.flatMap((guess): InboundDelivery[] => {
      switch (source) {
        case 'servicenow':
          return guesses.map((user) => ({
            ...base,
            headers: {
              authorization: `Basic ${Buffer.from(`${user}:${guess}`).toString('base64')}`,
            },
          }));
        case 'splunk':
          return [{ ...base, pathToken: guess }];
        case 'sentinel':
          return [{ ...base, headers: { 'x-api-key': guess } }];
        case 'pagerduty':
          return [
            {
              ...base,
              headers: {
                'x-pagerduty-signature': `v1=${createHmac('sha256', guess).update(SAMPLE_BODY).digest('hex')}`,
              },
            },
          ];
        case 'standard':
          return guess === ''
            ? []
            : [{ ...base, headers: signStandardWebhook(guess, 'msg_1', new Date(), SAMPLE_BODY) }];
        default:
          return [];
      }
    });
  }

  it.each(SOURCES)(
    'generates and retains the %s secret with the JSON keys the function reads, and nothing anyone could authenticate with',
    (source) => {
      const secret = stack.resource(
        stack.secret(source === 'standard' ? 'webhook' : `source:${source}`),
      );
      const generate = secret.Properties.GenerateSecretString as {
        SecretStringTemplate: string;
        GenerateStringKey: string;
        PasswordLength: number;
      };
      const template = JSON.parse(generate.SecretStringTemplate) as Record<string, unknown>;

      expect(secret).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      // The standard source signs with the stack's webhook secret; the others have their own.
      expect(generate).toMatchObject({
        PasswordLength: source === 'standard' ? 64 : 48,
        ExcludePunctuation: true,
        IncludeSpace: false,
      });
      expect(String(secret.Properties.Description)).toMatch(
        source === 'standard'
          ? /^Standard Webhooks signing secret/
          : /^Citrix Response source endpoint: /,
      );
      // The credential is either generated by CloudFormation or, for PagerDuty, absent (empty).
      if (source === 'pagerduty') {
        expect(template.signingSecrets).toEqual([]);
        expect(generate.GenerateStringKey).not.toBe(CREDENTIAL_KEY[source]);
      } else {
        expect(template).not.toHaveProperty(CREDENTIAL_KEY[source]);
        expect(generate.GenerateStringKey).toBe(CREDENTIAL_KEY[source]);
      }

      // What CloudFormation stores: the template plus a value no one has seen.
      const stored = {
        ...template,
        [generate.GenerateStringKey]: randomBytes(32)
          .toString('hex')
          .slice(0, generate.PasswordLength),
      };
      const parsed = SOURCE_SECRET_SCHEMAS[source].parse(stored);
      let configured: unknown;
      try {
        configured = assertSourceConfigured(source, parsed as never);
      } catch (error) {
        // Not configured: the endpoint answers 404 and authenticates nothing.
        expect(error).toBeInstanceOf(SourceNotConfiguredError);
        expect(source).toBe('pagerduty');
        return;
      }
      // What the template says, nothing, and the name of the key the credential is under.
      const attempts = forgeries(source, [...stringsIn(template), '', generate.GenerateStringKey]);
      expect(attempts.length).toBeGreaterThan(0);
      for (const delivery of attempts) {
        expect(() => authenticateDelivery(delivery as never, configured as never)).toThrow(
          SourceAuthenticationError,
        );
      }
    },
  );

  it('refuses the old PagerDuty placeholder rather than trusting it', () => {
    expect(
      SOURCE_SECRET_SCHEMAS.pagerduty.safeParse({
        signingSecrets: ['replace-with-the-pagerduty-signing-secret'],
        unused: 'x',
      }).success,
    ).toBe(false);
  });
});
