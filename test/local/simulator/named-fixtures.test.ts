import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { demoFixture, SimulatorFixtureError } from '../../../local/simulator/fixture.ts';
import { fleetFixture } from '../../../local/simulator/fleet.ts';
import { FIXTURE_VARIABLE, fixtureFromEnv } from '../../../local/simulator/named-fixtures.ts';
import { testFixture } from './helpers.ts';

const NOW = new Date('2026-03-02T12:00:00.000Z');
const dir = mkdtempSync(join(tmpdir(), 'citrix-sim-named-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const choose = (value: string | undefined) => fixtureFromEnv({ [FIXTURE_VARIABLE]: value }, NOW);

function errorOf(value: string): Error {
  try {
    choose(value);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`${value} was accepted`);
}

describe('fixtureFromEnv (CITRIX_SIMULATOR_FIXTURE)', () => {
  it('reads CITRIX_SIMULATOR_FIXTURE', () => {
    expect(FIXTURE_VARIABLE).toBe('CITRIX_SIMULATOR_FIXTURE');
  });

  it('is the demo fixture when unset, empty or demo', () => {
    const demo = demoFixture();
    expect(fixtureFromEnv({})).toEqual(demo);
    expect(choose(undefined)).toEqual(demo);
    expect(choose('')).toEqual(demo);
    expect(choose('  ')).toEqual(demo);
    expect(choose('demo')).toEqual(demo);
  });

  it('is the 1,000-session fleet for fleet, its times relative to now', () => {
    const fleet = choose('fleet');
    expect(fleet.sessions).toHaveLength(1000);
    expect(fleet).toEqual(fleetFixture({ now: NOW }));
    expect(fleet).not.toEqual(fleetFixture({ now: new Date(NOW.getTime() + 60_000) }));
  });

  it('is a fleet of n sessions for fleet:<n>, 1 to 10,000', () => {
    expect(choose('fleet:1').sessions).toHaveLength(1);
    expect(choose('fleet:250')).toEqual(fleetFixture({ sessions: 250, now: NOW }));
    expect(choose(' fleet:10000 ').sessions).toHaveLength(10_000);
  });

  it.each([
    'fleet:0',
    'fleet:10001',
    'fleet:',
    'fleet:abc',
    'fleet:2.5',
    'fleet:-3',
    'fleet: 12',
    'fleet:1e3',
  ])('refuses %s, naming the variable and the range', (value) => {
    const error = errorOf(value);
    expect(error).toBeInstanceOf(SimulatorFixtureError);
    expect(error.message).toMatch(/^CITRIX_SIMULATOR_FIXTURE=/);
    expect(error.message).toContain(`"${value.trim()}"`);
    expect(error.message).toContain('1 to 10000');
  });

  it('loads anything else as a fixture file', () => {
    const path = join(dir, 'fixture.json');
    writeFileSync(path, JSON.stringify(testFixture()));
    expect(choose(path)).toEqual(testFixture());
  });

  it('names the variable, and what it takes, for a path that does not exist', () => {
    for (const value of ['Fleet', join(dir, 'missing.json')]) {
      const error = errorOf(value);
      expect(error).toBeInstanceOf(SimulatorFixtureError);
      expect(error.message).toContain(`CITRIX_SIMULATOR_FIXTURE="${value}"`);
      expect(error.message).toMatch(/Cannot read simulator fixture/);
      expect(error.message).toMatch(/demo, fleet, fleet:<sessions>/);
    }
  });

  it('names the variable and the bad field for an invalid fixture file', () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, JSON.stringify({ ...testFixture(), customerId: '' }));
    const error = errorOf(path);
    expect(error.message).toMatch(/^CITRIX_SIMULATOR_FIXTURE=".*broken\.json": Invalid simulator/);
    expect(error.message).toMatch(/customerId/);
  });
});
