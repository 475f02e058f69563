import { type ActionsApiDependencies, createActionsApiHandler } from '../functions/actions-api.ts';
import { createCheckLogoffJobHandler } from '../functions/check-logoff-job.ts';
import { createCompleteActionHandler } from '../functions/complete-action.ts';
import { createRecordTargetResultHandler } from '../functions/record-target-result.ts';
import { createResolveSessionTargetsHandler } from '../functions/resolve-session-targets.ts';
import { createSubmitSessionActionHandler } from '../functions/submit-session-action.ts';
import { DynamoActionStore } from '../lib/actions/store.ts';
import {
  type CitrixConnection,
  type CitrixCredentials,
  citrixConnectionFromEnv,
} from '../lib/citrix/config.ts';
import { DaasClient } from '../lib/citrix/daas-client.ts';
import {
  InvalidSettingsError,
  recordRetentionDaysFromEnv,
  sessionWorkflowSettingsFromEnv,
} from '../lib/runtime/settings.ts';
import { SESSION_ACTION_WORKFLOW } from '../lib/workflow/definition.ts';
import { type RunningApiServer, startApiServer } from './api-server.ts';
import { LOCAL_ACTIONS_TABLE, LOCAL_DEMO_WEBHOOK_SECRET } from './defaults.ts';
import { createActionsTable, startLocalDynamo } from './dynamodb.ts';
import type { SimulatorFixture } from './simulator/fixture.ts';
import { demoFixture } from './simulator/fixture.ts';
import { type RunningSimulator, startCitrixSimulator } from './simulator/server.ts';
import { LocalWorkflowRunner, type WorkflowEvent } from './workflow-runner.ts';

type Env = Readonly<Record<string, string | undefined>>;

export interface LocalStackOptions {
  readonly env: Env;
  readonly apiPort?: number;
  readonly simulatorPort?: number;
  /** Replaces the demo fixture (tests use short job timings). */
  readonly simulatorFixture?: SimulatorFixture;
  readonly waitTimeOverrides?: Readonly<Record<string, number>>;
  readonly retryIntervalOverrides?: Readonly<Record<string, number>>;
  readonly maxConcurrency?: number;
  readonly onWorkflowEvent?: (executionName: string, event: WorkflowEvent) => void;
}

export interface LocalStack {
  readonly apiUrl: string;
  readonly citrix: { readonly mode: 'simulator' | 'tenant'; readonly baseUrl: string };
  readonly simulator: RunningSimulator | undefined;
  readonly runner: LocalWorkflowRunner;
  readonly actions: DynamoActionStore;
  readonly signingSecret: string;
  close(): Promise<void>;
}

const TENANT_VARIABLES = [
  'CITRIX_CLIENT_ID',
  'CITRIX_CLIENT_SECRET',
  'CITRIX_CUSTOMER_ID',
] as const;

/** Real Citrix when all three tenant variables are set, the simulator when none is. */
export function chooseCitrixMode(env: Env): 'simulator' | 'tenant' {
  const set = TENANT_VARIABLES.filter((name) => env[name]);
  if (set.length === 0) return 'simulator';
  if (set.length < TENANT_VARIABLES.length) {
    const missing = TENANT_VARIABLES.filter((name) => !env[name]);
    throw new InvalidSettingsError(
      `To use a real Citrix tenant set ${TENANT_VARIABLES.join(', ')}; missing ${missing.join(', ')}`,
    );
  }
  return 'tenant';
}

/**
 * The whole product on one machine: the API through the same Lambda handler, the workflow file in
 * aws-local-stepfunctions with the same task handlers, dynalite for the record, and the Citrix
 * simulator unless a real tenant is configured.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const { env } = options;
  const mode = chooseCitrixMode(env);
  if (mode === 'tenant' && !env.WEBHOOK_SECRET) {
    throw new InvalidSettingsError(
      'WEBHOOK_SECRET is required with a real Citrix tenant: the built-in demo secret is public',
    );
  }
  const signingSecret = env.WEBHOOK_SECRET || LOCAL_DEMO_WEBHOOK_SECRET;
  const settings = sessionWorkflowSettingsFromEnv(env);
  const retentionDays = recordRetentionDaysFromEnv(env);
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };
  try {
    let simulator: RunningSimulator | undefined;
    let connection: CitrixConnection;
    let credentials: CitrixCredentials;
    if (mode === 'simulator') {
      const fixture = options.simulatorFixture ?? demoFixture();
      simulator = await startCitrixSimulator({ fixture, port: options.simulatorPort ?? 0 });
      closers.push(() => (simulator as RunningSimulator).close());
      const client = fixture.clients[0];
      if (client === undefined)
        throw new InvalidSettingsError('The simulator fixture has no API client');
      credentials = { clientId: client.clientId, clientSecret: client.clientSecret };
      connection = citrixConnectionFromEnv({
        ...env,
        CITRIX_API_URL: simulator.url,
        CITRIX_CUSTOMER_ID: fixture.customerId,
      });
    } else {
      connection = citrixConnectionFromEnv(env);
      credentials = {
        clientId: env.CITRIX_CLIENT_ID ?? '',
        clientSecret: env.CITRIX_CLIENT_SECRET ?? '',
      };
    }

    const dynamo = await startLocalDynamo();
    closers.push(() => dynamo.close());
    await createActionsTable(dynamo.client, LOCAL_ACTIONS_TABLE);
    const actions = new DynamoActionStore(dynamo.client, LOCAL_ACTIONS_TABLE);
    const daas = new DaasClient({ connection, credentials: async () => credentials });

    const runner = new LocalWorkflowRunner(SESSION_ACTION_WORKFLOW, {
      ...(options.maxConcurrency === undefined ? {} : { maxConcurrency: options.maxConcurrency }),
      ...(options.waitTimeOverrides ? { waitTimeOverrides: options.waitTimeOverrides } : {}),
      ...(options.retryIntervalOverrides
        ? { retryIntervalOverrides: options.retryIntervalOverrides }
        : {}),
      ...(options.onWorkflowEvent ? { onEvent: options.onWorkflowEvent } : {}),
      handlers: {
        'resolve-session-targets': createResolveSessionTargetsHandler(() => ({
          directory: daas,
          actions,
          settings,
        })),
        'submit-session-action': createSubmitSessionActionHandler(() => ({
          controller: daas,
          settings,
        })),
        'check-logoff-job': createCheckLogoffJobHandler(() => ({ jobs: daas, settings })),
        'record-target-result': createRecordTargetResultHandler(() => ({ actions })),
        'complete-action': createCompleteActionHandler(() => ({ actions })),
      },
    });
    // Executions still running at shutdown are abandoned with the process, as a stopped laptop would.
    const apiDependencies: ActionsApiDependencies = {
      actions,
      workflows: runner,
      signingSecret: async () => signingSecret,
      retentionDays,
    };
    const api: RunningApiServer = await startApiServer(
      createActionsApiHandler(() => apiDependencies),
      { port: options.apiPort ?? 0 },
    );
    closers.push(() => api.close());
    return {
      apiUrl: api.url,
      citrix: { mode, baseUrl: connection.baseUrl.origin },
      simulator,
      runner,
      actions,
      signingSecret,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
