import { describe, expect, it, vi } from 'vitest';
import type { DaasSession } from '../../../lib/citrix/daas-client.ts';
import {
  DEFAULT_SESSION_WORKFLOW_SETTINGS,
  describeSession,
  EXECUTION_HISTORY_LIMIT,
  estimateHistoryEvents,
  maxPollRounds,
  resolveSessionTargets,
  SessionWorkflowSettingsSchema,
  sessionUserNames,
  TooManyTargetsError,
} from '../../../lib/sessions/session-actions.ts';

const SETTINGS = DEFAULT_SESSION_WORKFLOW_SETTINGS;
const NOW = new Date('2026-11-23T03:00:00.000Z');
const CONTEXT = { transactionId: 'act_1' };
const SESSION_ID = '41ba32e9-d12b-485c-afd2-c4d0d047cd8b';

const session = (id: string, upn = 'alice@example.com'): DaasSession => ({
  Id: id,
  State: 'Active',
  User: { PrincipalName: upn, Name: 'EXAMPLE\\alice' },
  Machine: { Name: 'EXAMPLE\\VDA-01', DnsName: 'vda-01.example.com' },
});

describe('resolveSessionTargets', () => {
  it('reads a single session by id', async () => {
    const directory = {
      getSession: vi.fn(async () => session(SESSION_ID)),
      searchSessionsByUser: vi.fn(),
      searchSessions: vi.fn(),
    };
    const targets = await resolveSessionTargets(
      directory,
      { sessionId: SESSION_ID },
      SETTINGS,
      CONTEXT,
    );
    expect(targets).toEqual([
      {
        sessionId: SESSION_ID,
        userName: 'alice@example.com',
        userNames: ['alice@example.com', 'EXAMPLE\\alice'],
        machineName: 'vda-01.example.com',
        state: 'Active',
      },
    ]);
    expect(directory.getSession).toHaveBeenCalledWith(SESSION_ID, CONTEXT);
    expect(directory.searchSessionsByUser).not.toHaveBeenCalled();
  });

  it('turns a user into all of their sessions', async () => {
    const directory = {
      getSession: vi.fn(),
      searchSessionsByUser: vi.fn(async () => [session('a'), session('b')]),
      searchSessions: vi.fn(),
    };
    const targets = await resolveSessionTargets(
      directory,
      { user: 'alice@example.com' },
      SETTINGS,
      CONTEXT,
    );
    expect(targets.map((t) => t.sessionId)).toEqual(['a', 'b']);
    expect(directory.searchSessionsByUser).toHaveBeenCalledWith(
      { kind: 'upn', upn: 'alice@example.com' },
      CONTEXT,
    );
  });

  it('refuses a user with more sessions than one action may touch, rather than acting on some', async () => {
    const directory = {
      getSession: vi.fn(),
      searchSessionsByUser: vi.fn(async () => [session('a'), session('b'), session('c')]),
      searchSessions: vi.fn(),
    };
    await expect(
      resolveSessionTargets(directory, { user: 'alice@example.com' }, { maxTargets: 2 }, CONTEXT),
    ).rejects.toThrow(TooManyTargetsError);
  });
});

describe('sessionUserNames', () => {
  it('keeps every name Citrix reports for the user: UPN, DOMAIN\\user, the client-sent name', () => {
    expect(
      sessionUserNames({
        Id: 'a',
        State: 'Active',
        User: { PrincipalName: 'bob@example.com', Name: 'EXAMPLE\\bob' },
        UntrustedUserName: 'LAPTOP\\bobby',
      }),
    ).toEqual(['bob@example.com', 'EXAMPLE\\bob', 'LAPTOP\\bobby']);
  });

  it('leaves out blank names and repeats (case-insensitively), and copes with no user', () => {
    expect(
      sessionUserNames({
        Id: 'a',
        State: 'Active',
        User: { PrincipalName: null, Name: 'EXAMPLE\\bob' },
        UntrustedUserName: 'example\\BOB',
      }),
    ).toEqual(['EXAMPLE\\bob']);
    expect(sessionUserNames({ Id: 'a', State: 'Active', User: { PrincipalName: ' ' } })).toEqual(
      [],
    );
    const described = describeSession({ Id: 'a', State: 'Active', User: null });
    expect(described.userName).toBeUndefined();
    expect(described.userNames).toBeUndefined();
  });

  it('names the session after the UPN, falling back to the SAM name, then the client name', () => {
    const only = (fields: Partial<DaasSession>) =>
      describeSession({ Id: 'a', State: 'Active', ...fields }).userName;
    expect(only({ User: { Name: 'EXAMPLE\\bob' }, UntrustedUserName: 'bob' })).toBe('EXAMPLE\\bob');
    expect(only({ UntrustedUserName: 'bob' })).toBe('bob');
  });
});

describe('execution history bound', () => {
  it('counts poll rounds of the growing waits', () => {
    // 2+4+8+16+30 = 60 s after five rounds, then one more read at the deadline.
    expect(maxPollRounds({ initialWaitSeconds: 2, maxWaitSeconds: 30, deadlineSeconds: 60 })).toBe(
      6,
    );
  });

  it('keeps the default settings well under the 25,000-event history limit', () => {
    expect(estimateHistoryEvents(SETTINGS)).toBeLessThan(EXECUTION_HISTORY_LIMIT * 0.8);
    expect(SessionWorkflowSettingsSchema.safeParse(SETTINGS).success).toBe(true);
  });

  it('refuses settings whose worst case could exceed the limit', () => {
    const risky = { ...SETTINGS, maxTargets: 2000, deadlineSeconds: 6 * 3600 };
    const parsed = SessionWorkflowSettingsSchema.safeParse(risky);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['maxTargets']);
  });
});

describe('resolveSessionTargets for fleet and sweep targets', () => {
  const stale = (id: string, StateChangeTime: string, State = 'Disconnected'): DaasSession => ({
    ...session(id),
    State,
    StateChangeTime,
    Machine: { DnsName: 'vda-01.example.com', DeliveryGroup: { Name: 'Finance' } },
  });
  const sweepTarget = (maxTargets: number) => ({
    sweep: 'stale-sessions',
    maxTargets,
    observe: true,
    find: { sessions: { state: 'Disconnected' as const, olderThan: 'PT8H' } },
  });
  const directoryOf = (sessions: DaasSession[]) => ({
    getSession: vi.fn(),
    searchSessionsByUser: vi.fn(),
    searchSessions: vi.fn(async () => sessions),
  });

  it('marks a session whose time cannot be read not actionable, and leaves other states out', async () => {
    const directory = directoryOf([
      stale('old', '2026-11-22T03:00:00Z'),
      stale('young', '2026-11-23T02:00:00Z'),
      stale('unreadable', 'soon'),
      stale('active', '2026-11-20T03:00:00Z', 'Active'),
    ]);
    const targets = await resolveSessionTargets(directory, sweepTarget(5), SETTINGS, CONTEXT, NOW);
    expect(targets.map((t) => [t.sessionId, t.actionable])).toEqual([
      ['old', undefined],
      ['unreadable', false],
    ]);
    expect(targets[1]?.skipReason).toMatch(/cannot be read/);
  });

  it('refuses a sweep matching more than its maxTargets whole, counting only matches', async () => {
    const sessions = ['a', 'b', 'c'].map((id) => stale(id, '2026-11-22T03:00:00Z'));
    const directory = directoryOf([...sessions, stale('u', 'garbage')]);
    const error = await resolveSessionTargets(
      directory,
      sweepTarget(2),
      SETTINGS,
      CONTEXT,
      NOW,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TooManyTargetsError);
    expect((error as Error).message).toBe(
      'Sweep stale-sessions matched 3 sessions; it may act on at most 2',
    );
    // Three matches (the unreadable one not counted) are within a maxTargets of 3.
    expect(
      await resolveSessionTargets(directory, sweepTarget(3), SETTINGS, CONTEXT, NOW),
    ).toHaveLength(4);
  });

  it('holds a sweep to SESSION_MAX_TARGETS when that is lower, and says so', async () => {
    const directory = directoryOf(['a', 'b', 'c'].map((id) => stale(id, '2026-11-22T03:00:00Z')));
    await expect(
      resolveSessionTargets(directory, sweepTarget(10), { maxTargets: 2 }, CONTEXT, NOW),
    ).rejects.toThrow(
      'Sweep stale-sessions matched 3 sessions; it may act on at most 10 (SESSION_MAX_TARGETS is 2)',
    );
  });

  it('refuses a delivery group with more sessions than one action may touch, as a whole', async () => {
    const directory = directoryOf(['a', 'b', 'c'].map((id) => stale(id, '2026-11-22T03:00:00Z')));
    await expect(
      resolveSessionTargets(directory, { deliveryGroup: 'Finance' }, { maxTargets: 2 }, CONTEXT),
    ).rejects.toThrow(
      'Delivery group Finance has 3 sessions; one action may touch at most 2 (SESSION_MAX_TARGETS)',
    );
    const targets = await resolveSessionTargets(
      directory,
      { deliveryGroup: 'finance' },
      { maxTargets: 3 },
      CONTEXT,
    );
    expect(targets.map((t) => t.sessionId)).toEqual(['a', 'b', 'c']);
  });
});
