import {
  LOCAL_DEMO_PEOPLE,
  LOCAL_DEMO_SOURCE_SECRETS,
  LOCAL_DEMO_WEBHOOK_SECRET,
} from '../../local/defaults.ts';
import { TEST_PEOPLE, TEST_SIGNING_SECRET } from './signed-request.ts';
import { TEST_CLIENT, TEST_EM_ADMIN } from './simulator-fixture.ts';

/**
 * Every secret value the tests use, by name: none of them may ever be written to stdout, stderr
 * or the console during the whole test run (see secret-scan.setup.ts).
 */
export const TEST_SECRETS: readonly (readonly [string, string])[] = [
  ['test signing secret', TEST_SIGNING_SECRET],
  ['test signing key', TEST_SIGNING_SECRET.slice('whsec_'.length)],
  ['local demo webhook secret', LOCAL_DEMO_WEBHOOK_SECRET],
  ['test Citrix client secret', TEST_CLIENT.clientSecret],
  ['test Endpoint Management password', TEST_EM_ADMIN.password],
  ['demo Citrix client secret', 'demo-client-secret'],
  ['demo Endpoint Management password', 'em-demo-password'],
  ['ServiceNow endpoint password', LOCAL_DEMO_SOURCE_SECRETS.servicenow.password],
  ['Splunk token', LOCAL_DEMO_SOURCE_SECRETS.splunk.token],
  ['Sentinel API key', LOCAL_DEMO_SOURCE_SECRETS.sentinel.apiKey],
  ['PagerDuty signing secret', LOCAL_DEMO_SOURCE_SECRETS.pagerduty.signingSecrets[0] ?? ''],
  ['ServiceNow Table API password', 'table-api-password-1'],
  [
    'callback signing secret',
    `whsec_${Buffer.from('callback signing secret for tests').toString('base64')}`,
  ],
  ['Endpoint Management client test password', 'em-password-9f2c'],
  [
    'ServiceNow endpoint Basic credentials',
    basic(
      LOCAL_DEMO_SOURCE_SECRETS.servicenow.username,
      LOCAL_DEMO_SOURCE_SECRETS.servicenow.password,
    ),
  ],
  ['ServiceNow Table API Basic credentials', basic('citrix.response', 'table-api-password-1')],
  ...Object.entries({ ...TEST_PEOPLE, ...LOCAL_DEMO_PEOPLE }).map(
    ([name, keys]) => [`${name}'s secret access key`, keys.secretAccessKey] as const,
  ),
];

/**
 * Secrets minted while the tests run, recognised by their shape: none of them may be written
 * anywhere either. Each pattern is checked against a value really issued in
 * test/local/secrets-in-logs.test.ts, so a change of format cannot silently disable it.
 */
export const TEST_SECRET_PATTERNS: readonly (readonly [string, RegExp])[] = [
  // local/simulator/world.ts issueToken: SIMULATOR_BEARER_PREFIX + 32 random bytes, base64url.
  ['simulator Citrix Cloud bearer token', /simbearer_[A-Za-z0-9_-]{43}/],
  // local/simulator/endpoint-management-state.ts issueToken: `<id>:<id>`, 32 hex digits each.
  ['simulator Endpoint Management auth_token', /\b([0-9a-f]{32}):\1\b/],
  // local/workflow-runner.ts: the task token an approval waits on.
  ['local Step Functions task token', /local-task-token:/],
  // A Standard Webhooks signature (API requests, signed callbacks): v1, base64 of an HMAC-SHA256.
  ['Standard Webhooks signature', /\bv1,[A-Za-z0-9+/]{43}=/],
  // A PagerDuty signature: v1= hex of an HMAC-SHA256.
  ['PagerDuty signature', /\bv1=[0-9a-f]{64}\b/i],
];

/** The names of the secrets in text: every known value, and every minted one by its shape. */
export function secretsIn(text: string): string[] {
  const found: string[] = [];
  for (const [name, secret] of TEST_SECRETS) {
    if (secret.length >= 8 && text.includes(secret)) found.push(name);
  }
  for (const [name, pattern] of TEST_SECRET_PATTERNS) {
    if (pattern.test(text)) found.push(`a ${name}`);
  }
  return found;
}

function basic(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`).toString('base64');
}
