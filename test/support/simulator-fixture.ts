import type {
  EndpointManagementFixture,
  FixtureDevice,
  SimulatorFixture,
} from '../../local/simulator/fixture.ts';

export const TEST_SITE_ID = '0b5f5c3e-6a4e-4d8a-9d55-1f2f8f0c0a11';
export const TEST_CLIENT = {
  clientId: 'test-client-id',
  clientSecret: 'test-client-secret-7f3c9a',
};

type LogoffBehaviour = 'complete' | 'fail' | 'never';

/** Session ids that read as what they are in test output. */
export const SESSIONS = {
  alice1: 'a11ce000-0000-4000-8000-000000000001',
  alice2: 'a11ce000-0000-4000-8000-000000000002',
  bob: 'b0b00000-0000-4000-8000-000000000001',
  bobby: 'b0bb1000-0000-4000-8000-000000000001',
  carol: 'ca201000-0000-4000-8000-000000000001',
  dave: 'da7e0000-0000-4000-8000-000000000001',
  erin1: 'e2170000-0000-4000-8000-000000000001',
  erin2: 'e2170000-0000-4000-8000-000000000002',
  erin3: 'e2170000-0000-4000-8000-000000000003',
} as const;

/** Endpoint Management device ids: the user's session prefix, then `de71ce` ("device"). */
export const DEVICES = {
  aliceLaptop: 'a11ce000-0000-4000-8000-de71ce000001',
  bobPhone: 'b0b00000-0000-4000-8000-de71ce000001',
  bobbyPhone: 'b0bb1000-0000-4000-8000-de71ce000001',
  carolPhone: 'ca201000-0000-4000-8000-de71ce000001',
  carolTablet: 'ca201000-0000-4000-8000-de71ce000002',
  carolOldPhone: 'ca201000-0000-4000-8000-de71ce000003',
  daveFailPhone: 'da7e0000-0000-4000-8000-de71ce000001',
  erin1: 'e2170000-0000-4000-8000-de71ce000001',
  erin2: 'e2170000-0000-4000-8000-de71ce000002',
  erin3: 'e2170000-0000-4000-8000-de71ce000003',
} as const;

export const TEST_EM_ADMIN = { login: 'test-em-admin', password: 'test-em-password-5b1d' };
export const DEVICE_BUSY = 'Device busy: another command is pending';

function device(
  id: string,
  userName: string,
  platform: FixtureDevice['platform'],
  deviceModel: string,
  extra: Partial<FixtureDevice> = {},
): FixtureDevice {
  return {
    id,
    userName,
    serialNumber: `SN-${id.slice(0, 8).toUpperCase()}-${id.slice(-2)}`,
    deviceModel,
    platform,
    osVersion: { iOS: '17.5', Android: '14', Windows: '10.0.22631', macOS: '14.5' }[platform],
    lastAccess: '2026-11-23T00:30:00Z',
    jailbroken: false,
    managed: true,
    compliant: true,
    ...extra,
  };
}

/**
 * Endpoint Management devices: carol (phone, tablet, unmanaged old phone), bob and bobby as plain
 * local user names (a substring search for "bob" also finds bobby), dave (every command fails),
 * erin (3 devices, for paging) and "Alice@Example.com" in mixed case.
 */
function endpointManagement(): EndpointManagementFixture {
  return {
    administrators: [TEST_EM_ADMIN],
    authTokenLifetimeSeconds: 1800,
    devices: [
      device(DEVICES.carolPhone, 'carol@example.com', 'iOS', 'iPhone 15'),
      device(DEVICES.carolTablet, 'carol@example.com', 'Android', 'Galaxy Tab S9'),
      device(DEVICES.carolOldPhone, 'carol@example.com', 'Android', 'Galaxy S8', {
        managed: false,
        compliant: false,
        lastAccess: '2024-02-01T09:00:00Z',
      }),
      device(DEVICES.bobPhone, 'bob', 'iOS', 'iPhone 13'),
      device(DEVICES.bobbyPhone, 'bobby', 'Android', 'Pixel 8'),
      device(DEVICES.daveFailPhone, 'dave@example.com', 'iOS', 'iPhone 14', {
        simulation: { commandFailure: DEVICE_BUSY },
      }),
      device(DEVICES.erin1, 'erin@example.com', 'iOS', 'iPhone 15 Pro'),
      device(DEVICES.erin2, 'erin@example.com', 'Android', 'Pixel 7'),
      device(DEVICES.erin3, 'erin@example.com', 'macOS', 'MacBook Air'),
      device(DEVICES.aliceLaptop, 'Alice@Example.com', 'Windows', 'Surface Laptop 5'),
    ],
  };
}

function session(id: string, user: string, machine: string, logoff: LogoffBehaviour = 'complete') {
  return {
    Id: id,
    State: 'Active' as const,
    SessionType: 'Desktop' as const,
    StartTime: '2026-11-23T01:00:00Z',
    User: { PrincipalName: `${user}@example.com`, Name: `EXAMPLE\\${user}`, DisplayName: user },
    UntrustedUserName: `EXAMPLE\\${user}`,
    Machine: { Name: `EXAMPLE\\${machine}`, DnsName: `${machine.toLowerCase()}.example.com` },
    ...(logoff === 'complete'
      ? {}
      : {
          simulation: {
            logoff,
            ...(logoff === 'fail' ? { errorString: 'The VDA did not respond' } : {}),
          },
        }),
  };
}

/**
 * A small tenant with fast log off jobs: alice (2 sessions), bob and bobby (1 each, to catch
 * loose matching), carol (log off fails), dave (log off never ends), erin (3 sessions, the
 * second fails). `endpointManagement` holds the devices described at `DEVICES`.
 */
export function testFixture(settings: SimulatorFixture['settings'] = {}): SimulatorFixture {
  return {
    customerId: 'test-customer',
    sites: [{ id: TEST_SITE_ID, name: 'Test Site' }],
    clients: [TEST_CLIENT, { clientId: 'other-client-id', clientSecret: 'other-client-secret' }],
    settings: {
      tokenLifetimeSeconds: 3600,
      logoff: { notStartedMs: 20, inProgressMs: 60 },
      ...settings,
    },
    sessions: [
      session(SESSIONS.alice1, 'alice', 'VDA-01'),
      session(SESSIONS.alice2, 'alice', 'VDA-02'),
      session(SESSIONS.bob, 'bob', 'VDA-03'),
      session(SESSIONS.bobby, 'bobby', 'VDA-04'),
      session(SESSIONS.carol, 'carol', 'VDA-05', 'fail'),
      session(SESSIONS.dave, 'dave', 'VDA-06', 'never'),
      session(SESSIONS.erin1, 'erin', 'VDA-07'),
      session(SESSIONS.erin2, 'erin', 'VDA-08', 'fail'),
      session(SESSIONS.erin3, 'erin', 'VDA-09'),
    ],
    jobs: [],
    endpointManagement: endpointManagement(),
  };
}

/** Shortened waits and retry intervals so workflow tests take seconds, not minutes. */
export const FAST_WORKFLOW = {
  waitTimeOverrides: { WaitForJob: 25 },
  retryIntervalOverrides: {
    ResolveTargets: 10,
    SubmitAction: 10,
    CheckJob: 10,
    RecordTargetResult: 10,
    CompleteAction: 10,
    RecordActionFailure: 10,
  },
} as const;

export const TEST_ENV = {
  LOGOFF_INITIAL_WAIT_SECONDS: '1',
  CITRIX_MAX_ATTEMPTS: '3',
  CITRIX_REQUEST_TIMEOUT_MS: '2000',
};
