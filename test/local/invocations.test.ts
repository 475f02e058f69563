import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { logger } from '../../lib/runtime/logger.ts';
import { createTaskHandler } from '../../lib/runtime/task-handler.ts';
import {
  inProcessScope,
  invocationScope,
  LAMBDA_MAX_CONCURRENCY_VARIABLE,
} from '../../local/invocations.ts';
import { lambdaContext } from '../../local/workflow-runner.ts';

/** The JSON log lines written while `work` runs (warnings go to stderr). */
async function logLines(work: () => Promise<void>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) =>
    vi.spyOn(stream, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    }),
  );
  try {
    await work();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return lines
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('local invocations', () => {
  beforeEach(() => {
    vi.stubEnv(LAMBDA_MAX_CONCURRENCY_VARIABLE, '8');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("keeps each concurrent invocation's logger keys and Lambda context its own", async () => {
    // Prepare: a CompleteAction that pauses mid-run, and an API function that logs meanwhile.
    let release: () => void = () => undefined;
    const paused = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started: () => void = () => undefined;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    const scope = await invocationScope();
    const completeAction = scope(
      createTaskHandler(
        'CompleteAction',
        z.object({ actionId: z.string() }),
        () => ({}),
        async () => {
          started();
          await paused;
          logger.info('completion written');
          return 'done';
        },
      ),
    );
    const actionsApi = scope(
      middy<unknown, void>()
        .use(injectLambdaContext(logger, { resetKeys: true }))
        .handler(async () => {
          logger.warn('request refused: not signed');
        }),
    );

    // Act: the API request arrives while CompleteAction is between its keys and its last line.
    const lines = await logLines(() =>
      inProcessScope(async () => {
        const completion = completeAction(
          { actionId: 'act-1' },
          lambdaContext('complete-action') as Context,
        );
        await running;
        await actionsApi({}, lambdaContext('actions-api') as Context);
        release();
        await completion;
      }),
    );

    // Assess: the refusal carries only its own function; the completion keeps its keys.
    const refusal = lines.find((line) => line.message === 'request refused: not signed');
    expect(refusal).toMatchObject({ function_name: 'actions-api' });
    expect(refusal).not.toHaveProperty('correlation_id');
    expect(refusal).not.toHaveProperty('task');
    expect(refusal).not.toHaveProperty('actionId');
    const completion = lines.find((line) => line.message === 'completion written');
    expect(completion).toMatchObject({
      function_name: 'complete-action',
      correlation_id: 'act-1',
      task: 'CompleteAction',
      actionId: 'act-1',
    });
  });

  it('logs outside any invocation inside the process scope, as npm start does at start-up', async () => {
    const lines = await logLines(() =>
      inProcessScope(async () => {
        logger.warn('starting');
      }),
    );
    expect(lines.find((line) => line.message === 'starting')).toMatchObject({ level: 'WARN' });
  });
});
