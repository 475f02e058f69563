import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiFunction, ApiHandler } from '../../lib/api/routes.ts';
import { type RunningApiServer, startApiServer } from '../../local/api-server.ts';
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
