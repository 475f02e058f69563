import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningSimulator, startCitrixSimulator } from '../../../local/simulator/server.ts';
import { api, getToken, IDS, type SearchResult, search, testFixture } from './helpers.ts';

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

const ids = (result: SearchResult) => result.Items.map((item) => item.Id);

describe('POST /Sessions/$search', () => {
  it('returns every visible session without filters, leaving out hidden ones', async () => {
    const result = await search(sim, token, []);
    expect(result.TotalItems).toBe(9);
    expect(ids(result)).not.toContain(IDS.hidden);
    expect(result.ContinuationToken).toBeNull();
  });

  it('tells bob and bobby apart with Equals on UPN and user name', async () => {
    const byUpn = await search(sim, token, [
      { Property: 'UserPrincipalName', Value: 'bob@example.com', Operator: 'Equals' },
    ]);
    expect(ids(byUpn)).toEqual([IDS.bob]);
    for (const property of ['UserName', 'CurrentUser']) {
      const byName = await search(sim, token, [
        { Property: property, Value: 'EXAMPLE\\bob', Operator: 'Equals' },
      ]);
      expect(ids(byName)).toEqual([IDS.bob]);
    }
    const startsWith = await search(sim, token, [
      { Property: 'UserPrincipalName', Value: 'bob', Operator: 'StartsWith' },
    ]);
    expect(ids(startsWith)).toEqual([IDS.bob, IDS.bobby]);
  });

  it('compares case-insensitively and matches UntrustedUserName too', async () => {
    const upper = await search(sim, token, [
      { Property: 'UserPrincipalName', Value: 'ALICE@EXAMPLE.COM', Operator: 'equals' },
    ]);
    expect(ids(upper)).toEqual([IDS.alice1, IDS.alice2]);

    const fixture = testFixture();
    const first = fixture.sessions[0];
    if (!first) throw new Error('no session');
    fixture.sessions = [
      { ...first, User: { ...first.User, Name: null }, UntrustedUserName: 'EXAMPLE\\zed' },
    ];
    const other = await startCitrixSimulator({ fixture });
    try {
      const result = await search(other, await getToken(other), [
        { Property: 'UserName', Value: 'example\\ZED', Operator: 'Equals' },
      ]);
      expect(ids(result)).toEqual([first.Id]);
    } finally {
      await other.close();
    }
  });

  it('supports NotEquals, Contains, Like and SessionState / MachineName, ANDing filters', async () => {
    const notErin = await search(sim, token, [
      { Property: 'UserPrincipalName', Value: 'erin@example.com', Operator: 'NotEquals' },
    ]);
    expect(notErin.TotalItems).toBe(6);
    expect(ids(notErin)).not.toContain(IDS.erin1);

    const contains = await search(sim, token, [
      { Property: 'MachineName', Value: 'app-0', Operator: 'Contains' },
    ]);
    expect(ids(contains)).toEqual([IDS.alice2, IDS.bobby, IDS.erin2, IDS.erin3]);

    const like = await search(sim, token, [
      { Property: 'UserName', Value: 'EXAMPLE\\*ob*', Operator: 'Like' },
    ]);
    expect(ids(like)).toEqual([IDS.bob, IDS.bobby]);
    const likeExact = await search(sim, token, [
      { Property: 'UserName', Value: 'example\\bob', Operator: 'Like' },
    ]);
    expect(ids(likeExact)).toEqual([IDS.bob]);

    const anded = await search(sim, token, [
      { Property: 'UserPrincipalName', Value: 'erin@example.com', Operator: 'Equals' },
      { Property: 'SessionState', Value: 'Disconnected', Operator: 'Equals' },
    ]);
    expect(ids(anded)).toEqual([IDS.erin3]);
  });

  it('pages with limit and an opaque continuation token', async () => {
    const seen: string[] = [];
    let query = '?limit=4';
    let pages = 0;
    for (;;) {
      const page = await search(sim, token, [], query);
      pages += 1;
      expect(page.TotalItems).toBe(9);
      expect(page.Items.length).toBeLessThanOrEqual(4);
      seen.push(...ids(page));
      if (page.ContinuationToken === null) break;
      query = `?limit=4&continuationToken=${encodeURIComponent(page.ContinuationToken)}`;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(ids(await search(sim, token, [])));
  });

  it('rejects a continuation token from a different search', async () => {
    const first = await search(sim, token, [], '?limit=2');
    const response = await api(
      sim,
      token,
      `/Sessions/$search?continuationToken=${first.ContinuationToken}`,
      {
        method: 'POST',
        body: {
          SearchFilters: [{ Property: 'SessionState', Value: 'Active', Operator: 'Equals' }],
        },
      },
    );
    expect(response.status).toBe(400);
  });

  it('rejects bad limits, unknown properties and operators, and malformed JSON with 400', async () => {
    for (const limit of ['1001', '0', 'ten']) {
      const response = await api(sim, token, `/Sessions/$search?limit=${limit}`, {
        method: 'POST',
        body: {},
      });
      expect(response.status).toBe(400);
    }
    expect((await search(sim, token, [], '?limit=1000')).Items).toHaveLength(9);

    const unknownProperty = await api(sim, token, '/Sessions/$search', {
      method: 'POST',
      body: { SearchFilters: [{ Property: 'ShoeSize', Value: '9', Operator: 'Equals' }] },
    });
    expect(unknownProperty.status).toBe(400);
    expect(((await unknownProperty.json()) as { Detail: string }).Detail).toMatch(
      /SearchFilters\[0\]\.Property/,
    );

    const unknownOperator = await api(sim, token, '/Sessions/$search', {
      method: 'POST',
      body: { SearchFilters: [{ Property: 'UserName', Value: 'x', Operator: 'Resembles' }] },
    });
    expect(unknownOperator.status).toBe(400);

    const broken = await fetch(`${sim.url}/cvad/manage/Sessions/$search`, {
      method: 'POST',
      headers: {
        authorization: `CWSAuth bearer=${token}`,
        'citrix-customerid': 'test-customer',
        'citrix-instanceid': testFixture().sites[0]?.id ?? '',
        'content-type': 'application/json',
      },
      body: '{"SearchFilters": [',
    });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({
      Type: 'https://errors-api.cloud.com/common/invalidJson',
    });
  });

  it('refuses search features it does not simulate instead of ignoring them', async () => {
    const response = await api(sim, token, '/Sessions/$search', {
      method: 'POST',
      body: { BasicSearchString: 'alice' },
    });
    expect(response.status).toBe(400);
  });
});

describe('GET /Sessions/{id}', () => {
  it('returns the session without simulation data', async () => {
    const response = await api(sim, token, `/Sessions/${IDS.carol}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      Id: IDS.carol,
      State: 'Active',
      LogoffInProgress: false,
      User: { PrincipalName: 'carol@example.com' },
    });
    expect(body).not.toHaveProperty('simulation');
  });

  it('returns 404 with a Citrix error body for an unknown session', async () => {
    const response = await api(sim, token, '/Sessions/99999999-9999-4999-8999-999999999999');
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({
      Type: 'https://errors-api.cloud.com/common/notFound',
      Detail: 'Session not found',
    });
  });

  it('matches ids and paths case-insensitively', async () => {
    const response = await api(sim, token, `/sessions/${IDS.bob.toUpperCase()}`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { Id: string }).Id).toBe(IDS.bob);
  });
});

describe('POST /Sessions/{id}/$disconnect', () => {
  it('returns the session as Disconnected and keeps it that way', async () => {
    const response = await api(sim, token, `/Sessions/${IDS.alice1}/$disconnect`, {
      method: 'POST',
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ Id: IDS.alice1, State: 'Disconnected' });
    const after = (await (await api(sim, token, `/Sessions/${IDS.alice1}`)).json()) as {
      State: string;
    };
    expect(after.State).toBe('Disconnected');
    expect(sim.state().sessions.find((s) => s.Id === IDS.alice1)?.State).toBe('Disconnected');
  });

  it('returns 404 for an unknown session', async () => {
    const response = await api(
      sim,
      token,
      '/Sessions/99999999-9999-4999-8999-999999999999/$disconnect',
      {
        method: 'POST',
      },
    );
    expect(response.status).toBe(404);
  });
});

describe('POST /Sessions/{id}/$sendMessage', () => {
  it('returns 204 and records the message on the session', async () => {
    const message = { Style: 'Exclamation', Title: 'Security notice', Text: 'Save your work now.' };
    const response = await api(sim, token, `/Sessions/${IDS.erin1}/$sendMessage`, {
      method: 'POST',
      body: message,
    });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    const session = sim.state().sessions.find((s) => s.Id === IDS.erin1);
    expect(session?.simulation?.messages).toEqual([{ ...message, SentAt: expect.any(String) }]);
    const view = (await (await api(sim, token, `/Sessions/${IDS.erin1}`)).json()) as object;
    expect(view).not.toHaveProperty('simulation');
  });

  it('rejects a missing Title or Text and an unknown Style with 400', async () => {
    for (const body of [
      { Text: 'no title' },
      { Title: 'no text' },
      { Title: 'x', Text: 42 },
      { Style: 'Shouting', Title: 'x', Text: 'y' },
    ]) {
      const response = await api(sim, token, `/Sessions/${IDS.erin1}/$sendMessage`, {
        method: 'POST',
        body,
      });
      expect(response.status).toBe(400);
    }
    expect(sim.state().sessions.find((s) => s.Id === IDS.erin1)?.simulation).toBeUndefined();
  });
});

describe('unknown routes', () => {
  it('return 404 with a Citrix error body', async () => {
    const response = await api(sim, token, '/Widgets');
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      Type: 'https://errors-api.cloud.com/common/notFound',
      Detail: expect.any(String),
      Parameters: [],
    });
    const outside = await fetch(`${sim.url}/nothing/here`);
    expect(outside.status).toBe(404);
  });
});
