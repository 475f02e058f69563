import {
  Annotations,
  CfnOutput,
  CfnRule,
  Fn,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { AUDIT_TABLE_KEYS } from '../lib/audit/audit-log.ts';
import {
  ADMIN_ACTION_WORKFLOW,
  DEVICE_ACTION_WORKFLOW,
  SESSION_ACTION_WORKFLOW,
} from '../lib/workflow/definition.ts';
import { ActionWorkflow } from './action-workflow.ts';
import { ActionsApi } from './actions-api.ts';
import { AdministratorReport } from './administrator-report.ts';
import { CITRIX_CUSTOMER_ID_PLACEHOLDER, type CitrixResponseConfig } from './config.ts';
import { SourceEndpoints } from './source-endpoints.ts';
import { TaskFunctions } from './task-functions.ts';

/**
 * The ServiceNow API secret's instanceUrl until the operator stores the real one: not a URL, so
 * the notification function refuses it (naming the field) and sends nothing.
 */
export const SERVICENOW_INSTANCE_URL_PLACEHOLDER = 'https://<instance>.service-now.com';

export interface CitrixResponseStackProps extends StackProps {
  readonly config: CitrixResponseConfig;
}

/**
 * Signed webhooks (`POST /v1/actions`) start the `session-action` workflow (disconnect or log off
 * Citrix DaaS sessions), the `device-action` workflow (wipe, selective wipe or policy deploy of
 * Citrix Endpoint Management devices) or the `admin-action` workflow (revoke a Citrix Cloud
 * administrator, delete an invitation); every action is recorded in DynamoDB. A schedule reports
 * changes to the Citrix Cloud administrators.
 */
export class CitrixResponseStack extends Stack {
  readonly actionsTable: Table;
  readonly webhookSecret: Secret;
  readonly citrixCredentials: Secret;
  /** Only with `citrixEmAuth: credentials`. */
  readonly endpointManagementCredentials: Secret | undefined;
  readonly tasks: TaskFunctions;
  readonly auditTable: Table;
  readonly limitsTable: Table;
  readonly callbackSigningSecret: Secret;
  /** The ServiceNow instance and the account that writes work notes. */
  readonly serviceNowApiCredentials: Secret;
  readonly sourceEndpoints: SourceEndpoints;
  readonly sessionWorkflow: ActionWorkflow;
  readonly deviceWorkflow: ActionWorkflow;
  readonly adminWorkflow: ActionWorkflow;
  readonly administratorReport: AdministratorReport;
  readonly api: ActionsApi;

  constructor(scope: Construct, id: string, props: CitrixResponseStackProps) {
    super(scope, id, props);
    const { config } = props;

    // SecretString `{"signingSecret":"<64 letters and digits>"}`. CloudFormation cannot generate
    // the `whsec_<base64>` form, so the functions use the string as the raw HMAC key (UTF-8
    // bytes, standardwebhooks `format: 'raw'`); a `whsec_` value put here later works as well.
    // Source tools get the same key: the string itself, or `whsec_` + base64 of it.
    this.webhookSecret = signingSecret(
      this,
      'WebhookSigningSecret',
      'Standard Webhooks signing secret shared with the source tools (JSON key signingSecret)',
    );

    // Created with a random placeholder; the operator stores the real Citrix Cloud API client with
    // `aws secretsmanager put-secret-value` (JSON keys clientId and clientSecret).
    this.citrixCredentials = new Secret(this, 'CitrixApiCredentials', {
      description: 'Citrix Cloud API client (JSON keys clientId and clientSecret)',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ clientId: 'set-me' }),
        generateStringKey: 'clientSecret',
        passwordLength: 64,
        excludePunctuation: true,
        includeSpace: false,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    Validations.of(this.webhookSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The signing secret is shared with the source tools and rotated by hand; Standard Webhooks accepts several signatures, so old and new secrets overlap during a rotation.',
    });
    Validations.of(this.citrixCredentials).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The Citrix Cloud API client secret is issued and rotated in Citrix Cloud by an administrator, who then stores the new value here; Secrets Manager cannot rotate it.',
    });

    // Created only when the functions log in with administrator credentials: with the default
    // cloud login Endpoint Management uses the Citrix Cloud API client above. The operator stores
    // the real values with `aws secretsmanager put-secret-value`.
    this.endpointManagementCredentials =
      config.citrixEmAuth === 'credentials'
        ? new Secret(this, 'EndpointManagementCredentials', {
            description:
              'Citrix Endpoint Management administrator (JSON keys CITRIX_EM_USERNAME and CITRIX_EM_PASSWORD)',
            generateSecretString: {
              secretStringTemplate: JSON.stringify({ CITRIX_EM_USERNAME: 'set-me' }),
              generateStringKey: 'CITRIX_EM_PASSWORD',
              passwordLength: 64,
              excludePunctuation: true,
              includeSpace: false,
            },
            removalPolicy: RemovalPolicy.RETAIN,
          })
        : undefined;
    if (this.endpointManagementCredentials !== undefined) {
      Validations.of(this.endpointManagementCredentials).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'The Endpoint Management administrator password is set and changed in Endpoint Management by an administrator, who then stores it here; Secrets Manager cannot rotate it.',
      });
    }

    this.actionsTable = new Table(this, 'ActionsTable', {
      partitionKey: { name: 'actionId', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expiresAt',
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Signs the callbacks sent when an action ends; receivers verify with it (JSON key signingSecret).
    this.callbackSigningSecret = signingSecret(
      this,
      'CallbackSigningSecret',
      'Standard Webhooks secret that signs outgoing callbacks (JSON key signingSecret)',
    );
    Validations.of(this.callbackSigningSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Shared with the callback receivers and rotated by hand with them; Standard Webhooks receivers accept the old and new secrets during a rotation.',
    });
    // Like the ServiceNow source secret, always there: work notes go to the instance the operator
    // stores here with the account (`put-secret-value`). Until then the placeholder instanceUrl is
    // no URL, so a work note fails (recorded on the action) instead of going anywhere.
    this.serviceNowApiCredentials = new Secret(this, 'ServiceNowApiCredentials', {
      description:
        'ServiceNow instance and account that write work notes (JSON keys instanceUrl, username and password)',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({
          instanceUrl: SERVICENOW_INSTANCE_URL_PLACEHOLDER,
          username: 'set-me',
        }),
        generateStringKey: 'password',
        passwordLength: 48,
        excludePunctuation: true,
        includeSpace: false,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.serviceNowApiCredentials).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The ServiceNow account password is set in ServiceNow by its administrator, who then stores it here.',
    });

    // Every step of every action, under its action id; kept as long as the action records.
    this.auditTable = new Table(this, 'AuditTable', {
      partitionKey: { name: AUDIT_TABLE_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: AUDIT_TABLE_KEYS.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: AUDIT_TABLE_KEYS.timeToLiveAttribute,
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // One item per action type: the reservations of the last hour, updated conditionally.
    this.limitsTable = new Table(this, 'LimitsTable', {
      partitionKey: { name: 'counter', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.tasks = new TaskFunctions(this, 'Tasks', {
      config,
      auditTable: this.auditTable,
      limitsTable: this.limitsTable,
      actionsTable: this.actionsTable,
      citrixCredentials: this.citrixCredentials,
      callbackSigningSecret: this.callbackSigningSecret,
      serviceNowApiCredentials: this.serviceNowApiCredentials,
      ...(this.endpointManagementCredentials
        ? { endpointManagementCredentials: this.endpointManagementCredentials }
        : {}),
    });
    const workflowProps = {
      tasks: this.tasks,
      maxConcurrency: config.maxConcurrency,
      approvalTimeoutSeconds: config.approvalTimeoutSeconds,
      logRetention: config.logRetention,
    };
    this.sessionWorkflow = new ActionWorkflow(this, 'SessionAction', {
      workflow: SESSION_ACTION_WORKFLOW,
      ...workflowProps,
    });
    this.deviceWorkflow = new ActionWorkflow(this, 'DeviceAction', {
      workflow: DEVICE_ACTION_WORKFLOW,
      ...workflowProps,
    });

    this.adminWorkflow = new ActionWorkflow(this, 'AdminAction', {
      workflow: ADMIN_ACTION_WORKFLOW,
      ...workflowProps,
    });
    this.administratorReport = new AdministratorReport(this, 'AdministratorReport', {
      config,
      tasks: this.tasks,
    });

    const stateMachines = {
      'session-action': this.sessionWorkflow.stateMachine,
      'device-action': this.deviceWorkflow.stateMachine,
      'admin-action': this.adminWorkflow.stateMachine,
    };
    this.sourceEndpoints = new SourceEndpoints(this, 'SourceEndpoints', {
      actionsTable: this.actionsTable,
      stateMachines,
      routesFile: config.routesFile,
      idempotencyWindowSeconds: config.idempotencyWindowSeconds,
      logRetention: config.logRetention,
      auditTable: this.auditTable,
      callbackDestinations: config.callbackDestinations,
    });

    this.api = new ActionsApi(this, 'ActionsApi', {
      actionsTable: this.actionsTable,
      stateMachines,
      sourceHandler: this.sourceEndpoints.handler,
      idempotencyTable: this.sourceEndpoints.idempotencyTable,
      idempotencyWindowSeconds: config.idempotencyWindowSeconds,
      callbackDestinations: config.callbackDestinations,
      sourceIpAllowlists: config.sourceIpAllowlists,
      auditTable: this.auditTable,
      webhookSecret: this.webhookSecret,
      logRetention: config.logRetention,
    });

    if (config.citrixCustomerId === CITRIX_CUSTOMER_ID_PLACEHOLDER) {
      this.refuseDeployment();
    }

    new CfnOutput(this, 'ApiUrl', {
      description: 'Base URL of the actions API (append v1/actions)',
      value: this.api.restApi.url,
    });
    new CfnOutput(this, 'SessionActionStateMachineArn', {
      value: this.sessionWorkflow.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'DeviceActionStateMachineArn', {
      value: this.deviceWorkflow.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'AdminActionStateMachineArn', {
      value: this.adminWorkflow.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'ActionsTableName', { value: this.actionsTable.tableName });
    new CfnOutput(this, 'AdministratorReportTopicArn', {
      description: 'Subscribe (email, chat, SIEM) to receive Citrix Cloud administrator changes',
      value: this.administratorReport.topic.topicArn,
    });
    new CfnOutput(this, 'WebhookSecretArn', { value: this.webhookSecret.secretArn });
    new CfnOutput(this, 'CitrixCredentialsSecretArn', { value: this.citrixCredentials.secretArn });
    new CfnOutput(this, 'CallbackSigningSecretArn', {
      value: this.callbackSigningSecret.secretArn,
    });
    for (const [source, secret] of Object.entries(this.sourceEndpoints.secrets)) {
      new CfnOutput(this, `${source[0]?.toUpperCase()}${source.slice(1)}SecretArn`, {
        description: `Credentials the ${source} endpoint checks`,
        value: secret.secretArn,
      });
    }
    new CfnOutput(this, 'ServiceNowApiCredentialsSecretArn', {
      description:
        'ServiceNow instance and account for work notes (instanceUrl, username, password)',
      value: this.serviceNowApiCredentials.secretArn,
    });
    if (this.endpointManagementCredentials !== undefined) {
      new CfnOutput(this, 'EndpointManagementCredentialsSecretArn', {
        value: this.endpointManagementCredentials.secretArn,
      });
    }
  }

  /**
   * The placeholder customer id keeps synth and tests working without Citrix settings, but such a
   * stack must never be deployed: this rule always fails, so CloudFormation refuses the stack
   * before creating anything.
   */
  private refuseDeployment(): void {
    const message = `Context "citrixCustomerId" is not set: deploy with -c citrixCustomerId=<your Citrix Cloud customer id>`;
    Annotations.of(this).addWarningV2('citrix-response:placeholder-customer-id', message);
    new CfnRule(this, 'CitrixCustomerIdIsSet', {
      assertions: [
        {
          assert: Fn.conditionNot(
            Fn.conditionEquals(CITRIX_CUSTOMER_ID_PLACEHOLDER, CITRIX_CUSTOMER_ID_PLACEHOLDER),
          ),
          assertDescription: message,
        },
      ],
    });
  }
}

/**
 * A Standard Webhooks secret generated by CloudFormation: `{"signingSecret": "<64 alphanumerics>"}`,
 * used as a raw key. Kept on stack deletion, since the other side holds it too.
 */
function signingSecret(scope: Construct, id: string, description: string): Secret {
  return new Secret(scope, id, {
    description,
    generateSecretString: {
      secretStringTemplate: JSON.stringify({}),
      generateStringKey: 'signingSecret',
      passwordLength: 64,
      excludePunctuation: true,
      includeSpace: false,
    },
    removalPolicy: RemovalPolicy.RETAIN,
  });
}
