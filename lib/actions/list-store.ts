import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { isTransientDynamoDbError } from '../runtime/dynamodb-errors.ts';
import {
  ACTIONS_TABLE_INDEXES,
  type ActionsTableIndex,
  encodeListPosition,
  type ListActionsQuery,
  type ListedAction,
  ListedActionSchema,
  type ListPosition,
  previousMonth,
  sinceInstant,
  targetNames,
} from './list.ts';
import { listMonthOf } from './list-month.ts';
import {
  ActionRecordCorruptError,
  ActionStoreError,
  ActionStoreUnavailableError,
} from './store.ts';

/**
 * The listing of actions (`GET /v1/actions`), kept apart from the store that records them: only
 * the function that lists actions carries it, and it only ever Queries the table's indexes.
 */
export interface ActionListReader {
  /** A page of actions, newest first, read from the table's indexes (lib/actions/list.ts). */
  list(query: ListActionsQuery): Promise<ActionListPage>;
}

export interface ActionListPage {
  readonly items: readonly ListedAction[];
  /** Where the next page starts; absent when the listing is complete. */
  readonly nextToken?: string;
}

/**
 * A listing's bound per request: at most this many Queries of at most this many items each
 * (2,000 read at most); a listing not finished by then answers what it found and a nextToken.
 * The default window (400 days: 14 or 15 month partitions) fits one request even when empty.
 */
const LIST_QUERIES_PER_PAGE = 20;
const LIST_ITEMS_PER_QUERY = 100;

export class DynamoActionList implements ActionListReader {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #now: () => Date;

  constructor(
    client: DynamoDBClient,
    tableName: string,
    options: { readonly now?: () => Date } = {},
  ) {
    this.#documents = DynamoDBDocumentClient.from(client);
    this.#tableName = tableName;
    this.#now = options.now ?? (() => new Date());
  }

  async list(query: ListActionsQuery): Promise<ActionListPage> {
    const now = this.#now();
    const since = sinceInstant(query.since, now).toISOString();
    const lastMonth = listMonthOf(since);
    // A ticket's actions are one partition of byTicket; any other listing walks byCreatedAt's
    // months, newest first, from the token's month (or now's) back to the month of `since`.
    let month =
      query.ticket === undefined
        ? (query.nextToken?.month ?? listMonthOf(now.toISOString()))
        : undefined;
    let after = query.nextToken?.after;
    const olderMonth = (current: string | undefined) =>
      current !== undefined && current > lastMonth ? previousMonth(current) : undefined;
    const items: ListedAction[] = [];
    for (let queries = 0; ; queries += 1) {
      if (queries === LIST_QUERIES_PER_PAGE) {
        return { items, nextToken: encodeListPosition(positionOf(month, after)) };
      }
      const output = await this.#send(() =>
        this.#documents.send(new QueryCommand(this.#listQuery(query, since, month, after))),
      );
      const read = output.Items ?? [];
      for (const [index, item] of read.entries()) {
        const listed = parseListed(item);
        if (query.target !== undefined && !targetNames(listed.target, query.target)) continue;
        items.push(listed);
        if (items.length < query.limit) continue;
        // Full: continue after this action, or with the next month if its own has no more.
        if (index < read.length - 1 || output.LastEvaluatedKey !== undefined) {
          const last = { actionId: listed.actionId, createdAt: listed.createdAt };
          return { items, nextToken: encodeListPosition(positionOf(month, last)) };
        }
        const next = olderMonth(month);
        return next === undefined
          ? { items }
          : { items, nextToken: encodeListPosition({ month: next }) };
      }
      const lastEvaluated = output.LastEvaluatedKey;
      if (lastEvaluated !== undefined) {
        after = {
          actionId: String(lastEvaluated.actionId),
          createdAt: String(lastEvaluated.createdAt),
        };
        continue;
      }
      after = undefined;
      month = olderMonth(month);
      if (month === undefined) return { items };
    }
  }

  /** One Query of a listing: one partition of its index, newest first, from `after` on. */
  #listQuery(
    query: ListActionsQuery,
    since: string,
    month: string | undefined,
    after: ListPosition['after'],
  ): QueryCommandInput {
    const index: ActionsTableIndex = month === undefined ? 'byTicket' : 'byCreatedAt';
    const { partitionKey, sortKey } = ACTIONS_TABLE_INDEXES[index];
    const partition = month ?? query.ticket;
    const names: Record<string, string> = { '#partition': partitionKey, '#created': sortKey };
    const values: Record<string, unknown> = { ':partition': partition, ':since': since };
    const filters: string[] = [];
    if (query.status !== undefined) {
      names['#status'] = 'status';
      const placeholders = query.status.map((status, position) => {
        values[`:status${position}`] = status;
        return `:status${position}`;
      });
      filters.push(`#status IN (${placeholders.join(', ')})`);
    }
    if (query.action !== undefined) {
      names['#action'] = 'action';
      values[':action'] = query.action;
      filters.push('#action = :action');
    }
    return {
      TableName: this.#tableName,
      IndexName: index,
      KeyConditionExpression: '#partition = :partition AND #created >= :since',
      ...(filters.length === 0 ? {} : { FilterExpression: filters.join(' AND ') }),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: false,
      Limit: LIST_ITEMS_PER_QUERY,
      ...(after === undefined
        ? {}
        : {
            ExclusiveStartKey: {
              actionId: after.actionId,
              [partitionKey]: partition,
              [sortKey]: after.createdAt,
            },
          }),
    };
  }

  async #send<Output>(operation: () => Promise<Output>): Promise<Output> {
    try {
      return await operation();
    } catch (error) {
      if (isTransientDynamoDbError(error)) {
        throw new ActionStoreUnavailableError('Action store unavailable for the action list', {
          cause: error,
        });
      }
      throw new ActionStoreError('Action store request failed for the action list', {
        cause: error,
      });
    }
  }
}

function positionOf(month: string | undefined, after: ListPosition['after']): ListPosition {
  return { ...(month === undefined ? {} : { month }), ...(after === undefined ? {} : { after }) };
}

/** An index item as a listed action; one that no longer matches the schema fails the listing. */
function parseListed(item: Record<string, unknown>): ListedAction {
  const parsed = ListedActionSchema.safeParse(item);
  if (!parsed.success) {
    throw new ActionRecordCorruptError('A listed action does not match the schema', {
      cause: parsed.error,
    });
  }
  return parsed.data;
}
