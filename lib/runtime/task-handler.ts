import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type * as z from 'zod';
import { logger } from './logger.ts';
import { withMetrics } from './metrics.ts';
import { traceInvocation } from './tracer.ts';

/** Task input that does not match its schema: a definition bug, never retried. */
export class InvalidTaskInputError extends Error {
  override name = 'InvalidTaskInputError';
}

/**
 * A task with a session stopped its work before the Lambda timeout so that it could end the
 * session: its Citrix calls were aborted and it logged out. What the work did before is unknown
 * to the workflow, so no Retry matches this name (a device command is recorded as unconfirmed).
 */
export class TaskDeadlineError extends Error {
  override name = 'TaskDeadlineError';
}

export type TaskHandler<Result> = (event: unknown, context: Context) => Promise<Result>;

/**
 * A login the dependencies hold (Endpoint Management's `auth_token`). Each Lambda invocation is
 * its own container's only user, so ending the session when the run finishes leaves no live
 * token behind; clients shared by concurrent runs (the local stack) end it when the last one does.
 */
export interface TaskSession {
  /**
   * Runs `work`, then ends the session; a failed logout goes to `onLogoutError`, never thrown.
   * Every call `work` makes stops when `signal` aborts; the logout still goes out.
   */
  withSession<T>(
    work: () => Promise<T>,
    onLogoutError: (error: unknown) => void,
    signal?: AbortSignal,
  ): Promise<T>;
  /** The longest the logout takes (default DEFAULT_LOGOUT_TIMEOUT_MS). */
  readonly logoutTimeoutMs?: number;
}

export interface TaskHandlerOptions<Deps> {
  /** The session each run ends when it finishes, success or error. */
  readonly session?: (dependencies: Deps) => TaskSession;
}

/** A session's logout time when it does not say. */
export const DEFAULT_LOGOUT_TIMEOUT_MS = 3000;
/**
 * Kept after the logout, before the Lambda timeout: the audit trail's write (`audited`) and
 * returning the error. A task with a session therefore needs a Lambda timeout well above the
 * logout time plus this (every such task has 60 s or more).
 */
export const TASK_FINISH_MARGIN_MS = 1500;

/** What a failed logout logs: never the token (the client redacts it from messages too). */
function describeLogoutError(error: unknown): { name: string; message: string } {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'Error', message: String(error) };
}

/**
 * The moment a task with a session stops its work: the Lambda's remaining time less the logout
 * and the finish margin. Aborts `signal` then, with a TaskDeadlineError as its reason. A context
 * without `getRemainingTimeInMillis` (a test's) has no deadline.
 */
class TaskDeadline {
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(task: string, context: Context | undefined, reserveMs: number) {
    const remaining =
      typeof context?.getRemainingTimeInMillis === 'function'
        ? context.getRemainingTimeInMillis()
        : undefined;
    if (remaining === undefined) return;
    const stop = () =>
      this.#controller.abort(
        new TaskDeadlineError(
          `${task} stopped ${reserveMs} ms before the Lambda timeout to end its session; what it had done is unknown`,
        ),
      );
    const workMs = remaining - reserveMs;
    if (workMs <= 0) stop();
    else this.#timer = setTimeout(stop, workMs);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Runs `work` until the deadline: past it, rejects with the TaskDeadlineError. */
  run<T>(work: () => Promise<T>): Promise<T> {
    const { signal } = this.#controller;
    if (signal.aborted) return Promise.reject(signal.reason);
    const running = work();
    // Left behind at the deadline; its calls are aborted, and its end no longer matters.
    running.catch(() => undefined);
    return Promise.race([
      running,
      new Promise<never>((_, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
    ]);
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}

/** Runs `work` in the session, stopped at the task's deadline, then logs out (withSession). */
async function runInSession<Result>(
  task: string,
  session: TaskSession,
  context: Context | undefined,
  work: () => Promise<Result>,
): Promise<Result> {
  const reserveMs = (session.logoutTimeoutMs ?? DEFAULT_LOGOUT_TIMEOUT_MS) + TASK_FINISH_MARGIN_MS;
  const deadline = new TaskDeadline(task, context, reserveMs);
  try {
    return await session.withSession(
      () => deadline.run(work),
      (error) => {
        logger.warn('could not end the session; it lasts until the server times it out', {
          logoutError: describeLogoutError(error),
        });
      },
      deadline.signal,
    );
  } catch (error) {
    if (error instanceof TaskDeadlineError) {
      logger.warn('task stopped at its deadline, after ending its session', { reserveMs });
    }
    throw error;
  } finally {
    deadline.clear();
  }
}

/**
 * Wraps a Step Functions task: parses the state input with zod, resolves the dependencies once
 * per warm container, tags logs with the action id, and lets typed errors propagate by name so
 * the state machine's Retry and Catch can match them. With `options.session`, every run ends the
 * session its dependencies logged in with, whether it succeeded or threw, and stops its work in
 * time to do so before the Lambda timeout (which would skip the logout): TaskDeadlineError.
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
    .use(traceInvocation())
    .handler(async (event, context) => {
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
        session === undefined ? await work() : await runInSession(task, session, context, work);
      logger.info('task finished');
      return result;
    });
  // What the run recorded (Citrix calls, finished actions) is published once, even when it throws.
  return (event, context) => withMetrics(() => handler(event, context));
}
