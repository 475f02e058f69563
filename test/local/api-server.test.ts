import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSourceRequestsHandler } from '../../functions/source-requests.ts';
import { MAX_BODY_BYTES } from '../../lib/api/request.ts';
import type { ApiFunction, ApiHandler } from '../../lib/api/routes.ts';
import { loadRoutingRules } from '../../lib/sources/routing.ts';
import { type RunningApiServer, startApiServer } from '../../local/api-server.ts';
import { LOCAL_DEMO_SOURCE_SECRETS } from '../../local/defaults.ts';
import { LocalPeopleSchema } from '../../local/people.ts';
import { sigV4Fetch } from '../support/local-stack.ts';
import { TEST_PEOPLE } from '../support/signed-request.ts';

/**
 * The local API server stands in for API Gateway: it authenticates the people's routes with
 * SigV4 and hands the handler the principal in `requestContext.identity`, as API Gateway does.
 */
const seen: unknown[] = [];
const echo: ApiHandler = async (event) => {
  seen.push(event.requestContext.identity);
  return { statusCode: 200, body: JSON.stringify({ ok: true }) };
};
/** The functions that answered, in order: as API Gateway, the server picks one per route. */
const served: ApiFunction[] = [];
const echoAs =
  (name: ApiFunction): ApiHandler =>
  async (event, context) => {
    served.push(name);
    return echo(event, context);
  };
let server: RunningApiServer;

beforeAll(async () => {
  server = await startApiServer(
    {
      'actions-api': echoAs('actions-api'),
      'action-records-api': echoAs('action-records-api'),
      'source-webhooks': echoAs('source-webhooks'),
      'source-requests': echoAs('source-requests'),
      'api-document': echoAs('api-document'),
    },
    { people: LocalPeopleSchema.parse(TEST_PEOPLE) },
  );
});
afterAll(async () => server.close());

describe('the local API server', () => {
  it('hands a people route the principal that signed, as API Gateway fills it for an IAM user', async () => {
    seen.length = 0;
    const response = await sigV4Fetch(`${server.url}/v1/actions?ticket=INC1`, {
      credentials: TEST_PEOPLE['approver@example.com'],
    });
    expect(response.status).toBe(200);
    expect(seen).toEqual([
      expect.objectContaining({
        userArn: 'arn:aws:iam::000000000000:user/approver@example.com',
        accountId: '000000000000',
        accessKey: TEST_PEOPLE['approver@example.com'].accessKeyId,
        user: expect.stringMatching(/^AIDA/),
        caller: expect.stringMatching(/^AIDA/),
      }),
    ]);
  });

  it('hands POST /v1/actions to actions-api, and reading and deciding to action-records-api', async () => {
    served.length = 0;
    const credentials = TEST_PEOPLE['approver@example.com'];
    const actionId = `act_${'0'.repeat(32)}`;
    // sigV4Fetch POSTs a body and GETs without one.
    for (const [path, body] of [
      ['/v1/actions', '{}'],
      ['/v1/actions', ''],
      [`/v1/actions/${actionId}`, ''],
      [`/v1/actions/${actionId}/approve`, '{}'],
      [`/v1/actions/${actionId}/reject`, '{}'],
    ] as const) {
      const response = await sigV4Fetch(`${server.url}${path}`, { credentials, body });
      expect(response.status, path).toBe(200);
    }
    expect(served).toEqual([
      'actions-api',
      'action-records-api',
      'action-records-api',
      'action-records-api',
      'action-records-api',
    ]);
  });

  it('authenticates no one on the source and public routes: they get no principal', async () => {
    seen.length = 0;
    const response = await sigV4Fetch(`${server.url}/v1/webhooks/standard`, { body: '{}' });
    expect(response.status).toBe(200);
    expect(seen).toEqual([expect.objectContaining({ userArn: null })]);
  });

  it('hands the sources that name their action to source-requests, the alerting ones to source-webhooks', async () => {
    served.length = 0;
    for (const source of ['servicenow', 'standard', 'sentinel', 'pagerduty', 'splunk/t0k3n']) {
      const response = await fetch(`${server.url}/v1/webhooks/${source}`, {
        method: 'POST',
        body: '{}',
      });
      expect(response.status, source).toBe(200);
    }
    expect(served).toEqual([
      'source-requests',
      'source-requests',
      'source-webhooks',
      'source-webhooks',
      'source-webhooks',
    ]);
  });

  it('answers a body over API Gateway’s 10 MB limit with 413, before any handler runs', async () => {
    seen.length = 0;
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const sent = request(`${server.url}/v1/webhooks/standard`, {
        method: 'POST',
        headers: { 'content-length': String(10 * 1024 * 1024 + 1) },
      });
      sent.on('response', (response) => {
        resolve(response.statusCode);
        sent.destroy();
      });
      sent.on('error', reject);
      sent.write('{');
    });
    expect(status).toBe(413);
    expect(seen).toEqual([]);
  });
});

const MiB = 1024 * 1024;

/**
 * Streams `total` bytes of body in chunks with no `content-length` (chunked, as a client that
 * does not know the size sends), stopping once the answer arrives; the answer and how much was
 * sent by then.
 */
function streamBody(
  url: string,
  total: number,
): Promise<{ status: number | undefined; body: string; sent: number }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const sending = request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    sending.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => {
        answered = true;
        resolve({ status: response.statusCode, body, sent });
        sending.destroy();
      });
    });
    sending.on('error', (error) => {
      if (!answered) reject(error);
    });
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const pump = (): void => {
      while (!answered && sent < total) {
        sent += chunk.length;
        if (!sending.write(chunk)) {
          sending.once('drain', pump);
          return;
        }
      }
      if (!answered) sending.end();
    };
    pump();
  });
}

describe('the local API server and body sizes, as API Gateway answers them', () => {
  let sized: RunningApiServer;
  const invoked: ApiFunction[] = [];
  beforeAll(async () => {
    // The requesting sources' real function; the others only say that they ran.
    const sources = createSourceRequestsHandler(() => ({
      secrets: { read: async (source) => LOCAL_DEMO_SOURCE_SECRETS[source] as never },
      rules: loadRoutingRules(new URL('../../config/routes.json', import.meta.url)),
      acceptor: async () => {
        throw new Error('nothing may be accepted');
      },
      deliveries: { record: async () => undefined },
      audit: { append: async () => undefined },
    }));
    const only =
      (name: ApiFunction, handler: ApiHandler): ApiHandler =>
      async (event, context) => {
        invoked.push(name);
        return handler(event, context);
      };
    sized = await startApiServer({
      'actions-api': only('actions-api', echo),
      'action-records-api': only('action-records-api', echo),
      'source-webhooks': only('source-webhooks', echo),
      'source-requests': only('source-requests', sources),
      'api-document': only('api-document', echo),
    });
  });
  afterAll(async () => sized.close());

  it.each([
    ['1 MB over the function’s own limit', MAX_BODY_BYTES + MiB],
    ['exactly 10 MB, the most API Gateway passes on', 10 * MiB],
  ])('hands a body of %s to the function, which answers 413 body_too_large', async (_, size) => {
    invoked.length = 0;
    const response = await fetch(`${sized.url}/v1/webhooks/standard`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'a'.repeat(size),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      error: { code: 'body_too_large', message: `The body exceeds ${MAX_BODY_BYTES} bytes` },
    });
    expect(invoked).toEqual(['source-requests']);
  });

  it('answers a streamed body past 10 MB with API Gateway’s 413 once it passes the limit, never invoking the function', async () => {
    invoked.length = 0;
    const total = 64 * MiB;
    const answer = await streamBody(`${sized.url}/v1/webhooks/standard`, total);
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({ message: 'Request Too Long' });
    // Answered while the client was still sending: the server did not wait for (or keep) it all.
    expect(answer.sent).toBeLessThan(total);
    expect(invoked).toEqual([]);
  });

  it('still answers on the same server afterwards', async () => {
    const response = await fetch(`${sized.url}/v1/webhooks/sentinel`, {
      method: 'POST',
      body: '{}',
    });
    expect(response.status).toBe(200);
  });
});
