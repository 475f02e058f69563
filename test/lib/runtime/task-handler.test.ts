import type { Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { logger } from '../../../lib/runtime/logger.ts';
import {
  createTaskHandler,
  DEFAULT_LOGOUT_TIMEOUT_MS,
  InvalidTaskInputError,
  TASK_FINISH_MARGIN_MS,
  TaskDeadlineError,
  type TaskSession,
} from '../../../lib/runtime/task-handler.ts';

const context = {
  awsRequestId: 'r',
  functionName: 'f',
  getRemainingTimeInMillis: () => 5_000,
} as Context;
const Schema = z.object({ actionId: z.string(), count: z.number().int() });

class CitrixThrottledError extends Error {
  override name = 'CitrixThrottledError';
}

describe('createTaskHandler', () => {
  it('parses the state input and builds dependencies once per warm container', async () => {
    const getDependencies = vi.fn(() => ({ factor: 3 }));
    const handler = createTaskHandler('Multiply', Schema, getDependencies, async (input, deps) => ({
      value: input.count * deps.factor,
    }));
    expect(await handler({ actionId: 'act_1', count: 2 }, context)).toEqual({ value: 6 });
    expect(await handler({ actionId: 'act_1', count: 5 }, context)).toEqual({ value: 15 });
    expect(getDependencies).toHaveBeenCalledTimes(1);
  });

  it('refuses input that does not match, naming the fields, without running the task', async () => {
    const run = vi.fn();
    const handler = createTaskHandler('Multiply', Schema, () => ({}), run);
    const error = await handler({ actionId: 'act_1', count: 'two' }, context).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidTaskInputError);
    expect((error as Error).name).toBe('InvalidTaskInputError');
    expect((error as Error).message).toContain('count:');
    expect(run).not.toHaveBeenCalled();
  });

  it('lets typed errors through with their names, for Retry and Catch to match', async () => {
    const handler = createTaskHandler(
      'Call',
      Schema,
      () => ({}),
      async () => {
        throw new CitrixThrottledError('429 after retries');
      },
    );
    const error = await handler({ actionId: 'act_1', count: 1 }, context).catch((e: unknown) => e);
    expect((error as Error).name).toBe('CitrixThrottledError');
  });

  it('tries again to build dependencies after a failure', async () => {
    const getDependencies = vi
      .fn<() => { ok: boolean }>()
      .mockImplementationOnce(() => {
        throw new Error('secret not readable yet');
      })
      .mockImplementation(() => ({ ok: true }));
    const handler = createTaskHandler('Deps', Schema, getDependencies, async (_, deps) => deps.ok);
    await expect(handler({ actionId: 'a', count: 1 }, context)).rejects.toThrow(
      'secret not readable yet',
    );
    expect(await handler({ actionId: 'a', count: 1 }, context)).toBe(true);
  });
});

describe('createTaskHandler with a session', () => {
  /** A session that records each run and whose logout fails when told to. */
  function fakeSession(logoutFails: boolean) {
    const events: string[] = [];
    const session: TaskSession = {
      async withSession(work, onLogoutError) {
        events.push('start');
        try {
          return await work();
        } finally {
          events.push('logout');
          if (logoutFails) onLogoutError(new Error('logout failed with 503'));
        }
      },
    };
    return { session, events };
  }

  it('ends the session after every run, whether it succeeded or threw', async () => {
    const { session, events } = fakeSession(false);
    const handler = createTaskHandler(
      'Call',
      Schema,
      () => ({ session }),
      async (input) => {
        events.push('run');
        if (input.count < 0) throw new CitrixThrottledError('429 after retries');
        return input.count;
      },
      { session: (deps) => deps.session },
    );
    expect(await handler({ actionId: 'act_1', count: 2 }, context)).toBe(2);
    const error = await handler({ actionId: 'act_1', count: -1 }, context).catch((e) => e);
    expect((error as Error).name).toBe('CitrixThrottledError');
    expect(events).toEqual(['start', 'run', 'logout', 'start', 'run', 'logout']);
  });

  it('logs a failed logout at warn and keeps the run’s own result and error', async () => {
    const { session } = fakeSession(true);
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    try {
      const handler = createTaskHandler(
        'Call',
        Schema,
        () => ({ session }),
        async (input) => {
          if (input.count < 0) throw new CitrixThrottledError('429 after retries');
          return input.count;
        },
        { session: (deps) => deps.session },
      );
      expect(await handler({ actionId: 'act_1', count: 3 }, context)).toBe(3);
      const error = await handler({ actionId: 'act_1', count: -1 }, context).catch((e) => e);
      expect((error as Error).name).toBe('CitrixThrottledError');
      expect(warn).toHaveBeenCalledTimes(2);
      expect(warn.mock.calls[0]?.[1]).toEqual({
        logoutError: { name: 'Error', message: 'logout failed with 503' },
      });
    } finally {
      warn.mockRestore();
    }
  });
});

describe('createTaskHandler with a session, near the Lambda timeout', () => {
  /** A session that records its runs and the signal it was given; its logout takes 1 s. */
  function recordingSession() {
    const events: string[] = [];
    const signals: (AbortSignal | undefined)[] = [];
    const session: TaskSession = {
      logoutTimeoutMs: 1000,
      async withSession(work, _onLogoutError, signal) {
        signals.push(signal);
        try {
          return await work();
        } finally {
          events.push(`logout (aborted: ${signal?.aborted})`);
        }
      },
    };
    return { session, events, signals };
  }
  const contextWith = (remainingMs: number): Context => {
    const deadline = Date.now() + remainingMs;
    return { ...context, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
  };

  it('stops work that would outlast the Lambda, aborts its calls, logs out, and throws TaskDeadlineError', async () => {
    const { session, events, signals } = recordingSession();
    const handler = createTaskHandler(
      'Slow',
      Schema,
      () => ({ session }),
      () => new Promise<number>(() => undefined),
      { session: (deps) => deps.session },
    );
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    try {
      // The work never ends: only the deadline can end the run. 1 s logout + the finish margin reserved: 300 ms of work.
      const error = await handler(
        { actionId: 'act_1', count: 1 },
        contextWith(1000 + TASK_FINISH_MARGIN_MS + 300),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TaskDeadlineError);
      expect((error as Error).name).toBe('TaskDeadlineError');
      expect((error as Error).message).toBe(
        `Slow stopped ${1000 + TASK_FINISH_MARGIN_MS} ms before the Lambda timeout to end its session; what it had done is unknown`,
      );
      expect(events).toEqual(['logout (aborted: true)']);
      expect(signals[0]?.reason).toBe(error);
      expect(warn).toHaveBeenCalledWith('task stopped at its deadline, after ending its session', {
        reserveMs: 1000 + TASK_FINISH_MARGIN_MS,
      });
    } finally {
      warn.mockRestore();
    }
  });

  it('never starts the work when the time left is already less than the logout needs', async () => {
    const { session, events } = recordingSession();
    const run = vi.fn(async () => 1);
    const handler = createTaskHandler('Late', Schema, () => ({ session }), run, {
      session: (deps) => deps.session,
    });
    const error = await handler({ actionId: 'act_1', count: 1 }, contextWith(500)).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TaskDeadlineError);
    expect(run).not.toHaveBeenCalled();
    expect(events).toEqual(['logout (aborted: true)']);
  });

  it('keeps the default logout time for a session that does not say, and leaves work in time alone', async () => {
    const signals: (AbortSignal | undefined)[] = [];
    const session: TaskSession = {
      withSession: async (work, _onLogoutError, signal) => {
        signals.push(signal);
        return work();
      },
    };
    const handler = createTaskHandler(
      'Quick',
      Schema,
      () => ({ session }),
      async (input) => input.count,
      { session: (deps) => deps.session },
    );
    const enough = DEFAULT_LOGOUT_TIMEOUT_MS + TASK_FINISH_MARGIN_MS + 1000;
    expect(await handler({ actionId: 'act_1', count: 7 }, contextWith(enough))).toBe(7);
    expect(signals[0]?.aborted).toBe(false);
    const error = await handler(
      { actionId: 'act_1', count: 7 },
      contextWith(DEFAULT_LOGOUT_TIMEOUT_MS + TASK_FINISH_MARGIN_MS - 100),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskDeadlineError);
  });
});
