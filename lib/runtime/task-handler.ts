import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type * as z from 'zod';
import { logger } from './logger.ts';

/** Task input that does not match its schema: a definition bug, never retried. */
export class InvalidTaskInputError extends Error {
  override name = 'InvalidTaskInputError';
}

export type TaskHandler<Result> = (event: unknown, context: Context) => Promise<Result>;

/**
 * A login the dependencies hold (Endpoint Management's `auth_token`). Each Lambda invocation is
 * its own container's only user, so ending the session when the run finishes leaves no live
 * token behind; clients shared by concurrent runs (the local stack) end it when the last one does.
 */
export interface TaskSession {
  /** Runs `work`, then ends the session; a failed logout goes to `onLogoutError`, never thrown. */
  withSession<T>(work: () => Promise<T>, onLogoutError: (error: unknown) => void): Promise<T>;
}

export interface TaskHandlerOptions<Deps> {
  /** The session each run ends when it finishes, success or error. */
  readonly session?: (dependencies: Deps) => TaskSession;
}

/** What a failed logout logs: never the token (the client redacts it from messages too). */
function describeLogoutError(error: unknown): { name: string; message: string } {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'Error', message: String(error) };
}

/**
 * Wraps a Step Functions task: parses the state input with zod, resolves the dependencies once
 * per warm container, tags logs with the action id, and lets typed errors propagate by name so
 * the state machine's Retry and Catch can match them. With `options.session`, every run ends the
 * session its dependencies logged in with, whether it succeeded or threw.
 */
export function createTaskHandler<Schema extends z.ZodType<{ actionId: string }>, Deps, Result>(
  task: string,
  schema: Schema,
  getDependencies: () => Deps | Promise<Deps>,
  run: (input: z.output<Schema>, dependencies: Deps) => Promise<Result>,
  options: TaskHandlerOptions<Deps> = {},
): TaskHandler<Result> {
  let dependencies: Promise<Deps> | undefined;
  const handler = middy<unknown, Result>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const parsed = schema.safeParse(event);
      if (!parsed.success) {
        const fields = parsed.error.issues.map(
          (i) => `${i.path.join('.') || '(input)'}: ${i.message}`,
        );
        throw new InvalidTaskInputError(`${task}: invalid input (${fields.join('; ')})`);
      }
      // The action id is the correlation id: one search finds every line of one action.
      logger.setCorrelationId(parsed.data.actionId);
      logger.appendKeys({ actionId: parsed.data.actionId, task });
      dependencies ??= Promise.resolve(getDependencies()).catch((error: unknown) => {
        dependencies = undefined;
        throw error;
      });
      const resolved = await dependencies;
      const work = () => run(parsed.data, resolved);
      const session = options.session?.(resolved);
      const result =
        session === undefined
          ? await work()
          : await session.withSession(work, (error) => {
              logger.warn('could not end the session; it lasts until the server times it out', {
                logoutError: describeLogoutError(error),
              });
            });
      logger.info('task finished');
      return result;
    });
  return (event, context) => handler(event, context);
}
