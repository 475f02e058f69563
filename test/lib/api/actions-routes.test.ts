import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionRecordsApiDependencies } from '../../../functions/action-records-api.ts';
import type { ActionsApiDependencies, ApiHandler } from '../../../functions/actions-api.ts';
import type { ActionRecord } from '../../../lib/actions/schema.ts';
import type { AuditEntry } from '../../../lib/audit/audit-log.ts';
import type { logger as Logger } from '../../../lib/runtime/logger.ts';
import { apiEvent, iamUser, lambdaContext } from '../../support/signed-request.ts';

/**
 * The action id is the correlation id of the API's log lines too (as of every workflow task), so
 * one search finds the request, the approval and the workflow of one action.
 */
const ACTION_ID = 'act_0123456789abcdef0123456789abcdef';
const lines: Record<string, unknown>[] = [];
const originalWrite = process.stdout.write.bind(process.stdout);
const originalLevel = process.env.POWERTOOLS_LOG_LEVEL;
const audit: AuditEntry[] = [];

const held: ActionRecord = {
  actionId: ACTION_ID,
  action: 'device.wipe',
  target: { deviceId: '1042' },
  reason: 'correlation test',
  requestedBy: 'requester@example.com',
  dryRun: false,
  status: 'awaiting_approval',
  createdAt: '2026-11-23T03:00:00.000Z',
  updatedAt: '2026-11-23T03:00:00.000Z',
  results: {},
  expiresAt: 1_900_000_000,
  approval: {
    reasons: ['device.wipe needs approval'],
    requestedAt: '2026-11-23T03:00:00.000Z',
    expiresAt: '2099-01-01T00:00:00.000Z',
  },
  approvalTaskToken: 'task-token',
};

const dependencies: ActionsApiDependencies = {
  acceptor: async () => ({ actionId: ACTION_ID, duplicate: false }),
  callbackNames: new Set(),
  audit: { append: async (entries) => void audit.push(...entries) },
};
const recordsDependencies: ActionRecordsApiDependencies = {
  actions: {
    get: async () => held,
    decideApproval: async () => 'task-token',
  },
  listing: { list: async () => ({ items: [] }) },
  tokens: { succeed: async () => undefined, fail: async () => undefined },
  audit: {
    append: async (entries) => void audit.push(...entries),
    timeline: async () => [],
  },
};
/** actions-api's handler (POST /v1/actions). */
let handler: ApiHandler;
/** action-records-api's handler (reading and deciding). */
let recordsHandler: ApiHandler;
let logger: typeof Logger;

beforeAll(async () => {
  // The logger reads its level when its module loads (and resets to it on every invocation).
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  ({ logger } = await import('../../../lib/runtime/logger.ts'));
  const { createActionsApiHandler } = await import('../../../functions/actions-api.ts');
  handler = createActionsApiHandler(() => dependencies);
  const { createActionRecordsApiHandler } = await import(
    '../../../functions/action-records-api.ts'
  );
  recordsHandler = createActionRecordsApiHandler(() => recordsDependencies);
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    const text = String(chunk);
    if (text.startsWith('{"level":"')) lines.push(JSON.parse(text) as Record<string, unknown>);
    return (originalWrite as (chunk: unknown, ...rest: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
});
afterAll(() => {
  process.stdout.write = originalWrite;
  if (originalLevel === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
  else process.env.POWERTOOLS_LOG_LEVEL = originalLevel;
});

const logged = (message: string) => lines.filter((line) => line.message === message);

describe('API log lines', () => {
  it('carry the action id as correlation id when an action is accepted', async () => {
    const response = await handler(
      apiEvent({
        method: 'POST',
        resource: '/v1/actions',
        path: '/v1/actions',
        body: JSON.stringify({
          action: 'device.wipe',
          target: { deviceId: '1042' },
          reason: 'correlation test',
        }),
        identity: iamUser('requester@example.com'),
      }),
      lambdaContext,
    );
    expect(response.statusCode).toBe(202);
    expect(logged('action accepted')).toEqual([
      expect.objectContaining({ correlation_id: ACTION_ID, actionId: ACTION_ID }),
    ]);
  });

  it('carry it when an approval is decided, and the audit entry names the request', async () => {
    const event = apiEvent({
      method: 'POST',
      resource: '/v1/actions/{actionId}/approve',
      path: `/v1/actions/${ACTION_ID}/approve`,
      pathParameters: { actionId: ACTION_ID },
      body: '',
      identity: iamUser('approver@example.com'),
    });
    const response = await recordsHandler(event, lambdaContext);
    expect(response.statusCode).toBe(200);
    const { requestId } = event.requestContext;
    expect(logged('approval decided')).toEqual([
      expect.objectContaining({ correlation_id: ACTION_ID, actionId: ACTION_ID, requestId }),
    ]);
    expect(audit.at(-1)?.details).toMatchObject({ requestId, by: 'approver@example.com' });
  });

  it('do not keep one request’s correlation id for the next', async () => {
    const response = await handler(
      apiEvent({
        method: 'POST',
        resource: '/v1/actions',
        path: '/v1/actions',
        body: '{',
        identity: iamUser('requester@example.com'),
      }),
      lambdaContext,
    );
    expect(response.statusCode).toBe(400);
    expect(logger.getCorrelationId()).toBeUndefined();
  });
});
