import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionRequest } from '../../../lib/actions/schema.ts';
import {
  type AcceptRequestDependencies,
  acceptSignedRequest,
} from '../../../lib/api/accept-request.ts';
import { createIdempotentAcceptor } from '../../../lib/sources/intake.ts';
import { createKeyTable, type LocalDynamo, startLocalDynamo } from '../../../local/dynamodb.ts';
import { rejection } from '../../support/rejection.ts';
import { lambdaContext } from '../../support/signed-request.ts';

let dynamo: LocalDynamo;
let tables = 0;
beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(async () => dynamo.close());

async function harness() {
  tables += 1;
  const tableName = `idempotency-${tables}`;
  await createKeyTable(dynamo.client, tableName, 'id');
  const started: ActionRequest[] = [];
  const dependencies: AcceptRequestDependencies = {
    acceptor: createIdempotentAcceptor({
      accept: async (request, _source, actionId) => {
        started.push(request);
        return { actionId };
      },
      persistenceStore: new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: dynamo.client }),
      expiresAfterSeconds: 3600,
    }),
    audit: { append: async () => undefined },
    callbackNames: new Set(['soc', 'other']),
  };
  const post = (body: unknown, webhookId = 'msg_1') =>
    acceptSignedRequest(dependencies, JSON.stringify(body), webhookId, lambdaContext);
  return { post, started };
}

const BASE = {
  action: 'session.logoff',
  target: { user: 'alice@corp.example.com' },
  reason: 'Compromised credentials',
  requestedBy: 'soc.analyst@example.com',
  notify: { title: 'Security', text: 'Your session ends in 15 minutes', graceSeconds: 900 },
  callback: 'soc',
};

describe('acceptSignedRequest: a webhook-id sent again', () => {
  it('is the same action when only the reason or requester changed', async () => {
    const { post, started } = await harness();
    const first = await post(BASE);
    const again = await post({ ...BASE, reason: 'Re-sent', requestedBy: 'other@example.com' });
    expect(again).toMatchObject({ actionId: first.actionId, duplicate: true });
    expect(started).toHaveLength(1);
  });

  it.each([
    ['another urgency', { ...BASE, urgency: 'immediate' }],
    ['another session warning', { ...BASE, notify: { ...BASE.notify, graceSeconds: 0 } }],
    ['no session warning', { ...BASE, notify: undefined }],
    ['another callback', { ...BASE, callback: 'other' }],
    ['no callback', { ...BASE, callback: undefined }],
  ])('answers 409 conflict when it asks for %s, starting nothing', async (_, changed) => {
    const { post, started } = await harness();
    await post(BASE);

    const error = (await rejection(post(changed))) as Error & { statusCode?: number };
    expect(error.statusCode).toBe(409);
    expect(JSON.parse(error.message).error.code).toBe('conflict');
    expect(started).toHaveLength(1);
  });
});
