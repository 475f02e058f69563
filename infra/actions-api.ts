import { Duration, Names, Stack, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
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
import {
  AccountRootPrincipal,
  AnyPrincipal,
  Effect,
  PolicyDocument,
  PolicyStatement,
} from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { CfnSamplingRule } from 'aws-cdk-lib/aws-xray';
import { Construct } from 'constructs';
import type { WorkflowName } from '../lib/actions/schema.ts';
import { REQUESTING_SOURCES } from '../lib/sources/types.ts';
import { CitrixResponseFunction } from './citrix-response-function.ts';
import type { AllowlistName } from './config.ts';
import { runbooksBeside } from './runbooks.ts';
import { bindIdempotency } from './source-endpoints.ts';

export interface ActionsApiProps {
  readonly actionsTable: ITable;
  /**
   * The state machine of each workflow: the acceptor may start these and no other, and the
   * records function resume them (approve, reject).
   */
  readonly stateMachines: Readonly<Record<WorkflowName, IStateMachine>>;
  readonly logRetention: RetentionDays;
  /** The alerting sources' function, behind `POST /v1/webhooks/{source}` and Splunk's route. */
  readonly sourceHandler: IFunction;
  /** The requesting sources' function: `POST /v1/webhooks/servicenow` and `/v1/webhooks/standard`. */
  readonly requestSourceHandler: IFunction;
  readonly idempotencyTable: ITable;
  readonly idempotencyWindowSeconds: number;
  /** Names only reach this function: it checks that a request's callback exists. */
  readonly callbackDestinations: Readonly<Record<string, string>>;
  /** Per source endpoint, and `api` for the routes that start or decide actions. */
  readonly sourceIpAllowlists: Readonly<Partial<Record<AllowlistName, readonly string[]>>>;
  /** Appends requests and approval decisions; reads an action's timeline. */
  readonly auditTable: ITable;
  /** The deployed runbooks (infra/runbooks.ts): a request may run one by name. */
  readonly runbooksFile: string;
  /** Requests one source address may send in any 5 minutes before WAF blocks it (429). */
  readonly rateLimitPerAddress: number;
}

/** Steady requests per second and burst each route takes before API Gateway answers 429. */
export interface RouteThrottle {
  readonly rate: number;
  readonly burst: number;
}

/**
 * Every route's own throttle (API Gateway keeps one token bucket per method and stage), so that a
 * flood on one route never starves another: the sources take alert storms; people start and
 * decide actions one at a time (a script through the CLI included); the public OpenAPI document
 * needs little. Keyed `METHOD /path` as the routes are declared below.
 */
export function routeThrottles(): Readonly<Record<string, RouteThrottle>> {
  const person = { rate: 10, burst: 20 };
  const decision = { rate: 5, burst: 10 };
  const source = { rate: 20, burst: 40 };
  return {
    'POST /v1/actions': person,
    'GET /v1/actions': person,
    'GET /v1/actions/{actionId}': person,
    'POST /v1/actions/{actionId}/approve': decision,
    'POST /v1/actions/{actionId}/reject': decision,
    'GET /v1/openapi.json': { rate: 5, burst: 10 },
    'POST /v1/webhooks/{source}': source,
    'POST /v1/webhooks/splunk/{token}': source,
    ...Object.fromEntries(
      REQUESTING_SOURCES.map((name) => [`POST /v1/webhooks/${name}`, source] as const),
    ),
  };
}

/** The stage's default for a method without its own throttle (none: every route has one). */
export const STAGE_THROTTLE: RouteThrottle = { rate: 20, burst: 40 };

/**
 * The web ACL's rules, by name (also their metric names): the rate limit per source address, and
 * two AWS managed rule groups that block known-bad addresses and request patterns (exploit paths,
 * Log4Shell) without inspecting a body's size or content, which alert payloads would trip.
 */
export const WEB_ACL_RULES = {
  rateLimit: 'RateLimitPerAddress',
  ipReputation: 'AWS-AWSManagedRulesAmazonIpReputationList',
  knownBadInputs: 'AWS-AWSManagedRulesKnownBadInputsRuleSet',
} as const;

/**
 * The people's routes, with IAM authorization (SigV4: API Gateway authenticates the person and
 * checks `execute-api:Invoke` before the function runs), proxied to two functions that act as that
 * person: `POST /v1/actions` to the acceptor, and `GET /v1/actions`, `GET /v1/actions/{actionId}`
 * and its approve/reject to the records function (each carries and may do only what its routes
 * need); the source endpoints, proxied to the function that authenticates each source its own
 * way; the public `GET /v1/openapi.json`, proxied to a function of its own that needs no grant.
 */
export class ActionsApi extends Construct {
  readonly restApi: RestApi;
  /** `POST /v1/actions`: records the action and starts its workflow, once per idempotency key. */
  readonly handler: CitrixResponseFunction;
  /** Lists, reads and decides on actions: no acceptor, no idempotency table, no workflow start. */
  readonly recordsHandler: CitrixResponseFunction;
  /** Serves the committed OpenAPI document: no table, secret or workflow. */
  readonly documentHandler: CitrixResponseFunction;
  /** In front of the stage: the rate limit per source address and the managed rules. */
  readonly webAcl: CfnWebACL;
  /** The web ACL's name, also its metric name (the `WebACL` dimension of AWS/WAFV2). */
  readonly webAclName: string;
  /** Keeps the Splunk route (its path carries the token) out of the stage's traces. */
  readonly splunkSamplingRule: CfnSamplingRule;

  constructor(scope: Construct, id: string, props: ActionsApiProps) {
    super(scope, id);

    this.handler = new CitrixResponseFunction(this, 'Handler', {
      entry: 'functions/actions-api.ts',
      description: 'Actions API: starts actions as the IAM-authenticated person',
      logRetention: props.logRetention,
      timeout: Duration.seconds(15),
      bundledFiles: [runbooksBeside(props.runbooksFile)],
    });
    this.handler.bindActionsTable(props.actionsTable);
    this.handler.bindStateMachines(props.stateMachines);
    // Each request is appended; the timeline is read by the records function.
    this.handler.bindTable('AUDIT_TABLE_NAME', props.auditTable, 'dynamodb:BatchWriteItem');
    bindIdempotency(this.handler, props.idempotencyTable, props.idempotencyWindowSeconds);
    // Names only: the URLs (which may carry the receiver's token) stay with the notify task.
    if (Object.keys(props.callbackDestinations).length > 0) {
      this.handler.addEnvironment(
        'CALLBACK_DESTINATION_NAMES',
        Object.keys(props.callbackDestinations).join(','),
      );
    }

    // Reading and deciding, apart from the acceptor: each bundle carries only what its routes use.
    this.recordsHandler = new CitrixResponseFunction(this, 'RecordsHandler', {
      entry: 'functions/action-records-api.ts',
      description:
        'Action records API: lists, reports and decides actions as the IAM-authenticated person',
      logRetention: props.logRetention,
      timeout: Duration.seconds(15),
    });
    this.recordsHandler.bindActionRecords(props.actionsTable);
    this.recordsHandler.grantListActions(props.actionsTable);
    // Approve and reject resume the workflow waiting on the action's task token.
    for (const stateMachine of Object.values(props.stateMachines)) {
      stateMachine.grantTaskResponse(this.recordsHandler);
    }
    // Each decision is appended; an action's timeline is read.
    this.recordsHandler.bindTable(
      'AUDIT_TABLE_NAME',
      props.auditTable,
      'dynamodb:BatchWriteItem',
      'dynamodb:Query',
    );

    // Its own function: the document would otherwise be most of the people's API bundle.
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
        // API Gateway's trace segments record the request URL, which for Splunk carries the
        // token: the sampling rule below never traces that route at the stage.
        tracingEnabled: true,
        throttlingRateLimit: STAGE_THROTTLE.rate,
        throttlingBurstLimit: STAGE_THROTTLE.burst,
        methodOptions: Object.fromEntries(
          Object.entries(routeThrottles()).map(([route, throttle]) => {
            const [method, path] = route.split(' ');
            return [
              `${path}/${method}`,
              { throttlingRateLimit: throttle.rate, throttlingBurstLimit: throttle.burst },
            ];
          }),
        ),
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
    const records = new LambdaIntegration(this.recordsHandler, { allowTestInvoke: false });
    // Every people's route: API Gateway verifies SigV4 and the caller's execute-api:Invoke, and
    // hands the function the principal (requestContext.identity).
    const asPerson = { authorizationType: AuthorizationType.IAM } as const;
    const v1 = this.restApi.root.addResource('v1');
    const actions = v1.addResource('actions');
    actions.addMethod('POST', integration, {
      ...asPerson,
      requestValidator: validator,
      requestModels: { 'application/json': actionRequest },
    });
    actions.addMethod('GET', records, asPerson);
    actions.addResource('{actionId}').addMethod('GET', records, {
      ...asPerson,
      requestValidator: validator,
      requestParameters: { 'method.request.path.actionId': true },
    });
    v1.addResource('openapi.json').addMethod(
      'GET',
      new LambdaIntegration(this.documentHandler, { allowTestInvoke: false }),
    );
    const action = actions.getResource('{actionId}');
    for (const decision of ['approve', 'reject']) {
      action?.addResource(decision).addMethod('POST', records, {
        ...asPerson,
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
    // The sources that name their action: static segments, which API Gateway prefers to {source}.
    const requests = new LambdaIntegration(props.requestSourceHandler, { allowTestInvoke: false });
    for (const source of REQUESTING_SOURCES) {
      webhooks.addResource(source).addMethod('POST', requests);
    }

    this.webAclName = `${Stack.of(this).stackName}-api`;
    this.webAcl = this.#protect(props.rateLimitPerAddress);
    this.splunkSamplingRule = this.#untraceSplunkRoute();

    const authorization =
      "The people routes (/v1/actions and below) use IAM authorization: API Gateway verifies SigV4 and execute-api:Invoke, and the function acts as the authenticated principal. The source endpoints authenticate each delivery in the function by the source's own credential (Basic, path token, API key, PagerDuty or Standard Webhooks HMAC), as those tools can send no SigV4 or Cognito token; the OpenAPI document is public. No Cognito user pool is involved: people sign in through IAM Identity Center.";
    Validations.of(this.restApi).acknowledge(
      { id: 'AwsSolutions-APIG4', reason: authorization },
      { id: 'AwsSolutions-COG4', reason: authorization },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'The AWS managed policy is the documented policy for the API Gateway account CloudWatch role; it only allows writing logs.',
      },
    );
  }

  /**
   * A regional WAF web ACL on the stage, as cdk-nag (AwsSolutions-APIG3) and AWS Solutions
   * Constructs (aws-wafwebacl-apigateway) have it: one address sending more than `rateLimit`
   * requests in 5 minutes gets 429 until its rate falls, before it reaches a route's throttle.
   */
  #protect(rateLimit: number): CfnWebACL {
    const name = this.webAclName;
    // Metrics only: a sampled request shows its URI, which for Splunk carries the token.
    const visibility = (metricName: string) => ({
      cloudWatchMetricsEnabled: true,
      metricName,
      sampledRequestsEnabled: false,
    });
    const managed = (rule: string, priority: number): CfnWebACL.RuleProperty => ({
      name: rule,
      priority,
      overrideAction: { none: {} },
      statement: {
        managedRuleGroupStatement: { vendorName: 'AWS', name: rule.slice('AWS-'.length) },
      },
      visibilityConfig: visibility(rule),
    });
    const webAcl = new CfnWebACL(this, 'WebAcl', {
      name,
      description: 'Citrix Response API: rate limit per source address and AWS managed rules',
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(name),
      rules: [
        {
          name: WEB_ACL_RULES.rateLimit,
          priority: 0,
          // 429, as API Gateway's own throttles answer: the sources retry on it.
          action: { block: { customResponse: { responseCode: 429 } } },
          statement: {
            rateBasedStatement: {
              limit: rateLimit,
              aggregateKeyType: 'IP',
              evaluationWindowSec: 300,
            },
          },
          visibilityConfig: visibility(WEB_ACL_RULES.rateLimit),
        },
        managed(WEB_ACL_RULES.ipReputation, 1),
        managed(WEB_ACL_RULES.knownBadInputs, 2),
      ],
    });
    const association = new CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.restApi.deploymentStage.stageArn,
      webAclArn: webAcl.attrArn,
    });
    // The stage ARN is built from the API id and the stage's name: no reference to the stage.
    association.node.addDependency(this.restApi.deploymentStage);
    return webAcl;
  }

  /**
   * An X-Ray sampling rule that never traces the Splunk route at the stage: API Gateway's trace
   * segment records the request URL, whose path carries the Splunk token. The function behind it
   * is still traced (its segment has no URL).
   */
  #untraceSplunkRoute(): CfnSamplingRule {
    return new CfnSamplingRule(this, 'SplunkSamplingRule', {
      samplingRule: {
        ruleName: Names.uniqueResourceName(this, { maxLength: 32 }),
        // Before the default rule (10000) and any rule an operator adds for the account.
        priority: 1,
        fixedRate: 0,
        reservoirSize: 0,
        serviceName: `${this.restApi.restApiName}/${this.restApi.deploymentStage.stageName}`,
        serviceType: 'AWS::ApiGateway::Stage',
        host: '*',
        httpMethod: '*',
        // With or without the stage in front of the path.
        urlPath: '*/webhooks/splunk/*',
        resourceArn: '*',
        version: 1,
      },
    });
  }
}

/**
 * The routes each allowlist entry restricts, as execute-api resource paths (`*` for a path
 * parameter). `api` covers what starts or decides an action: the people's POST routes, and the
 * Standard Webhooks source that machines use instead; reading actions and the OpenAPI document
 * stay reachable from anywhere (reading still needs IAM).
 */
export function allowlistedRoutes(name: AllowlistName): string[] {
  if (name === 'api') {
    return [
      'POST/v1/actions',
      'POST/v1/actions/*/approve',
      'POST/v1/actions/*/reject',
      'POST/v1/webhooks/standard',
    ];
  }
  return [name === 'splunk' ? 'POST/v1/webhooks/splunk/*' : `POST/v1/webhooks/${name}`];
}

/**
 * With an allowlist, the API gets a resource policy: the source endpoints and the document are
 * open to the internet (sources authenticate in the function), the people's routes to this
 * account's principals only (never `*`: a resource policy allowing every principal would let any
 * AWS account's users in on IAM-authorized routes), and the allowlisted routes refuse any other
 * source address. Without one there is no resource policy, and IAM authorization admits only
 * principals of this account whose policies allow `execute-api:Invoke`.
 */
function sourceIpPolicy(
  allowlists: Readonly<Partial<Record<AllowlistName, readonly string[]>>>,
): PolicyDocument {
  const statements = [
    new PolicyStatement({
      effect: Effect.ALLOW,
      principals: [new AnyPrincipal()],
      actions: ['execute-api:Invoke'],
      resources: ['execute-api:/*/POST/v1/webhooks/*', 'execute-api:/*/GET/v1/openapi.json'],
    }),
    // The account as principal delegates to its IAM policies: each person still needs
    // execute-api:Invoke on the route.
    new PolicyStatement({
      effect: Effect.ALLOW,
      principals: [new AccountRootPrincipal()],
      actions: ['execute-api:Invoke'],
      resources: ['execute-api:/*/*/v1/actions', 'execute-api:/*/*/v1/actions/*'],
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
