import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { SimulatorFixtureSchema } from '../../../local/simulator/fixture.ts';
import { type RunningSimulator, startCitrixSimulator } from '../../../local/simulator/server.ts';
import {
  api,
  CLIENT_B,
  getJob,
  getToken,
  IDS,
  type JobBody,
  logoff,
  type SessionItem,
  search,
  sleep,
  testFixture,
} from './helpers.ts';

// Timings in the test fixture: NotStarted for 50 ms, then InProgress for 100 ms.
const NOT_STARTED_MS = 50;
const IN_PROGRESS_MS = 100;

let sim: RunningSimulator;
let token: string;

beforeAll(async () => {
  sim = await startCitrixSimulator({ fixture: testFixture() });
});
afterAll(() => sim.close());
beforeEach(async () => {
  sim.reset();
  token = await getToken(sim);
});
afterEach(() => {
  vi.useRealTimers();
});

async function jobStatus(location: string, as = token): Promise<JobBody> {
  const response = await getJob(as, location);
  expect(response.status).toBe(200);
  return (await response.json()) as JobBody;
}

async function session(id: string): Promise<Response> {
  return api(sim, token, `/Sessions/${id}`);
}

/** Moves the simulator's clock (Date only; timers stay real so HTTP keeps working). */
function advance(ms: number) {
  vi.setSystemTime(Date.now() + ms);
}

describe('POST /Sessions/{id}/$logoff', () => {
  it('returns 202 with an empty body and an absolute job URL in Location', async () => {
    const { response, location } = await logoff(sim, token, IDS.alice1);
    expect(response.status).toBe(202);
    expect(await response.text()).toBe('');
    expect(location).toMatch(
      new RegExp(
        `^${sim.url}/cvad/manage/Jobs/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`,
      ),
    );
  });

  it('works without ?async=true as well', async () => {
    const response = await api(sim, token, `/Sessions/${IDS.bob}/$logoff`, { method: 'POST' });
    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toContain('/cvad/manage/Jobs/');
  });

  it('moves the job NotStarted -> InProgress -> Complete and then the session is gone', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { location } = await logoff(sim, token, IDS.alice1);

    const notStarted = await jobStatus(location);
    expect(notStarted).toMatchObject({
      Type: 'LogoffSessions',
      Status: 'NotStarted',
      OverallProgressPercent: 0,
      StartTime: null,
      EndTime: null,
      ErrorString: null,
      Parameters: [{ Name: 'SessionId', Value: IDS.alice1 }],
    });
    expect(location.endsWith(notStarted.Id)).toBe(true);
    const during = (await (await session(IDS.alice1)).json()) as SessionItem;
    expect(during.LogoffInProgress).toBe(true);

    advance(NOT_STARTED_MS + IN_PROGRESS_MS / 2);
    const inProgress = await jobStatus(location);
    expect(inProgress.Status).toBe('InProgress');
    expect(inProgress.OverallProgressPercent).toBeGreaterThan(0);
    expect(inProgress.OverallProgressPercent).toBeLessThan(100);
    expect(inProgress.StartTime).not.toBeNull();
    expect((await session(IDS.alice1)).status).toBe(200);

    advance(IN_PROGRESS_MS);
    const complete = await jobStatus(location);
    expect(complete).toMatchObject({ Status: 'Complete', OverallProgressPercent: 100 });
    expect(complete.EndTime).not.toBeNull();

    expect((await session(IDS.alice1)).status).toBe(404);
    const found = await search(sim, token, [
      { Property: 'UserPrincipalName', Value: 'alice@example.com', Operator: 'Equals' },
    ]);
    expect(found.Items.map((s) => s.Id)).toEqual([IDS.alice2]);
    expect(sim.state().sessions.map((s) => s.Id)).not.toContain(IDS.alice1);
    const logoffAgain = await api(sim, token, `/Sessions/${IDS.alice1}/$logoff`, {
      method: 'POST',
    });
    expect(logoffAgain.status).toBe(404);
  });

  it('progresses on its own in real time with the configured timings', async () => {
    const { location } = await logoff(sim, token, IDS.erin1);
    const order = ['NotStarted', 'InProgress', 'Complete'];
    const seen: string[] = [];
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      const { Status } = await jobStatus(location);
      if (seen.at(-1) !== Status) seen.push(Status);
      if (Status === 'Complete') break;
      await sleep(10);
    }
    expect(seen.at(-1)).toBe('Complete');
    // Statuses only move forward, even if a slow machine skips one between polls.
    const positions = seen.map((status) => order.indexOf(status));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect((await session(IDS.erin1)).status).toBe(404);
  });

  it('fail: the job ends Failed with the ErrorString and the session stays', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { location } = await logoff(sim, token, IDS.carol);
    advance(NOT_STARTED_MS + IN_PROGRESS_MS + 1);
    expect(await jobStatus(location)).toMatchObject({
      Status: 'Failed',
      ErrorString: 'The VDA did not respond to the log off request',
    });
    const after = await session(IDS.carol);
    expect(after.status).toBe(200);
    expect(((await after.json()) as SessionItem).LogoffInProgress).toBe(false);
  });

  it('never: the job stays InProgress and the session keeps logging off', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { location } = await logoff(sim, token, IDS.dave);
    advance(10 * 60 * 1000);
    const job = await jobStatus(location);
    expect(job.Status).toBe('InProgress');
    expect(job.EndTime).toBeNull();
    const after = (await (await session(IDS.dave)).json()) as SessionItem;
    expect(after.LogoffInProgress).toBe(true);
  });

  it('a second log off while one is running starts another job', async () => {
    const first = await logoff(sim, token, IDS.dave);
    const second = await logoff(sim, token, IDS.dave);
    expect(second.location).not.toBe(first.location);
    expect((await getJob(token, second.location)).status).toBe(200);
  });

  it('returns 404 for an unknown session', async () => {
    const response = await api(
      sim,
      token,
      '/Sessions/99999999-9999-4999-8999-999999999999/$logoff',
      {
        method: 'POST',
      },
    );
    expect(response.status).toBe(404);
  });
});

describe('GET /Jobs/{id}', () => {
  it('is only visible to the API client that started the job', async () => {
    const { location } = await logoff(sim, token, IDS.bob);
    const otherToken = await getToken(sim, CLIENT_B);
    const other = await getJob(otherToken, location);
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({
      Type: 'https://errors-api.cloud.com/common/notFound',
    });
    expect((await getJob(token, location)).status).toBe(200);
    const otherList = (await (await api(sim, otherToken, '/Jobs')).json()) as { Items: unknown[] };
    expect(otherList.Items).toEqual([]);
  });

  it('returns 404 for an unknown job id', async () => {
    const response = await api(sim, token, '/Jobs/99999999-9999-4999-8999-999999999999');
    expect(response.status).toBe(404);
  });
});

describe('jobs in state()', () => {
  it('show their current status and load back with the same progress', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { location } = await logoff(sim, token, IDS.erin2);
    advance(NOT_STARTED_MS + 10);
    const state = SimulatorFixtureSchema.parse(sim.state());
    expect(state.jobs).toEqual([
      expect.objectContaining({
        Status: 'InProgress',
        simulation: { clientId: 'client-a', sessionId: IDS.erin2, logoff: 'complete' },
      }),
    ]);
    expect(state.sessions.find((s) => s.Id === IDS.erin2)?.LogoffInProgress).toBe(true);

    const restored = await startCitrixSimulator({ fixture: state });
    try {
      const restoredToken = await getToken(restored);
      const jobUrl = location.replace(sim.url, restored.url);
      expect(((await (await getJob(restoredToken, jobUrl)).json()) as JobBody).Status).toBe(
        'InProgress',
      );
      advance(IN_PROGRESS_MS);
      expect(((await (await getJob(restoredToken, jobUrl)).json()) as JobBody).Status).toBe(
        'Complete',
      );
      expect((await api(restored, restoredToken, `/Sessions/${IDS.erin2}`)).status).toBe(404);
    } finally {
      await restored.close();
    }
  });
});
