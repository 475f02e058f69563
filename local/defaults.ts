/**
 * The Standard Webhooks signing secret of the local `standard` source (POST /v1/webhooks/standard)
 * when WEBHOOK_SECRET is not set. It is public, so it is only accepted while the local stack talks
 * to the built-in simulator.
 */
export const LOCAL_DEMO_WEBHOOK_SECRET = `whsec_${Buffer.from('citrix-response local demo secret').toString('base64')}`;

export const DEFAULT_API_PORT = 3000;
export const DEFAULT_SIMULATOR_PORT = 3001;
export const LOCAL_ACTIONS_TABLE = 'citrix-response-actions';
export const LOCAL_SNAPSHOTS_TABLE = 'citrix-response-snapshots';
/** The demo fixture's break-glass administrator, protected when the simulator stands in for Citrix. */
export const LOCAL_DEMO_PROTECTED_ADMINS = 'breakglass@example.com';
/** Local-only route (not part of the API Gateway API) that runs the administrator report now. */
export const LOCAL_REPORT_ROUTE = '/_local/administrator-report';
/** `npm run sweep`: `POST /_local/sweeps/<name>/run` (or `/dry-run`) starts one run now. */
export const localSweepRoute = (name: string, dryRun: boolean) =>
  `/_local/sweeps/${encodeURIComponent(name)}/${dryRun ? 'dry-run' : 'run'}`;
/** The local demo credentials of each source endpoint (public: refused with a real tenant). */
export const LOCAL_DEMO_SOURCE_SECRETS = {
  servicenow: { username: 'servicenow', password: 'local-demo-servicenow-password' },
  splunk: { token: 'local-demo-splunk-token-0123456789abcdef' },
  sentinel: { apiKey: 'local-demo-sentinel-api-key-0123456789' },
  pagerduty: { signingSecrets: ['local-demo-pagerduty-signing-secret'] },
  standard: { signingSecret: LOCAL_DEMO_WEBHOOK_SECRET },
} as const;
export { LOCAL_DEMO_PEOPLE } from '../lib/identity/demo-people.ts';
export const LOCAL_IDEMPOTENCY_TABLE = 'citrix-response-idempotency';
export const LOCAL_DELIVERIES_TABLE = 'citrix-response-deliveries';
/** The default routing rules file, validated when `npm start` starts. */
export const DEFAULT_ROUTES_FILE = new URL('../config/routes.json', import.meta.url);
/** The sweeps file `npm start` reads unless `SWEEPS_FILE` names another (as `cdk synth`). */
// Kept free of imports: the local scripts load this file first (lib/sweeps/config.ts names it too).
export const DEFAULT_SWEEPS_FILE = new URL('../config/sweeps.json', import.meta.url);
export const LOCAL_LIMITS_TABLE = 'citrix-response-limits';
export const LOCAL_AUDIT_TABLE = 'citrix-response-audit';
