import { DEFAULT_API_PORT, DEFAULT_SIMULATOR_PORT } from './defaults.ts';
import { describeWorkflowEvent } from './progress.ts';

/** `npm start`: the local stack on the embedded default, with progress printed as it happens. */
const env = process.env;
// Powertools' JSON logs would drown the progress lines; LOG_LEVEL=INFO brings them back. The
// logger reads its level when its module loads, hence the dynamic import below.
env.POWERTOOLS_LOG_LEVEL ??= env.LOG_LEVEL ?? 'WARN';
const { startLocalStack } = await import('./stack.ts');

const port = (name: string, fallback: number) => {
  const value = Number(env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65_535) {
    throw new Error(`${name} must be a port number, got ${env[name]}`);
  }
  return value;
};

const stack = await startLocalStack({
  env,
  apiPort: port('PORT', DEFAULT_API_PORT),
  simulatorPort: port('CITRIX_SIMULATOR_PORT', DEFAULT_SIMULATOR_PORT),
  onWorkflowEvent: (actionId, event) => {
    const line = describeWorkflowEvent(event);
    if (line !== undefined) console.log(`[${actionId}] ${line}`);
  },
});

const citrix =
  stack.citrix.mode === 'simulator'
    ? `the built-in Citrix simulator at ${stack.citrix.baseUrl} (state: ${stack.citrix.baseUrl}/_simulator/state)`
    : `the real Citrix tenant at ${stack.citrix.baseUrl}`;
const em = stack.endpointManagement;
const endpointManagement =
  em.mode === 'simulator'
    ? `the simulator's Endpoint Management at ${em.baseUrl}`
    : `the Endpoint Management server at ${em.baseUrl}`;
console.log(`Citrix Response is running.
  API:     ${stack.apiUrl}   (POST /v1/actions, GET /v1/actions/{actionId}, GET /v1/openapi.json)
  Sources: ${stack.apiUrl}/v1/webhooks/{servicenow|sentinel|pagerduty}, /v1/webhooks/splunk/{token} (docs/sources/)
  Citrix:  ${citrix}
  Devices: ${endpointManagement} (login: ${em.auth}, bodies: ${em.bodyShape})
  Secret:  ${env.WEBHOOK_SECRET ? 'WEBHOOK_SECRET from the environment' : 'the built-in local demo secret (set WEBHOOK_SECRET to change it)'}

Try it, in another terminal:
  npm run send -- session.logoff --user alice@example.com --reason "Rehearsal: compromised account"
  npm run send -- session.disconnect --user bob@example.com --reason "Rehearsal" --dry-run
  npm run send -- device.selectiveWipe --user alice@example.com --reason "Rehearsal: lost phone" --dry-run
  npm run send -- admin.revoke --admin mallory@example.com --reason "Rehearsal: stolen admin account" --dry-run
  npm run report      # the scheduled Citrix Cloud administrator report, now
`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await stack.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
