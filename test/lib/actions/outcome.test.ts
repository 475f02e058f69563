import { describe, expect, it } from 'vitest';
import {
  buildTargetResult,
  deriveActionStatus,
  describePlan,
  planResults,
  summarizeCaughtError,
} from '../../../lib/actions/outcome.ts';
import type { TargetResult } from '../../../lib/actions/schema.ts';

const NOW = new Date('2026-11-23T03:00:00.000Z');
const TARGET = { sessionId: 's-1', userName: 'alice@example.com', machineName: 'vda-01' };

const result = (outcome: TargetResult['outcome']): TargetResult => ({
  sessionId: `s-${Math.random()}`,
  outcome,
  finishedAt: NOW.toISOString(),
});

describe('summarizeCaughtError', () => {
  it('keeps only the message of a Lambda error document, never its stack trace', () => {
    const cause = JSON.stringify({
      errorType: 'CitrixForbiddenError',
      errorMessage: 'Citrix API POST /cvad/manage/Sessions/{id}/$logoff failed with 403',
      trace: ['at secret/place.js:1'],
    });
    expect(summarizeCaughtError({ Error: 'CitrixForbiddenError', Cause: cause })).toEqual({
      name: 'CitrixForbiddenError',
      message: 'Citrix API POST /cvad/manage/Sessions/{id}/$logoff failed with 403',
    });
  });

  it('takes a plain Cause as the message, and falls back to the error name', () => {
    expect(summarizeCaughtError({ Error: 'States.Timeout', Cause: 'Task timed out' }).message).toBe(
      'Task timed out',
    );
    expect(summarizeCaughtError({ Error: 'States.Timeout' }).message).toBe('States.Timeout');
  });
});

describe('buildTargetResult', () => {
  it('reports a finished log off with its job', () => {
    expect(
      buildTargetResult(
        TARGET,
        { done: true, jobId: 'j-1', jobStatus: 'Complete' },
        undefined,
        NOW,
      ),
    ).toEqual({
      ...TARGET,
      outcome: 'succeeded',
      job: { id: 'j-1', status: 'Complete' },
      finishedAt: NOW.toISOString(),
    });
  });

  it('reports a caught deadline as timed out and any other error as failed', () => {
    const progress = { done: false, jobId: 'j-1', jobStatus: 'InProgress' };
    const timedOut = buildTargetResult(
      TARGET,
      progress,
      { Error: 'LogoffJobDeadlineExceededError', Cause: 'late' },
      NOW,
    );
    expect(timedOut.outcome).toBe('timed_out');
    expect(timedOut.job).toEqual({ id: 'j-1', status: 'InProgress' });
    const failed = buildTargetResult(
      TARGET,
      undefined,
      { Error: 'LogoffJobFailedError', Cause: 'VDA gone' },
      NOW,
    );
    expect(failed).toMatchObject({
      outcome: 'failed',
      error: { name: 'LogoffJobFailedError', message: 'VDA gone' },
    });
    expect(failed.job).toBeUndefined();
    const failedJob = buildTargetResult(
      TARGET,
      progress,
      { Error: 'LogoffJobFailedError', Cause: 'Citrix job j-1 ended Failed: VDA gone' },
      NOW,
    );
    expect(failedJob.job).toEqual({ id: 'j-1' });
  });

  it('never calls an unfinished target a success', () => {
    expect(buildTargetResult(TARGET, { done: false, jobId: 'j' }, undefined, NOW).outcome).toBe(
      'failed',
    );
  });
});

describe('deriveActionStatus', () => {
  it('is succeeded only when every target succeeded', () => {
    expect(
      deriveActionStatus('session.logoff', [result('succeeded'), result('succeeded')]),
    ).toEqual({
      status: 'succeeded',
      summary: '2 of 2 sessions logged off',
    });
  });

  it('is partially_succeeded when some targets failed or timed out', () => {
    expect(
      deriveActionStatus('session.logoff', [
        result('succeeded'),
        result('failed'),
        result('timed_out'),
      ]),
    ).toEqual({
      status: 'partially_succeeded',
      summary: '1 of 3 sessions logged off, 1 failed, 1 timed out',
    });
  });

  it('is failed when no target succeeded', () => {
    expect(deriveActionStatus('session.disconnect', [result('failed')]).status).toBe('failed');
  });

  it('says so when the target had no sessions', () => {
    expect(deriveActionStatus('session.disconnect', [])).toEqual({
      status: 'succeeded',
      summary: 'No sessions matched the target; nothing was disconnected',
    });
  });
});

describe('describePlan', () => {
  it('counts what a dry run would touch', () => {
    expect(describePlan('session.logoff', [TARGET, TARGET])).toBe(
      'Dry run: would log off 2 sessions',
    );
    expect(describePlan('session.disconnect', [])).toBe('Dry run: no sessions matched the target');
  });
});

describe('device actions', () => {
  const device = (outcome: TargetResult['outcome'], managed = true): TargetResult => ({
    deviceId: `d-${Math.random()}`,
    managed,
    outcome,
    finishedAt: NOW.toISOString(),
  });

  it('counts skipped (unmanaged) devices against neither success nor failure', () => {
    expect(
      deriveActionStatus('device.selectiveWipe', [
        device('succeeded'),
        device('succeeded'),
        device('skipped', false),
      ]),
    ).toEqual({
      status: 'succeeded',
      summary: '2 of 2 devices sent a selective wipe, 1 skipped (not managed)',
    });
    expect(deriveActionStatus('device.wipe', [device('succeeded'), device('failed')])).toEqual({
      status: 'partially_succeeded',
      summary: '1 of 2 devices sent a full wipe, 1 failed',
    });
  });

  it('says plainly when no device could be acted on at all', () => {
    expect(deriveActionStatus('device.wipe', [device('skipped', false)])).toEqual({
      status: 'succeeded',
      summary: 'No device could be acted on; no wipe was sent, 1 skipped (not managed)',
    });
    expect(deriveActionStatus('device.deployPolicy', [])).toEqual({
      status: 'succeeded',
      summary: 'No devices matched the target; no deploy was sent',
    });
  });

  it('plans unmanaged devices as skipped in a dry run', () => {
    const targets = [
      { deviceId: 'd-1', managed: true },
      { deviceId: 'd-2', managed: false },
    ];
    expect(planResults(targets, NOW).map((r) => r.outcome)).toEqual(['planned', 'skipped']);
    expect(describePlan('device.wipe', targets)).toBe(
      'Dry run: would send a full wipe to 1 device and skip 1 (not managed)',
    );
  });
});

describe('administrator actions', () => {
  const admin = (outcome: TargetResult['outcome'], note?: string): TargetResult => ({
    administratorId: `a-${Math.random()}`,
    ucOid: 'OID:/citrix/1',
    type: 'AdministratorUser',
    pending: false,
    allowed: outcome !== 'refused',
    outcome,
    ...(note ? { note } : {}),
    finishedAt: NOW.toISOString(),
  });

  it('is refused, with the reason, when a guard kept every target untouched', () => {
    expect(
      deriveActionStatus('admin.revoke', [
        admin('refused', 'x is the last administrator with Full access'),
      ]),
    ).toEqual({
      status: 'refused',
      summary: 'Refused: x is the last administrator with Full access; no access was changed',
    });
  });

  it('counts a refusal next to successes as partial', () => {
    expect(
      deriveActionStatus('admin.revoke', [admin('succeeded'), admin('refused', 'no')]),
    ).toEqual({
      status: 'partially_succeeded',
      summary: '1 of 2 administrators revoked, 1 refused',
    });
  });
});
