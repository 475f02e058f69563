import {
  demoFixture,
  type FixtureDevice,
  type FixtureSession,
  formatStateChangeTime,
  type SimulatorFixture,
  type StateChangeTimeFormat,
} from './fixture.ts';

/**
 * A fleet for sweep rehearsals and tests: the demo tenant (customer, site, API client, Endpoint
 * Management administrator and devices, Cloud administrators) with its sessions replaced by a
 * generated fleet of any size, spread over delivery groups, multi-session machines, users, client
 * networks and states, with `StateChangeTime` on both sides of 8 hours.
 *
 * Everything is derived from the session's index and `now`: the same options give the same
 * fixture. Tests should compute what a sweep must find from the fixture itself, with the
 * constants below, rather than from counts written in the test.
 */

export const FLEET_DEFAULT_SESSIONS = 1000;
export const FLEET_MAX_SESSIONS = 10_000;
/** Log off job duration, NotStarted then InProgress: 200 ms + 1800 ms. */
export const FLEET_DEFAULT_LOGOFF_MS = 2000;

/** Each machine belongs to one group: machine m (1-based) to `FLEET_DELIVERY_GROUPS[(m - 1) % 4]`. */
export const FLEET_DELIVERY_GROUPS = ['Finance', 'Sales', 'Engineering', 'Support'] as const;
/** Sessions i = 0, 1, … go 4 to a machine: `EXAMPLE\VDA-001` holds sessions 0 to 3. */
export const FLEET_SESSIONS_PER_MACHINE = 4;
export const FLEET_DOMAIN = 'EXAMPLE';
export const FLEET_EMAIL_DOMAIN = 'example.com';

/**
 * Client networks, by the user's number u: `u % 10` of 1 or 2 is `untrusted`, 3 or 4 `partner`,
 * anything else `office`. A user's sessions all come from the same client.
 */
export const FLEET_SUBNETS = {
  untrusted: '203.0.113.0/24',
  partner: '198.51.100.0/24',
  office: '10.20.0.0/16',
} as const;

/**
 * How long ago generated Disconnected sessions disconnected, in minutes, in turn: 1 h, 7 h 50 m,
 * 8 h 10 m, 30 h, 4 h and 12 h. Each age appears in both formats (ISO and US) in turn.
 */
export const FLEET_DISCONNECTED_AGES_MINUTES = [60, 470, 490, 1800, 240, 720] as const;

/**
 * Users with stale Disconnected sessions (and, for the second, an Active one) that a sweep must
 * skip when they are protected. `npm start` protects no session users by default
 * (`PROTECTED_USERS` is empty); `breakglass@example.com` is the Cloud administrator the local demo
 * protects (`CITRIX_PROTECTED_ADMINS`). Set `PROTECTED_USERS` to these to rehearse protection.
 */
export const FLEET_PROTECTED_USERS = ['breakglass@example.com', 'ceo@example.com'] as const;

/** `StateChangeTime` values no reader can turn into a time; one more session has none at all. */
export const FLEET_UNREADABLE_STATE_CHANGE_TIMES = ['not a date', '13/45/2020 9:99:00 PM'] as const;

/** Generated Endpoint Management devices, added to the demo's, for users user0001 to user0060. */
export const FLEET_DEVICE_COUNT = 60;
/** Days since `lastAccess` of the fleet's stale devices (more than 30 days). */
export const FLEET_STALE_DEVICE_DAYS = [31, 45, 90] as const;

/**
 * The demo fixture's own "now": just after its latest time. The fleet moves the demo devices'
 * `lastAccess` by `now` minus this, so they keep their ages (alice's unmanaged old phone is the
 * only stale one) instead of all looking months old.
 */
export const DEMO_FIXTURE_NOW = '2025-06-02T08:05:00Z';

export interface FleetOptions {
  /** Total number of sessions, 1 to 10,000; default 1,000. */
  sessions?: number;
  /** Times are relative to this; default the current time. */
  now?: Date;
  /** Log off job duration in milliseconds (10 % NotStarted, the rest InProgress); default 2000. */
  logoffMs?: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const guid = (prefix: string, n: number) => `${prefix}-0000-4000-8000-${pad(n, 12)}`;

/** The user of session i: every fifth session is the previous user's second session. */
export function fleetUserNumber(index: number): number {
  return index - Math.floor((index + 1) / 5) + 1;
}

export const fleetUserName = (u: number) => `user${pad(u, 4)}`;
export const fleetMachineName = (m: number) => `${FLEET_DOMAIN}\\VDA-${pad(m, 3)}`;

function clientOf(u: number): { Name: string; IPAddress: string } {
  const host = (u % 254) + 1;
  const range = u % 10;
  const IPAddress =
    range === 1 || range === 2
      ? `203.0.113.${host}`
      : range === 3 || range === 4
        ? `198.51.100.${host}`
        : `10.20.${Math.floor(u / 254) % 256}.${host}`;
  return { Name: `PC-${pad(u, 4)}`, IPAddress };
}

interface StateOf {
  State: FixtureSession['State'];
  /** When the session entered it. */
  changedAt: number;
  format: StateChangeTimeFormat;
  startedAt: number;
}

/** State by `index % 13`: 0 to 3 Disconnected, 4 Connected, the rest (8 of 13) Active. */
function stateOf(index: number, now: number): StateOf {
  const slot = index % 13;
  if (slot < 4) {
    const ordinal = Math.floor(index / 13) * 4 + slot;
    const ages = FLEET_DISCONNECTED_AGES_MINUTES;
    const age = ages[ordinal % ages.length] ?? ages[0];
    const changedAt = now - age * MINUTE;
    return {
      State: 'Disconnected',
      changedAt,
      format: Math.floor(ordinal / ages.length) % 2 === 0 ? 'iso' : 'us',
      startedAt: changedAt - (2 * HOUR + (index % 5) * 30 * MINUTE),
    };
  }
  if (slot === 4) {
    return {
      State: 'Connected',
      changedAt: now - 2 * MINUTE,
      format: 'iso',
      startedAt: now - 2 * MINUTE,
    };
  }
  // Active since logon, 10 minutes to 10 hours ago: an old StateChangeTime alone means nothing.
  const startedAt = now - (((index * 37) % 600) + 10) * MINUTE;
  return {
    State: 'Active',
    changedAt: startedAt + 15_000,
    format: index % 3 === 0 ? 'us' : 'iso',
    startedAt,
  };
}

function userFields(upn: string, displayName: string) {
  const name = `${FLEET_DOMAIN}\\${upn.split('@')[0]}`;
  return {
    User: { PrincipalName: upn, Name: name, DisplayName: displayName },
    UntrustedUserName: name,
  };
}

/** Session i of the fleet, before the special cases. */
function fleetSession(index: number, now: number): FixtureSession {
  const u = fleetUserNumber(index);
  const machine = Math.floor(index / FLEET_SESSIONS_PER_MACHINE) + 1;
  const group = FLEET_DELIVERY_GROUPS[(machine - 1) % FLEET_DELIVERY_GROUPS.length] ?? 'Finance';
  const state = stateOf(index, now);
  const secondSession = fleetUserNumber(index - 1) === u && index > 0;
  return {
    Id: guid('f1ee7000', index + 1),
    State: state.State,
    SessionType: secondSession ? 'Application' : 'Desktop',
    StartTime: formatStateChangeTime(state.startedAt, state.format),
    StateChangeTime: formatStateChangeTime(state.changedAt, state.format),
    ...userFields(`${fleetUserName(u)}@${FLEET_EMAIL_DOMAIN}`, `User ${pad(u, 4)}`),
    Machine: {
      Name: fleetMachineName(machine),
      DnsName: `vda-${pad(machine, 3)}.${FLEET_EMAIL_DOMAIN}`,
      DeliveryGroup: { Name: group },
      SessionSupport: 'MultiSession',
    },
    Client: clientOf(u),
  };
}

/**
 * Special cases at the start of the fleet, so that even a small fleet has them: the protected
 * users' stale sessions (session 1: breakglass, disconnected 8 h 10 m ago, ISO; session 2: ceo,
 * 30 h ago, US form; session 6: ceo's Active session) and three Disconnected sessions whose age
 * cannot be read (sessions 3 and 4: `FLEET_UNREADABLE_STATE_CHANGE_TIMES`; session 5: none).
 */
function applySpecialCases(session: FixtureSession, index: number, now: number): FixtureSession {
  const protectedUser = (upn: string, name: string) => ({
    ...userFields(upn, name),
    Client: {
      Name: `${upn.split('@')[0]?.toUpperCase()}-LAPTOP`,
      IPAddress: session.Client?.IPAddress ?? null,
    },
  });
  const disconnected = (ago: number, format: StateChangeTimeFormat) => ({
    State: 'Disconnected' as const,
    StartTime: formatStateChangeTime(now - ago - 3 * HOUR, format),
    StateChangeTime: formatStateChangeTime(now - ago, format),
  });
  const [breakglass, ceo] = FLEET_PROTECTED_USERS;
  const [notADate, badUsTime] = FLEET_UNREADABLE_STATE_CHANGE_TIMES;
  switch (index) {
    case 1:
      return {
        ...session,
        ...protectedUser(breakglass, 'Break Glass'),
        ...disconnected(490 * MINUTE, 'iso'),
      };
    case 2:
      return {
        ...session,
        ...protectedUser(ceo, 'Chief Executive'),
        ...disconnected(30 * HOUR, 'us'),
      };
    case 3:
      return { ...session, State: 'Disconnected', StateChangeTime: notADate };
    case 4:
      return { ...session, State: 'Disconnected', StateChangeTime: badUsTime };
    case 5: {
      const { StateChangeTime: _none, ...rest } = session;
      return { ...rest, State: 'Disconnected' };
    }
    case 6:
      return {
        ...session,
        ...protectedUser(ceo, 'Chief Executive'),
        State: 'Active',
        SessionType: 'Application',
        StartTime: formatStateChangeTime(now - 20 * HOUR - 15_000, 'iso'),
        StateChangeTime: formatStateChangeTime(now - 20 * HOUR, 'iso'),
      };
    default:
      return session;
  }
}

/** Device j (0-based) of the fleet's Endpoint Management devices. */
function fleetDevice(j: number, now: number): FixtureDevice {
  const kind = j % 20;
  const ios = j % 2 === 0;
  const lastAccess =
    kind === 11
      ? now -
        (FLEET_STALE_DEVICE_DAYS[Math.floor(j / 20) % FLEET_STALE_DEVICE_DAYS.length] ?? 31) * DAY
      : now - ((j * 13) % 72) * HOUR - 5 * MINUTE;
  return {
    id: guid('f1ee7de0', j + 1),
    userName: `${fleetUserName(j + 1)}@${FLEET_EMAIL_DOMAIN}`,
    serialNumber: `FLEET${pad(j + 1, 5)}`,
    deviceModel: ios ? 'iPhone 15' : 'Pixel 8',
    platform: ios ? 'iOS' : 'Android',
    osVersion: ios ? '17.5' : '14',
    lastAccess: new Date(lastAccess).toISOString(),
    jailbroken: kind === 3,
    managed: true,
    compliant: kind !== 7,
  };
}

function logoffTiming(logoffMs: number) {
  if (!Number.isInteger(logoffMs) || logoffMs < 0) {
    throw new RangeError(`logoffMs must be a whole number of milliseconds, got ${logoffMs}`);
  }
  const notStartedMs = Math.round(logoffMs / 10);
  return { notStartedMs, inProgressMs: logoffMs - notStartedMs };
}

/** The demo tenant with a generated fleet of `sessions` sessions (see the file comment). */
export function fleetFixture(options: FleetOptions = {}): SimulatorFixture {
  const count = options.sessions ?? FLEET_DEFAULT_SESSIONS;
  if (!Number.isInteger(count) || count < 1 || count > FLEET_MAX_SESSIONS) {
    throw new RangeError(
      `A fleet has 1 to ${FLEET_MAX_SESSIONS} sessions (a whole number), got ${count}`,
    );
  }
  const now = (options.now ?? new Date()).getTime();
  if (Number.isNaN(now)) throw new RangeError('now is not a valid date');
  const demo = demoFixture();
  const sessions = Array.from({ length: count }, (_, i) =>
    applySpecialCases(fleetSession(i, now), i, now),
  );
  const shift = now - Date.parse(DEMO_FIXTURE_NOW);
  const demoDevices = (demo.endpointManagement?.devices ?? []).map((device) =>
    device.lastAccess
      ? { ...device, lastAccess: new Date(Date.parse(device.lastAccess) + shift).toISOString() }
      : device,
  );
  const devices = [
    ...demoDevices,
    ...Array.from({ length: FLEET_DEVICE_COUNT }, (_, j) => fleetDevice(j, now)),
    {
      id: guid('f1ee7de0', FLEET_DEVICE_COUNT + 1),
      userName: FLEET_PROTECTED_USERS[1],
      serialNumber: 'FLEETCEO0001',
      deviceModel: 'iPhone 15 Pro',
      platform: 'iOS' as const,
      osVersion: '17.5',
      lastAccess: new Date(now - HOUR).toISOString(),
      jailbroken: false,
      managed: true,
      compliant: true,
    },
  ];
  return {
    ...demo,
    settings: {
      ...demo.settings,
      logoff: logoffTiming(options.logoffMs ?? FLEET_DEFAULT_LOGOFF_MS),
    },
    sessions,
    jobs: [],
    endpointManagement: { ...demo.endpointManagement, devices },
  };
}
