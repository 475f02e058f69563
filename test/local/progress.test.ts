import { describe, expect, it } from 'vitest';
import { describeWorkflowEvent } from '../../local/progress.ts';
import type { WorkflowEvent } from '../../local/workflow-runner.ts';

const exited = (name: string, output: unknown) =>
  ({
    type: 'StateExited',
    timestamp: 0,
    state: { name, type: 'Task', input: {}, output },
  }) as WorkflowEvent;

describe('describeWorkflowEvent', () => {
  it('tells an on-call engineer what each step did', () => {
    expect(
      describeWorkflowEvent(exited('ResolveTargets', { resolution: { targets: [{}, {}] } })),
    ).toBe('resolved 2 session(s)');
    expect(
      describeWorkflowEvent(
        exited('CheckJob', {
          progress: { sessionId: 's-1', done: false, jobStatus: 'InProgress', waitSeconds: 4 },
        }),
      ),
    ).toBe('session s-1: job InProgress, next check in 4 s');
    expect(
      describeWorkflowEvent(
        exited('RecordTargetResult', {
          sessionId: 's-1',
          outcome: 'failed',
          error: { message: 'VDA gone' },
        }),
      ),
    ).toBe('session s-1: failed (VDA gone)');
    expect(
      describeWorkflowEvent(
        exited('CompleteAction', { status: 'succeeded', summary: '1 of 1 sessions logged off' }),
      ),
    ).toBe('action succeeded: 1 of 1 sessions logged off');
  });

  it('leaves a caught error to the result line instead of repeating stale progress', () => {
    const caught = {
      progress: { sessionId: 's-1', done: false, jobStatus: 'InProgress', waitSeconds: 4 },
      error: {},
    };
    expect(describeWorkflowEvent(exited('CheckJob', caught))).toBeUndefined();
  });

  it('stays quiet about steps that carry no news', () => {
    expect(describeWorkflowEvent(exited('IsTargetDone', {}))).toBeUndefined();
  });
});
