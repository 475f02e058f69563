import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { stateMachineArnVariable, type WorkflowName } from '../lib/actions/declaration.ts';
import { ACTION_TYPES } from '../lib/actions/schema.ts';
import { administratorChangeLeaseKey } from '../lib/administrators/change-lock.ts';
import { STEP_WORKFLOW_NAMES } from '../lib/runbooks/definition.ts';
import { DAAS_THROTTLE_GATE_KEY } from '../lib/runtime/session-batch-store.ts';
import type { WorkflowDefinition, WorkflowFunction } from '../lib/workflow/definition.ts';
import { CitrixResponseFunction } from './citrix-response-function.ts';
import type { CitrixResponseConfig } from './config.ts';
import { pascalCase } from './names.ts';
import { runbooksBeside } from './runbooks.ts';

export interface TaskFunctionsProps {
  readonly config: CitrixResponseConfig;
  readonly actionsTable: ITable;
  /** Citrix Cloud API client: DaaS, and Endpoint Management's cloud login. */
  readonly citrixCredentials: ISecret;
  /** Endpoint Management administrator; only with `citrixEmAuth: credentials`. */
  readonly endpointManagementCredentials?: ISecret;
  /** Signs the callbacks sent when an action ends. */
  readonly callbackSigningSecret: ISecret;
  /**
   * The ServiceNow instance and account that write work notes (JSON keys instanceUrl, username,
   * password): the instance URL is read from the secret, never passed as a variable.
   */
  readonly serviceNowApiCredentials?: ISecret;
  /** Every task appends what it did to the audit trail. */
  readonly auditTable: ITable;
  /** The hourly limit counters the guardrails reserve against; the administrator change lease. */
  readonly limitsTable: ITable;
  /** The deployed runbooks (`runbooks.json`, infra/runbooks.ts), for the tasks that read them. */
  readonly runbooksFile: string;
}

/**
 * The workflows' task Lambdas, one per name however many workflows use it (complete-action
 * serves both). Each gets exactly the settings, secret and table access its declaration asks for.
 */
export class TaskFunctions extends Construct {
  readonly #props: TaskFunctionsProps;
  readonly #functions = new Map<string, CitrixResponseFunction>();
  readonly #declarations = new Map<string, WorkflowFunction>();

  constructor(scope: Construct, id: string, props: TaskFunctionsProps) {
    super(scope, id);
    this.#props = props;
  }

  /** Task functions by name, e.g. `send-device-command`. */
  get all(): ReadonlyMap<string, CitrixResponseFunction> {
    return this.#functions;
  }

  /** A task function every workflow has already asked for, e.g. complete-action. */
  functionNamed(task: WorkflowFunction): CitrixResponseFunction {
    const fn = this.#functions.get(task.name);
    if (fn === undefined) throw new Error(`No workflow uses the task function ${task.name}`);
    return fn;
  }

  functionFor(workflow: WorkflowDefinition, task: WorkflowFunction): CitrixResponseFunction {
    const existing = this.#functions.get(task.name);
    if (existing !== undefined) {
      // A shared task must be declared alike everywhere, or one workflow's grants would be wrong.
      const first = this.#declarations.get(task.name);
      const fields = [
        'entry',
        'calls',
        'recordsActions',
        'timeoutSeconds',
        'appliesGuardrails',
        'serializesAdministratorChanges',
        'releasesLimitReservations',
        'sharesThrottleGate',
        'readsRunbooks',
        'startsActions',
      ] as const;
      if (fields.some((field) => first?.[field] !== task[field])) {
        throw new Error(`Task ${task.name} is declared differently by ${workflow.name}`);
      }
      return existing;
    }
    const { config } = this.#props;
    const fn = new CitrixResponseFunction(this, pascalCase(task.name), {
      entry: task.entry,
      description: `workflow task: ${task.name}`,
      logRetention: config.logRetention,
      timeout: Duration.seconds(task.timeoutSeconds ?? 60),
      ...(task.readsRunbooks ? { bundledFiles: [runbooksBeside(this.#props.runbooksFile)] } : {}),
    });
    if (task.recordsActions) fn.bindActionsTable(this.#props.actionsTable);
    // Every task notes on its action the audit entries it could not write (lib/audit/audited.ts):
    // one UpdateItem on the action's own item, nothing read.
    else fn.bindAuditFailureNotes(this.#props.actionsTable);
    fn.bindTable('AUDIT_TABLE_NAME', this.#props.auditTable, 'dynamodb:BatchWriteItem');
    if (task.appliesGuardrails) {
      fn.bindTable(
        'LIMITS_TABLE_NAME',
        this.#props.limitsTable,
        'dynamodb:GetItem',
        'dynamodb:PutItem',
      );
      for (const [variable, value] of Object.entries(config.guardrailEnvironment)) {
        fn.addEnvironment(variable, value);
      }
    }
    if (task.serializesAdministratorChanges) this.#bindAdministratorChangeLease(fn);
    if (task.releasesLimitReservations) this.#bindLimitRelease(fn);
    if (task.sharesThrottleGate) this.#bindThrottleGate(fn);
    if (task.calls === 'daas') this.bindCitrixCloud(fn, true);
    if (task.calls === 'endpoint-management') this.#bindEndpointManagement(fn);
    if (task.calls === 'notifications') this.#bindNotifications(fn);
    if (task.calls === 'cloud-administrators') {
      this.bindCitrixCloud(fn, false);
      bindAdministratorGuards(fn, config);
    }
    this.#functions.set(task.name, fn);
    this.#declarations.set(task.name, task);
    return fn;
  }

  /**
   * Lets each task that starts actions (a runbook's steps) start the workflows a step can run, by
   * their `<NAME>_STATE_MACHINE_ARN`; never the runbook workflow, which invokes the task.
   */
  bindStepWorkflows(stateMachines: Readonly<Record<WorkflowName, IStateMachine>>): void {
    for (const [name, fn] of this.#functions) {
      if (!this.#declarations.get(name)?.startsActions) continue;
      for (const workflow of STEP_WORKFLOW_NAMES) {
        fn.bindStateMachine(stateMachineArnVariable(workflow), stateMachines[workflow]);
      }
    }
  }

  /** The Citrix Cloud API client and host, for DaaS or any other Citrix Cloud API. */
  bindCitrixCloud(fn: CitrixResponseFunction, withSite: boolean): void {
    const { config } = this.#props;
    fn.bindSecret('CITRIX_CREDENTIALS_SECRET_ARN', this.#props.citrixCredentials);
    fn.addEnvironment('CITRIX_API_URL', config.citrixApiUrl);
    fn.addEnvironment('CITRIX_CUSTOMER_ID', config.citrixCustomerId);
    if (withSite && config.citrixSiteId !== undefined) {
      fn.addEnvironment('CITRIX_SITE_ID', config.citrixSiteId);
    }
  }

  /**
   * Takes and gives back the administrator change lease: PutItem and DeleteItem on the limits
   * table, on the lease's own item only (the counters stay out of reach).
   */
  #bindAdministratorChangeLease(fn: CitrixResponseFunction): void {
    const table = this.#props.limitsTable;
    fn.addEnvironment('LIMITS_TABLE_NAME', table.tableName);
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
        resources: [table.tableArn],
        conditions: {
          'ForAllValues:StringEquals': {
            'dynamodb:LeadingKeys': [
              administratorChangeLeaseKey(this.#props.config.citrixCustomerId),
            ],
          },
        },
      }),
    );
  }

  /**
   * DaaS's shared throttle gate: GetItem and UpdateItem on the limits table, on the gate's own
   * item only (the counters and the lease stay out of reach).
   */
  #bindThrottleGate(fn: CitrixResponseFunction): void {
    const table = this.#props.limitsTable;
    fn.addEnvironment('LIMITS_TABLE_NAME', table.tableName);
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [table.tableArn],
        conditions: {
          'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [DAAS_THROTTLE_GATE_KEY] },
        },
      }),
    );
  }

  /**
   * Gives back a rejected or expired action's hourly reservation: GetItem and PutItem on the
   * limits table, on the counters' items only (one per action type; the lease stays out of reach).
   */
  #bindLimitRelease(fn: CitrixResponseFunction): void {
    const table = this.#props.limitsTable;
    fn.addEnvironment('LIMITS_TABLE_NAME', table.tableName);
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        resources: [table.tableArn],
        conditions: {
          'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [...ACTION_TYPES] },
        },
      }),
    );
  }

  #bindNotifications(fn: CitrixResponseFunction): void {
    const { config } = this.#props;
    // A callback URL may carry the receiver's token in its path, which a traced request records.
    fn.addEnvironment('POWERTOOLS_TRACER_CAPTURE_HTTPS_REQUESTS', 'false');
    if (Object.keys(config.callbackDestinations).length > 0) {
      fn.addEnvironment('CALLBACK_DESTINATIONS', JSON.stringify(config.callbackDestinations));
      fn.bindSecret('CALLBACK_SECRET_ARN', this.#props.callbackSigningSecret);
    }
    const serviceNow = this.#props.serviceNowApiCredentials;
    if (serviceNow !== undefined) fn.bindSecret('SERVICENOW_API_SECRET_ARN', serviceNow);
  }

  #bindEndpointManagement(fn: CitrixResponseFunction): void {
    const { config } = this.#props;
    if (config.citrixEmUrl !== undefined) fn.addEnvironment('CITRIX_EM_URL', config.citrixEmUrl);
    fn.addEnvironment('CITRIX_EM_AUTH', config.citrixEmAuth);
    fn.addEnvironment('CITRIX_EM_BODY_SHAPE', config.citrixEmBodyShape);
    if (config.citrixEmAuth === 'cloud') {
      this.bindCitrixCloud(fn, false);
      return;
    }
    const secret = this.#props.endpointManagementCredentials;
    if (secret === undefined) {
      throw new Error(
        'citrixEmAuth "credentials" needs the Endpoint Management credentials secret',
      );
    }
    fn.bindSecret('CITRIX_EM_CREDENTIALS_SECRET_ARN', secret);
  }
}

/** The guards no request can override, as the administrator functions read them. */
export function bindAdministratorGuards(fn: CitrixResponseFunction, config: CitrixResponseConfig) {
  if (config.citrixApiClientOwner !== undefined) {
    fn.addEnvironment('CITRIX_API_CLIENT_OWNER', config.citrixApiClientOwner);
  }
  if (config.protectedAdministrators.length > 0) {
    fn.addEnvironment('CITRIX_PROTECTED_ADMINS', config.protectedAdministrators.join(','));
  }
}
