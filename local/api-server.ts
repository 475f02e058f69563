import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayEventIdentity, APIGatewayProxyEvent, Context } from 'aws-lambda';
import { type ApiFunction, type ApiHandler, matchRoute } from '../lib/api/routes.ts';
import { LOCAL_ACCOUNT_ID, type LocalPeople, type LocalPerson } from './people.ts';
import { SigV4VerificationError, verifySigV4 } from './sigv4.ts';

// API Gateway's own payload limit; the handler enforces the much smaller action limit.
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

/** A body over API Gateway's limit: answered 413, as API Gateway does. */
class RequestTooLongError extends Error {
  override name = 'RequestTooLongError';
}

/**
 * The body, or RequestTooLongError as soon as it is over API Gateway's limit: declared so by its
 * `content-length`, or once a streamed (chunked) body passes the limit. Nothing past the limit is
 * kept: chunks already read are dropped and later ones are not stored.
 */
function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    if (Number(request.headers['content-length'] ?? 0) > MAX_REQUEST_BYTES) {
      reject(new RequestTooLongError('Request Too Long'));
      return;
    }
    let chunks: Buffer[] = [];
    let size = 0;
    let tooLong = false;
    request.on('data', (chunk: Buffer) => {
      if (tooLong) return;
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        tooLong = true;
        chunks = [];
        reject(new RequestTooLongError('Request Too Long'));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (!tooLong) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    request.on('error', reject);
  });
}

/**
 * After a 413, what the client still sends is read and dropped, so that a client busy writing
 * reads the answer (closing at once would reset the connection under it); past another
 * MAX_REQUEST_BYTES the connection is cut.
 */
function dropTheRest(request: IncomingMessage): void {
  let dropped = 0;
  request.removeAllListeners('data');
  request.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > MAX_REQUEST_BYTES) request.socket.destroy();
  });
  request.resume();
}

/** `requestContext.identity` as API Gateway fills it for an IAM user it authenticated. */
function iamUserIdentity(person: LocalPerson): Partial<APIGatewayEventIdentity> {
  return {
    accessKey: person.accessKeyId,
    accountId: LOCAL_ACCOUNT_ID,
    caller: person.uniqueId,
    user: person.uniqueId,
    userArn: person.userArn,
  };
}

/** Builds the REST API (v1 payload) proxy event API Gateway would send for this request. */
export function toApiGatewayEvent(
  request: IncomingMessage,
  body: string,
  route: { resource: string; pathParameters: Record<string, string> },
  person?: LocalPerson,
): APIGatewayProxyEvent {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = { 'X-Forwarded-Proto': 'http' };
  const multiValueHeaders: Record<string, string[]> = { 'X-Forwarded-Proto': ['http'] };
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    headers[name] = values.join(',');
    multiValueHeaders[name] = values;
  }
  const query = [...url.searchParams.keys()];
  const requestId = randomUUID();
  const method = request.method ?? 'GET';
  return {
    resource: route.resource,
    path: url.pathname,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters: query.length ? Object.fromEntries(url.searchParams) : null,
    multiValueQueryStringParameters: query.length
      ? Object.fromEntries(query.map((key) => [key, url.searchParams.getAll(key)]))
      : null,
    pathParameters: Object.keys(route.pathParameters).length ? route.pathParameters : null,
    stageVariables: null,
    body: body === '' ? null : body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      domainName: request.headers.host ?? 'localhost',
      httpMethod: method,
      path: url.pathname,
      protocol: 'HTTP/1.1',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: route.resource,
      stage: 'local',
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        user: null,
        userAgent: request.headers['user-agent'] ?? null,
        userArn: null,
        ...(person === undefined ? {} : iamUserIdentity(person)),
      },
    },
  };
}

function localContext(requestId: string, functionName: ApiFunction): Context {
  const deadline = Date.now() + 29_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:citrix-response-local-${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/local/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

const NOBODY: LocalPeople = { people: [], personWithAccessKey: () => undefined };

export interface RunningApiServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves the HTTP API on loopback through the same Lambda handlers API Gateway invokes: one per
 * function, each getting the routes the route table gives it. The people's routes (`auth: 'iam'`)
 * take only requests SigV4-signed by one of `people`, and the handler learns who as it would
 * from API Gateway; anything else is refused before the handler runs, with API Gateway's answer.
 */
export async function startApiServer(
  handlers: Readonly<Record<ApiFunction, ApiHandler>>,
  options: {
    port?: number;
    host?: string;
    /** Local-only routes by `METHOD /path` (no signature: loopback and `npm start` only). */
    localRoutes?: Readonly<Record<string, () => Promise<{ status: number; body: unknown }>>>;
    /** Who may use the people's routes (none: every such request is refused). */
    people?: LocalPeople;
    /** The clock signatures are checked against (tests move it). */
    now?: () => Date;
  } = {},
): Promise<RunningApiServer> {
  const server: Server = createServer(async (request, response) => {
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(body);
    };
    try {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const local = options.localRoutes?.[`${request.method ?? 'GET'} ${url.pathname}`];
      if (local !== undefined) {
        const answer = await local();
        send(answer.status, JSON.stringify(answer.body));
        return;
      }
      // The route table the functions dispatch on (lib/api/routes.ts), matched as API Gateway does.
      const match = matchRoute(request.method ?? 'GET', url.pathname);
      if (match === undefined) {
        // API Gateway answers unknown resources itself, without invoking the Lambda.
        send(404, JSON.stringify({ message: 'Not Found' }));
        return;
      }
      const pathParameters = Object.fromEntries(
        Object.entries(match.pathParameters).map(([name, value]) => [
          name,
          decodeURIComponent(value),
        ]),
      );
      const requestBody = await readBody(request);
      const person =
        match.route.auth === 'iam'
          ? await verifySigV4(
              {
                method: request.method ?? 'GET',
                path: url.pathname,
                query: url.search.slice(1),
                headers: request.headers as Record<string, string | undefined>,
                body: requestBody,
              },
              options.people ?? NOBODY,
              options.now?.() ?? new Date(),
            )
          : undefined;
      const event = toApiGatewayEvent(
        request,
        requestBody,
        { resource: match.route.path, pathParameters },
        person,
      );
      const fn = match.route.function;
      const result = await handlers[fn](event, localContext(event.requestContext.requestId, fn));
      const headers = Object.fromEntries(
        Object.entries(result.headers ?? {}).map(([name, value]) => [name, String(value)]),
      );
      const body = result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body;
      response.writeHead(result.statusCode, headers);
      response.end(body);
    } catch (error) {
      if (error instanceof SigV4VerificationError) {
        send(403, JSON.stringify({ message: error.message }), {
          'x-amzn-errortype': error.errorType,
        });
      } else if (error instanceof RequestTooLongError) {
        // API Gateway's answer, while the rest of the body is read and dropped.
        dropTheRest(request);
        send(413, JSON.stringify({ message: error.message }));
      } else {
        send(500, JSON.stringify({ message: 'Internal server error' }));
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
