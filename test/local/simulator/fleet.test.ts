import { describe, expect, it } from 'vitest';
import { demoFixture, parseFixture } from '../../../local/simulator/fixture.ts';
import {
  FLEET_DEFAULT_SESSIONS,
  FLEET_DELIVERY_GROUPS,
  FLEET_DISCONNECTED_AGES_MINUTES,
  FLEET_MAX_SESSIONS,
  FLEET_PROTECTED_USERS,
  FLEET_SESSIONS_PER_MACHINE,
  FLEET_SUBNETS,
  FLEET_UNREADABLE_STATE_CHANGE_TIMES,
  fleetFixture,
} from '../../../local/simulator/fleet.ts';
import { startCitrixSimulator } from '../../../local/simulator/server.ts';

const NOW = new Date('2026-03-02T12:00:00.000Z');
const HOUR = 3_600_000;
const EIGHT_HOURS = 8 * HOUR;

type Session = ReturnType<typeof fleetFixture>['sessions'][number];

/** The test's own reader of the two forms Citrix writes (not the simulator's formatter). */
function readTime(text: string | null | undefined): number | undefined {
  if (!text) return undefined;
  const us = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2}):(\d{2}) (AM|PM)$/.exec(text);
  if (us) {
    const [month, day, year, hour, minute, second] = us.slice(1, 7).map(Number);
    if ([month, day, year, hour, minute, second].some((n) => n === undefined)) return undefined;
    if (minute === undefined || minute > 59 || second === undefined || second > 59)
      return undefined;
    if (month === undefined || month > 12 || day === undefined || day > 31) return undefined;
    const hour24 = ((hour ?? 0) % 12) + (us[7] === 'PM' ? 12 : 0);
    return Date.UTC(year ?? 0, month - 1, day, hour24, minute, second);
  }
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(text) ? Date.parse(text) : undefined;
}

const isUs = (text: string | null | undefined) => / (AM|PM)$/.test(text ?? '');

function inSubnet(address: string | null | undefined, cidr: string): boolean {
  const toNumber = (ip: string) =>
    ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0) >>> 0;
  const [base = '', bits = '32'] = cidr.split('/');
  if (!address || !/^\d+\.\d+\.\d+\.\d+$/.test(address)) return false;
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (toNumber(address) & mask) >>> 0 === (toNumber(base) & mask) >>> 0;
}

const ageOf = (session: Session) => {
  const at = readTime(session.StateChangeTime);
  return at === undefined ? undefined : NOW.getTime() - at;
};
const disconnected = (sessions: Session[]) => sessions.filter((s) => s.State === 'Disconnected');

describe('fleetFixture', () => {
  const fleet = fleetFixture({ now: NOW });

  it('is deterministic, validates, and has 1,000 sessions by default', () => {
    expect(fleetFixture({ now: NOW })).toEqual(fleet);
    expect(parseFixture(fleet, 'fleet fixture')).toEqual(fleet);
    expect(fleet.sessions).toHaveLength(FLEET_DEFAULT_SESSIONS);
    expect(new Set(fleet.sessions.map((s) => s.Id.toLowerCase())).size).toBe(1000);
  });

  it('has exactly the requested number of sessions, 1 to 10,000', () => {
    for (const sessions of [1, 7, 2500, FLEET_MAX_SESSIONS]) {
      const fixture = fleetFixture({ sessions, now: NOW });
      expect(fixture.sessions).toHaveLength(sessions);
      expect(() => parseFixture(fixture)).not.toThrow();
    }
    // A smaller fleet is the start of a bigger one.
    expect(fleetFixture({ sessions: 50, now: NOW }).sessions).toEqual(fleet.sessions.slice(0, 50));
    for (const sessions of [0, -1, 2.5, FLEET_MAX_SESSIONS + 1, Number.NaN]) {
      expect(() => fleetFixture({ sessions, now: NOW })).toThrow(RangeError);
    }
  });

  it('moves every time with now', () => {
    const later = fleetFixture({ now: new Date(NOW.getTime() + 2 * HOUR) });
    fleet.sessions.forEach((session, i) => {
      const moved = later.sessions[i];
      const before = readTime(session.StateChangeTime);
      if (before === undefined) {
        expect(moved?.StateChangeTime).toBe(session.StateChangeTime);
      } else {
        expect(readTime(moved?.StateChangeTime)).toBe(before + 2 * HOUR);
      }
    });
  });

  it('keeps the demo tenant: customer, site, API client, Endpoint Management and Cloud administrators', () => {
    const demo = demoFixture();
    expect(fleet.customerId).toBe(demo.customerId);
    expect(fleet.sites).toEqual(demo.sites);
    expect(fleet.clients).toEqual(demo.clients);
    expect(fleet.cloudAdministrators).toEqual(demo.cloudAdministrators);
    expect(fleet.endpointManagement?.administrators).toEqual(
      demo.endpointManagement?.administrators,
    );
    const ids = fleet.endpointManagement?.devices?.map((d) => d.id) ?? [];
    for (const device of demo.endpointManagement?.devices ?? []) expect(ids).toContain(device.id);
    expect(fleet.jobs).toEqual([]);
  });

  it('logs off in 2 seconds unless logoffMs says otherwise', () => {
    expect(fleet.settings?.logoff).toEqual({ notStartedMs: 200, inProgressMs: 1800 });
    expect(fleetFixture({ now: NOW, logoffMs: 500 }).settings?.logoff).toEqual({
      notStartedMs: 50,
      inProgressMs: 450,
    });
    expect(fleetFixture({ now: NOW, logoffMs: 0 }).settings?.logoff).toEqual({
      notStartedMs: 0,
      inProgressMs: 0,
    });
    expect(() => fleetFixture({ now: NOW, logoffMs: -1 })).toThrow(RangeError);
  });

  it('spreads sessions over delivery groups and multi-session machines, one group per machine', () => {
    const groupOf = new Map<string, string>();
    const perMachine = new Map<string, number>();
    for (const session of fleet.sessions) {
      const { Name, DnsName, DeliveryGroup } = session.Machine;
      expect(Name).toMatch(/^EXAMPLE\\VDA-\d{3,}$/);
      expect(DnsName).toBe(`${Name.slice('EXAMPLE\\'.length).toLowerCase()}.example.com`);
      const group = DeliveryGroup?.Name ?? '';
      expect(FLEET_DELIVERY_GROUPS).toContain(group);
      expect(groupOf.get(Name) ?? group).toBe(group);
      groupOf.set(Name, group);
      perMachine.set(Name, (perMachine.get(Name) ?? 0) + 1);
    }
    expect(new Set(groupOf.values())).toEqual(new Set(FLEET_DELIVERY_GROUPS));
    expect(Math.max(...perMachine.values())).toBe(FLEET_SESSIONS_PER_MACHINE);
    expect(perMachine.size).toBe(1000 / FLEET_SESSIONS_PER_MACHINE);
    expect(perMachine.get('EXAMPLE\\VDA-001')).toBe(FLEET_SESSIONS_PER_MACHINE);
  });

  it('names users user0001@example.com, EXAMPLE\\user0001, some with two sessions', () => {
    const generated = fleet.sessions.filter((s) => s.User.PrincipalName?.startsWith('user'));
    expect(generated.length).toBeGreaterThan(900);
    for (const session of generated) {
      const upn = session.User.PrincipalName ?? '';
      expect(upn).toMatch(/^user\d{4,}@example\.com$/);
      const name = `EXAMPLE\\${upn.split('@')[0]}`;
      expect(session.User.Name).toBe(name);
      expect(session.UntrustedUserName).toBe(name);
    }
    expect(fleet.sessions[0]?.User.PrincipalName).toBe('user0001@example.com');
    const perUser = new Map<string, number>();
    for (const s of generated) {
      perUser.set(s.User.PrincipalName ?? '', (perUser.get(s.User.PrincipalName ?? '') ?? 0) + 1);
    }
    expect([...perUser.values()].filter((n) => n === 2).length).toBeGreaterThan(100);
  });

  it('opens sessions from the three client networks, a share from 203.0.113.0/24', () => {
    const subnets = Object.values(FLEET_SUBNETS);
    expect(subnets).toEqual(['203.0.113.0/24', '198.51.100.0/24', '10.20.0.0/16']);
    for (const session of fleet.sessions) {
      expect(subnets.some((cidr) => inSubnet(session.Client?.IPAddress, cidr))).toBe(true);
      expect(session.Client?.Name).toBeTruthy();
    }
    const count = (cidr: string) =>
      fleet.sessions.filter((s) => inSubnet(s.Client?.IPAddress, cidr)).length;
    const untrusted = count(FLEET_SUBNETS.untrusted);
    expect(untrusted).toBeGreaterThan(50);
    expect(untrusted).toBeLessThan(500);
    expect(count(FLEET_SUBNETS.partner)).toBeGreaterThan(50);
    expect(count(FLEET_SUBNETS.office)).toBeGreaterThan(300);
    // Disconnected sessions from 203.0.113.0/24 exist on both sides of 8 hours.
    const untrustedDisconnected = disconnected(fleet.sessions).filter((s) =>
      inSubnet(s.Client?.IPAddress, FLEET_SUBNETS.untrusted),
    );
    expect(untrustedDisconnected.some((s) => (ageOf(s) ?? 0) > EIGHT_HOURS)).toBe(true);
    expect(untrustedDisconnected.some((s) => (ageOf(s) ?? Infinity) < EIGHT_HOURS)).toBe(true);
  });

  it('is mostly Active, with a good share Disconnected on both sides of 8 hours, in both formats', () => {
    const active = fleet.sessions.filter((s) => s.State === 'Active');
    const stale = disconnected(fleet.sessions);
    expect(active.length).toBeGreaterThan(fleet.sessions.length / 2);
    expect(stale.length).toBeGreaterThan(fleet.sessions.length / 5);
    const ages = stale.map(ageOf).filter((age): age is number => age !== undefined);
    const older = ages.filter((age) => age > EIGHT_HOURS);
    const younger = ages.filter((age) => age < EIGHT_HOURS);
    expect(older.length).toBeGreaterThan(50);
    expect(younger.length).toBeGreaterThan(50);
    // Every listed age, just under and just over 8 hours included, in ISO and in the US form.
    for (const minutes of FLEET_DISCONNECTED_AGES_MINUTES) {
      for (const us of [false, true]) {
        const match = stale.filter(
          (s) => isUs(s.StateChangeTime) === us && ageOf(s) === minutes * 60_000,
        );
        expect(match.length, `${minutes} min, ${us ? 'US' : 'ISO'}`).toBeGreaterThan(0);
      }
    }
    expect(FLEET_DISCONNECTED_AGES_MINUTES).toContain(470);
    expect(FLEET_DISCONNECTED_AGES_MINUTES).toContain(490);
    // Active sessions carry old StateChangeTimes too: age alone does not make a session stale.
    expect(active.some((s) => (ageOf(s) ?? 0) > EIGHT_HOURS)).toBe(true);
  });

  it('has three Disconnected sessions whose StateChangeTime cannot be read or is missing', () => {
    const unreadable = disconnected(fleet.sessions).filter((s) => ageOf(s) === undefined);
    expect(unreadable).toHaveLength(3);
    expect(unreadable.map((s) => s.StateChangeTime ?? 'none').sort()).toEqual(
      [...FLEET_UNREADABLE_STATE_CHANGE_TIMES, 'none'].sort(),
    );
    expect(unreadable.filter((s) => !('StateChangeTime' in s))).toHaveLength(1);
    // Every other session's time reads.
    expect(fleet.sessions.filter((s) => ageOf(s) === undefined)).toHaveLength(3);
  });

  it('gives the protected users Disconnected sessions older than 8 hours', () => {
    for (const upn of FLEET_PROTECTED_USERS) {
      const sessions = fleet.sessions.filter((s) => s.User.PrincipalName === upn);
      const staleOnes = disconnected(sessions).filter((s) => (ageOf(s) ?? 0) > EIGHT_HOURS);
      expect(staleOnes.length, upn).toBeGreaterThan(0);
      const name = `EXAMPLE\\${upn.split('@')[0]}`;
      for (const s of sessions) expect([s.User.Name, s.UntrustedUserName]).toEqual([name, name]);
    }
    // Small fleets have them too.
    const small = fleetFixture({ sessions: 10, now: NOW });
    for (const upn of FLEET_PROTECTED_USERS) {
      expect(small.sessions.some((s) => s.User.PrincipalName === upn)).toBe(true);
    }
  });

  it('adds jailbroken, non-compliant, long unseen and plenty of healthy devices', () => {
    const devices = fleet.endpointManagement?.devices ?? [];
    const unseen = (d: (typeof devices)[number]) =>
      d.lastAccess !== undefined && NOW.getTime() - Date.parse(d.lastAccess) > 30 * 24 * HOUR;
    expect(devices.filter((d) => d.jailbroken === true).length).toBeGreaterThanOrEqual(3);
    expect(devices.filter((d) => d.compliant === false).length).toBeGreaterThanOrEqual(3);
    expect(devices.filter((d) => d.managed !== false && unseen(d)).length).toBeGreaterThanOrEqual(
      3,
    );
    const healthy = devices.filter(
      (d) => !d.jailbroken && d.compliant !== false && d.managed !== false && !unseen(d),
    );
    expect(healthy.length).toBeGreaterThanOrEqual(40);
    expect(new Set(devices.map((d) => d.id.toLowerCase())).size).toBe(devices.length);
    // The demo's devices keep their ages relative to now: only alice's old, unmanaged phone is stale.
    const demoIds = new Set(demoFixture().endpointManagement?.devices?.map((d) => d.id));
    const staleDemo = devices.filter((d) => demoIds.has(d.id) && unseen(d));
    expect(staleDemo.map((d) => [d.userName, d.managed])).toEqual([['alice@example.com', false]]);
  });
});

describe('the simulator serving a fleet', () => {
  it('finds what the fixture holds through $search, paging 1000 at a time', async () => {
    const fixture = fleetFixture({ sessions: 2500, now: NOW });
    const sim = await startCitrixSimulator({ fixture, now: () => NOW.getTime() });
    try {
      const tokenResponse = await fetch(`${sim.url}/cctrustoauth2/root/tokens/clients`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: fixture.clients[0]?.clientId ?? '',
          client_secret: fixture.clients[0]?.clientSecret ?? '',
        }),
      });
      const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
      const searchAll = async (filters: object[]) => {
        const items: Session[] = [];
        let continuation: string | null = null;
        let pages = 0;
        do {
          const query: string = continuation
            ? `?limit=1000&continuationToken=${continuation}`
            : '?limit=1000';
          const response: Response = await fetch(
            `${sim.url}/cvad/manage/Sessions/$search${query}`,
            {
              method: 'POST',
              headers: {
                authorization: `CWSAuth bearer=${token}`,
                'citrix-customerid': fixture.customerId,
                'citrix-instanceid': fixture.sites[0]?.id ?? '',
                'content-type': 'application/json',
              },
              body: JSON.stringify({ SearchFilters: filters }),
            },
          );
          expect(response.status).toBe(200);
          const page = (await response.json()) as {
            Items: Session[];
            ContinuationToken: string | null;
          };
          items.push(...page.Items);
          continuation = page.ContinuationToken;
          pages += 1;
        } while (continuation);
        return { items, pages };
      };

      const all = await searchAll([]);
      expect(all.pages).toBe(3);
      expect(all.items.map((s) => s.Id)).toEqual(fixture.sessions.map((s) => s.Id));
      expect(all.items.map((s) => s.StateChangeTime)).toEqual(
        fixture.sessions.map((s) => s.StateChangeTime),
      );

      const found = await searchAll([
        { Property: 'SessionState', Value: 'Disconnected', Operator: 'Equals' },
        { Property: 'ClientIP', Value: '203.0.113.', Operator: 'StartsWith' },
        { Property: 'DeliveryGroup', Value: 'Finance', Operator: 'Equals' },
      ]);
      const expected = disconnected(fixture.sessions).filter(
        (s) =>
          inSubnet(s.Client?.IPAddress, FLEET_SUBNETS.untrusted) &&
          s.Machine.DeliveryGroup?.Name === 'Finance',
      );
      expect(expected.length).toBeGreaterThan(0);
      expect(found.items.map((s) => s.Id)).toEqual(expected.map((s) => s.Id));
    } finally {
      await sim.close();
    }
  });
});
