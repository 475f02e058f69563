import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type {
  SessionActionType,
  SessionTarget,
  SessionTargetResult,
} from '../../lib/actions/schema.ts';
import type { RecordedRequest } from '../../local/simulator/server.ts';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import type { WorkflowEvent } from '../../local/workflow-runner.ts';
import { FAST_WORKFLOW, SESSIONS, TEST_ENV, testFixture } from '../support/simulator-fixture.ts';
import { runAction } from '../support/workflow.ts';

/**
 * The session workflow's `.asl.json`, run by aws-local-stepfunctions with the real task handlers,
 * against the Citrix simulator and a DynamoDB-compatible engine.
 */
let stack: LocalStack;
let onWorkflowEvent: ((event: WorkflowEvent) => void) | undefined;

beforeAll(async () => {
  stack = await startLocalStack({
    env: { ...TEST_ENV, LOGOFF_DEADLINE_SECONDS: '1' },
    simulatorFixture: testFixture(),
    ...FAST_WORKFLOW,
    onWorkflowEvent: (_, event) => onWorkflowEvent?.(event),
  });
});

afterAll(async () => stack.close());

beforeEach(() => {
  stack.simulator?.reset();
  onWorkflowEvent = undefined;
});

const run = (request: { action: SessionActionType; target: SessionTarget; dryRun?: boolean }) =>
  runAction(stack, request);

const citrixCalls = (predicate: (request: RecordedRequest) => boolean) =>
  (stack.simulator?.requests() ?? []).filter(predicate);
const logoffsOf = (sessionId: string) =>
  citrixCalls(
    (r) => r.method === 'POST' && r.path === `/cvad/manage/Sessions/${sessionId}/$logoff`,
  );
const sessionState = (sessionId: string) =>
  stack.simulator?.state().sessions.find((s) => s.Id === sessionId);

describe('session-action workflow', () => {
  it('logs off a session and polls its job to completion', async () => {
    const { record, status } = await run({
      action: 'session.logoff',
      target: { sessionId: SESSIONS.bob },
    });
    expect(status).toBe('SUCCEEDED');
    expect(record.status).toBe('succeeded');
    expect(record.results[SESSIONS.bob]).toMatchObject({
      outcome: 'succeeded',
      userName: 'bob@example.com',
      job: { status: 'Complete' },
    });
    expect(logoffsOf(SESSIONS.bob)).toHaveLength(1);
    expect(sessionState(SESSIONS.bob)).toBeUndefined();
    const jobReads = citrixCalls(
      (r) => r.method === 'GET' && r.path.startsWith('/cvad/manage/Jobs/'),
    );
    expect(jobReads.length).toBeGreaterThanOrEqual(1);
    // Every Citrix call carries the action id, so Citrix-side logs can be joined with ours.
    const transactionIds = citrixCalls((r) => r.path.startsWith('/cvad/manage/Sessions')).map(
      (r) => r.headers['citrix-transactionid'],
    );
    expect(new Set(transactionIds)).toEqual(new Set([record.actionId]));
  });

  it('logs off every session of a user, and only that user (bob, not bobby)', async () => {
    const { record } = await run({ action: 'session.logoff', target: { user: 'bob@example.com' } });
    expect(record.status).toBe('succeeded');
    expect(Object.keys(record.results)).toEqual([SESSIONS.bob]);
    expect(logoffsOf(SESSIONS.bobby)).toHaveLength(0);
    expect(sessionState(SESSIONS.bobby)?.State).toBe('Active');
  });

  it('disconnects without polling a job', async () => {
    const { record } = await run({
      action: 'session.disconnect',
      target: { user: 'EXAMPLE\\alice' },
    });
    expect(record.status).toBe('succeeded');
    expect(record.summary).toBe('2 of 2 sessions disconnected');
    expect(sessionState(SESSIONS.alice1)?.State).toBe('Disconnected');
    expect(citrixCalls((r) => r.path.startsWith('/cvad/manage/Jobs/'))).toHaveLength(0);
  });

  it('records a failed log off job with the Citrix error', async () => {
    const { record, status } = await run({
      action: 'session.logoff',
      target: { user: 'carol@example.com' },
    });
    expect(status).toBe('SUCCEEDED');
    expect(record.status).toBe('failed');
    // The job's last read status was InProgress; the final one is in the message, not stale here.
    expect((record.results[SESSIONS.carol] as SessionTargetResult | undefined)?.job).toEqual({
      id: expect.any(String),
    });
    expect(record.results[SESSIONS.carol]).toMatchObject({
      outcome: 'failed',
      error: {
        name: 'LogoffJobFailedError',
        message: expect.stringMatching(/ended Failed: The VDA did not respond/),
      },
    });
  });

  it('stops polling a job that never finishes at the deadline', async () => {
    const { record } = await run({
      action: 'session.logoff',
      target: { user: 'dave@example.com' },
    });
    expect(record.status).toBe('failed');
    expect(record.results[SESSIONS.dave]).toMatchObject({
      outcome: 'timed_out',
      error: { name: 'LogoffJobDeadlineExceededError' },
    });
    // Bounded: the deadline is 1 s and polls are 25 ms apart here.
    const jobReads = citrixCalls((r) => r.path.startsWith('/cvad/manage/Jobs/'));
    expect(jobReads.length).toBeGreaterThan(1);
    expect(jobReads.length).toBeLessThan(100);
  });

  it('keeps the other sessions when one of several fails', async () => {
    const { record } = await run({
      action: 'session.logoff',
      target: { user: 'erin@example.com' },
    });
    expect(record.status).toBe('partially_succeeded');
    expect(record.summary).toBe('2 of 3 sessions logged off, 1 failed');
    expect(record.results[SESSIONS.erin1]?.outcome).toBe('succeeded');
    expect(record.results[SESSIONS.erin2]?.outcome).toBe('failed');
    expect(record.results[SESSIONS.erin3]?.outcome).toBe('succeeded');
    for (const id of [SESSIONS.erin1, SESSIONS.erin2, SESSIONS.erin3])
      expect(logoffsOf(id)).toHaveLength(1);
  });

  it('rides out a storm of 429s while resolving the sessions (client retries, then the workflow Retry)', async () => {
    stack.simulator?.setFaults({ throttle: { count: 7, retryAfterSeconds: 0 } });
    const { record } = await run({
      action: 'session.logoff',
      target: { sessionId: SESSIONS.alice1 },
    });
    expect(record.status).toBe('succeeded');
    const throttled = citrixCalls((r) => r.status === 429);
    expect(throttled).toHaveLength(7);
    expect(logoffsOf(SESSIONS.alice1).filter((r) => r.status === 202)).toHaveLength(1);
  });

  it('rides out a storm of 429s in the batch rounds (the shared throttle gate, then the next round), sending the log off once', async () => {
    // The storm starts once the sessions are resolved: every 429 hits a batch round, which sends
    // each request once (no client retry), closes the shared gate (for Retry-After: 0 s here) and
    // leaves the session pending for the next round.
    let rounds = 0;
    onWorkflowEvent = (event) => {
      if (event.type !== 'StateEntered' || !('state' in event)) return;
      if (event.state.name !== 'AdvanceBatch') return;
      rounds += 1;
      if (rounds === 1)
        stack.simulator?.setFaults({ throttle: { count: 7, retryAfterSeconds: 0 } });
    };
    const { record } = await run({
      action: 'session.logoff',
      target: { sessionId: SESSIONS.alice1 },
    });
    expect(record.status).toBe('succeeded');
    const throttled = citrixCalls((r) => r.status === 429);
    expect(throttled).toHaveLength(7);
    // Each 429 was the session's log off, in a round of its own, and it was accepted once.
    expect(
      throttled.every((r) => r.path === `/cvad/manage/Sessions/${SESSIONS.alice1}/$logoff`),
    ).toBe(true);
    expect(logoffsOf(SESSIONS.alice1).filter((r) => r.status === 202)).toHaveLength(1);
    expect(rounds).toBeGreaterThanOrEqual(8);
  });

  it('gets a new token when the old one expires mid-run', async () => {
    // Expire every token right after the batch's first round submitted the log off, before the
    // next round polls its job.
    let firstRound = true;
    onWorkflowEvent = (event) => {
      if (
        firstRound &&
        event.type === 'StateExited' &&
        'state' in event &&
        event.state.name === 'AdvanceBatch'
      ) {
        firstRound = false;
        stack.simulator?.expireTokens();
      }
    };
    const { record } = await run({
      action: 'session.logoff',
      target: { sessionId: SESSIONS.alice2 },
    });
    expect(record.status).toBe('succeeded');
    const calls = stack.simulator?.requests() ?? [];
    const rejected = calls.filter((r) => r.status === 401);
    // reset() between tests also drops tokens, so a 401 elsewhere is possible; this one is mid-run.
    expect(rejected.some((r) => r.path.startsWith('/cvad/manage/Jobs/'))).toBe(true);
    expect(calls.filter((r) => r.path.includes('/tokens/clients')).length).toBeGreaterThanOrEqual(
      1,
    );
    expect(calls.at(-1)?.status).toBe(200);
  });

  it('plans a dry run without any mutating Citrix call', async () => {
    const { record } = await run({
      action: 'session.logoff',
      target: { user: 'alice@example.com' },
      dryRun: true,
    });
    expect(record.status).toBe('planned');
    expect(record.summary).toBe('Dry run: would log off 2 sessions');
    expect(Object.values(record.results).map((r) => r.outcome)).toEqual(['planned', 'planned']);
    expect(
      citrixCalls(
        (r) => r.method === 'POST' && !r.path.endsWith('$search') && !r.path.includes('/tokens/'),
      ),
    ).toEqual([]);
  });

  it('fails the action as a whole when the session does not exist', async () => {
    const { record, status } = await run({
      action: 'session.logoff',
      target: { sessionId: '00000000-0000-4000-8000-00000000dead' },
    });
    expect(status).toBe('FAILED');
    expect(record.status).toBe('failed');
    expect(record.error?.name).toBe('CitrixNotFoundError');
  });
});
