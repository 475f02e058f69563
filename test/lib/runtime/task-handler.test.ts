import type { Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { logger } from '../../../lib/runtime/logger.ts';
import {
  createTaskHandler,
  InvalidTaskInputError,
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
