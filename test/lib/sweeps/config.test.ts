import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSweeps, parseSweeps, SweepsFileError } from '../../../lib/sweeps/config.ts';

const sweep = (overrides: Record<string, unknown> = {}) => ({
  name: 'stale-sessions',
  schedule: 'cron(0 2 * * ? *)',
  find: { sessions: { state: 'Disconnected', olderThan: 'PT8H' } },
  action: 'session.logoff',
  mode: 'enforce',
  maxTargets: 100,
  enabled: true,
  ...overrides,
});

const problem = (input: unknown): string => {
  try {
    parseSweeps(input);
  } catch (error) {
    expect(error).toBeInstanceOf(SweepsFileError);
    return (error as Error).message;
  }
  throw new Error('parsed');
};

describe('parseSweeps', () => {
  it('accepts a valid file and defaults the time zone to UTC', () => {
    const parsed = parseSweeps({ sweeps: [sweep()] });
    expect(parsed.sweeps[0]).toMatchObject({ name: 'stale-sessions', timezone: 'UTC' });
  });

  it('names the field of a bad schedule, with the sweep', () => {
    expect(problem({ sweeps: [sweep({ schedule: 'rate(1 hours)' })] })).toMatch(
      /sweeps\[0\] \(sweep "stale-sessions"\)\.schedule: .*rate\(1 hour\)/,
    );
  });

  it('names the action when it cannot run over the find kind', () => {
    expect(problem({ sweeps: [sweep({ action: 'device.wipe' })] })).toMatch(
      /sweeps\[0\] \(sweep "stale-sessions"\)\.action: device\.wipe cannot run over find\.sessions; use one of .*session\.logoff/,
    );
  });

  it('names a sweep declared twice', () => {
    expect(problem({ sweeps: [sweep(), sweep({ enabled: false })] })).toMatch(
      /sweeps\[1\] \(sweep "stale-sessions"\)\.name: "stale-sessions" is declared twice/,
    );
  });

  it('refuses an unknown key, naming where it is', () => {
    expect(problem({ sweeps: [sweep({ schedul: 'rate(1 hour)' })] })).toMatch(
      /sweeps\[0\] \(sweep "stale-sessions"\).*schedul/,
    );
    expect(
      problem({ sweeps: [sweep({ find: { sessions: { state: 'Disconnected', age: 'PT8H' } } })] }),
    ).toMatch(/find\.sessions.*age/);
    expect(problem({ sweeps: [], extra: true })).toMatch(/extra/);
  });

  it('names a bad filter', () => {
    expect(
      problem({
        sweeps: [sweep({ find: { sessions: { state: 'Disconnected', olderThan: 'P1M' } } })],
      }),
    ).toMatch(/find\.sessions\.olderThan: must be an ISO 8601 duration/);
  });

  it('names a find that names no kind (not a TypeError from the action check)', () => {
    expect(problem({ sweeps: [sweep({ find: {} })] })).toMatch(/\.find: must name exactly one of/);
  });
});

describe('loadSweeps', () => {
  it('reads a file, and says which file is unreadable or not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sweeps-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ sweeps: [sweep()] }));
    expect(loadSweeps(good).sweeps).toHaveLength(1);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ nope');
    expect(() => loadSweeps(bad)).toThrow(/is not valid JSON/);
    expect(() => loadSweeps(join(dir, 'missing.json'))).toThrow(SweepsFileError);
  });
});
