import {
  DEFAULT_API_PORT,
  DEFAULT_SIMULATOR_PORT,
  LOCAL_DEMO_PEOPLE,
  LOCAL_DEMO_SOURCE_SECRETS,
  LOCAL_DEMO_WEBHOOK_SECRET,
} from './defaults.ts';
import { inProcessScope, LAMBDA_MAX_CONCURRENCY_VARIABLE } from './invocations.ts';
import { describeWorkflowEvent } from './progress.ts';

/** `npm start`: the local stack on the embedded default, with progress printed as it happens. */
const env = process.env;
// Powertools' JSON logs would drown the progress lines; LOG_LEVEL=INFO brings them back. The
// logger reads its level when its module loads, hence the dynamic imports below.
env.POWERTOOLS_LOG_LEVEL ??= env.LOG_LEVEL ?? 'WARN';
const [
  { startLocalStack },
  { SecretFormatError },
  { RoutingRulesError },
  { InvalidSettingsError },
  { InvalidGuardrailsError, guardrailsFromEnv },
  { CitrixConfigurationError },
  { CallbackConfigurationError },
  { describeActionsInForce },
  { SweepsFileError, DEFAULT_SWEEPS_FILE, describeSweepWork },
  { SimulatorFixtureError },
  { RunbookFileError },
] = await Promise.all([
  import('./stack.ts'),
  import('../lib/runtime/secrets.ts'),
  import('../lib/sources/routing.ts'),
  import('../lib/runtime/settings.ts'),
  import('../lib/guardrails/config.ts'),
  import('../lib/citrix/errors.ts'),
  import('../lib/callbacks/signed-callback.ts'),
  import('./actions-doc.ts'),
  import('../lib/sweeps/config.ts'),
  import('./simulator/fixture.ts'),
  import('../lib/runbooks/files.ts'),
]);
// Every function runs in this one process, concurrently, as on a Lambda Managed Instance: the
// logger then keeps each invocation's keys apart (local/invocations.ts). Set once the modules are
// loaded, as the runtime does: what they set up at load (outside any invocation) stays shared.
env[LAMBDA_MAX_CONCURRENCY_VARIABLE] ??= '64';

/** Errors that mean "this configuration is refused": their message says what to fix. */
const REFUSALS: readonly (abstract new (...args: never[]) => Error)[] = [
  SecretFormatError,
  RoutingRulesError,
  InvalidSettingsError,
  InvalidGuardrailsError,
  CitrixConfigurationError,
  CallbackConfigurationError,
  SweepsFileError,
  SimulatorFixtureError,
  RunbookFileError,
];

/**
 * Stops `npm start` with a refusal's message alone (a stack trace would bury it), or with the
 * whole error when it is not one of the known refusals. Exits 1 either way.
 */
function refuse(error: unknown, ports: Readonly<Record<string, number>>): never {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'EADDRINUSE') {
    const port = (error as { port?: unknown }).port;
    const variable = Object.entries(ports).find(([, value]) => value === port)?.[0] ?? 'PORT';
    console.error(`Port ${String(port)} is in use: stop the other process or set ${variable}`);
  } else if (REFUSALS.some((refusal) => error instanceof refusal)) {
    const { message, cause } = error as Error;
    // A file that cannot be read or parsed: the reason (ENOENT, the JSON error) is the news.
    // A validation error's cause repeats the message at length, so it is left out.
    const why = cause instanceof Error && !('issues' in cause) ? ` (${cause.message})` : '';
    console.error(`${message}${why}`);
  } else {
    console.error(error);
  }
  process.exit(1);
}

const port = (name: string, fallback: number) => {
  const value = Number(env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65_535) {
    refuse(new InvalidSettingsError(`${name} must be a port number, got ${env[name]}`), {});
  }
  return value;
};

const ports = {
  PORT: port('PORT', DEFAULT_API_PORT),
  CITRIX_SIMULATOR_PORT: port('CITRIX_SIMULATOR_PORT', DEFAULT_SIMULATOR_PORT),
};
const stack = await inProcessScope(() =>
  startLocalStack({
    env,
    // A long-running process: progress is printed as it happens, no history kept in memory.
    retainWorkflowEvents: false,
    apiPort: ports.PORT,
    simulatorPort: ports.CITRIX_SIMULATOR_PORT,
    scheduleSweeps: true,
    onSweepRun: (sweep, outcome) =>
      console.log(
        outcome instanceof Error
          ? `[sweep ${sweep}] scheduled run not started: ${outcome.message}`
          : `[sweep ${sweep}] scheduled run started: ${outcome.actionId}`,
      ),
    onWorkflowEvent: (actionId, event) => {
      const line = describeWorkflowEvent(event, actionId);
      if (line !== undefined) console.log(`[${actionId}] ${line}`);
    },
  }),
).catch((error: unknown) => refuse(error, ports));

const citrix =
  stack.citrix.mode === 'simulator'
    ? `the built-in Citrix simulator at ${stack.citrix.baseUrl} (state: ${stack.citrix.baseUrl}/_simulator/state)`
    : `the real Citrix tenant at ${stack.citrix.baseUrl}`;
const em = stack.endpointManagement;
const endpointManagement =
  em.mode === 'simulator'
    ? `the simulator's Endpoint Management at ${em.baseUrl}`
    : `the Endpoint Management server at ${em.baseUrl}`;

// The demo values are public (local/defaults.ts), so printed; a value from the environment (or
// .env) never is, only the variable it came from.
// The stack accepts the demo source credentials only while everything is simulated.
const demo = stack.citrix.mode === 'simulator' && em.mode === 'simulator';
const hooks = `POST ${stack.apiUrl}/v1/webhooks`;
const { servicenow, splunk, sentinel, pagerduty } = LOCAL_DEMO_SOURCE_SECRETS;
/** One line per source: its URL and credential, from the environment (named) or the demo one. */
const source = (name: string, fromEnv: boolean, yours: string, demoLine: string) =>
  `    ${`${name}:`.padEnd(12)}${fromEnv ? yours : demo ? demoLine : 'not configured (docs/sources/)'}`;
const sourceLines = [
  source(
    'ServiceNow',
    Boolean(env.SERVICENOW_USERNAME && env.SERVICENOW_PASSWORD),
    `${hooks}/servicenow  Basic auth from SERVICENOW_USERNAME / SERVICENOW_PASSWORD`,
    `${hooks}/servicenow  Basic auth ${servicenow.username} / ${servicenow.password}`,
  ),
  source(
    'Splunk',
    Boolean(env.SPLUNK_TOKEN),
    `${hooks}/splunk/<SPLUNK_TOKEN>`,
    `${hooks}/splunk/${splunk.token}`,
  ),
  source(
    'Sentinel',
    Boolean(env.SENTINEL_API_KEY),
    `${hooks}/sentinel  x-api-key from SENTINEL_API_KEY`,
    `${hooks}/sentinel  x-api-key: ${sentinel.apiKey}`,
  ),
  source(
    'PagerDuty',
    Boolean(env.PAGERDUTY_SIGNING_SECRETS),
    `${hooks}/pagerduty  X-PagerDuty-Signature with PAGERDUTY_SIGNING_SECRETS`,
    `${hooks}/pagerduty  X-PagerDuty-Signature (HMAC-SHA256 of the body) with ${pagerduty.signingSecrets[0]}`,
  ),
  source(
    'Standard',
    Boolean(env.WEBHOOK_SECRET),
    `${hooks}/standard  Standard Webhooks-signed action requests with WEBHOOK_SECRET`,
    `${hooks}/standard  Standard Webhooks-signed action requests with ${LOCAL_DEMO_WEBHOOK_SECRET}`,
  ),
];

// The demo people's keys are public (local/defaults.ts), so printed ready to paste; people from
// LOCAL_PEOPLE are named, never their keys.
const demoPeople = !env.LOCAL_PEOPLE;
const peopleLines = stack.people.people.map((person) => {
  const demoKeys = LOCAL_DEMO_PEOPLE[person.name as keyof typeof LOCAL_DEMO_PEOPLE];
  return demoPeople && demoKeys !== undefined
    ? `    ${person.name.padEnd(24)}export AWS_ACCESS_KEY_ID=${demoKeys.accessKeyId} AWS_SECRET_ACCESS_KEY=${demoKeys.secretAccessKey}`
    : `    ${person.name}`;
});

/** One line per sweep: its action, mode and next run (a disabled sweep has no schedule). */
const sweepLines = stack.sweepSchedule.schedule().map(({ name, nextRun }) => {
  const sweep = stack.sweeps.sweeps.find((candidate) => candidate.name === name);
  const what = sweep
    ? `${describeSweepWork(sweep)} (${sweep.mode}) ${sweep.schedule} ${sweep.timezone}`
    : '';
  const when = nextRun ? `next run ${nextRun.toISOString()}` : 'disabled';
  return `    ${name.padEnd(30)}${what}; ${when}`;
});

/** One line per runbook: its name and inputs. */
const runbookLines = stack.runbooks.all.map(
  (runbook) =>
    `    ${runbook.name.padEnd(30)}${Object.keys(runbook.inputs)
      .map((input) => `--${input}`)
      .join(' ')}`,
);

// Ready before the banner: whoever reads it may stop the stack at once.
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await stack.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

console.log(`Citrix Response is running.
  API:     ${stack.apiUrl}   (POST /v1/actions, GET /v1/actions[/{actionId}], GET /v1/openapi.json)
  People:  /v1/actions requests are SigV4-signed by a person (service execute-api, as in AWS with
           IAM authorization); each acts and approves as themselves. ${demoPeople ? 'The demo people (set LOCAL_PEOPLE to change them):' : 'From LOCAL_PEOPLE:'}
${peopleLines.join('\n')}
  Sources: ${demo ? 'local demo credentials unless set in the environment; ' : ''}docs/sources/
${sourceLines.join('\n')}
  Citrix:  ${citrix}
  Devices: ${endpointManagement} (login: ${em.auth}, bodies: ${em.bodyShape})
  Actions: with the limits and approvals in force (docs/actions.md)
${describeActionsInForce(guardrailsFromEnv(env)).join('\n')}
  Sweeps:  ${env.SWEEPS_FILE || DEFAULT_SWEEPS_FILE} (docs/sweeps.md); run one now with npm run sweep -- <name> [--dry-run]
${sweepLines.join('\n') || '    none declared'}
  Runbooks: ${env.RUNBOOKS_DIR || 'runbooks/'} (docs/runbooks.md); npx citrix-response runbook run <name> --help
${runbookLines.join('\n') || '    none'}

Try it, in another terminal, as the first demo person (the export line above; docs/cli.md):
  npx citrix-response act session.logoff --user alice@example.com --reason "Rehearsal: compromised account"
  npx citrix-response act session.disconnect --user bob@example.com --reason "Rehearsal" --dry-run
  npx citrix-response runbook run compromised-user --user alice@example.com --reason "Rehearsal" --dry-run
  npx citrix-response list --status awaiting_approval
  npm run report      # the scheduled Citrix Cloud administrator report, now
`);
