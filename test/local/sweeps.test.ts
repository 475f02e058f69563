import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addressRange } from '../../lib/citrix/client-address.ts';
import { parseStateChangeTime } from '../../lib/sessions/state-change-time.ts';
import type { SimulatorFixture } from '../../local/simulator/fixture.ts';
import {
  FLEET_EMAIL_DOMAIN,
  FLEET_PROTECTED_USERS,
  fleetFixture,
  fleetUserName,
} from '../../local/simulator/fleet.ts';
import type { RecordedRequest } from '../../local/simulator/server.ts';
import { type LocalStackHarness, useLocalStack } from '../support/local-stack.ts';

/**
 * Issue 12's "done when", end to end on the fleet fixture (1,000 sessions): sweeps run through
 * `runSweep` (what `npm run sweep` and the local schedules call) and the signed API.
 */
const NOW = new Date();
/** A fleet user with sessions and devices: the runbook sweep's input. */
const RUNBOOK_USER = `${fleetUserName(1)}@${FLEET_EMAIL_DOMAIN}`;
const EIGHT_HOURS_MS = 8 * 3_600_000;
const fixture: SimulatorFixture = fleetFixture({ sessions: 1000, now: NOW, logoffMs: 40 });

const SWEEPS = {
  sweeps: [
    {
      name: 'stale-sessions',
      schedule: 'cron(0 2 * * ? *)',
      find: { sessions: { state: 'Disconnected', olderThan: 'PT8H' } },
      action: 'session.logoff',
      mode: 'enforce',
      maxTargets: 1000,
      enabled: true,
    },
    {
      name: 'too-few-allowed',
      schedule: 'rate(1 hour)',
      find: { sessions: { state: 'Disconnected', olderThan: 'PT8H' } },
      action: 'session.logoff',
      mode: 'enforce',
      maxTargets: 10,
      enabled: true,
    },
    ...['jailbroken-first', 'jailbroken-later'].map((name) => ({
      name,
      schedule: 'rate(1 hour)',
      find: { devices: { jailbroken: true, compliant: false, graceHours: 24 } },
      action: 'device.selectiveWipe',
      mode: 'enforce',
      maxTargets: 20,
      enabled: true,
    })),
    // A runbook on a schedule: report mode plans every step, acting on nothing.
    {
      name: 'contain-user-report',
      schedule: 'rate(1 day)',
      runbook: { name: 'compromised-user', inputs: { user: RUNBOOK_USER } },
      mode: 'report',
      enabled: true,
    },
  ],
};
const sweepsFile = join(tmpdir(), `sweeps-${process.pid}.json`);
writeFileSync(sweepsFile, JSON.stringify(SWEEPS));

const protectedUser = (names: readonly (string | null | undefined)[]) =>
  names.some((name) =>
    FLEET_PROTECTED_USERS.some((user) => user.toLowerCase() === name?.toLowerCase()),
  );

/** What the sweep must log off, computed from the fixture itself. */
const staleSessions = fixture.sessions.filter((session) => {
  const changed = parseStateChangeTime(session.StateChangeTime as string | undefined);
  return (
    session.State === 'Disconnected' &&
    changed !== undefined &&
    NOW.getTime() - changed > EIGHT_HOURS_MS &&
    !protectedUser([session.User.PrincipalName, session.User.Name, session.UntrustedUserName])
  );
});

const harness: LocalStackHarness = useLocalStack({
  reason: 'Rehearsal: fleet containment',
  simulatorFixture: fixture,
  // A runbook run looks at its steps after 5, 10, 20 … seconds: shortened.
  waitTimeOverrides: { WaitForStep: 20 },
  env: {
    SWEEPS_FILE: sweepsFile,
    SESSION_MAX_TARGETS: '200',
    LOGOFF_DEADLINE_SECONDS: '60',
    PROTECTED_USERS: FLEET_PROTECTED_USERS.join(','),
    GUARDRAIL_LIMITS: JSON.stringify({
      'session.logoff': { perRequest: 200, perHour: 2000 },
      'session.disconnect': { perRequest: 200, perHour: 2000 },
    }),
  },
});

const mutations = (requests: readonly RecordedRequest[]) =>
  requests.filter(
    (request) => request.method === 'POST' && /\/\$(logoff|disconnect)$/.test(request.path),
  );
const sessionOf = (request: RecordedRequest) => request.path.split('/').at(-2) ?? '';

describe('sweeps and fleet targets on 1,000 sessions', () => {
  it('a dry run of the stale-session sweep plans exactly the matching sessions and sends no mutating call', async () => {
    const run = await harness.stack.runSweep('stale-sessions', { dryRun: true });
    const record = await harness.finished(run.actionId);
    expect(record.status).toBe('planned');
    expect(record.requestedBy).toBe('stale-sessions');
    const planned = (record.plan ?? []).filter((entry) => entry.act).map((entry) => entry.target);
    expect(new Set(planned)).toEqual(new Set(staleSessions.map((session) => session.Id)));
    expect(mutations(harness.stack.simulator?.requests() ?? [])).toEqual([]);
  }, 60_000);

  it('runs a runbook on schedule: in report mode, a dry run of every step as the sweep, no mutating call', async () => {
    const run = await harness.stack.runSweep('contain-user-report');
    const record = await harness.finished(run.actionId);

    expect(record).toMatchObject({
      action: 'runbook.run',
      target: { runbook: 'compromised-user' },
      inputs: { user: RUNBOOK_USER },
      dryRun: true,
      status: 'planned',
      requestedBy: 'contain-user-report',
      requester: { kind: 'sweep', key: 'sweep:contain-user-report' },
      source: { name: 'sweep', title: 'contain-user-report' },
    });
    const sessions = fixture.sessions.filter(
      (session) => session.User.PrincipalName === RUNBOOK_USER,
    );
    expect(record.steps?.[0]).toMatchObject({
      id: 'logoff-sessions',
      status: 'planned',
      targets: sessions.length,
    });
    expect(sessions.length).toBeGreaterThan(0);
    expect(mutations(harness.stack.simulator?.requests() ?? [])).toEqual([]);
  }, 60_000);

  it('refuses the whole run when it matches more than its maxTargets, and acts on none', async () => {
    const run = await harness.stack.runSweep('too-few-allowed');
    const record = await harness.finished(run.actionId);
    expect(record.status).toBe('refused');
    expect(record.summary).toMatch(/matched \d+ sessions; it may act on at most 10/);
    expect(mutations(harness.stack.simulator?.requests() ?? [])).toEqual([]);
  }, 60_000);

  it('logs off exactly the sessions disconnected for more than 8 hours, protected users and unreadable times aside', async () => {
    const run = await harness.stack.runSweep('stale-sessions');
    const record = await harness.finished(run.actionId);
    expect(record.status).toBe('succeeded');
    const sent = mutations(harness.stack.simulator?.requests() ?? []);
    expect(sent.every((request) => request.path.endsWith('/$logoff'))).toBe(true);
    expect(sent.map(sessionOf).sort()).toEqual(staleSessions.map((session) => session.Id).sort());
    const skipped = Object.values(record.results).filter((result) => result.outcome === 'skipped');
    expect(skipped.length).toBeGreaterThanOrEqual(FLEET_PROTECTED_USERS.length);
  }, 120_000);

  it('a clientAddress CIDR target disconnects exactly the sessions from that range', async () => {
    const range = addressRange('203.0.113.0/24');
    const expected = fixture.sessions
      .filter((session) => range.contains(String(session.Client?.IPAddress ?? '')))
      .filter(
        (session) =>
          !protectedUser([
            session.User.PrincipalName,
            session.User.Name,
            session.UntrustedUserName,
          ]),
      )
      .map((session) => session.Id);
    expect(expected.length).toBeGreaterThan(50);
    const actionId = await harness.request({
      action: 'session.disconnect',
      target: { clientAddress: '203.0.113.0/24' },
      urgency: 'immediate',
    });
    const record = await harness.finished(actionId);
    expect(record.status).toBe('succeeded');
    const sent = mutations(harness.stack.simulator?.requests() ?? []);
    expect(sent.every((request) => request.path.endsWith('/$disconnect'))).toBe(true);
    expect(sent.map(sessionOf).sort()).toEqual(expected.sort());
  }, 120_000);

  it('a device sweep records its first finding without acting, and acts once the grace period has passed', async () => {
    const wipes = () =>
      (harness.stack.simulator?.requests() ?? []).filter(
        (request) => request.method === 'POST' && request.path.endsWith('/device/selectivewipe'),
      );
    const first = await harness.finished(
      (await harness.stack.runSweep('jailbroken-first')).actionId,
    );
    const found = (first.targets ?? []).map((target) =>
      'deviceId' in target ? target.deviceId : '',
    );
    expect(found.length).toBeGreaterThan(0);
    expect(first.plan?.every((entry) => !entry.act)).toBe(true);
    expect(first.plan?.every((entry) => /grace period until/.test(entry.reason ?? ''))).toBe(true);
    expect(wipes()).toEqual([]);

    // Another sweep that first found the same devices 25 hours ago: past its 24-hour grace.
    await harness.stack.deviceFindings.observe(
      'jailbroken-later',
      found,
      new Date(Date.now() - 25 * 3_600_000),
      true,
    );
    const later = await harness.finished(
      (await harness.stack.runSweep('jailbroken-later')).actionId,
    );
    expect(later.status).toBe('succeeded');
    const managed = (later.targets ?? []).flatMap((target) =>
      'deviceId' in target && target.managed ? [target.deviceId] : [],
    );
    expect(managed.length).toBeGreaterThan(0);
    const acted = (later.plan ?? []).filter((entry) => entry.act).map((entry) => entry.target);
    // Only managed devices are ever sent a command; every one found 25 hours ago is acted on.
    expect(acted.sort()).toEqual(managed.sort());
    expect(wipes().length).toBe(managed.length);
  }, 60_000);
});
