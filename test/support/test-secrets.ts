import { LOCAL_DEMO_SOURCE_SECRETS, LOCAL_DEMO_WEBHOOK_SECRET } from '../../local/defaults.ts';
import { TEST_SIGNING_SECRET } from './signed-request.ts';
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
];
