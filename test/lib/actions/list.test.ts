import { describe, expect, it } from 'vitest';
import {
  ACTIONS_TABLE_INDEXES,
  ActionListItemSchema,
  encodeListPosition,
  LIST_DEFAULT_DAYS,
  ListActionsQuerySchema,
  type ListedAction,
  listMonthOf,
  previousMonth,
  projectedAttributesOf,
  sinceInstant,
  targetNames,
  toActionListItem,
} from '../../../lib/actions/list.ts';

const fieldsOf = (parameters: Record<string, unknown>) =>
  ListActionsQuerySchema.safeParse(parameters).error?.issues.map((issue) => issue.path.join('.'));

describe('ListActionsQuerySchema', () => {
  it('defaults to 25 actions and no filter', () => {
    expect(ListActionsQuerySchema.parse({})).toEqual({ limit: 25 });
  });

  it('turns each filter into what the store queries with', () => {
    expect(
      ListActionsQuerySchema.parse({
        status: 'failed, awaiting_approval,failed',
        action: 'device.wipe',
        target: ' alice@example.com ',
        since: 'PT24H',
        ticket: 'INC0010001',
        limit: '100',
      }),
    ).toEqual({
      status: ['failed', 'awaiting_approval'],
      action: 'device.wipe',
      target: 'alice@example.com',
      since: { secondsAgo: 86_400 },
      ticket: 'INC0010001',
      limit: 100,
    });
  });

  it.each([
    ['P7D', 7 * 86_400],
    ['P1W', 7 * 86_400],
    ['PT24H', 86_400],
    ['PT90M', 5400],
    ['PT30S', 30],
    ['P1DT12H', 129_600],
    ['p2d', 2 * 86_400],
    ['P3650D', 3650 * 86_400],
  ])('reads since %s as a span back from now', (since, secondsAgo) => {
    expect(ListActionsQuerySchema.parse({ since }).since).toEqual({ secondsAgo });
  });

  it('reads since as a date-time, with its offset', () => {
    expect(ListActionsQuerySchema.parse({ since: '2026-12-01T01:00:00+01:00' }).since).toEqual({
      at: Date.parse('2026-12-01T00:00:00Z'),
    });
  });

  it.each([
    { status: 'done' },
    { status: '' },
    { status: 'failed,' },
    { action: 'device.erase' },
    { target: '' },
    { target: 'x'.repeat(257) },
    // Months and years have no fixed length; a date alone, a bare P or T, or text are no moment.
    { since: 'P1M' },
    { since: 'P1Y' },
    { since: 'P' },
    { since: 'PT' },
    { since: 'P1DT' },
    { since: '2026-12-01' },
    { since: '2026-13-01T00:00:00Z' },
    { since: 'yesterday' },
    // Further back than any record is kept.
    { since: 'P3651D' },
    { since: 'P522W' },
    { since: '2000-01-01T00:00:00Z' },
    { ticket: '' },
    { ticket: 'x'.repeat(129) },
    { ticket: 'INC\u0000' },
    { limit: '0' },
    { limit: '101' },
    { limit: '1.5' },
    { limit: '-1' },
    { limit: 'ten' },
    { nextToken: 'not a token' },
    { nextToken: Buffer.from('{"month":"2026-12"').toString('base64url') },
    { nextToken: encodeListPosition({ month: '2026-12' }).replace(/^./, 'A') },
    { nextToken: Buffer.from('{"month":"2026-12","scan":true}').toString('base64url') },
    { nextToken: 'x'.repeat(2049) },
    { since: `P${'0'.repeat(64)}1D` },
  ])('refuses %o, naming the parameter', (parameters) => {
    expect(fieldsOf(parameters)).toEqual(Object.keys(parameters));
  });

  it('refuses a nextToken of another listing: a ticket reads one partition, others walk months', () => {
    const monthToken = encodeListPosition({ month: '2026-12' });
    const ticketToken = encodeListPosition({
      after: { actionId: `act_${'0'.repeat(32)}`, createdAt: '2026-12-01T00:00:00.000Z' },
    });

    expect(fieldsOf({ nextToken: monthToken })).toBeUndefined();
    expect(fieldsOf({ nextToken: monthToken, ticket: 'INC1' })).toEqual(['nextToken']);
    expect(fieldsOf({ nextToken: ticketToken, ticket: 'INC1' })).toBeUndefined();
    expect(fieldsOf({ nextToken: ticketToken })).toEqual(['nextToken']);
  });

  it('refuses a parameter it does not know instead of ignoring it', () => {
    expect(ListActionsQuerySchema.safeParse({ stauts: 'failed' }).error?.issues).toMatchObject([
      { code: 'unrecognized_keys', keys: ['stauts'] },
    ]);
  });

  it('round-trips a position through its token', () => {
    const position = {
      month: '2026-01',
      after: { actionId: `act_${'a'.repeat(32)}`, createdAt: '2026-01-31T23:59:59.999Z' },
    };
    expect(
      ListActionsQuerySchema.parse({ nextToken: encodeListPosition(position) }).nextToken,
    ).toEqual(position);
  });
});

describe('the listing window and months', () => {
  const now = new Date('2026-12-10T12:00:00.000Z');

  it(`reaches ${LIST_DEFAULT_DAYS} days back by default, or to since`, () => {
    expect(sinceInstant(undefined, now).toISOString()).toBe('2025-11-05T12:00:00.000Z');
    expect(sinceInstant({ secondsAgo: 3600 }, now).toISOString()).toBe('2026-12-10T11:00:00.000Z');
    expect(sinceInstant({ at: Date.parse('2026-01-01T00:00:00Z') }, now).toISOString()).toBe(
      '2026-01-01T00:00:00.000Z',
    );
  });

  it('names the UTC month of a record and the month before any month', () => {
    expect(listMonthOf('2026-12-31T23:59:59.999Z')).toBe('2026-12');
    expect(previousMonth('2026-12')).toBe('2026-11');
    expect(previousMonth('2026-10')).toBe('2026-09');
    expect(previousMonth('2026-01')).toBe('2025-12');
  });
});

describe('the indexes', () => {
  it('sort both by createdAt, one by month and one by ticket', () => {
    expect(ACTIONS_TABLE_INDEXES).toEqual({
      byCreatedAt: { partitionKey: 'listMonth', sortKey: 'createdAt' },
      byTicket: { partitionKey: 'ticket', sortKey: 'createdAt' },
    });
  });

  it('project every listed field that is not a key, so a page is read from the index alone', () => {
    const listed = [
      'action',
      'status',
      'target',
      'reason',
      'requestedBy',
      'dryRun',
      'updatedAt',
      'summary',
      'parentActionId',
    ];
    expect(projectedAttributesOf('byCreatedAt').sort()).toEqual([...listed, 'ticket'].sort());
    expect(projectedAttributesOf('byTicket').sort()).toEqual(listed.sort());
  });
});

describe('targetNames', () => {
  it.each([
    [{ user: 'Alice@Example.com' }, 'alice@example', true],
    [{ users: ['erin@example.com', 'EXAMPLE\\carol'] }, 'example\\CAROL', true],
    [{ deviceId: '1042' }, '104', true],
    [{ sweep: 'unhealthy-devices', maxTargets: 10, observe: false, find: {} }, 'unhealthy', true],
    [{ user: 'bob@example.com' }, 'bobby', false],
    [{ users: ['erin@example.com'] }, 'alice', false],
  ])('%j names %s: %s', (target, text, expected) => {
    expect(targetNames(target, text)).toBe(expected);
  });
});

describe('toActionListItem', () => {
  it('copies only the listed fields', () => {
    const listed = {
      actionId: `act_${'b'.repeat(32)}`,
      action: 'device.wipe',
      status: 'awaiting_approval',
      target: { user: 'carol@example.com' },
      reason: 'Lost phone',
      dryRun: false,
      createdAt: '2026-12-01T00:00:00.000Z',
      updatedAt: '2026-12-01T00:00:01.000Z',
      approvalTaskToken: 'must-never-be-listed',
    } as ListedAction;

    const item = toActionListItem(listed);

    expect(item).toEqual({
      actionId: `act_${'b'.repeat(32)}`,
      action: 'device.wipe',
      status: 'awaiting_approval',
      target: { user: 'carol@example.com' },
      reason: 'Lost phone',
      dryRun: false,
      createdAt: '2026-12-01T00:00:00.000Z',
      updatedAt: '2026-12-01T00:00:01.000Z',
    });
    expect(ActionListItemSchema.parse(item)).toEqual(item);
  });
});
