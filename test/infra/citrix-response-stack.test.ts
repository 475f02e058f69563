import { readFileSync } from 'node:fs';
import { Template } from 'aws-cdk-lib/assertions';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/build-app.ts';
import { InvalidContextError } from '../../infra/config.ts';
import { readDefinition, SESSION_ACTION_WORKFLOW } from '../../lib/workflow/definition.ts';

// Synthesized templates are plain JSON; these types name only what the assertions read.
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, Json>;
  readonly DeletionPolicy?: string;
}
interface Statement {
  readonly Action: string | string[];
  readonly Effect: string;
  readonly Resource: Json;
}

const FEATURE_FLAGS = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'))
  .context as Record<string, unknown>;

/** The cdk.json context plus `context`, with bundling skipped (no esbuild run). */
function appContext(context: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...FEATURE_FLAGS, 'aws:cdk:bundling-stacks': [], ...context };
}

/** Synthesizes like `cdk synth`; throws if cdk-nag reports an unacknowledged finding. */
function synth(context: Record<string, unknown> = {}): Template {
  return Template.fromStack(buildApp(appContext(context)).stack);
}

class StackTemplate {
  readonly json: { Resources: Record<string, Resource>; [key: string]: Json | object };

  constructor(template: Template) {
    this.json = template.toJSON() as StackTemplate['json'];
  }

  ofType(type: string): [string, Resource][] {
    return Object.entries(this.json.Resources).filter(([, resource]) => resource.Type === type);
  }

  resource(logicalId: string): Resource {
    const resource = this.json.Resources[logicalId];
    if (resource === undefined) throw new Error(`No resource ${logicalId}`);
    return resource;
  }

  onlyOfType(type: string): [string, Resource] {
    const found = this.ofType(type);
    expect(found).toHaveLength(1);
    return found[0] as [string, Resource];
  }

  /** Lambda functions by their description (each names its entry). */
  functionByDescription(pattern: RegExp): [string, Resource] {
    const found = this.ofType('AWS::Lambda::Function').filter(([, fn]) =>
      pattern.test(String(fn.Properties.Description)),
    );
    expect(found).toHaveLength(1);
    return found[0] as [string, Resource];
  }

  taskFunction(name: string): [string, Resource] {
    return this.functionByDescription(new RegExp(`task: ${name}$`));
  }

  apiFunction(): [string, Resource] {
    return this.functionByDescription(/^Actions API/);
  }

  environment(fn: Resource): Record<string, Json> {
    return ((fn.Properties.Environment as { Variables: Record<string, Json> }).Variables ??
      {}) as Record<string, Json>;
  }

  /** Inline policy statements of the role a function or state machine runs as. */
  statementsOf(resource: Resource): Statement[] {
    const roleArn = (resource.Properties.Role ?? resource.Properties.RoleArn) as {
      'Fn::GetAtt': [string, string];
    };
    const roleId = roleArn['Fn::GetAtt'][0];
    return this.ofType('AWS::IAM::Policy')
      .filter(([, policy]) =>
        (policy.Properties.Roles as Json[]).some(
          (role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId }),
        ),
      )
      .flatMap(
        ([, policy]) =>
          (policy.Properties.PolicyDocument as unknown as { Statement: Statement[] }).Statement,
      );
  }

  stateMachineId(): string {
    return this.onlyOfType('AWS::StepFunctions::StateMachine')[0];
  }

  secretId(generateStringKey: string): string {
    const found = this.ofType('AWS::SecretsManager::Secret').filter(
      ([, secret]) =>
        (secret.Properties.GenerateSecretString as { GenerateStringKey: string })
          .GenerateStringKey === generateStringKey,
    );
    expect(found).toHaveLength(1);
    return (found[0] as [string, Resource])[0];
  }
}

function actions(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

function resources(statement: Statement): Json[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

function statementsAllowing(statements: Statement[], action: string): Statement[] {
  return statements.filter(
    (statement) => statement.Effect === 'Allow' && actions(statement).includes(action),
  );
}

const arnOf = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });
const refTo = (logicalId: string) => ({ Ref: logicalId });

/** Every value of `key` anywhere in `node`. */
function valuesOfKey(node: unknown, key: string): unknown[] {
  if (Array.isArray(node)) return node.flatMap((child) => valuesOfKey(child, key));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([name, child]) => [
    ...(name === key ? [child] : []),
    ...valuesOfKey(child, key),
  ]);
}

describe('CitrixResponse stack with a deployable configuration', () => {
  const CUSTOMER_ID = 'customer-marker-4711';
  const SITE_ID = 'site-marker-0815';
  const MAX_CONCURRENCY = 7;
  let stack: StackTemplate;

  beforeAll(() => {
    stack = new StackTemplate(
      synth({
        citrixCustomerId: CUSTOMER_ID,
        citrixSiteId: SITE_ID,
        citrixApiUrl: 'https://api-eu.cloud.com/',
        maxConcurrency: MAX_CONCURRENCY,
        logRetentionDays: '30',
      }),
    );
  });

  describe('state machine', () => {
    it('uses the definition file, with MaxConcurrency from the context', () => {
      const [, stateMachine] = stack.onlyOfType('AWS::StepFunctions::StateMachine');
      const expected = JSON.parse(
        readDefinition(SESSION_ACTION_WORKFLOW, { maxConcurrency: MAX_CONCURRENCY }),
      );
      const actual = JSON.parse(String(stateMachine.Properties.DefinitionString));

      expect(actual).toEqual(expected);
      expect(valuesOfKey(actual, 'MaxConcurrency')).toEqual([MAX_CONCURRENCY]);
    });

    it('substitutes every placeholder with the ARN of the task function of that name', () => {
      const [, stateMachine] = stack.onlyOfType('AWS::StepFunctions::StateMachine');
      const definition = String(stateMachine.Properties.DefinitionString);
      const placeholders = new Set(
        [...definition.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((match) => match[1]),
      );
      const substitutions = stateMachine.Properties.DefinitionSubstitutions as Record<string, Json>;

      expect(Object.keys(substitutions).sort()).toEqual([...placeholders].sort());
      expect(Object.keys(substitutions)).toHaveLength(SESSION_ACTION_WORKFLOW.functions.length);
      for (const task of SESSION_ACTION_WORKFLOW.functions) {
        const [functionId] = stack.taskFunction(task.name);
        expect(substitutions[task.substitution]).toEqual(arnOf(functionId));
      }
    });

    it('is a traced STANDARD workflow logging ALL events without execution data', () => {
      const [, stateMachine] = stack.onlyOfType('AWS::StepFunctions::StateMachine');
      const logging = stateMachine.Properties.LoggingConfiguration as {
        Level: string;
        IncludeExecutionData: boolean;
        Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [string] } } }[];
      };
      const logGroupId =
        logging.Destinations[0]?.CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];

      expect(stateMachine.Properties.StateMachineType).toBe('STANDARD');
      expect(stateMachine.Properties.TracingConfiguration).toEqual({ Enabled: true });
      expect(logging.Level).toBe('ALL');
      expect(logging.IncludeExecutionData).toBe(false);
      expect(stack.resource(String(logGroupId)).Properties.RetentionInDays).toBe(30);
    });

    it('may invoke exactly the task functions, and nothing else in Lambda', () => {
      const [, stateMachine] = stack.onlyOfType('AWS::StepFunctions::StateMachine');
      const statements = stack.statementsOf(stateMachine);
      const invokable = statementsAllowing(statements, 'lambda:InvokeFunction').flatMap(resources);
      const taskArns = SESSION_ACTION_WORKFLOW.functions.map((task) =>
        arnOf(stack.taskFunction(task.name)[0]),
      );

      expect(invokable).toHaveLength(SESSION_ACTION_WORKFLOW.functions.length);
      expect(invokable).toEqual(expect.arrayContaining(taskArns));
      expect(statements.flatMap(actions).filter((action) => action.startsWith('lambda:'))).toEqual([
        'lambda:InvokeFunction',
      ]);
      expect(invokable).not.toContainEqual(arnOf(stack.apiFunction()[0]));
    });
  });

  describe('functions', () => {
    it('has the five task functions and the API function', () => {
      expect(stack.ofType('AWS::Lambda::Function')).toHaveLength(
        SESSION_ACTION_WORKFLOW.functions.length + 1,
      );
    });

    it('runs every function on Node.js 24, arm64, traced, with its own log group', () => {
      for (const [id, fn] of stack.ofType('AWS::Lambda::Function')) {
        const logGroup = fn.Properties.LoggingConfig as { LogGroup: { Ref: string } };
        expect(fn.Properties.Runtime, id).toBe('nodejs24.x');
        expect(fn.Properties.Architectures, id).toEqual(['arm64']);
        expect(fn.Properties.TracingConfig, id).toEqual({ Mode: 'Active' });
        expect(fn.Properties.MemorySize, id).toBe(512);
        expect(stack.resource(logGroup.LogGroup.Ref).Type, id).toBe('AWS::Logs::LogGroup');
        expect(stack.resource(logGroup.LogGroup.Ref).Properties.RetentionInDays, id).toBe(30);
        expect(stack.environment(fn), id).toMatchObject({
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: 'citrix-response',
          POWERTOOLS_LOG_LEVEL: 'INFO',
        });
      }
    });

    it('gives task functions 60 s and the API function 15 s', () => {
      for (const task of SESSION_ACTION_WORKFLOW.functions) {
        expect(stack.taskFunction(task.name)[1].Properties.Timeout).toBe(60);
      }
      expect(stack.apiFunction()[1].Properties.Timeout).toBe(15);
    });

    it('passes the Citrix settings and credentials only to the functions that call Citrix', () => {
      const citrixCredentials = refTo(stack.secretId('clientSecret'));
      for (const task of SESSION_ACTION_WORKFLOW.functions) {
        const [, fn] = stack.taskFunction(task.name);
        const environment = stack.environment(fn);
        const secretReads = statementsAllowing(
          stack.statementsOf(fn),
          'secretsmanager:GetSecretValue',
        );
        expect(environment.ACTIONS_TABLE_NAME, task.name).toEqual(
          refTo(stack.onlyOfType('AWS::DynamoDB::Table')[0]),
        );
        if (task.callsCitrix) {
          expect(environment, task.name).toMatchObject({
            CITRIX_CREDENTIALS_SECRET_ARN: citrixCredentials,
            CITRIX_API_URL: 'https://api-eu.cloud.com',
            CITRIX_CUSTOMER_ID: CUSTOMER_ID,
            CITRIX_SITE_ID: SITE_ID,
          });
          expect(secretReads.flatMap(resources), task.name).toEqual([citrixCredentials]);
        } else {
          expect(Object.keys(environment).filter((name) => name.startsWith('CITRIX_'))).toEqual([]);
          expect(secretReads, task.name).toEqual([]);
          expect(
            stack
              .statementsOf(fn)
              .flatMap(actions)
              .filter((a) => a.startsWith('secretsmanager:')),
          ).toEqual([]);
        }
      }
    });

    it('lets every function get, put and update action records, and nothing more', () => {
      const [tableId] = stack.onlyOfType('AWS::DynamoDB::Table');
      for (const [id, fn] of stack.ofType('AWS::Lambda::Function')) {
        const dynamo = stack
          .statementsOf(fn)
          .filter((statement) => actions(statement).some((a) => a.startsWith('dynamodb:')));
        expect(dynamo.flatMap(actions).sort(), id).toEqual([
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
        ]);
        expect(dynamo.flatMap(resources), id).toEqual([arnOf(tableId)]);
      }
    });

    it('lets the API function start only this state machine and read only the webhook secret', () => {
      const [, fn] = stack.apiFunction();
      const statements = stack.statementsOf(fn);
      const webhookSecret = refTo(stack.secretId('signingSecret'));

      expect(stack.environment(fn)).toMatchObject({
        ACTIONS_TABLE_NAME: refTo(stack.onlyOfType('AWS::DynamoDB::Table')[0]),
        STATE_MACHINE_ARN: refTo(stack.stateMachineId()),
        WEBHOOK_SECRET_ARN: webhookSecret,
      });
      expect(statements.flatMap(actions).filter((action) => action.startsWith('states:'))).toEqual([
        'states:StartExecution',
      ]);
      expect(statementsAllowing(statements, 'states:StartExecution').flatMap(resources)).toEqual([
        refTo(stack.stateMachineId()),
      ]);
      expect(
        statementsAllowing(statements, 'secretsmanager:GetSecretValue').flatMap(resources),
      ).toEqual([webhookSecret]);
    });
  });

  describe('secrets', () => {
    it('generates both secrets in CloudFormation and retains them', () => {
      const webhook = stack.resource(stack.secretId('signingSecret'));
      const citrix = stack.resource(stack.secretId('clientSecret'));

      expect(webhook.Properties.GenerateSecretString).toMatchObject({
        SecretStringTemplate: '{}',
        PasswordLength: 64,
        ExcludePunctuation: true,
      });
      expect(citrix.Properties.GenerateSecretString).toMatchObject({
        SecretStringTemplate: JSON.stringify({ clientId: 'set-me' }),
      });
      expect([webhook.DeletionPolicy, citrix.DeletionPolicy]).toEqual(['Retain', 'Retain']);
    });

    it('puts no secret value in the template', () => {
      expect(valuesOfKey(stack.json, 'SecretString')).toEqual([]);
      for (const [id, fn] of stack.ofType('AWS::Lambda::Function')) {
        for (const [name, value] of Object.entries(stack.environment(fn))) {
          expect(name, id).not.toMatch(/SECRET$|PASSWORD|TOKEN|CLIENT_ID/);
          if (name.endsWith('_SECRET_ARN')) {
            expect(value, `${id} ${name}`).toEqual({ Ref: expect.any(String) });
            expect(stack.resource((value as { Ref: string }).Ref).Type).toBe(
              'AWS::SecretsManager::Secret',
            );
          }
        }
      }
    });
  });

  it('stores action records by actionId with PITR, TTL, encryption and retention', () => {
    const [, table] = stack.onlyOfType('AWS::DynamoDB::Table');

    expect(table.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'actionId', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'actionId', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    expect(table.DeletionPolicy).toBe('Retain');
  });

  describe('REST API', () => {
    function pathOf(resourceId: Json): string {
      const ref = (resourceId as { Ref?: string }).Ref;
      if (ref === undefined) return '';
      const resource = stack.resource(ref);
      return `${pathOf(resource.Properties.ParentId as Json)}/${String(resource.Properties.PathPart)}`;
    }

    it('routes POST /v1/actions and GET /v1/actions/{actionId} to the API function', () => {
      const [apiFunctionId] = stack.apiFunction();
      const routes = stack.ofType('AWS::ApiGateway::Method').map(([, method]) => {
        const integration = method.Properties.Integration as { Type: string; Uri: Json };
        expect(integration.Type).toBe('AWS_PROXY');
        expect(JSON.stringify(integration.Uri)).toContain(JSON.stringify(arnOf(apiFunctionId)));
        return `${String(method.Properties.HttpMethod)} ${pathOf(method.Properties.ResourceId as Json)}`;
      });

      expect(routes.sort()).toEqual(['GET /v1/actions/{actionId}', 'POST /v1/actions']);
    });

    it('validates the POST body against a model requiring action, target and reason', () => {
      const post = stack
        .ofType('AWS::ApiGateway::Method')
        .find(([, method]) => method.Properties.HttpMethod === 'POST');
      const properties = (post as [string, Resource])[1].Properties;
      const modelId = (properties.RequestModels as Record<string, { Ref: string }>)[
        'application/json'
      ]?.Ref;
      const validatorId = (properties.RequestValidatorId as { Ref: string }).Ref;

      expect(stack.resource(String(modelId)).Properties.Schema).toMatchObject({
        type: 'object',
        required: ['action', 'target', 'reason'],
      });
      expect(stack.resource(validatorId).Properties.ValidateRequestBody).toBe(true);
    });

    it('answers a body that fails the model with JSON naming what is wrong', () => {
      const [, response] = stack.onlyOfType('AWS::ApiGateway::GatewayResponse');
      expect(response.Properties.ResponseType).toBe('BAD_REQUEST_BODY');
      expect(response.Properties.StatusCode).toBe('400');
      const template = (response.Properties.ResponseTemplates as Record<string, string>)[
        'application/json'
      ];
      expect(template).toContain('$context.error.validationErrorString');
      // With a sample validation error substituted, the template is valid JSON in the API's shape.
      const sample = template?.replace(
        /\$util\.escapeJavaScript\(\$context\.error\.validationErrorString\)\.replaceAll\("\\\\'","'"\)/,
        String.raw`[object has missing required properties ([\"reason\"])]`,
      );
      expect(JSON.parse(sample ?? '')).toEqual({
        error: {
          code: 'invalid_request',
          message: '[object has missing required properties (["reason"])]',
        },
      });
    });

    it('has a throttled prod stage with error logging and access logs that omit the raw path', () => {
      const [, stage] = stack.onlyOfType('AWS::ApiGateway::Stage');
      const accessLogs = stage.Properties.AccessLogSetting as { Format: string };
      const format = JSON.parse(accessLogs.Format) as Record<string, string>;

      expect(stage.Properties.StageName).toBe('prod');
      expect(stage.Properties.MethodSettings).toEqual([
        expect.objectContaining({
          HttpMethod: '*',
          ResourcePath: '/*',
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
          ThrottlingRateLimit: 20,
          ThrottlingBurstLimit: 40,
        }),
      ]);
      expect(format.resourcePath).toBe('$context.resourcePath');
      expect(Object.values(format)).not.toContain('$context.path');
      expect(accessLogs.Format).not.toMatch(/\$context\.(path|identity\.user|identity\.caller)\b/);
    });
  });

  it('outputs the API URL, the state machine, the table and the secret ARNs, never values', () => {
    const outputs = stack.json.Outputs as Record<string, { Value: Json }>;

    expect(Object.keys(outputs).sort()).toEqual([
      'ActionsTableName',
      'ApiUrl',
      'CitrixCredentialsSecretArn',
      'StateMachineArn',
      'WebhookSecretArn',
    ]);
    expect(outputs.StateMachineArn?.Value).toEqual(refTo(stack.stateMachineId()));
    expect(outputs.WebhookSecretArn?.Value).toEqual(refTo(stack.secretId('signingSecret')));
    expect(outputs.CitrixCredentialsSecretArn?.Value).toEqual(
      refTo(stack.secretId('clientSecret')),
    );
    expect(JSON.stringify(outputs.ApiUrl?.Value)).toContain('execute-api');
  });

  it('carries no deployment-blocking rule when the customer id is set', () => {
    expect(Object.keys(stack.json.Rules ?? {})).not.toContain('CitrixCustomerIdIsSet');
  });
});

describe('CitrixResponse stack with the default context', () => {
  let stack: StackTemplate;

  beforeAll(() => {
    stack = new StackTemplate(synth());
  });

  it('uses the defaults: 10 concurrent targets, 90 days of logs, api.cloud.com, no site id', () => {
    const [, stateMachine] = stack.onlyOfType('AWS::StepFunctions::StateMachine');
    const definition = JSON.parse(String(stateMachine.Properties.DefinitionString));
    const [, submit] = stack.taskFunction('submit-session-action');

    expect(valuesOfKey(definition, 'MaxConcurrency')).toEqual([10]);
    for (const [, logGroup] of stack.ofType('AWS::Logs::LogGroup')) {
      expect(logGroup.Properties.RetentionInDays).toBe(90);
    }
    expect(stack.environment(submit).CITRIX_API_URL).toBe('https://api.cloud.com');
    expect(stack.environment(submit)).not.toHaveProperty('CITRIX_SITE_ID');
  });

  it('synthesizes with the placeholder customer id but refuses to deploy', () => {
    const rule = (stack.json.Rules as Record<string, Json>).CitrixCustomerIdIsSet as {
      Assertions: { Assert: Json; AssertDescription: string }[];
    };

    expect(rule.Assertions).toHaveLength(1);
    expect(rule.Assertions[0]?.Assert).toEqual({
      'Fn::Not': [{ 'Fn::Equals': ['set-citrix-customer-id', 'set-citrix-customer-id'] }],
    });
    expect(rule.Assertions[0]?.AssertDescription).toMatch(/-c citrixCustomerId=/);
  });
});

describe('cdk-nag', () => {
  it('fails synthesis on a finding nobody acknowledged', () => {
    const { stack } = buildApp(appContext({ citrixCustomerId: 'customer-1' }));
    new Secret(stack, 'SecretWithoutRotation');

    expect(() => Template.fromStack(stack)).toThrow(
      /CitrixResponse\/SecretWithoutRotation\/[\s\S]*AwsSolutions-SMG4/,
    );
  });
});

describe('context validation', () => {
  it.each([
    [{ maxConcurrency: 0 }, /"maxConcurrency" must be an integer from 1 to 40, got 0/],
    [{ maxConcurrency: 41 }, /"maxConcurrency" must be an integer from 1 to 40/],
    [{ maxConcurrency: 2.5 }, /"maxConcurrency"/],
    [{ maxConcurrency: 'ten' }, /"maxConcurrency" .* got "ten"/],
    [{ logRetentionDays: 42 }, /"logRetentionDays" must be one of .*\b90\b.*, got 42/],
    [{ logRetentionDays: 'forever' }, /"logRetentionDays"/],
    [{ citrixApiUrl: 'https://evil.example.com' }, /"citrixApiUrl" is invalid/],
    [{ citrixApiUrl: 'http://127.0.0.1:8080' }, /"citrixApiUrl" must be an https URL/],
    [{ citrixCustomerId: 'bad id' }, /"citrixCustomerId" must be 1-64/],
    [{ citrixSiteId: 'site_with_underscore' }, /"citrixSiteId" must be 1-64/],
  ])('rejects %j', (context, message) => {
    expect(() => buildApp(appContext(context))).toThrow(InvalidContextError);
    expect(() => buildApp(appContext(context))).toThrow(message);
  });
});
