import { Duration, Stack, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  EndpointType,
  JsonSchemaType,
  JsonSchemaVersion,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  ResponseType,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { AnyPrincipal, Effect, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { WorkflowName } from '../lib/actions/schema.ts';
import { CitrixResponseFunction } from './citrix-response-function.ts';
import type { AllowlistName } from './config.ts';
import { bindIdempotency } from './source-endpoints.ts';

export interface ActionsApiProps {
  readonly actionsTable: ITable;
  /** The state machine of each workflow; the function may start these and no other. */
  readonly stateMachines: Readonly<Record<WorkflowName, IStateMachine>>;
  readonly webhookSecret: ISecret;
  readonly logRetention: RetentionDays;
  /** The source endpoints' function, behind `POST /v1/webhooks/...`. */
  readonly sourceHandler: IFunction;
  readonly idempotencyTable: ITable;
  readonly idempotencyWindowSeconds: number;
  /** Names only reach this function: it checks that a request's callback exists. */
  readonly callbackDestinations: Readonly<Record<string, string>>;
  /** Per source endpoint, and `api` for the signed routes that start or decide actions. */
  readonly sourceIpAllowlists: Readonly<Partial<Record<AllowlistName, readonly string[]>>>;
  /** Appends requests and approval decisions; reads an action's timeline. */
  readonly auditTable: ITable;
}

/**
 * `POST /v1/actions` (a signed webhook that starts an action), `GET /v1/actions/{actionId}` and
 * its approve/reject, proxied to one function that verifies the Standard Webhooks signature; the
 * public `GET /v1/openapi.json`, proxied to a function of its own that needs no grant.
 */
export class ActionsApi extends Construct {
  readonly restApi: RestApi;
  readonly handler: CitrixResponseFunction;
  /** Serves the committed OpenAPI document: no table, secret or workflow. */
  readonly documentHandler: CitrixResponseFunction;

  constructor(scope: Construct, id: string, props: ActionsApiProps) {
    super(scope, id);

    this.handler = new CitrixResponseFunction(this, 'Handler', {
      entry: 'functions/actions-api.ts',
      description: 'Actions API: verifies signed webhooks, starts and reports actions',
      logRetention: props.logRetention,
      timeout: Duration.seconds(15),
    });
    this.handler.bindActionsTable(props.actionsTable);
    this.handler.bindStateMachines(props.stateMachines);
    // Approve and reject resume the workflow waiting on the action's task token.
    for (const stateMachine of Object.values(props.stateMachines)) {
      stateMachine.grantTaskResponse(this.handler);
    }
    this.handler.bindTable(
      'AUDIT_TABLE_NAME',
      props.auditTable,
      'dynamodb:BatchWriteItem',
      'dynamodb:Query',
    );
    this.handler.bindSecret('WEBHOOK_SECRET_ARN', props.webhookSecret);
    bindIdempotency(this.handler, props.idempotencyTable, props.idempotencyWindowSeconds);
    // Names only: the URLs (which may carry the receiver's token) stay with the notify task.
    if (Object.keys(props.callbackDestinations).length > 0) {
      this.handler.addEnvironment(
        'CALLBACK_DESTINATION_NAMES',
        Object.keys(props.callbackDestinations).join(','),
      );
    }

    // Its own function: the document would otherwise be most of the signed API's bundle.
    this.documentHandler = new CitrixResponseFunction(this, 'DocumentHandler', {
      entry: 'functions/api-document.ts',
      description: 'API document: serves the OpenAPI document of this API',
      logRetention: props.logRetention,
      timeout: Duration.seconds(15),
    });

    const accessLogs = new LogGroup(this, 'AccessLogGroup', { retention: props.logRetention });
    this.restApi = new RestApi(this, 'RestApi', {
      restApiName: `${Stack.of(this).stackName}-actions`,
      description: 'Citrix Response actions API',
      endpointTypes: [EndpointType.REGIONAL],
      ...(Object.keys(props.sourceIpAllowlists).length > 0
        ? { policy: sourceIpPolicy(props.sourceIpAllowlists) }
        : {}),
      // Execution logging needs the account's API Gateway CloudWatch role. This sets it for the
      // whole account and region (AWS::ApiGateway::Account); the role is retained on deletion.
      cloudWatchRole: true,
      deployOptions: {
        stageName: 'prod',
        // `resourcePath` is the route template (/v1/actions/{actionId}), never the raw `path`:
        // no query string, header or path value reaches these logs.
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({
          ip: true,
          user: false,
          caller: false,
          requestTime: true,
          httpMethod: true,
          resourcePath: true,
          status: true,
          protocol: true,
          responseLength: true,
        }),
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        // Off at the stage: API Gateway's trace segments record the request URL, which for Splunk
        // carries the token. The functions are still traced.
        tracingEnabled: false,
        throttlingRateLimit: 20,
        throttlingBurstLimit: 40,
      },
    });

    // The stack publishes the URL as its own ApiUrl output; RestApi's automatic one would repeat it.
    this.restApi.node.tryRemoveChild('Endpoint');

    // A first, cheap check at the edge; the function validates the request fully.
    const validator = this.restApi.addRequestValidator('RequestValidator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const actionRequest = this.restApi.addModel('ActionRequestModel', {
      contentType: 'application/json',
      schema: {
        schema: JsonSchemaVersion.DRAFT4,
        title: 'ActionRequest',
        type: JsonSchemaType.OBJECT,
        required: ['action', 'target', 'reason'],
      },
    });

    // API Gateway's own 400 says only "Invalid request body"; this one names what is wrong, in the
    // same {"error": {...}} shape as the function's answers. escapeJavaScript also escapes single
    // quotes, which JSON does not allow, hence the replaceAll.
    this.restApi.addGatewayResponse('BadRequestBody', {
      type: ResponseType.BAD_REQUEST_BODY,
      statusCode: '400',
      templates: {
        'application/json': String.raw`{"error":{"code":"invalid_request","message":"$util.escapeJavaScript($context.error.validationErrorString).replaceAll("\\'","'")"}}`,
      },
    });

    const integration = new LambdaIntegration(this.handler, { allowTestInvoke: false });
    const v1 = this.restApi.root.addResource('v1');
    const actions = v1.addResource('actions');
    actions.addMethod('POST', integration, {
      requestValidator: validator,
      requestModels: { 'application/json': actionRequest },
    });
    actions.addResource('{actionId}').addMethod('GET', integration, {
      requestValidator: validator,
      requestParameters: { 'method.request.path.actionId': true },
    });
    v1.addResource('openapi.json').addMethod(
      'GET',
      new LambdaIntegration(this.documentHandler, { allowTestInvoke: false }),
    );
    const action = actions.getResource('{actionId}');
    for (const decision of ['approve', 'reject']) {
      action?.addResource(decision).addMethod('POST', integration, {
        requestParameters: { 'method.request.path.actionId': true },
      });
    }

    // Each source authenticates in the function its own way (Basic, path token, API key, HMAC).
    const sources = new LambdaIntegration(props.sourceHandler, { allowTestInvoke: false });
    const webhooks = v1.addResource('webhooks');
    webhooks.addResource('{source}').addMethod('POST', sources, {
      requestParameters: { 'method.request.path.source': true },
    });
    // Access logs record the resource template, so the token in this path never reaches them.
    webhooks
      .addResource('splunk')
      .addResource('{token}')
      .addMethod('POST', sources, { requestParameters: { 'method.request.path.token': true } });

    const signedRequests =
      'Every request is authenticated in the function by a Standard Webhooks HMAC signature (webhook-id, webhook-timestamp, webhook-signature) over the raw body, so API Gateway has no authorizer: the callers are ITSM/SIEM tools, not Cognito users.';
    Validations.of(this.restApi).acknowledge(
      { id: 'AwsSolutions-APIG4', reason: signedRequests },
      { id: 'AwsSolutions-COG4', reason: signedRequests },
      {
        id: 'AwsSolutions-APIG3',
        reason:
          'No WAF: unsigned requests are rejected by the signature check, and stage throttling (20 rps, burst 40) bounds the load. A regional WAF web ACL can be associated with the stage without code changes if a deployment requires one.',
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'The AWS managed policy is the documented policy for the API Gateway account CloudWatch role; it only allows writing logs.',
      },
    );
  }
}

/**
 * The routes each allowlist entry restricts, as execute-api resource paths (`*` for a path
 * parameter). `api` covers what starts or decides an action; reading an action (GET) and the
 * OpenAPI document stay open.
 */
export function allowlistedRoutes(name: AllowlistName): string[] {
  if (name === 'api') {
    return ['POST/v1/actions', 'POST/v1/actions/*/approve', 'POST/v1/actions/*/reject'];
  }
  return [name === 'splunk' ? 'POST/v1/webhooks/splunk/*' : `POST/v1/webhooks/${name}`];
}

/**
 * Everything is open to the internet (requests authenticate in the functions) except the routes
 * that have an allowlist: those refuse any other source address at API Gateway.
 */
function sourceIpPolicy(
  allowlists: Readonly<Partial<Record<AllowlistName, readonly string[]>>>,
): PolicyDocument {
  const statements = [
    new PolicyStatement({
      effect: Effect.ALLOW,
      principals: [new AnyPrincipal()],
      actions: ['execute-api:Invoke'],
      resources: ['execute-api:/*'],
    }),
  ];
  for (const [name, ranges] of Object.entries(allowlists) as [AllowlistName, string[]][]) {
    statements.push(
      new PolicyStatement({
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: allowlistedRoutes(name).map((route) => `execute-api:/*/${route}`),
        conditions: { NotIpAddress: { 'aws:SourceIp': [...ranges] } },
      }),
    );
  }
  return new PolicyDocument({ statements });
}
