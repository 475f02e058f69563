import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod';
import { type ActionList, ListActionsQuerySchema, toActionListItem } from '../actions/list.ts';
import type { ActionListReader } from '../actions/list-store.ts';
import { validationError } from './http-errors.ts';
import { json } from './json.ts';

export interface ListActionsDependencies {
  readonly listing: ActionListReader;
}

/**
 * `GET /v1/actions`: a page of actions, newest first, filtered by the query string. A parameter
 * given twice is refused: API Gateway would keep only the last one, silently.
 */
export async function listActions(
  dependencies: ListActionsDependencies,
  event: Pick<APIGatewayProxyEvent, 'queryStringParameters' | 'multiValueQueryStringParameters'>,
): Promise<APIGatewayProxyResult> {
  const repeated = Object.entries(event.multiValueQueryStringParameters ?? {})
    .filter(([, values]) => (values?.length ?? 0) > 1)
    .map(([name]) => name);
  if (repeated.length > 0) {
    throw validationError(
      new z.ZodError(
        repeated.map((name) => ({ code: 'custom', path: [name], message: 'must be given once' })),
      ),
    );
  }
  const query = ListActionsQuerySchema.safeParse(event.queryStringParameters ?? {});
  // An unknown parameter is named itself (`stauts`), not the query string as a whole.
  if (!query.success) throw validationError(query.error);
  const page = await dependencies.listing.list(query.data);
  const body: ActionList = {
    actions: page.items.map(toActionListItem),
    ...(page.nextToken === undefined ? {} : { nextToken: page.nextToken }),
  };
  return json(200, body);
}
