import { describe, expect, it } from 'vitest';
import type { DaasSession, SessionSearchFilter } from '../../../lib/citrix/daas-client.ts';
import type { UserIdentifier } from '../../../lib/citrix/ids.ts';
import {
  findFleetSessions,
  findSweepSessions,
  type SessionSearch,
} from '../../../lib/sessions/fleet.ts';

const CONTEXT = { transactionId: 'act_1' };
const NOW = new Date('2026-11-23T12:00:00Z');
const hoursAgo = (hours: number) => new Date(NOW.getTime() - hours * 3_600_000).toISOString();

const session = (
  id: string,
  {
    state = 'Disconnected',
    group = 'Finance',
    machine = 'EXAMPLE\\VDA-01',
    dns = 'vda-01.example.com',
    ip = '10.20.0.5',
    changed = hoursAgo(10),
    upn = `${id}@example.com`,
  }: {
    state?: string;
    group?: string;
    machine?: string;
    dns?: string;
    ip?: string;
    changed?: string | null;
    upn?: string;
  } = {},
): DaasSession => ({
  Id: id,
  State: state,
  User: { PrincipalName: upn },
  Machine: { Name: machine, DnsName: dns, DeliveryGroup: { Name: group } },
  Client: { IPAddress: ip },
  StateChangeTime: changed,
});

/** A fuzzy search: answers every session it holds, whatever the filters, and records them. */
function fuzzySearch(sessions: DaasSession[]) {
  const searches: SessionSearchFilter[][] = [];
  const users: UserIdentifier[] = [];
  const search: SessionSearch = {
    async searchSessions(filters) {
      searches.push([...filters]);
      return structuredClone(sessions);
    },
    async searchSessionsByUser(user) {
      users.push(user);
      return structuredClone(
        sessions.filter(
          (s) => user.kind === 'upn' && s.User?.PrincipalName?.toLowerCase() === user.upn,
        ),
      );
    },
  };
  return { search, searches, users };
}

describe('findFleetSessions', () => {
  const fleet = [
    session('a', { group: 'Finance' }),
    session('b', { group: 'finance' }),
    session('c', { group: 'Finance-Test' }),
    session('d', { group: 'HR', machine: 'EXAMPLE\\VDA-02', dns: 'vda-02.example.com' }),
    session('e', { ip: '10.160.0.1' }),
    session('f', { ip: '::ffff:10.31.1.1' }),
    session('g', { ip: '192.168.1.1' }),
  ];

  it('searches a delivery group and keeps only exact (case-insensitive) matches', async () => {
    const { search, searches } = fuzzySearch(fleet);
    const found = await findFleetSessions(search, { deliveryGroup: 'FINANCE' }, CONTEXT);
    expect(found.map((s) => s.Id)).toEqual(['a', 'b', 'e', 'f', 'g']);
    expect(searches).toEqual([
      [{ Property: 'DeliveryGroup', Value: 'FINANCE', Operator: 'Equals' }],
    ]);
  });

  it('searches a machine by DOMAIN\\name or by DNS name, re-checked', async () => {
    const { search, searches } = fuzzySearch(fleet);
    expect(
      (await findFleetSessions(search, { machine: 'example\\vda-02' }, CONTEXT)).map((s) => s.Id),
    ).toEqual(['d']);
    expect(
      (await findFleetSessions(search, { machine: 'VDA-02.example.com' }, CONTEXT)).map(
        (s) => s.Id,
      ),
    ).toEqual(['d']);
    expect(searches).toEqual([
      [{ Property: 'MachineName', Value: 'example\\vda-02', Operator: 'Equals' }],
      [{ Property: 'DnsName', Value: 'VDA-02.example.com', Operator: 'Equals' }],
    ]);
  });

  it('searches a CIDR range by its text prefix, then keeps only addresses in the range', async () => {
    const { search, searches } = fuzzySearch(fleet);
    const found = await findFleetSessions(search, { clientAddress: '10.16.0.0/12' }, CONTEXT);
    // 10.160.0.1 shares the text prefix "10." but is outside 10.16.0.0/12.
    expect(found.map((s) => s.Id)).toEqual(['a', 'b', 'c', 'd', 'f']);
    expect(searches).toEqual([[{ Property: 'ClientIP', Value: '10.', Operator: 'StartsWith' }]]);
  });

  it('searches one address exactly', async () => {
    const { search, searches } = fuzzySearch(fleet);
    const found = await findFleetSessions(search, { clientAddress: '192.168.1.1' }, CONTEXT);
    expect(found.map((s) => s.Id)).toEqual(['g']);
    expect(searches).toEqual([
      [{ Property: 'ClientIP', Value: '192.168.1.1', Operator: 'Equals' }],
    ]);
  });

  it('searches each user once and keeps a session found twice once', async () => {
    const { search, users } = fuzzySearch([
      session('x', { upn: 'amy@example.com' }),
      session('y', { upn: 'ben@example.com' }),
    ]);
    const found = await findFleetSessions(
      search,
      { users: ['amy@example.com', 'ben@example.com', 'amy@example.com'] },
      CONTEXT,
    );
    expect(found.map((s) => s.Id)).toEqual(['x', 'y']);
    expect(users).toHaveLength(3);
  });
});

describe('findSweepSessions', () => {
  it('never returns a session in another state, whatever the search answers', async () => {
    const { search, searches } = fuzzySearch([
      session('old-disconnected', { state: 'Disconnected', changed: hoursAgo(9) }),
      session('old-active', { state: 'Active', changed: hoursAgo(30) }),
      session('old-connected', { state: 'Connected', changed: hoursAgo(30) }),
    ]);
    const findings = await findSweepSessions(
      search,
      { state: 'Disconnected', olderThan: 'PT8H' },
      NOW,
      CONTEXT,
    );
    expect(findings).toEqual([{ session: expect.objectContaining({ Id: 'old-disconnected' }) }]);
    expect(searches).toEqual([
      [{ Property: 'SessionState', Value: 'Disconnected', Operator: 'Equals' }],
    ]);
  });

  it('keeps only sessions in the state for longer than olderThan, by either time format', async () => {
    const { search } = fuzzySearch([
      session('iso-old', { changed: '2026-11-23T03:59:59Z' }),
      session('iso-new', { changed: '2026-11-23T04:00:01Z' }),
      session('us-old', { changed: '11/23/2026 3:00:00 AM' }),
      session('us-new', { changed: '11/23/2026 9:00:00 AM' }),
    ]);
    const findings = await findSweepSessions(
      search,
      { state: 'Disconnected', olderThan: 'PT8H' },
      NOW,
      CONTEXT,
    );
    expect(findings.map((f) => f.session.Id)).toEqual(['iso-old', 'us-old']);
    expect(findings.every((f) => f.skipReason === undefined)).toBe(true);
  });

  it('returns a session whose time cannot be read with a skip reason, never as a match', async () => {
    const { search } = fuzzySearch([
      session('unreadable', { changed: 'last Tuesday' }),
      session('missing', { changed: null }),
      session('old', { changed: hoursAgo(12) }),
    ]);
    const findings = await findSweepSessions(
      search,
      { state: 'Disconnected', olderThan: 'PT8H' },
      NOW,
      CONTEXT,
    );
    expect(findings.map((f) => [f.session.Id, f.skipReason !== undefined])).toEqual([
      ['unreadable', true],
      ['missing', true],
      ['old', false],
    ]);
    expect(findings[0]?.skipReason).toMatch(/StateChangeTime \("last Tuesday"\) cannot be read/);
  });

  it('without olderThan, matches on state alone and never needs the time', async () => {
    const { search } = fuzzySearch([session('a', { changed: 'garbage' })]);
    expect(await findSweepSessions(search, { state: 'Disconnected' }, NOW, CONTEXT)).toEqual([
      { session: expect.objectContaining({ Id: 'a' }) },
    ]);
  });

  it('limits to the delivery groups, machines and client ranges given', async () => {
    const { search, searches } = fuzzySearch([
      session('in', { group: 'Finance', dns: 'vda-01.example.com', ip: '10.20.0.5' }),
      session('other-group', { group: 'HR' }),
      session('other-machine', { dns: 'vda-09.example.com', machine: 'EXAMPLE\\VDA-09' }),
      session('other-range', { ip: '10.160.0.1' }),
    ]);
    const findings = await findSweepSessions(
      search,
      {
        state: 'Disconnected',
        deliveryGroups: ['finance'],
        machines: ['vda-01.example.com', 'EXAMPLE\\VDA-03'],
        clientAddresses: ['10.16.0.0/12'],
      },
      NOW,
      CONTEXT,
    );
    expect(findings.map((f) => f.session.Id)).toEqual(['in']);
    expect(searches[0]).toContainEqual({
      Property: 'DeliveryGroup',
      Value: 'finance',
      Operator: 'Equals',
    });
  });
});
