import { describe, expect, it } from 'vitest';
import { describeWorkflowEvent } from '../../local/progress.ts';
import type { WorkflowEvent } from '../../local/workflow-runner.ts';

/** What `npm start` prints of a runbook run: its steps, and which action to approve. */

const exited = (name: string, output: unknown) =>
  ({
    type: 'StateExited',
    timestamp: 0,
    state: { name, type: 'Task', input: {}, output },
  }) as WorkflowEvent;

const CHILD = 'act_0123456789abcdef0123456789abcdef';

describe('a runbook run, as npm start prints it', () => {
  it('says how many steps it runs, then each round: the step, its action and the next look', () => {
    expect(
      describeWorkflowEvent(
        exited('ResolveTargets', {
          resolution: {
            guardrails: {},
            schedule: { maxWaitSeconds: 60, stepDeadlineSeconds: [1, 2, 3] },
          },
        }),
      ),
    ).toBe('runbook: 3 step(s) to run in order');
    expect(
      describeWorkflowEvent(
        exited('AdvanceRunbook', {
          round: {
            done: false,
            waitSeconds: 10,
            step: {
              id: 'logoff-sessions',
              action: 'session.logoff',
              status: 'running',
              childActionId: CHILD,
            },
          },
        }),
      ),
    ).toBe(`step logoff-sessions (session.logoff ${CHILD}): running; next look in 10 s`);
  });

  it("names the step's action to approve while the run waits on it, and nothing for the last round", () => {
    expect(
      describeWorkflowEvent(
        exited('AdvanceRunbook', {
          round: {
            done: false,
            waitSeconds: 60,
            step: {
              id: 'erase-device',
              action: 'device.wipe',
              status: 'awaiting_approval',
              childActionId: CHILD,
            },
          },
        }),
      ),
    ).toBe(
      `step erase-device (device.wipe ${CHILD}): awaiting approval; approve its action with: npx citrix-response approve ${CHILD}; next look in 60 s`,
    );
    expect(
      describeWorkflowEvent(exited('AdvanceRunbook', { round: { done: true, waitSeconds: 0 } })),
    ).toBeUndefined();
  });
});
