import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORKFLOWS } from '../lib/workflow/definition.ts';
import { demoFixture, type SimulatorFixture } from '../local/simulator/fixture.ts';

/**
 * The world the fault suite runs in: the demo fixture with fast log off jobs and one stale
 * disconnected session for the sweep, a short Citrix client timeout (so that a late reply is
 * late), and every Wait state and Retry interval of the workflow files shortened, so that a run
 * takes seconds instead of the minutes the deployed timings take.
 */

/** The Citrix client's per-request timeout in the suite (CITRIX_REQUEST_TIMEOUT_MS). */
export const FAULT_CLIENT_TIMEOUT_MS = 500;

/** erin's disconnected session: stale for the sweep (disconnected two days ago). */
export const STALE_SESSION_ID = 'b6546c43-de70-46b5-ae74-5d94869d816d';

export function faultFixture(now: Date): SimulatorFixture {
  const fixture = demoFixture();
  return {
    ...fixture,
    settings: { ...fixture.settings, logoff: { notStartedMs: 20, inProgressMs: 60 } },
    sessions: fixture.sessions.map((session) =>
      session.Id === STALE_SESSION_ID
        ? { ...session, StateChangeTime: new Date(now.getTime() - 2 * 86_400_000).toISOString() }
        : session,
    ),
  };
}

/** The suite's sweeps file, written to the temporary directory: one session sweep. */
export function writeFaultSweeps(sweepName: string): string {
  const file = join(tmpdir(), `citrix-response-faults-sweeps-${process.pid}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      sweeps: [
        {
          name: sweepName,
          schedule: 'rate(1 hour)',
          find: { sessions: { state: 'Disconnected', olderThan: 'PT8H' } },
          action: 'session.logoff',
          mode: 'enforce',
          maxTargets: 10,
          enabled: true,
        },
      ],
    }),
  );
  return file;
}

const GENEROUS = { perRequest: 100, perHour: 20_000, overLimit: 'refuse' } as const;

export function faultEnv(sweepsFile: string): Record<string, string> {
  return {
    CITRIX_REQUEST_TIMEOUT_MS: String(FAULT_CLIENT_TIMEOUT_MS),
    CITRIX_MAX_ATTEMPTS: '3',
    LOGOFF_INITIAL_WAIT_SECONDS: '1',
    // A hanging log off job is given up on after this, as the deployed deadline does later.
    LOGOFF_DEADLINE_SECONDS: '3',
    APPROVAL_REQUIRED: 'none',
    // Every case acts on the same targets again: the hourly limits must not end the suite.
    GUARDRAIL_LIMITS: JSON.stringify(
      Object.fromEntries(
        [
          'session.logoff',
          'session.disconnect',
          'device.wipe',
          'device.selectiveWipe',
          'device.deployPolicy',
          'admin.revoke',
          'admin.deleteInvitation',
        ].map((action) => [action, GENEROUS]),
      ),
    ),
    SWEEPS_FILE: sweepsFile,
  };
}

interface AslNode {
  readonly Type?: string;
  readonly States?: Record<string, AslNode>;
  readonly ItemProcessor?: AslNode;
  readonly Iterator?: AslNode;
  readonly Branches?: AslNode[];
}

function* statesOf(node: AslNode | undefined): Generator<[string, AslNode]> {
  for (const [name, state] of Object.entries(node?.States ?? {})) {
    yield [name, state];
    yield* statesOf(state.ItemProcessor);
    yield* statesOf(state.Iterator);
    for (const branch of state.Branches ?? []) yield* statesOf(branch);
  }
}

/** Every Wait state at 20 ms and every Retry interval at 10 ms, read from the workflow files. */
export function fastTimings(): {
  waitTimeOverrides: Record<string, number>;
  retryIntervalOverrides: Record<string, number>;
} {
  const waitTimeOverrides: Record<string, number> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const workflow of WORKFLOWS) {
    const definition = JSON.parse(readFileSync(workflow.file, 'utf8')) as AslNode;
    for (const [name, state] of statesOf(definition)) {
      if (state.Type === 'Wait') waitTimeOverrides[name] = 20;
      if ('Retry' in state) retryIntervalOverrides[name] = 10;
    }
  }
  return { waitTimeOverrides, retryIntervalOverrides };
}
