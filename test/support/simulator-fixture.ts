import { CloudAdministratorsClient } from '../../lib/citrix/administrators-client.ts';
import { citrixConnectionFromEnv } from '../../lib/citrix/config.ts';
import type {
  AdminPolicy,
  CloudAdministratorsFixture,
  EndpointManagementFixture,
  FixtureAdministrator,
  FixtureDevice,
  SimulatorFixture,
} from '../../local/simulator/fixture.ts';

export const TEST_SITE_ID = '0b5f5c3e-6a4e-4d8a-9d55-1f2f8f0c0a11';
export const TEST_CLIENT = {
  clientId: 'test-client-id',
  clientSecret: 'test-client-secret-7f3c9a',
  /** The Cloud administrator who created the client: automation must never remove it. */
  ownerAdministrator: 'owner@example.com',
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

/**
 * Citrix Cloud administrators. Users are addressed by `userId`, the group and the invitation by
 * `ucOid`. Listing order (createdDate, then ucOid) differs from fixture order: breakglass, full,
 * owner, mallory and trent (same createdDate, so by ucOid), group, invitee.
 */
export const ADMINS = {
  full: {
    email: 'full.admin@example.com',
    userId: '1000000000000000001',
    ucOid: 'OID:/citrix/1000000000000000001',
  },
  owner: {
    email: 'owner@example.com',
    userId: '1000000000000000002',
    ucOid: 'OID:/citrix/1000000000000000002',
  },
  mallory: {
    email: 'mallory@example.com',
    userId: '1000000000000000003',
    ucOid: 'OID:/citrix/1000000000000000003',
  },
  trent: {
    email: 'trent@example.com',
    userId: '1000000000000000004',
    ucOid: 'OID:/citrix/1000000000000000004',
  },
  breakglass: {
    email: 'breakglass@example.com',
    userId: '1000000000000000005',
    ucOid: 'OID:/citrix/1000000000000000005',
  },
  group: { ucOid: 'OID:/azuread/group-1', displayName: 'Citrix Admins (Azure AD)' },
  invitee: { email: 'invitee@example.com', ucOid: 'OID:/citrix/1000000000000000007' },
} as const;

/** Catalogue policy names (see ADMIN_POLICY_CATALOGUE) used by the test administrators. */
const CLOUD_ADMINISTRATOR_ROLE = 'R-3a45035c-a260-4b4a-88a9-64461cba5a';
const DELIVERY_GROUP_ROLE = 'R-ac0b54e3-6e8a-473f-9713-139218ed4e';

/** Delivery Group Administrator on the Finance delivery groups: the group's Custom access. */
export const FINANCE_DELIVERY_GROUP_POLICY: AdminPolicy = {
  name: DELIVERY_GROUP_ROLE,
  serviceName: 'XenDesktop',
  displayName: 'Delivery Group Administrator',
  checkable: { value: true, canChangeValue: true },
  scopeChoices: {
    allScopesSelected: false,
    choices: [
      {
        name: '300adc84-286b-8cc4-29bd-36a0e7bb87b4',
        displayName: 'Finance delivery groups',
        checkable: { value: true, canChangeValue: true },
      },
    ],
  },
};

const platform = (name: string): AdminPolicy => ({
  name,
  serviceName: 'Platform',
  checkable: { value: true, canChangeValue: true },
});

function userAdmin(
  who: { email: string; userId: string; ucOid: string },
  name: string,
  createdDate: string,
  extra: Partial<FixtureAdministrator> = {},
): FixtureAdministrator {
  const [firstName = name, lastName = 'Example'] = name.split(' ');
  return {
    ucOid: who.ucOid,
    userId: who.userId,
    type: 'AdministratorUser',
    accessType: 'Custom',
    email: who.email,
    firstName,
    lastName,
    displayName: name,
    providerType: 'CitrixSts',
    pending: false,
    invitationExpired: null,
    createdDate,
    updatedDate: createdDate,
    ...extra,
  };
}

function cloudAdministrators(): CloudAdministratorsFixture {
  return {
    pageSize: 2,
    administrators: [
      userAdmin(ADMINS.full, 'Fiona Full', '2025-01-10T09:00:00Z', { accessType: 'Full' }),
      userAdmin(ADMINS.owner, 'Owen Owner', '2025-02-01T09:00:00Z', {
        access: { policies: [platform('secureClients')] },
      }),
      userAdmin(ADMINS.mallory, 'Mallory Mole', '2025-03-15T12:00:00Z', {
        access: {
          policies: [
            {
              name: CLOUD_ADMINISTRATOR_ROLE,
              serviceName: 'XenDesktop',
              displayName: 'Cloud Administrator',
              checkable: { value: true, canChangeValue: true },
              scopeChoices: {
                allScopesSelected: true,
                choices: [
                  {
                    name: 'XenDesktop-FullAdmin',
                    displayName: 'All',
                    checkable: { value: true, canChangeValue: true },
                  },
                ],
              },
            },
            platform('secureClients'),
          ],
        },
      }),
      userAdmin(ADMINS.trent, 'Trent Trusted', '2025-03-15T12:00:00Z', {
        access: { policies: [platform('notifications')] },
      }),
      userAdmin(ADMINS.breakglass, 'Break Glass', '2024-06-01T00:00:00Z'),
      {
        ucOid: ADMINS.group.ucOid,
        type: 'AdministratorGroup',
        accessType: 'Custom',
        displayName: ADMINS.group.displayName,
        providerType: 'AzureAd',
        pending: false,
        invitationExpired: null,
        createdDate: '2025-05-01T08:00:00Z',
        updatedDate: '2025-05-01T08:00:00Z',
        access: {
          policies: [FINANCE_DELIVERY_GROUP_POLICY],
        },
      },
      {
        ucOid: ADMINS.invitee.ucOid,
        type: 'AdministratorUser',
        accessType: 'Custom',
        email: ADMINS.invitee.email,
        firstName: 'Ivy',
        lastName: 'Invitee',
        displayName: 'Ivy Invitee',
        providerType: 'CitrixSts',
        pending: true,
        invitationExpired: true,
        createdDate: '2026-09-01T10:00:00Z',
        updatedDate: '2026-09-01T10:00:00Z',
      },
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
 * second fails). `endpointManagement` holds the devices described at `DEVICES`, and
 * `cloudAdministrators` the administrators at `ADMINS` (listed 2 per page).
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
    cloudAdministrators: cloudAdministrators(),
  };
}

/** Shortened waits and retry intervals so workflow tests take seconds, not minutes. */
export const FAST_WORKFLOW = {
  waitTimeOverrides: { WaitForJob: 25, WaitForJobs: 25 },
  retryIntervalOverrides: {
    ResolveTargets: 10,
    AdvanceBatch: 10,
    FailBatch: 10,
    CompleteAction: 10,
    RecordActionFailure: 10,
  },
} as const;

export const TEST_ENV = {
  LOGOFF_INITIAL_WAIT_SECONDS: '1',
  CITRIX_MAX_ATTEMPTS: '3',
  CITRIX_REQUEST_TIMEOUT_MS: '2000',
  // Approval has its own tests (test/state-machines/guardrails.test.ts); elsewhere it would only wait.
  APPROVAL_REQUIRED: 'none',
};

/**
 * The Citrix Cloud administrators client against a simulator at `url`, as the tasks build it,
 * with the test client's credentials and no waits between retries.
 */
export function administratorsClientFor(
  url: string,
  options: { readonly fetch?: typeof fetch } = {},
): CloudAdministratorsClient {
  return new CloudAdministratorsClient({
    connection: citrixConnectionFromEnv({
      ...TEST_ENV,
      CITRIX_API_URL: url,
      CITRIX_CUSTOMER_ID: 'test-customer',
    }),
    credentials: async () => TEST_CLIENT,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    sleep: async () => {},
  });
}
