import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sessionWorkflowSettingsFromEnv } from '../../lib/runtime/session-settings.ts';
import { estimateHistoryEvents } from '../../lib/sessions/session-actions.ts';
import type { SimulatorFixture } from '../../local/simulator/fixture.ts';
import { fleetFixture } from '../../local/simulator/fleet.ts';
import type { RecordedRequest } from '../../local/simulator/server.ts';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import type { WorkflowEvent } from '../../local/workflow-runner.ts';
import { FAST_WORKFLOW, TEST_ENV } from '../support/simulator-fixture.ts';
import { runAction } from '../support/workflow.ts';

/**
 * "Scale by construction": 1,000 sessions through the session workflow's `.asl.json` in the local
 * runner, with real waits (no Wait overrides, so the shared throttle gate's waits are honoured),
 * against the simulator. The history stays under the documented formula, and a 429 storm in the
 * middle ends with every session terminal, recorded, and logged off exactly once.
 */
const SESSIONS = 1000;
const GROUP = 'Scale';
const fixture: SimulatorFixture = (() => {
  const fleet = fleetFixture({ sessions: SESSIONS, now: new Date(), logoffMs: 300 });
  return {
    ...fleet,
    sessions: fleet.sessions.map((session) => ({
      ...session,
      Machine: {
        ...session.Machine,
        DeliveryGroup: { ...session.Machine?.DeliveryGroup, Name: GROUP },
      },
    })),
  } as SimulatorFixture;
})();

const ENV = {
  ...TEST_ENV,
  // One process runs the engine, the tables, the simulator and every task: a busy event loop, not
  // Citrix, is what a 2 s request timeout would measure here.
  CITRIX_REQUEST_TIMEOUT_MS: '15000',
  SESSION_MAX_TARGETS: String(SESSIONS),
  SESSION_BATCH_SIZE: '100',
  GUARDRAIL_LIMITS: JSON.stringify({
    'session.logoff': { perRequest: SESSIONS, perHour: 10 * SESSIONS },
    'session.disconnect': { perRequest: SESSIONS, perHour: 10 * SESSIONS },
  }),
};

let stack: LocalStack;
let events: WorkflowEvent[] = [];
let onEvent: ((event: WorkflowEvent) => void) | undefined;

beforeAll(async () => {
  stack = await startLocalStack({
    env: ENV,
    simulatorFixture: fixture,
    retryIntervalOverrides: FAST_WORKFLOW.retryIntervalOverrides,
    onWorkflowEvent: (_, event) => {
      events.push(event);
      onEvent?.(event);
    },
  });
});

afterAll(async () => stack.close());

beforeEach(() => {
  stack.simulator?.reset();
  events = [];
  onEvent = undefined;
});

const logoffs = (predicate: (request: RecordedRequest) => boolean = () => true) =>
  (stack.simulator?.requests() ?? []).filter(
    (r) => r.method === 'POST' && r.path.endsWith('/$logoff') && predicate(r),
  );

/** Accepted log offs per session: each must be exactly 1. */
function acceptedPerSession(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of logoffs((r) => r.status === 202)) {
    const id = request.path.split('/').at(-2) as string;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

// Urgency immediate: no warning before acting, whose grace period would only add its wait here.
const logOffTheGroup = () =>
  runAction(stack, {
    action: 'session.logoff',
    target: { deliveryGroup: GROUP },
    urgency: 'immediate',
  } as Parameters<typeof runAction>[1]);

describe('session-action workflow at 1,000 sessions', () => {
  it('logs off every session once and keeps the history under the formula', async () => {
    const { record, status } = await logOffTheGroup();
    expect(status).toBe('SUCCEEDED');
    const failures = Object.values(record.results).filter((r) => r.outcome !== 'succeeded');
    expect(failures.slice(0, 3)).toEqual([]);
    expect(record.status).toBe('succeeded');
    expect(Object.keys(record.results)).toHaveLength(SESSIONS);
    expect(Object.values(record.results).every((r) => r.outcome === 'succeeded')).toBe(true);
    expect(record.batches).toBe(10);
    expect(record.scope).toMatchObject({
      targets: SESSIONS,
      actionable: SESSIONS,
      byDeliveryGroup: [{ name: GROUP, targets: SESSIONS, actionable: SESSIONS }],
    });
    const accepted = acceptedPerSession();
    expect(accepted.size).toBe(SESSIONS);
    expect([...accepted.values()].every((count) => count === 1)).toBe(true);

    const bound = estimateHistoryEvents(sessionWorkflowSettingsFromEnv(ENV), SESSIONS);
    expect(events.length).toBeGreaterThan(0);
    expect(events.length).toBeLessThanOrEqual(bound);
    // Batching, not one Map iteration per session: far fewer transitions than sessions.
    const transitions = events.filter((event) => event.type === 'StateEntered').length;
    expect(transitions / SESSIONS).toBeLessThanOrEqual(10);
    expect(transitions).toBeLessThan(SESSIONS);
  });

  it('rides out a 429 storm in the middle of the run: every session terminal, recorded, sent once', async () => {
    let rounds = 0;
    onEvent = (event) => {
      // After the first batches have sent their sessions, Citrix starts throttling everything.
      if (event.type === 'StateExited' && 'state' in event && event.state.name === 'AdvanceBatch') {
        rounds += 1;
        if (rounds === 3)
          stack.simulator?.setFaults({ throttle: { count: 120, retryAfterSeconds: 1 } });
      }
    };
    const { record, status } = await logOffTheGroup();
    expect(status).toBe('SUCCEEDED');
    const results = Object.values(record.results);
    expect(results).toHaveLength(SESSIONS);
    expect(results.every((r) => ['succeeded', 'failed', 'timed_out'].includes(r.outcome))).toBe(
      true,
    );
    // The storm was ridden out, not turned into failures.
    expect(record.status).toBe('succeeded');
    const throttled = (stack.simulator?.requests() ?? []).filter((r) => r.status === 429);
    expect(throttled).toHaveLength(120);
    const accepted = acceptedPerSession();
    expect(accepted.size).toBe(SESSIONS);
    expect([...accepted.values()].every((count) => count === 1)).toBe(true);
    expect(events.length).toBeLessThanOrEqual(
      estimateHistoryEvents(sessionWorkflowSettingsFromEnv(ENV), SESSIONS),
    );
  });
});
