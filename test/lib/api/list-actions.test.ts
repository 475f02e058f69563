import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  ActionListSchema,
  type ListActionsQuery,
  type ListedAction,
} from '../../../lib/actions/list.ts';
import type { ActionListPage } from '../../../lib/actions/list-store.ts';
import { listActions } from '../../../lib/api/list-actions.ts';
import { rejection } from '../../support/rejection.ts';

const LISTED: ListedAction = {
  actionId: `act_${'1'.repeat(32)}`,
  action: 'session.logoff',
  status: 'succeeded',
  target: { user: 'alice@example.com' },
  reason: 'Impossible travel',
  ticket: 'INC0010001',
  requestedBy: 'soc.lead@example.com',
  dryRun: false,
  createdAt: '2026-12-01T00:00:00.000Z',
  updatedAt: '2026-12-01T00:01:00.000Z',
  summary: '2 sessions logged off',
  parentActionId: `act_${'2'.repeat(32)}`,
};

/** A listing that answers `page` and remembers each query it was asked. */
function storeAnswering(page: ActionListPage) {
  const queries: ListActionsQuery[] = [];
  return {
    queries,
    listing: {
      list: async (query: ListActionsQuery) => {
        queries.push(query);
        return page;
      },
    },
  };
}

/** The query string of a request as API Gateway passes it (one value, and every value). */
function event(query: Record<string, string | string[]> | null) {
  if (query === null) {
    return { queryStringParameters: null, multiValueQueryStringParameters: null };
  }
  const all = Object.fromEntries(
    Object.entries(query).map(([name, value]) => [name, Array.isArray(value) ? value : [value]]),
  );
  return {
    queryStringParameters: Object.fromEntries(
      Object.entries(all).map(([name, values]) => [name, values.at(-1) as string]),
    ),
    multiValueQueryStringParameters: all,
  } satisfies Pick<
    APIGatewayProxyEvent,
    'queryStringParameters' | 'multiValueQueryStringParameters'
  >;
}

async function refusal(query: Record<string, string | string[]>) {
  const store = storeAnswering({ items: [] });
  const error = (await rejection(listActions(store, event(query)))) as Error & {
    statusCode: number;
  };
  const body = JSON.parse(error.message) as {
    error: { code: string; fields: { field: string; message: string }[] };
  };
  return { statusCode: error.statusCode, body, queries: store.queries };
}

describe('GET /v1/actions', () => {
  it('answers a page of list items, with the token to continue, never cached', async () => {
    const withSecret = { ...LISTED, approvalTaskToken: 'never-listed', results: {} };
    const store = storeAnswering({ items: [withSecret], nextToken: 'next-page' });

    const answer = await listActions(store, event(null));

    expect(answer.statusCode).toBe(200);
    expect(answer.headers).toEqual({
      'content-type': 'application/json',
      'cache-control': 'no-store',
    });
    const body = JSON.parse(answer.body);
    expect(body).toEqual({ actions: [LISTED], nextToken: 'next-page' });
    expect(ActionListSchema.parse(body)).toEqual(body);
    expect(answer.body).not.toContain('never-listed');
    expect(store.queries).toEqual([{ limit: 25 }]);
  });

  it('passes the parsed filters to the store and leaves nextToken out at the end', async () => {
    const store = storeAnswering({ items: [] });

    const answer = await listActions(
      store,
      event({ status: 'failed,rejected', action: 'device.wipe', target: 'carol', limit: '5' }),
    );

    expect(JSON.parse(answer.body)).toEqual({ actions: [] });
    expect(store.queries).toEqual([
      { status: ['failed', 'rejected'], action: 'device.wipe', target: 'carol', limit: 5 },
    ]);
  });

  it.each([
    ['status', 'done'],
    ['action', 'device.erase'],
    ['target', 'x'.repeat(300)],
    ['since', 'last week'],
    ['ticket', 'x'.repeat(200)],
    ['limit', '1000'],
    ['nextToken', 'forged'],
  ])('refuses a bad %s with 400 naming it, without reading the store', async (name, value) => {
    const { statusCode, body, queries } = await refusal({ [name]: value });

    expect(statusCode).toBe(400);
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.fields.map((field) => field.field)).toEqual([name]);
    expect(queries).toEqual([]);
  });

  it('refuses an unknown parameter by its name, rather than listing everything', async () => {
    const { statusCode, body, queries } = await refusal({ stauts: 'failed', limit: '5' });

    expect(statusCode).toBe(400);
    expect(body.error.fields).toEqual([
      { field: 'stauts', message: 'is not a field of this request' },
    ]);
    expect(queries).toEqual([]);
  });

  it('refuses a parameter given twice, which API Gateway would reduce to its last value', async () => {
    const { statusCode, body, queries } = await refusal({
      status: ['failed', 'succeeded'],
      ticket: 'INC1',
    });

    expect(statusCode).toBe(400);
    expect(body.error.fields).toEqual([{ field: 'status', message: 'must be given once' }]);
    expect(queries).toEqual([]);
  });
});
