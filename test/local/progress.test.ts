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

  it('tells what the device workflow did to each device', () => {
    expect(
      describeWorkflowEvent(
        exited('ResolveTargets', {
          resolution: {
            targets: [
              { deviceId: 'd-1', managed: true },
              { deviceId: 'd-2', managed: false },
            ],
          },
        }),
      ),
    ).toBe('resolved 2 device(s), 1 not managed');
    expect(
      describeWorkflowEvent(
        exited('SendCommand', { target: { deviceId: 'd-1' }, command: { name: 'wipe' } }),
      ),
    ).toBe('device d-1: wipe accepted');
    expect(
      describeWorkflowEvent(
        exited('RecordDeviceResult', { deviceId: 'd-2', outcome: 'skipped', note: 'Not managed' }),
      ),
    ).toBe('device d-2: skipped (Not managed)');
    expect(
      describeWorkflowEvent(
        exited('CompleteAction', {
          completion: { status: 'succeeded', summary: '1 of 1 device sent a full wipe' },
        }),
      ),
    ).toBe('action succeeded: 1 of 1 device sent a full wipe');
  });

  it('tells what the admin workflow decided and did', () => {
    expect(
      describeWorkflowEvent(
        exited('ResolveTargets', {
          resolution: {
            targets: [
              {
                administratorId: '3',
                ucOid: 'OID:/citrix/3',
                email: 'mallory@example.com',
                accessType: 'Custom',
                allowed: true,
              },
            ],
          },
        }),
      ),
    ).toBe('resolved administrator mallory@example.com (Custom access)');
    expect(
      describeWorkflowEvent(
        exited('ResolveTargets', {
          resolution: {
            targets: [
              {
                administratorId: '1',
                email: 'a@example.com',
                allowed: false,
                refusal: 'last Full',
              },
            ],
          },
        }),
      ),
    ).toBe('resolved administrator a@example.com: refused, last Full');
    expect(
      describeWorkflowEvent(
        exited('ApplyChange', {
          target: { email: 'mallory@example.com' },
          change: { mode: 'strip' },
        }),
      ),
    ).toBe('administrator mallory@example.com: strip accepted by Citrix Cloud');
    expect(
      describeWorkflowEvent(
        exited('RecordAdminResult', {
          email: 'a@example.com',
          outcome: 'refused',
          note: 'last Full',
        }),
      ),
    ).toBe('administrator a@example.com: refused (last Full)');
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
