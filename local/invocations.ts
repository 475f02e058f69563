import { InvokeStore, InvokeStoreBase } from '@aws/lambda-invoke-store';
import type { Context } from 'aws-lambda';

/**
 * The variable that tells Powertools (and the Lambda runtime) that one process serves several
 * invocations at once, as a Lambda Managed Instance does. The local stack is such a process: every
 * function's handler runs in it, concurrently. With it set, Powertools Logger keeps its keys,
 * correlation id and Lambda context in each invocation's own scope instead of one shared object,
 * so an actions-api line never carries a concurrent CompleteAction's `task` or correlation id.
 */
export const LAMBDA_MAX_CONCURRENCY_VARIABLE = 'AWS_LAMBDA_MAX_CONCURRENCY';

type Invocable<Event, Result> = (event: Event, context: Context) => Promise<Result>;

/** Wraps a handler so that each call runs in its own invocation scope. */
export type InvocationScope = <Event, Result>(
  handler: Invocable<Event, Result>,
) => Invocable<Event, Result>;

/**
 * The scope every local invocation runs in: the Lambda runtime's own store (AsyncLocalStorage),
 * keyed by the request id like the runtime keys it. Without the variable above, Powertools keeps
 * its state in one object as in a single-invocation Lambda, and the scope changes nothing.
 */
export async function invocationScope(): Promise<InvocationScope> {
  const store = await InvokeStore.getInstanceAsync(true);
  return (handler) => (event, context) =>
    store.run({ [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: context.awsRequestId }, () =>
      handler(event, context),
    );
}

/**
 * Runs `work` (starting the local stack) in one process-wide scope, so that anything logged
 * outside an invocation (start-up, a timer) still has a store to read, as it does in a Lambda
 * before its first invocation.
 */
export async function inProcessScope<T>(work: () => Promise<T>): Promise<T> {
  const store = await InvokeStore.getInstanceAsync(true);
  return store.run({}, work);
}
