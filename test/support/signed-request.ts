import { randomUUID } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { APIGatewayEventIdentity, APIGatewayProxyEvent, Context } from 'aws-lambda';
import { signStandardWebhook } from '../../lib/webhooks/standard-webhooks.ts';

export const TEST_SIGNING_SECRET = `whsec_${Buffer.from('citrix-response test signing secret').toString('base64')}`;

export const TEST_ACCOUNT = '123456789012';

/** The people of the test stacks (`LOCAL_PEOPLE`): one asks, another approves. */
export const TEST_PEOPLE = {
  'requester@example.com': {
    accessKeyId: 'TESTREQUESTER0000001',
    secretAccessKey: 'test-requester-secret-access-key',
  },
  'approver@example.com': {
    accessKeyId: 'TESTAPPROVER00000002',
    secretAccessKey: 'test-approver-secret-access-key',
  },
} as const;
export type TestPerson = keyof typeof TEST_PEOPLE;

/** `requestContext.identity` as API Gateway fills it for an IAM user it authenticated. */
export function iamUser(name: string, account = TEST_ACCOUNT): Partial<APIGatewayEventIdentity> {
  return {
    userArn: `arn:aws:iam::${account}:user/${name}`,
    accountId: account,
    user: 'AIDATESTUSER00000001',
    caller: 'AIDATESTUSER00000001',
    accessKey: 'AKIDTESTUSER00000001',
  };
}

/** As `iamUser`, for a role session (an IAM Identity Center one when `role` is AWSReservedSSO_…). */
export function roleSession(
  role: string,
  session: string,
  account = TEST_ACCOUNT,
): Partial<APIGatewayEventIdentity> {
  return {
    userArn: `arn:aws:sts::${account}:assumed-role/${role}/${session}`,
    accountId: account,
    user: `AROATESTROLE00000001:${session}`,
    caller: `AROATESTROLE00000001:${session}`,
    accessKey: 'ASIATESTROLE00000001',
  };
}

export interface SigV4Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * The headers a SigV4 client (the AWS SDK's own signer, as the CLI uses) sends for a request to
 * `url`: `host`, `x-amz-date`, `x-amz-content-sha256`, `authorization`, and the given ones.
 */
export async function sigV4Headers(
  url: string,
  options: {
    method: string;
    body?: string;
    credentials: SigV4Credentials;
    headers?: Record<string, string>;
    region?: string;
    signingDate?: Date;
  },
): Promise<Record<string, string>> {
  const target = new URL(url);
  const signer = new SignatureV4({
    service: 'execute-api',
    region: options.region ?? 'eu-west-1',
    credentials: options.credentials,
    sha256: Hash.bind(null, 'sha256'),
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: options.method,
      protocol: target.protocol,
      hostname: target.hostname,
      ...(target.port ? { port: Number(target.port) } : {}),
      path: target.pathname,
      query: Object.fromEntries(target.searchParams),
      headers: { host: target.host, ...options.headers },
      ...(options.body ? { body: options.body } : {}),
    }),
    options.signingDate ? { signingDate: options.signingDate } : {},
  );
  return Object.fromEntries(
    Object.entries(signed.headers).map(([name, value]) => [name, String(value)]),
  );
}

/** A REST API proxy event as API Gateway sends it, signed (or not) like a source tool would. */
export function apiEvent(options: {
  method: 'GET' | 'POST';
  resource: string;
  path: string;
  body?: string;
  secret?: string | null;
  timestamp?: Date;
  headers?: Record<string, string>;
  pathParameters?: Record<string, string>;
  /** The Standard Webhooks message id (`webhook-id`); random when absent. */
  messageId?: string;
  /** The principal API Gateway authenticated (IAM authorization): `iamUser`, `roleSession`. */
  identity?: Partial<APIGatewayEventIdentity>;
  queryStringParameters?: Record<string, string>;
}): APIGatewayProxyEvent {
  const body = options.body ?? '';
  const signed =
    options.secret === null
      ? {}
      : signStandardWebhook(
          options.secret ?? TEST_SIGNING_SECRET,
          options.messageId ?? `msg_${randomUUID()}`,
          options.timestamp ?? new Date(),
          body,
        );
  return {
    resource: options.resource,
    path: options.path,
    httpMethod: options.method,
    headers: {
      Host: 'abc123.execute-api.eu-west-1.amazonaws.com',
      'Content-Type': 'application/json',
      ...signed,
      ...options.headers,
    },
    multiValueHeaders: {},
    queryStringParameters: options.queryStringParameters ?? null,
    multiValueQueryStringParameters: options.queryStringParameters
      ? Object.fromEntries(
          Object.entries(options.queryStringParameters).map(([name, value]) => [name, [value]]),
        )
      : null,
    pathParameters: options.pathParameters ?? null,
    stageVariables: null,
    body: body === '' ? null : body,
    isBase64Encoded: false,
    requestContext: {
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      path: `/prod${options.path}`,
      stage: 'prod',
      requestId: randomUUID(),
      ...(options.identity ? { identity: options.identity } : {}),
    } as APIGatewayProxyEvent['requestContext'],
  };
}

export const lambdaContext = {
  awsRequestId: 'test',
  functionName: 'test',
  getRemainingTimeInMillis: () => 10_000,
} as Context;
