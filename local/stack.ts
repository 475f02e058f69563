import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import {
  type ActionRecordsApiDependencies,
  createActionRecordsApiHandler,
} from '../functions/action-records-api.ts';
import { type ActionsApiDependencies, createActionsApiHandler } from '../functions/actions-api.ts';
import { createAdvanceRunbookHandler } from '../functions/advance-runbook.ts';
import { createAdvanceSessionBatchHandler } from '../functions/advance-session-batch.ts';
import { createApiDocumentHandler } from '../functions/api-document.ts';
import { createApplyAdminChangeHandler } from '../functions/apply-admin-change.ts';
import { createCompleteActionHandler } from '../functions/complete-action.ts';
import { createNotifyActionOutcomeHandler } from '../functions/notify-action-outcome.ts';
import { createReadAdminBackHandler } from '../functions/read-admin-back.ts';
import { createReadDeviceBackHandler } from '../functions/read-device-back.ts';
import { createRecordAdminResultHandler } from '../functions/record-admin-result.ts';
import { createRecordDeviceResultHandler } from '../functions/record-device-result.ts';
import { createReportAdministratorsHandler } from '../functions/report-administrators.ts';
import { createRequestApprovalHandler } from '../functions/request-approval.ts';
import { createResolveAdminTargetsHandler } from '../functions/resolve-admin-targets.ts';
import { createResolveDeviceTargetsHandler } from '../functions/resolve-device-targets.ts';
import { createResolveSessionTargetsHandler } from '../functions/resolve-session-targets.ts';
import { createRunSweepHandler } from '../functions/run-sweep.ts';
import { createSendDeviceCommandHandler } from '../functions/send-device-command.ts';
import { createSourceRequestsHandler } from '../functions/source-requests.ts';
import { createSourceWebhooksHandler } from '../functions/source-webhooks.ts';
import { createStartRunbookHandler } from '../functions/start-runbook.ts';
import { createWarnSessionsHandler } from '../functions/warn-sessions.ts';
import { acceptAction } from '../lib/actions/accept.ts';
import { DynamoActionList } from '../lib/actions/list-store.ts';
import type { WorkflowName } from '../lib/actions/schema.ts';
import { DynamoActionStore } from '../lib/actions/store.ts';
import type {
  AdministratorChangeLock,
  AdministratorGuards,
} from '../lib/administrators/admin-actions.ts';
import { DynamoAdministratorChangeLock } from '../lib/administrators/change-lock.ts';
import { ConsoleReportPublisher } from '../lib/administrators/publishers.ts';
import type { AdministratorReport } from '../lib/administrators/report.ts';
import { DynamoSnapshotStore } from '../lib/administrators/snapshot-store.ts';
import { servedOpenApiDocument } from '../lib/api/served-openapi.ts';
import { DynamoAuditLog } from '../lib/audit/audit-log.ts';
import { audited } from '../lib/audit/audited.ts';
import { auditCitrixCall } from '../lib/audit/context.ts';
import { createAuditTable } from '../lib/audit/local-table.ts';
import type { NotificationDependencies } from '../lib/callbacks/notify.ts';
import {
  parseServiceNowInstanceUrl,
  ServiceNowClient,
  type ServiceNowClientOptions,
} from '../lib/callbacks/servicenow.ts';
import {
  parseCallbackDestinations,
  SignedCallbackSender,
} from '../lib/callbacks/signed-callback.ts';
import { CloudAdministratorsClient } from '../lib/citrix/administrators-client.ts';
import {
  type CitrixConnection,
  type CitrixCredentials,
  citrixConnectionFromEnv,
} from '../lib/citrix/config.ts';
import { DaasClient } from '../lib/citrix/daas-client.ts';
import type { EndpointManagementClient } from '../lib/citrix/endpoint-management-client.ts';
import {
  type EndpointManagementConnection,
  endpointManagementConnectionFromEnv,
  endpointManagementCredentialsFrom,
} from '../lib/citrix/endpoint-management-config.ts';
import { DEFAULT_RETRY_POLICY } from '../lib/citrix/retry.ts';
import { type DeviceFindings, DynamoDeviceFindings } from '../lib/devices/findings.ts';
import { guardrailsFromEnv } from '../lib/guardrails/config.ts';
import { DynamoHourlyLimitCounter } from '../lib/guardrails/limits.ts';
import { loadRunbookLibrary, runbooksDirFrom } from '../lib/runbooks/files.ts';
import { installRunbooks, type RunbookLibrary } from '../lib/runbooks/library.ts';
import { DynamoRunbookRunStore } from '../lib/runbooks/store.ts';
import { buildEndpointManagementClient } from '../lib/runtime/endpoint-management.ts';
import { DynamoRevokeSnapshotStore } from '../lib/runtime/revoke-snapshot-store.ts';
import { DynamoSessionBatchStore, DynamoThrottleGate } from '../lib/runtime/session-batch-store.ts';
import {
  administratorGuardsFromEnv,
  administratorReportSettingsFromEnv,
  deviceWorkflowSettingsFromEnv,
  InvalidSettingsError,
  idempotencyWindowSecondsFromEnv,
  recordRetentionDaysFromEnv,
  sessionWorkflowSettingsFromEnv,
} from '../lib/runtime/settings.ts';
import { SessionBatchContents } from '../lib/sessions/batch-items.ts';
import type { Acceptance } from '../lib/sources/intake.ts';
import { createIdempotentAcceptor, DynamoDeliveryLog } from '../lib/sources/intake.ts';
import type { ReceiveDependencies } from '../lib/sources/receive.ts';
import {
  checkRouteCallbacks,
  loadRoutingRules,
  type RoutingRules,
} from '../lib/sources/routing.ts';
import { sourceSecretsFromEnv } from '../lib/sources/secrets.ts';
import {
  loadSweeps,
  type Sweep,
  type SweepsFile,
  SweepsFileError,
  sweepCallbackProblems,
} from '../lib/sweeps/config.ts';
import { WORKFLOWS } from '../lib/workflow/definition.ts';
import { type RunningApiServer, startApiServer } from './api-server.ts';
import {
  DEFAULT_ROUTES_FILE,
  DEFAULT_SWEEPS_FILE,
  LOCAL_ACTIONS_TABLE,
  LOCAL_AUDIT_TABLE,
  LOCAL_DELIVERIES_TABLE,
  LOCAL_DEMO_PROTECTED_ADMINS,
  LOCAL_DEMO_SOURCE_SECRETS,
  LOCAL_DEMO_WEBHOOK_SECRET,
  LOCAL_IDEMPOTENCY_TABLE,
  LOCAL_LIMITS_TABLE,
  LOCAL_REPORT_ROUTE,
  LOCAL_SNAPSHOTS_TABLE,
  localSweepRoute,
} from './defaults.ts';
import {
  createActionsTable,
  createKeyTable,
  createSnapshotsTable,
  type LocalDynamoFaults,
  startLocalDynamo,
} from './dynamodb.ts';
import { invocationScope } from './invocations.ts';
import { type LocalPeople, localPeopleFromEnv } from './people.ts';
import { ENDPOINT_MANAGEMENT_BASE_PATH } from './simulator/endpoint-management.ts';
import type { SimulatorFixture } from './simulator/fixture.ts';
import { fixtureFromEnv } from './simulator/named-fixtures.ts';
import { type RunningSimulator, startCitrixSimulator } from './simulator/server.ts';
import { LocalSweepScheduler } from './sweep-scheduler.ts';
import {
  type LocalTaskHandler,
  LocalTaskTokens,
  LocalWorkflowRunner,
  type LocalWorkflowRunnerOptions,
  LocalWorkflows,
  lambdaContext,
  type WorkflowEvent,
} from './workflow-runner.ts';

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
  /** Whether executions keep their event logs (default true; off for long runs, see the runner). */
  readonly retainWorkflowEvents?: boolean;
  readonly onWorkflowEvent?: (executionName: string, event: WorkflowEvent) => void;
  /** Devices per Endpoint Management filter page (tests use small pages to exercise paging). */
  readonly endpointManagementPageSize?: number;
  /** Where the administrator report's findings are written (default: the console). */
  readonly reportLine?: (line: string) => void;
  /** Run the enabled sweeps on their schedules (`npm start` does; tests run them on demand). */
  readonly scheduleSweeps?: boolean;
  /** Told of each scheduled run as it starts, or of why it could not. */
  readonly onSweepRun?: (sweep: string, outcome: Acceptance | Error) => void;
  /** Conditional-write conflicts to inject into the local DynamoDB (the fault suite). */
  readonly dynamoFaults?: LocalDynamoFaults;
}

export interface LocalStack {
  readonly apiUrl: string;
  readonly citrix: { readonly mode: 'simulator' | 'tenant'; readonly baseUrl: string };
  readonly endpointManagement: {
    readonly mode: 'simulator' | 'server';
    readonly baseUrl: string;
    readonly auth: EndpointManagementConnection['auth'];
    readonly bodyShape: EndpointManagementConnection['bodyShape'];
  };
  readonly simulator: RunningSimulator | undefined;
  readonly runner: LocalWorkflows;
  readonly actions: DynamoActionStore;
  /** The Standard Webhooks secret: the `standard` source's, and callbacks' unless set apart. */
  readonly signingSecret: string;
  /** Who may use the people's routes (`LOCAL_PEOPLE`, or the demo people). */
  readonly people: LocalPeople;
  /** Runs the scheduled administrator report now (also `POST /_local/administrator-report`). */
  runAdministratorReport(): Promise<AdministratorReport>;
  /** Every report with findings, as the local stand-in for the SNS topic received them. */
  readonly publishedReports: readonly AdministratorReport[];
  /** The lease serializing administrator changes (in the limits table, as deployed). */
  readonly administratorChangeLock: AdministratorChangeLock;
  /** The sweeps in force (`SWEEPS_FILE`, default config/sweeps.json) and their next runs. */
  readonly sweeps: SweepsFile;
  readonly sweepSchedule: LocalSweepScheduler;
  /** The runbooks requests may name (`RUNBOOKS_DIR`, default runbooks/), checked at start. */
  readonly runbooks: RunbookLibrary;
  /** Device sweeps' findings (grace periods), in the limits table as deployed. */
  readonly deviceFindings: DeviceFindings;
  /** Starts one run of a sweep now (also `POST /_local/sweeps/<name>/run` and `/dry-run`). */
  runSweep(name: string, options?: { dryRun?: boolean }): Promise<Acceptance & { sweep: string }>;
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

/** A real Endpoint Management server when `CITRIX_EM_URL` is set, the simulator otherwise. */
export function chooseEndpointManagementMode(env: Env): 'simulator' | 'server' {
  return env.CITRIX_EM_URL ? 'server' : 'simulator';
}

/**
 * The whole product on one machine: the API through the same Lambda handlers, the workflow file in
 * aws-local-stepfunctions with the same task handlers, dynalite for the record, and the Citrix
 * simulator unless a real tenant is configured.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const { env } = options;
  const inInvocation = await invocationScope();
  const mode = chooseCitrixMode(env);
  const emMode = chooseEndpointManagementMode(env);
  if ((mode === 'tenant' || emMode === 'server') && !env.WEBHOOK_SECRET) {
    throw new InvalidSettingsError(
      'WEBHOOK_SECRET is required with a real Citrix tenant or Endpoint Management server: the built-in demo secret is public',
    );
  }
  if (emMode === 'server' && (env.CITRIX_EM_AUTH ?? 'cloud') === 'cloud' && mode !== 'tenant') {
    throw new InvalidSettingsError(
      'CITRIX_EM_AUTH=cloud logs in to Endpoint Management with a Citrix Cloud token: set CITRIX_CLIENT_ID, CITRIX_CLIENT_SECRET and CITRIX_CUSTOMER_ID too, or use CITRIX_EM_AUTH=credentials',
    );
  }
  const signingSecret = env.WEBHOOK_SECRET || LOCAL_DEMO_WEBHOOK_SECRET;
  // The demo people, like the demo secrets, are public: only while everything is simulated.
  const people = localPeopleFromEnv(env, mode === 'simulator' && emMode === 'simulator');
  // The runbooks requests may name, each step checked against the catalog (RUNBOOKS_DIR), before
  // the routing rules and sweeps that may run one.
  const runbooks = loadRunbookLibrary(runbooksDirFrom(env));
  installRunbooks(runbooks);
  // Loaded and validated before anything starts: a bad rules file stops `npm start` here.
  const rules = loadRoutingRules(env.ROUTES_FILE || DEFAULT_ROUTES_FILE);
  const sweeps = loadSweeps(env.SWEEPS_FILE || DEFAULT_SWEEPS_FILE);
  const callbackDestinations = parseCallbackDestinations(env.CALLBACK_DESTINATIONS);
  checkRouteCallbacks(rules, new Set(callbackDestinations.keys()));
  const sweepProblems = sweepCallbackProblems(sweeps, new Set(callbackDestinations.keys()));
  if (sweepProblems.length > 0) {
    throw new SweepsFileError(`Invalid sweeps: ${sweepProblems.join('; ')}`);
  }
  const guardrailSettings = guardrailsFromEnv(env);
  const settings = sessionWorkflowSettingsFromEnv(env);
  const deviceSettings = deviceWorkflowSettingsFromEnv(env);
  const retentionDays = recordRetentionDaysFromEnv(env);
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };
  try {
    let simulator: RunningSimulator | undefined;
    let fixture: SimulatorFixture | undefined;
    if (mode === 'simulator' || emMode === 'simulator') {
      fixture = options.simulatorFixture ?? fixtureFromEnv(env);
      const started = await startCitrixSimulator({ fixture, port: options.simulatorPort ?? 0 });
      simulator = started;
      closers.push(() => started.close());
    }
    const simulated = simulator && fixture ? simulatorCloud(simulator, fixture, env) : undefined;
    const tenant =
      mode === 'tenant'
        ? {
            connection: citrixConnectionFromEnv(env),
            credentials: {
              clientId: env.CITRIX_CLIENT_ID ?? '',
              clientSecret: env.CITRIX_CLIENT_SECRET ?? '',
            },
          }
        : undefined;
    const cloud = mode === 'tenant' ? tenant : simulated;
    if (cloud === undefined) throw new InvalidSettingsError('No Citrix Cloud connection');

    const dynamo = await startLocalDynamo({
      ownThread: true,
      ...(options.dynamoFaults ? { faults: options.dynamoFaults } : {}),
    });
    closers.push(() => dynamo.close());
    await createActionsTable(dynamo.client, LOCAL_ACTIONS_TABLE);
    await createSnapshotsTable(dynamo.client, LOCAL_SNAPSHOTS_TABLE);
    await createKeyTable(dynamo.client, LOCAL_IDEMPOTENCY_TABLE, 'id');
    await createKeyTable(dynamo.client, LOCAL_DELIVERIES_TABLE, 'deliveryId');
    await createKeyTable(dynamo.client, LOCAL_LIMITS_TABLE, 'counter');
    await createAuditTable(dynamo.client, LOCAL_AUDIT_TABLE);
    const auditLog = new DynamoAuditLog(dynamo.client, LOCAL_AUDIT_TABLE, retentionDays);
    const sessionBatches = new DynamoSessionBatchStore(
      dynamo.client,
      LOCAL_ACTIONS_TABLE,
      retentionDays,
    );
    const batched = new SessionBatchContents(sessionBatches);
    const actions = new DynamoActionStore(dynamo.client, LOCAL_ACTIONS_TABLE, { batched });
    const daas = new DaasClient({
      onCall: auditCitrixCall,
      connection: cloud.connection,
      credentials: async () => cloud.credentials,
    });

    const emConnection = endpointManagementConnectionFromEnv(
      emMode === 'server'
        ? env
        : { ...env, CITRIX_EM_URL: `${simulator?.url ?? ''}${ENDPOINT_MANAGEMENT_BASE_PATH}` },
    );
    if (emMode === 'simulator') simulator?.setEndpointManagementBodyShape(emConnection.bodyShape);
    const emCloud = emMode === 'server' ? tenant : simulated;
    const endpointManagement: EndpointManagementClient = buildEndpointManagementClient({
      connection: emConnection,
      onCall: auditCitrixCall,
      ...(emCloud
        ? {
            cloud: { connection: emCloud.connection, credentials: async () => emCloud.credentials },
          }
        : {}),
      credentials: async () =>
        emMode === 'server'
          ? endpointManagementCredentialsFrom(env, 'the environment')
          : simulatorAdministrator(fixture),
      ...(options.endpointManagementPageSize === undefined
        ? {}
        : { pageSize: options.endpointManagementPageSize }),
    });

    const administrators = new CloudAdministratorsClient({
      onCall: auditCitrixCall,
      connection: cloud.connection,
      credentials: async () => cloud.credentials,
    });
    // Read when an administrator task first runs, so a missing owner fails those actions only.
    const guards = (): AdministratorGuards =>
      administratorGuardsFromEnv(
        mode === 'simulator'
          ? {
              CITRIX_API_CLIENT_OWNER: fixture?.clients[0]?.ownerAdministrator,
              CITRIX_PROTECTED_ADMINS: LOCAL_DEMO_PROTECTED_ADMINS,
              ...definedOnly(env),
            }
          : env,
      );
    const reportSettings = administratorReportSettingsFromEnv(env);
    const publisher = new ConsoleReportPublisher(options.reportLine);
    const report = inInvocation(
      createReportAdministratorsHandler(() => ({
        directory: administrators,
        snapshots: new DynamoSnapshotStore(
          dynamo.client,
          LOCAL_SNAPSHOTS_TABLE,
          reportSettings.snapshotRetentionDays,
        ),
        publisher,
        pendingInvitationMaxDays: reportSettings.pendingInvitationMaxDays,
      })),
    );
    const runAdministratorReport = () =>
      report({ source: 'on-demand' }, lambdaContext('report-administrators'));

    // What admin.restore puts back: items of the actions table, as deployed.
    const revokes = new DynamoRevokeSnapshotStore(
      dynamo.client,
      LOCAL_ACTIONS_TABLE,
      retentionDays,
    );
    const administratorChangeLock = new DynamoAdministratorChangeLock(
      dynamo.client,
      LOCAL_LIMITS_TABLE,
      cloud.connection.customerId,
    );
    const deviceFindings = new DynamoDeviceFindings(dynamo.client, LOCAL_LIMITS_TABLE);
    const throttleGate = new DynamoThrottleGate(dynamo.client, LOCAL_LIMITS_TABLE);
    const guardrails = {
      settings: guardrailSettings,
      counter: new DynamoHourlyLimitCounter(dynamo.client, LOCAL_LIMITS_TABLE),
      actions,
    };
    const runbookRuns = new DynamoRunbookRunStore(dynamo.client, LOCAL_ACTIONS_TABLE);
    const handlers: Record<string, LocalTaskHandler> = {
      'resolve-session-targets': createResolveSessionTargetsHandler(() => ({
        directory: daas,
        settings,
        guardrails,
        batches: sessionBatches,
      })),
      'advance-session-batch': createAdvanceSessionBatchHandler(() => ({
        controller: daas,
        jobs: daas,
        gate: throttleGate,
        store: sessionBatches,
        settings,
      })),
      'complete-action': createCompleteActionHandler(() => ({
        actions,
        counter: guardrails.counter,
        batched,
      })),
      'resolve-device-targets': createResolveDeviceTargetsHandler(() => ({
        directory: endpointManagement,
        settings: deviceSettings,
        guardrails,
        findings: deviceFindings,
        session: endpointManagement,
      })),
      // One client shared by every task, and by concurrent devices: each run ends the session
      // when it finishes (the last of concurrent runs does), as each Lambda does in AWS.
      'send-device-command': createSendDeviceCommandHandler(() => ({
        commander: endpointManagement,
        session: endpointManagement,
      })),
      'read-device-back': createReadDeviceBackHandler(() => ({
        directory: endpointManagement,
        session: endpointManagement,
      })),
      'record-device-result': createRecordDeviceResultHandler(() => ({ actions })),
      'resolve-admin-targets': createResolveAdminTargetsHandler(() => ({
        directory: administrators,
        guards: guards(),
        guardrails,
        revokes,
      })),
      'apply-admin-change': createApplyAdminChangeHandler(() => ({
        controller: administrators,
        guards: guards(),
        lock: administratorChangeLock,
        revokes,
      })),
      'read-admin-back': createReadAdminBackHandler(() => ({ directory: administrators })),
      'record-admin-result': createRecordAdminResultHandler(() => ({ actions, revokes })),
      'request-approval': createRequestApprovalHandler(() => ({ actions })),
      'warn-sessions': createWarnSessionsHandler(() => ({
        messenger: daas,
        batches: sessionBatches,
      })),
      'start-runbook': createStartRunbookHandler(() => ({
        actions,
        runs: runbookRuns,
        guardrails: { settings: guardrailSettings, counter: guardrails.counter },
      })),
      // A run's steps start in the same local workflows, as they would in Step Functions.
      'advance-runbook': createAdvanceRunbookHandler(() => ({
        actions,
        runs: runbookRuns,
        workflows: runner,
        audit: auditLog,
        retentionDays,
      })),
      'notify-action-outcome': createNotifyActionOutcomeHandler(() => ({
        actions,
        notifications: localNotificationDependencies(env, callbackDestinations, signingSecret),
      })),
    };
    // Each task records its Citrix calls, decisions and outcomes, as the deployed ones do.
    for (const [name, handler] of Object.entries(handlers)) {
      handlers[name] = inInvocation(
        audited(
          handler,
          () => auditLog,
          () => actions,
        ),
      );
    }
    const runnerOptions: LocalWorkflowRunnerOptions = {
      approvalTimeoutSeconds: guardrailSettings.approvalTimeoutSeconds,
      ...(options.maxConcurrency === undefined ? {} : { maxConcurrency: options.maxConcurrency }),
      ...(options.retainWorkflowEvents === undefined
        ? {}
        : { retainEvents: options.retainWorkflowEvents }),
      ...(options.waitTimeOverrides ? { waitTimeOverrides: options.waitTimeOverrides } : {}),
      ...(options.retryIntervalOverrides
        ? { retryIntervalOverrides: options.retryIntervalOverrides }
        : {}),
      ...(options.onWorkflowEvent ? { onEvent: options.onWorkflowEvent } : {}),
      handlers,
    };
    const tokens = new LocalTaskTokens();
    const runner = new LocalWorkflows(
      new Map<WorkflowName, LocalWorkflowRunner>(
        WORKFLOWS.map((workflow) => [
          workflow.name,
          new LocalWorkflowRunner(workflow, runnerOptions, tokens),
        ]),
      ),
    );
    // Executions still running at shutdown are abandoned with the process, as a stopped laptop would.
    const acceptor = createIdempotentAcceptor({
      accept: (request, source, actionId, requester) =>
        acceptAction(
          { actions, workflows: runner, retentionDays },
          request,
          new Date(),
          actionId,
          source,
          requester,
        ),
      persistenceStore: new DynamoDBPersistenceLayer({
        tableName: LOCAL_IDEMPOTENCY_TABLE,
        awsSdkV3Client: dynamo.client,
      }),
      expiresAfterSeconds: idempotencyWindowSecondsFromEnv(env),
    });
    const apiDependencies: ActionsApiDependencies = {
      acceptor,
      callbackNames: new Set(callbackDestinations.keys()),
      audit: auditLog,
    };
    const recordsDependencies: ActionRecordsApiDependencies = {
      actions,
      listing: new DynamoActionList(dynamo.client, LOCAL_ACTIONS_TABLE),
      tokens,
      audit: auditLog,
    };
    // Both source functions' dependencies: the whole rules file holds each one's part.
    const receiveDependencies: ReceiveDependencies<RoutingRules> = {
      // The demo credentials are public: only while everything talks to the simulator.
      secrets: sourceSecretsFromEnv(
        env,
        mode === 'simulator' && emMode === 'simulator' ? LOCAL_DEMO_SOURCE_SECRETS : undefined,
      ),
      rules,
      acceptor,
      deliveries: new DynamoDeliveryLog(dynamo.client, LOCAL_DELIVERIES_TABLE, retentionDays),
      audit: auditLog,
      callbackNames: new Set(callbackDestinations.keys()),
    };
    const runSweepHandler = inInvocation(
      audited(
        createRunSweepHandler(() => ({ sweeps, acceptor })),
        () => auditLog,
      ),
    );
    const runSweep = (name: string, runOptions: { dryRun?: boolean } = {}, at = new Date()) =>
      runSweepHandler(
        { sweep: name, scheduledAt: at.toISOString(), ...runOptions },
        lambdaContext('run-sweep'),
      );
    const sweepSchedule = new LocalSweepScheduler(sweeps.sweeps, async (sweep: Sweep, at) => {
      try {
        options.onSweepRun?.(sweep.name, await runSweep(sweep.name, {}, at));
      } catch (error) {
        options.onSweepRun?.(sweep.name, error as Error);
      }
    });
    if (options.scheduleSweeps) sweepSchedule.start();
    closers.push(async () => sweepSchedule.stop());
    const sweepRoutes = Object.fromEntries(
      sweeps.sweeps.flatMap((sweep) =>
        [false, true].map((dryRun) => [
          `POST ${localSweepRoute(sweep.name, dryRun)}`,
          async () => {
            try {
              return { status: 202, body: await runSweep(sweep.name, { dryRun }) };
            } catch (error) {
              return {
                status: 409,
                body: { error: (error as Error).name, message: (error as Error).message },
              };
            }
          },
        ]),
      ),
    );
    // One handler per function, as API Gateway integrates each route with its function.
    const api: RunningApiServer = await startApiServer(
      {
        'actions-api': inInvocation(createActionsApiHandler(() => apiDependencies)),
        'action-records-api': inInvocation(
          createActionRecordsApiHandler(() => recordsDependencies),
        ),
        'source-webhooks': inInvocation(createSourceWebhooksHandler(() => receiveDependencies)),
        'source-requests': inInvocation(createSourceRequestsHandler(() => receiveDependencies)),
        'api-document': inInvocation(createApiDocumentHandler(servedOpenApiDocument)),
      },
      {
        port: options.apiPort ?? 0,
        people,
        localRoutes: {
          [`POST ${LOCAL_REPORT_ROUTE}`]: async () => ({
            status: 200,
            body: await runAdministratorReport(),
          }),
          ...sweepRoutes,
        },
      },
    );
    closers.push(() => api.close());
    return {
      apiUrl: api.url,
      citrix: { mode, baseUrl: cloud.connection.baseUrl.origin },
      endpointManagement: {
        mode: emMode,
        baseUrl: emConnection.baseUrl.href,
        auth: emConnection.auth,
        bodyShape: emConnection.bodyShape,
      },
      simulator,
      runner,
      actions,
      signingSecret,
      people,
      runAdministratorReport,
      publishedReports: publisher.published,
      administratorChangeLock,
      sweeps,
      sweepSchedule,
      runbooks,
      deviceFindings,
      runSweep: (name, runOptions) => runSweep(name, runOptions),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The simulator as Citrix Cloud: its first API client, on its URL. */
function simulatorCloud(
  simulator: RunningSimulator,
  fixture: SimulatorFixture,
  env: Env,
): { connection: CitrixConnection; credentials: CitrixCredentials } {
  const client = fixture.clients[0];
  if (client === undefined)
    throw new InvalidSettingsError('The simulator fixture has no API client');
  return {
    credentials: { clientId: client.clientId, clientSecret: client.clientSecret },
    connection: citrixConnectionFromEnv({
      ...env,
      CITRIX_API_URL: simulator.url,
      CITRIX_CUSTOMER_ID: fixture.customerId,
    }),
  };
}

/** The simulator's first Endpoint Management administrator, for `CITRIX_EM_AUTH=credentials`. */
function simulatorAdministrator(fixture: SimulatorFixture | undefined) {
  const administrator = fixture?.endpointManagement?.administrators?.[0];
  if (administrator === undefined) {
    throw new InvalidSettingsError(
      'The simulator fixture has no Endpoint Management administrator',
    );
  }
  return { username: administrator.login, password: administrator.password };
}

/** The variables that are set (an unset one must not hide a default). */
function definedOnly(env: Env): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => Boolean(entry[1])),
  );
}

/**
 * Locally the ServiceNow API secret's three keys come from `SERVICENOW_INSTANCE_URL` (checked at
 * start; plain http only to a loopback simulator), `SERVICENOW_API_USERNAME` and
 * `SERVICENOW_API_PASSWORD`.
 */
function localServiceNowClient(
  instanceUrl: string,
  env: Env,
  transport: Omit<ServiceNowClientOptions, 'connection'>,
): ServiceNowClient {
  const connection = {
    instanceUrl: parseServiceNowInstanceUrl(instanceUrl),
    username: env.SERVICENOW_API_USERNAME ?? '',
    password: env.SERVICENOW_API_PASSWORD ?? '',
  };
  return new ServiceNowClient({ connection: async () => connection, ...transport });
}

/**
 * Work notes go to `SERVICENOW_INSTANCE_URL` with `SERVICENOW_API_USERNAME`/`_PASSWORD`;
 * callbacks to `CALLBACK_DESTINATIONS`, signed with `CALLBACK_SIGNING_SECRET` (default: the
 * webhook signing secret).
 */
function localNotificationDependencies(
  env: Env,
  destinations: ReadonlyMap<string, URL>,
  signingSecret: string,
): NotificationDependencies {
  const transport = { timeoutMs: 5000, retry: DEFAULT_RETRY_POLICY };
  return {
    ...(env.SERVICENOW_INSTANCE_URL
      ? {
          serviceNow: localServiceNowClient(env.SERVICENOW_INSTANCE_URL, env, transport),
        }
      : {}),
    ...(destinations.size > 0
      ? {
          callbacks: new SignedCallbackSender({
            destinations,
            signingSecret: async () => env.CALLBACK_SIGNING_SECRET || signingSecret,
            ...transport,
          }),
        }
      : {}),
  };
}
