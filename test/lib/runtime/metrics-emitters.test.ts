import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import type { ActionTarget, ResolvedSession, TargetResult } from '../../../lib/actions/schema.ts';
import type { BatchedContents } from '../../../lib/actions/store.ts';
import { IN_LAMBDA, useEmfCapture } from '../../support/emf.ts';

/**
 * Where the metrics are emitted and published: a task run publishes what it recorded once,
 * CompleteAction records an action's terminal state and its targets by outcome, and a sweep's run
 * records what it found when its targets are resolved.
 */
const emf = useEmfCapture();

const context = { awsRequestId: 'r', functionName: 'f' } as Context;
const NOW = new Date('2026-03-02T10:00:00.000Z');

/** The modules loaded after the metrics module, so they share its (fresh) instance. */
async function loadInLambda() {
  const metrics = await emf.load(IN_LAMBDA);
  const { createTaskHandler } = await import('../../../lib/runtime/task-handler.ts');
  const { completeAction, CompletionInputSchema } = await import(
    '../../../lib/actions/completion.ts'
  );
  const { applyGuardrails } = await import('../../../lib/guardrails/apply.ts');
  const { DEFAULT_GUARDRAIL_SETTINGS } = await import('../../../lib/guardrails/config.ts');
  return {
    metrics,
    createTaskHandler,
    completeAction,
    CompletionInputSchema,
    applyGuardrails,
    DEFAULT_GUARDRAIL_SETTINGS,
  };
}

const session = (n: number): ResolvedSession => ({
  sessionId: `s-${n}`,
  userName: `user${n}@example.com`,
  machineName: `vda-${n}.example.com`,
  actionable: true,
});
const result = (n: number, outcome: TargetResult['outcome']): TargetResult => ({
  ...session(n),
  outcome,
  finishedAt: NOW.toISOString(),
});

const completionDependencies = (contents: BatchedContents = { results: {} }) => ({
  actions: {
    complete: async () => {},
    get: async () => undefined,
    failUnfinished: async () => false,
  },
  batched: { read: async () => contents },
  counter: { release: async () => true },
});

describe('a task run', () => {
  it('publishes what it recorded when it returns, and when it throws', async () => {
    const { metrics, createTaskHandler } = await loadInLambda();
    const handler = createTaskHandler(
      'Test',
      z.object({ actionId: z.string(), fail: z.boolean() }),
      () => ({}),
      async ({ fail }) => {
        metrics.recordCitrixCall('daas', fail ? 503 : 200);
        if (fail) throw new Error('boom');
        return 'done';
      },
    );

    await handler({ actionId: 'act_1', fail: false }, context);
    await expect(handler({ actionId: 'act_1', fail: true }, context)).rejects.toThrow('boom');

    expect(emf.emitted().map(({ name, dimensions }) => [name, dimensions.status])).toEqual([
      ['CitrixCalls', '200'],
      ['CitrixCalls', '503'],
    ]);
  });
});

describe('CompleteAction', () => {
  it("records the action's terminal state and its targets by outcome", async () => {
    const { metrics, completeAction, CompletionInputSchema } = await loadInLambda();
    const input = CompletionInputSchema.parse({
      actionId: 'act_1',
      action: 'session.logoff',
      dryRun: false,
      resolution: { targets: [session(0), session(1), session(2)] },
      results: [result(0, 'succeeded'), result(1, 'succeeded'), result(2, 'failed')],
    });

    const completion = await completeAction(input, completionDependencies(), NOW);
    metrics.publishMetrics();

    expect(emf.emitted()).toEqual([
      {
        namespace: 'CitrixResponse',
        name: 'ActionsFinished',
        unit: 'Count',
        dimensions: {
          service: 'citrix-response',
          action: 'session.logoff',
          outcome: completion.status,
        },
        value: 1,
      },
      expect.objectContaining({
        name: 'TargetsFinished',
        dimensions: { service: 'citrix-response', action: 'session.logoff', outcome: 'succeeded' },
        value: 2,
      }),
      expect.objectContaining({
        name: 'TargetsFinished',
        dimensions: { service: 'citrix-response', action: 'session.logoff', outcome: 'failed' },
        value: 1,
      }),
    ]);
  });

  it("counts a batched action's targets from its batches, which the record does not get", async () => {
    const { metrics, completeAction, CompletionInputSchema } = await loadInLambda();
    const input = CompletionInputSchema.parse({
      actionId: 'act_1',
      action: 'session.logoff',
      dryRun: false,
      resolution: { batches: [0], targets: 2 },
    });
    const contents: BatchedContents = {
      targets: [session(0), session(1)],
      results: { 's-0': result(0, 'succeeded'), 's-1': result(1, 'timed_out') },
    };

    await completeAction(input, completionDependencies(contents), NOW);
    metrics.publishMetrics();

    expect(
      emf
        .emitted()
        .filter(({ name }) => name === 'TargetsFinished')
        .map(({ dimensions, value }) => [dimensions.outcome, value]),
    ).toEqual([
      ['succeeded', 1],
      ['timed_out', 1],
    ]);
  });

  it('records a rejected action as finished rejected, with no targets', async () => {
    const { metrics, completeAction, CompletionInputSchema } = await loadInLambda();
    const input = CompletionInputSchema.parse({
      actionId: 'act_1',
      action: 'device.wipe',
      dryRun: false,
      ended: 'rejected',
      error: { Error: 'ActionRejectedError', Cause: 'Rejected by someone' },
    });

    await completeAction(input, completionDependencies(), NOW);
    metrics.publishMetrics();

    expect(emf.emitted().map(({ name, dimensions }) => [name, dimensions])).toEqual([
      [
        'ActionsFinished',
        { service: 'citrix-response', action: 'device.wipe', outcome: 'rejected' },
      ],
    ]);
  });
});

describe("a sweep's run", () => {
  it('records the targets it found, to act on and left alone', async () => {
    const { metrics, applyGuardrails, DEFAULT_GUARDRAIL_SETTINGS } = await loadInLambda();
    // Only the sweep's name matters here: what it looks for was used to resolve the targets.
    const target = { sweep: 'idle-sessions' } as unknown as ActionTarget;

    await applyGuardrails(
      {
        settings: DEFAULT_GUARDRAIL_SETTINGS,
        counter: { reserve: async () => ({ allowed: true, used: 0 }) },
        actions: { markRunning: async () => {} },
      },
      { actionId: 'act_1', action: 'session.logoff', target, dryRun: true },
      [session(0), session(1), { ...session(2), actionable: false }],
      NOW,
    );
    metrics.publishMetrics();

    expect(emf.emitted().map(({ name, dimensions, value }) => [name, dimensions, value])).toEqual([
      [
        'SweepTargets',
        { service: 'citrix-response', sweep: 'idle-sessions', outcome: 'actionable' },
        2,
      ],
      [
        'SweepTargets',
        { service: 'citrix-response', sweep: 'idle-sessions', outcome: 'skipped' },
        1,
      ],
    ]);
  });
});
