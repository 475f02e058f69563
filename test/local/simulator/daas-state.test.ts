import { afterEach, describe, expect, it } from 'vitest';
import {
  formatStateChangeTime,
  type StateChangeTimeFormat,
} from '../../../local/simulator/fixture.ts';
import { type RunningSimulator, startCitrixSimulator } from '../../../local/simulator/server.ts';
import {
  api,
  getJob,
  getToken,
  IDS,
  type JobBody,
  logoff,
  search,
  testFixture,
} from './helpers.ts';

// The test fixture's log off: NotStarted for 50 ms, then InProgress for 100 ms.
const LOGOFF_MS = 150;
const T0 = Date.parse('2026-03-02T14:02:49.000Z');

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

/** A simulator on a clock the test moves by hand. */
async function simulatorAt(
  format?: StateChangeTimeFormat,
  edit: (fixture: ReturnType<typeof testFixture>) => void = () => {},
) {
  const clock = { now: T0 };
  const fixture = testFixture();
  if (format) fixture.settings = { ...fixture.settings, stateChangeTimeFormat: format };
  edit(fixture);
  sim = await startCitrixSimulator({ fixture, now: () => clock.now });
  return { sim, clock, token: await getToken(sim) };
}

interface SessionBody {
  Id: string;
  State: string;
  StateChangeTime?: string | null;
}

async function getSession(target: RunningSimulator, token: string, id: string) {
  const response = await api(target, token, `/Sessions/${id}`);
  expect(response.status).toBe(200);
  return (await response.json()) as SessionBody;
}

describe('formatStateChangeTime', () => {
  it('writes ISO 8601, or the US form of Citrix sample in UTC', () => {
    expect(formatStateChangeTime(Date.parse('2020-11-16T14:02:49Z'), 'us')).toBe(
      '11/16/2020 2:02:49 PM',
    );
    expect(formatStateChangeTime(Date.parse('2020-11-16T14:02:49Z'), 'iso')).toBe(
      '2020-11-16T14:02:49.000Z',
    );
    // Midnight and noon are 12 AM and 12 PM; month and day have no leading zero.
    expect(formatStateChangeTime(Date.parse('2026-01-05T00:07:03Z'), 'us')).toBe(
      '1/5/2026 12:07:03 AM',
    );
    expect(formatStateChangeTime(Date.parse('2026-01-05T12:00:00Z'), 'us')).toBe(
      '1/5/2026 12:00:00 PM',
    );
    expect(formatStateChangeTime(Date.parse('2026-12-31T23:59:59.999Z'), 'us')).toBe(
      '12/31/2026 11:59:59 PM',
    );
  });
});

describe('StateChangeTime on DaaS sessions', () => {
  it('is returned exactly as the fixture has it, readable or not', async () => {
    const values = ['11/16/2020 2:02:49 PM', '2020-11-16T14:02:49.1234567Z', 'not a date', ''];
    const { sim, token } = await simulatorAt(undefined, (fixture) => {
      fixture.sessions.forEach((session, i) => {
        if (i < values.length) session.StateChangeTime = values[i];
      });
      const fifth = fixture.sessions[4];
      if (fifth) fifth.StateChangeTime = null;
    });
    const fixture = testFixture();
    const found = await search(sim, token, []);
    for (const [i, value] of values.entries()) {
      const id = fixture.sessions[i]?.Id ?? '';
      const item = found.Items.find((s) => s.Id === id) as unknown as SessionBody;
      expect(item.StateChangeTime).toBe(value);
      expect((await getSession(sim, token, id)).StateChangeTime).toBe(value);
    }
    const fifth = fixture.sessions[4]?.Id ?? '';
    expect((await getSession(sim, token, fifth)).StateChangeTime).toBeNull();
    // A session without one has none.
    expect(await getSession(sim, token, IDS.erin1)).not.toHaveProperty('StateChangeTime');
    expect(sim.state().sessions[0]?.StateChangeTime).toBe(values[0]);
  });

  it.each([
    ['iso', undefined, '2026-03-02T14:12:49.000Z'],
    ['iso', 'iso', '2026-03-02T14:12:49.000Z'],
    ['us', 'us', '3/2/2026 2:12:49 PM'],
  ] as const)(
    'is set to now by $disconnect (format %s, setting %s)',
    async (_name, format, expected) => {
      const { sim, clock, token } = await simulatorAt(format, (fixture) => {
        for (const session of fixture.sessions) session.StateChangeTime = '1/1/2026 8:00:00 AM';
      });
      clock.now = T0 + 10 * 60_000;
      const response = await api(sim, token, `/Sessions/${IDS.bob}/$disconnect`, {
        method: 'POST',
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as SessionBody;
      expect(body).toMatchObject({ State: 'Disconnected', StateChangeTime: expected });

      clock.now += 60_000;
      expect(await getSession(sim, token, IDS.bob)).toMatchObject({
        State: 'Disconnected',
        StateChangeTime: expected,
      });
      expect(sim.state().sessions.find((s) => s.Id === IDS.bob)?.StateChangeTime).toBe(expected);
      // Other sessions keep theirs.
      expect((await getSession(sim, token, IDS.bobby)).StateChangeTime).toBe('1/1/2026 8:00:00 AM');
    },
  );

  it('is left alone when $disconnect finds the session already Disconnected', async () => {
    const { sim, clock, token } = await simulatorAt('us', (fixture) => {
      const alice2 = fixture.sessions.find((s) => s.Id === IDS.alice2);
      if (alice2) alice2.StateChangeTime = '2026-03-01T09:00:00Z';
    });
    clock.now += 10 * 60_000;
    const response = await api(sim, token, `/Sessions/${IDS.alice2}/$disconnect`, {
      method: 'POST',
    });
    expect(await response.json()).toMatchObject({
      State: 'Disconnected',
      StateChangeTime: '2026-03-01T09:00:00Z',
    });
    // A second disconnect of a session the simulator disconnected keeps the first time too.
    await api(sim, token, `/Sessions/${IDS.bob}/$disconnect`, { method: 'POST' });
    clock.now += 30 * 60_000;
    const again = await api(sim, token, `/Sessions/${IDS.bob}/$disconnect`, { method: 'POST' });
    expect(again.status).toBe(200);
    expect((await getSession(sim, token, IDS.bob)).StateChangeTime).toBe('3/2/2026 2:12:49 PM');
  });

  it('starts again from the fixture after reset()', async () => {
    const { sim, token } = await simulatorAt('iso');
    await api(sim, token, `/Sessions/${IDS.bob}/$disconnect`, { method: 'POST' });
    sim.reset();
    const fresh = await getToken(sim);
    expect(await getSession(sim, fresh, IDS.bob)).toMatchObject({ State: 'Active' });
    expect(await getSession(sim, fresh, IDS.bob)).not.toHaveProperty('StateChangeTime');
  });

  it.each([
    ['iso', '2026-03-02T14:02:49.150Z'],
    ['us', '3/2/2026 2:02:49 PM'],
  ] as const)('is set to the moment a log off completed (%s)', async (format, expected) => {
    const { sim, clock, token } = await simulatorAt(format, (fixture) => {
      for (const session of fixture.sessions) session.StateChangeTime = '2026-03-01T00:00:00Z';
    });
    const { location } = await logoff(sim, token, IDS.erin2);
    expect(sim.loggedOffSessions()).toEqual([]);

    clock.now = T0 + LOGOFF_MS - 1;
    expect(((await (await getJob(token, location)).json()) as JobBody).Status).toBe('InProgress');
    expect(sim.loggedOffSessions()).toEqual([]);

    // Read well after the end: the time is when the job completed, not when someone looked.
    clock.now = T0 + LOGOFF_MS + 5 * 60_000;
    const job = (await (await getJob(token, location)).json()) as JobBody;
    expect(job.Status).toBe('Complete');
    expect((await api(sim, token, `/Sessions/${IDS.erin2}`)).status).toBe(404);
    expect(sim.state().sessions.map((s) => s.Id)).not.toContain(IDS.erin2);

    const gone = sim.loggedOffSessions();
    expect(gone.map((s) => s.Id)).toEqual([IDS.erin2]);
    expect(gone[0]).toMatchObject({
      StateChangeTime: expected,
      LogoffInProgress: false,
      User: { PrincipalName: 'erin@example.com' },
    });
    expect(Date.parse(job.EndTime ?? '')).toBe(T0 + LOGOFF_MS);
    // Sessions still live keep their times.
    expect((await getSession(sim, token, IDS.erin1)).StateChangeTime).toBe('2026-03-01T00:00:00Z');
  });

  it('is not changed by a log off that fails or never ends', async () => {
    const { sim, clock, token } = await simulatorAt('iso', (fixture) => {
      for (const session of fixture.sessions) session.StateChangeTime = '2026-03-01T00:00:00Z';
    });
    await logoff(sim, token, IDS.carol);
    await logoff(sim, token, IDS.dave);
    clock.now += 60_000;
    for (const id of [IDS.carol, IDS.dave]) {
      expect((await getSession(sim, token, id)).StateChangeTime).toBe('2026-03-01T00:00:00Z');
    }
    expect(sim.loggedOffSessions()).toEqual([]);
  });
});
