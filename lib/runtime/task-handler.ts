import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { logger } from './logger.ts';

/** Task input that does not match its schema: a definition bug, never retried. */
export class InvalidTaskInputError extends Error {
  override name = 'InvalidTaskInputError';
}

export type TaskHandler<Result> = (event: unknown, context: Context) => Promise<Result>;

/**
 * Wraps a Step Functions task: parses the state input with zod, resolves the dependencies once
 * per warm container, tags logs with the action id, and lets typed errors propagate by name so
 * the state machine's Retry and Catch can match them.
 */
export function createTaskHandler<Schema extends z.ZodType<{ actionId: string }>, Deps, Result>(
  task: string,
  schema: Schema,
  getDependencies: () => Deps | Promise<Deps>,
  run: (input: z.output<Schema>, dependencies: Deps) => Promise<Result>,
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
      const result = await run(parsed.data, await dependencies);
      logger.info('task finished');
      return result;
    });
  return (event, context) => handler(event, context);
}
