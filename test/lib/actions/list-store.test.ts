import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ListActionsQuery, ListActionsQuerySchema } from '../../../lib/actions/list.ts';
import { DynamoActionList } from '../../../lib/actions/list-store.ts';
import type { ActionRecord } from '../../../lib/actions/schema.ts';
import { ActionRecordCorruptError, DynamoActionStore } from '../../../lib/actions/store.ts';
import { createActionsTable, type LocalDynamo, startLocalDynamo } from '../../../local/dynamodb.ts';

/**
 * DynamoActionList against a DynamoDB-compatible engine with the stack's indexes, over records
 * DynamoActionStore writes: newest first, each filter, paging within and across month partitions,
 * the ticket index, and Query only.
 */

const TABLE = 'actions-list-test';
const NOW = new Date('2026-12-10T12:00:00.000Z');
let dynamo: LocalDynamo;
/** Writes the records the listing reads. */
let store: DynamoActionStore;
let listing: DynamoActionList;
/** The DynamoDB commands the client sent (and the index each read), since the last reset. */
const sent: string[] = [];

const id = (n: number) => `act_${n.toString(16).padStart(32, '0')}`;

function record(n: number, fields: Partial<ActionRecord> & Pick<ActionRecord, 'createdAt'>) {
  return {
    actionId: id(n),
    action: 'session.logoff',
    target: { user: 'alice@example.com' },
    reason: `Reason ${n}`,
    requestedBy: 'soc.lead@example.com',
    dryRun: false,
    status: 'succeeded',
    updatedAt: fields.createdAt,
    results: {},
    expiresAt: 1_900_000_000,
    ...fields,
  } satisfies ActionRecord;
}

/** Newest first, as every listing should return them. */
const RECORDS = [
  record(1, { createdAt: '2026-12-10T08:00:00.000Z', ticket: 'INC0010001', summary: 'Done' }),
  record(2, {
    createdAt: '2026-12-01T00:00:00.000Z',
    action: 'device.wipe',
    status: 'awaiting_approval',
    ticket: 'INC0010001',
  }),
  record(3, {
    createdAt: '2026-11-30T23:59:59.000Z',
    action: 'device.selectiveWipe',
    target: { user: 'bob@example.com' },
    status: 'failed',
    dryRun: true,
  }),
  record(4, {
    createdAt: '2026-10-15T08:00:00.000Z',
    action: 'admin.revoke',
    target: { admin: 'mallory@example.com' },
    options: { mode: 'strip' },
    ticket: 'INC0010002',
  }),
  record(5, {
    createdAt: '2026-08-02T08:00:00.000Z',
    action: 'session.disconnect',
    target: { users: ['erin@example.com', 'EXAMPLE\\carol'] },
    status: 'partially_succeeded',
  }),
  // Older than the default window (400 days back from NOW: 2025-11-05).
  record(6, { createdAt: '2025-06-01T08:00:00.000Z', ticket: 'INC0010001' }),
];
const ALL_IN_WINDOW = [1, 2, 3, 4, 5].map(id);

const query = (parameters: Record<string, string> = {}): ListActionsQuery =>
  ListActionsQuerySchema.parse(parameters);

async function listIds(parameters: Record<string, string> = {}): Promise<string[]> {
  const page = await listing.list(query(parameters));
  return page.items.map((item) => item.actionId);
}

/** Follows nextToken to the end; returns each page's ids. */
async function pages(parameters: Record<string, string>): Promise<string[][]> {
  const found: string[][] = [];
  let nextToken: string | undefined;
  do {
    const page = await listing.list(
      query({ ...parameters, ...(nextToken === undefined ? {} : { nextToken }) }),
    );
    found.push(page.items.map((item) => item.actionId));
    nextToken = page.nextToken;
  } while (nextToken !== undefined && found.length < 20);
  return found;
}

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  dynamo.client.middlewareStack.add(
    (next, context) => (args) => {
      const index = (args.input as { IndexName?: string }).IndexName;
      sent.push(
        index === undefined ? String(context.commandName) : `${context.commandName} ${index}`,
      );
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
  await createActionsTable(dynamo.client, TABLE);
  store = new DynamoActionStore(dynamo.client, TABLE, { now: () => NOW });
  listing = new DynamoActionList(dynamo.client, TABLE, { now: () => NOW });
  for (const each of RECORDS) await store.create(each);
  // Items the listing must never show: a session batch item beside its action, and a record
  // written before the indexes existed (no listMonth).
  await dynamo.client.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: {
        actionId: { S: `${id(1)}#batch#0000` },
        createdAt: { S: '2026-12-09T10:00:00.000Z' },
      },
    }),
  );
  const legacy = record(7, { createdAt: '2026-12-05T00:00:00.000Z' });
  await dynamo.client.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: {
        actionId: { S: legacy.actionId },
        createdAt: { S: legacy.createdAt },
        action: { S: legacy.action },
        status: { S: legacy.status },
      },
    }),
  );
});

afterAll(async () => {
  await dynamo.close();
});

describe('DynamoActionList.list', () => {
  it('lists the actions of the default window newest first, across months, with their listed fields', async () => {
    const page = await listing.list(query());

    expect(page.items.map((item) => item.actionId)).toEqual(ALL_IN_WINDOW);
    expect(page.nextToken).toBeUndefined();
    expect(page.items[0]).toEqual({
      actionId: id(1),
      action: 'session.logoff',
      status: 'succeeded',
      target: { user: 'alice@example.com' },
      reason: 'Reason 1',
      ticket: 'INC0010001',
      requestedBy: 'soc.lead@example.com',
      dryRun: false,
      createdAt: '2026-12-10T08:00:00.000Z',
      updatedAt: '2026-12-10T08:00:00.000Z',
      summary: 'Done',
    });
  });

  it.each([
    [{ status: 'failed' }, [3]],
    [{ status: 'failed,awaiting_approval' }, [2, 3]],
    [{ action: 'device.wipe' }, [2]],
    [{ action: 'admin.revoke', status: 'succeeded' }, [4]],
    [{ action: 'admin.revoke', status: 'failed' }, []],
    // Any part of any target value, whatever its case; list targets by each name.
    [{ target: 'ALICE@example' }, [1, 2]],
    [{ target: 'mallory@example.com' }, [4]],
    [{ target: 'example\\carol' }, [5]],
    [{ target: 'bob', status: 'failed' }, [3]],
    [{ target: 'nobody@example.com' }, []],
  ])('filters by %j', async (parameters, expected) => {
    expect(await listIds(parameters)).toEqual(expected.map(id));
  });

  it('reads a ticket from its own index, within the window unless since reaches further', async () => {
    sent.length = 0;
    expect(await listIds({ ticket: 'INC0010001' })).toEqual([id(1), id(2)]);
    expect(await listIds({ ticket: 'INC0010001', since: 'P600D' })).toEqual([id(1), id(2), id(6)]);
    expect(await listIds({ ticket: 'INC0010001', action: 'device.wipe' })).toEqual([id(2)]);
    expect(await listIds({ ticket: 'INC0010002' })).toEqual([id(4)]);
    expect(await listIds({ ticket: 'INC9999999' })).toEqual([]);
    // One Query each: the ticket's partition, never a walk of the months.
    expect(sent).toEqual(Array(5).fill('QueryCommand byTicket'));
  });

  it.each([
    // A duration back from NOW, and a date-time.
    [{ since: 'PT24H' }, [1]],
    [{ since: 'P10D' }, [1, 2, 3]],
    [{ since: 'P1W' }, [1]],
    [{ since: '2026-11-30T23:59:59Z' }, [1, 2, 3]],
    [{ since: '2026-12-01T01:00:00+01:00' }, [1, 2]],
    [{ since: 'P600D' }, [1, 2, 3, 4, 5, 6]],
  ])('lists what was created since %j', async (parameters, expected) => {
    expect(await listIds(parameters)).toEqual(expected.map(id));
  });

  it('pages through every action, one at a time, across months, and ends', async () => {
    const found = await pages({ limit: '1', since: 'P600D' });

    // The months older than the last action's are read before the listing knows it is over:
    // its last page is empty.
    expect(found).toEqual([...[1, 2, 3, 4, 5, 6].map((n) => [id(n)]), []]);
  });

  it('pages with filters, in pages of two, without repeating or skipping an action', async () => {
    expect(await pages({ limit: '2', target: 'example.com' })).toEqual([
      [id(1), id(2)],
      [id(3), id(4)],
      [id(5)],
    ]);
    expect(await pages({ limit: '1', ticket: 'INC0010001', since: 'P600D' })).toEqual([
      [id(1)],
      [id(2)],
      [id(6)],
    ]);
  });

  it('reads with Query on the indexes only, never Scan or a read per action', async () => {
    sent.length = 0;
    await pages({ limit: '2' });
    await listing.list(query({ status: 'failed', target: 'bob' }));

    expect(new Set(sent)).toEqual(new Set(['QueryCommand byCreatedAt']));
  });
});

describe('DynamoActionList.list, its bounds', () => {
  it('stops after 20 Queries of at most 100 items and answers a nextToken that continues there', async () => {
    const documents = mockClient(DynamoDBDocumentClient);
    // Every Query reads a full page of actions that the filter leaves out, and more follow.
    documents.on(QueryCommand).callsFake((input: { ExclusiveStartKey?: { actionId: string } }) => ({
      Items: [],
      LastEvaluatedKey: {
        actionId: id(Number.parseInt(input.ExclusiveStartKey?.actionId.slice(4) ?? '0', 16) + 1),
        listMonth: '2026-12',
        createdAt: '2026-12-01T00:00:00.000Z',
      },
    }));
    try {
      const bounded = new DynamoActionList(dynamo.client, TABLE, { now: () => NOW });
      const page = await bounded.list(query({ status: 'expired' }));

      const queries = documents.commandCalls(QueryCommand);
      expect(queries).toHaveLength(20);
      expect(documents.commandCalls(ScanCommand)).toHaveLength(0);
      expect(queries.every((call) => call.args[0].input.Limit === 100)).toBe(true);
      expect(queries[0]?.args[0].input).toMatchObject({
        IndexName: 'byCreatedAt',
        ScanIndexForward: false,
        KeyConditionExpression: '#partition = :partition AND #created >= :since',
        ExpressionAttributeValues: {
          ':partition': '2026-12',
          ':since': '2025-11-05T12:00:00.000Z',
          ':status0': 'expired',
        },
      });
      expect(page.items).toEqual([]);
      const next = ListActionsQuerySchema.parse({
        status: 'expired',
        nextToken: page.nextToken,
      }).nextToken;
      expect(next).toEqual({
        month: '2026-12',
        after: { actionId: id(20), createdAt: '2026-12-01T00:00:00.000Z' },
      });
    } finally {
      documents.restore();
    }
  });

  it('fails a listing whose index holds an item that is not an action, without showing it', async () => {
    await dynamo.client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: {
          actionId: { S: id(9) },
          listMonth: { S: '2026-12' },
          createdAt: { S: '2026-12-10T11:30:00.000Z' },
          status: { S: 'secret-looking-garbage' },
        },
      }),
    );
    try {
      const error = await listing.list(query()).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ActionRecordCorruptError);
      expect(String((error as Error).message)).not.toContain('secret-looking-garbage');
    } finally {
      await dynamo.client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { actionId: { S: id(9) } },
        }),
      );
    }
  });
});

describe('DynamoActionList.list, as records change', () => {
  it('keeps the index up to date with the record: a status change is listed', async () => {
    const extra = record(8, { createdAt: '2026-12-10T11:00:00.000Z', status: 'accepted' });
    await store.create(extra);
    await store.complete(extra.actionId, { status: 'refused', summary: 'Protected user' });

    const page = await listing.list(query({ status: 'refused' }));

    expect(page.items).toMatchObject([
      { actionId: extra.actionId, status: 'refused', summary: 'Protected user' },
    ]);
  });
});
