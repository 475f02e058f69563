import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEMO_FIXTURE_PATH,
  demoFixture,
  loadFixture,
  parseFixture,
  resolveSettings,
  SimulatorFixtureError,
  SimulatorFixtureSchema,
} from '../../../local/simulator/fixture.ts';
import { testFixture } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'citrix-sim-fixture-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeJson(name: string, data: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof data === 'string' ? data : JSON.stringify(data));
  return path;
}

describe('demo fixture', () => {
  it('validates against the schema', () => {
    const fixture = demoFixture();
    expect(() => SimulatorFixtureSchema.parse(fixture)).not.toThrow();
    expect(DEMO_FIXTURE_PATH).toMatch(/local[/\\]simulator[/\\]demo-fixture\.json$/);
    expect(fixture.customerId).toBe('demo-customer');
    expect(fixture.clients).toEqual([
      expect.objectContaining({ clientId: 'demo-client-id', clientSecret: 'demo-client-secret' }),
    ]);
  });

  it('holds the documented users, sessions and log off behaviours', () => {
    const fixture = demoFixture();
    const byUser = (upn: string) => fixture.sessions.filter((s) => s.User.PrincipalName === upn);
    expect(byUser('alice@example.com')).toHaveLength(2);
    expect(byUser('alice@example.com')[0]?.User.Name).toBe('EXAMPLE\\alice');
    expect(byUser('bob@example.com')).toHaveLength(1);
    expect(byUser('bobby@example.com')).toHaveLength(1);
    expect(byUser('erin@example.com')).toHaveLength(3);
    expect(byUser('carol@example.com')[0]?.simulation).toEqual({
      logoff: 'fail',
      errorString: 'The VDA did not respond to the log off request',
    });
    expect(byUser('dave@example.com')[0]?.simulation?.logoff).toBe('never');
    const timing = fixture.settings?.logoff;
    expect(timing?.notStartedMs).toBeGreaterThan(0);
    expect(timing?.inProgressMs).toBeGreaterThan(timing?.notStartedMs ?? 0);
  });

  it('returns a fresh copy on every call', () => {
    const first = demoFixture();
    first.sessions.length = 0;
    expect(demoFixture().sessions.length).toBeGreaterThan(0);
  });
});

describe('loadFixture', () => {
  it('loads a valid fixture file', () => {
    const path = writeJson('valid.json', testFixture());
    expect(loadFixture(path)).toEqual(testFixture());
  });

  it('names the invalid field in the error', () => {
    const fixture = testFixture() as { sessions: Record<string, unknown>[] };
    fixture.sessions[2] = { ...fixture.sessions[2], State: 'Sleeping' };
    const path = writeJson('bad-state.json', fixture);
    expect(() => loadFixture(path)).toThrow(SimulatorFixtureError);
    expect(() => loadFixture(path)).toThrow(/sessions\[2\]\.State/);
  });

  it('names nested and unknown fields', () => {
    const fixture = {
      ...testFixture(),
      settings: { logoff: { notStartedMs: -1, inProgressMs: 5 } },
    };
    expect(() => loadFixture(writeJson('bad-timing.json', fixture))).toThrow(
      /settings\.logoff\.notStartedMs/,
    );
    const typo = { ...testFixture(), sesions: [] };
    expect(() => loadFixture(writeJson('typo.json', typo))).toThrow(/sesions/);
  });

  it('rejects duplicate session ids', () => {
    const fixture = testFixture();
    const first = fixture.sessions[0];
    if (!first) throw new Error('test fixture has no sessions');
    fixture.sessions.push({ ...first, Id: first.Id.toUpperCase() });
    expect(() => parseFixture(fixture)).toThrow(/sessions\[10\]\.Id: Duplicate/);
  });

  it('reports unreadable and malformed files without leaking their content', () => {
    expect(() => loadFixture(join(dir, 'missing.json'))).toThrow(/Cannot read simulator fixture/);
    const path = writeJson('malformed.json', '{"clientSecret": "hunter2hunter2",');
    let message = '';
    try {
      loadFixture(path);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/is not valid JSON/);
    expect(message).not.toContain('hunter2');
  });
});

describe('StateChangeTime and its format setting', () => {
  it('accepts any StateChangeTime text, null or none, and keeps it as it is', () => {
    const values = ['11/16/2020 2:02:49 PM', '2020-11-16T14:02:49Z', 'not a date', '', null];
    const fixture = testFixture();
    values.forEach((value, i) => {
      const session = fixture.sessions[i];
      if (session) session.StateChangeTime = value;
    });
    const parsed = parseFixture(fixture);
    expect(parsed.sessions.slice(0, values.length).map((s) => s.StateChangeTime)).toEqual(values);
    expect(parsed.sessions[values.length]).not.toHaveProperty('StateChangeTime');
  });

  it('refuses a StateChangeTime that is not text, naming the field', () => {
    const fixture = testFixture() as { sessions: Record<string, unknown>[] };
    fixture.sessions[1] = { ...fixture.sessions[1], StateChangeTime: 1_605_535_369_000 };
    expect(() => parseFixture(fixture)).toThrow(/sessions\[1\]\.StateChangeTime/);
  });

  it('takes settings.stateChangeTimeFormat iso or us, default iso', () => {
    expect(resolveSettings(testFixture()).stateChangeTimeFormat).toBe('iso');
    for (const format of ['iso', 'us'] as const) {
      const fixture = parseFixture({
        ...testFixture(),
        settings: { stateChangeTimeFormat: format },
      });
      expect(resolveSettings(fixture).stateChangeTimeFormat).toBe(format);
    }
    expect(() =>
      parseFixture({ ...testFixture(), settings: { stateChangeTimeFormat: 'eu' } }),
    ).toThrow(/settings\.stateChangeTimeFormat/);
  });
});
