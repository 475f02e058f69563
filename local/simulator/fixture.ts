import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import {
  AdminPolicySchema,
  MAX_ADMIN_PAGE_SIZE,
  policyProblems,
} from './administrator-policies.ts';

// The access policy schemas belong to the fixture format too.
export {
  AdminCheckableSchema,
  type AdminPolicy,
  AdminPolicySchema,
  AdminScopeChoiceSchema,
} from './administrator-policies.ts';

/**
 * The simulator's data, in one JSON document: the Citrix Cloud customer, its API clients, the
 * DaaS sessions and jobs, Endpoint Management administrators and devices, Citrix Cloud
 * administrators and their access, timings and injected faults. `GET /_simulator/state` returns the
 * current data in this same format, so a snapshot can be saved and loaded again.
 *
 * No field uses zod defaults, so the input and output types are the same and TypeScript callers
 * can build fixtures by hand; the simulator fills in defaults itself (see `resolveSettings`).
 */

export const SESSION_STATES = ['Active', 'Connected', 'Disconnected', 'Unknown'] as const;
export const LOGOFF_OUTCOMES = ['complete', 'fail', 'never'] as const;
export const JOB_STATUSES = [
  'Unknown',
  'NotStarted',
  'InProgress',
  'Complete',
  'CompleteWithWarning',
  'Failed',
  'Canceled',
  'NonTerminatingError',
] as const;
export const MESSAGE_STYLES = [
  'Unknown',
  'Critical',
  'Question',
  'Exclamation',
  'Information',
] as const;
export const SERVER_ERROR_STATUSES = [500, 502, 503, 504] as const;

export const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600;
/** Citrix does not document the Endpoint Management token timeout; 30 minutes is a guess. */
export const DEFAULT_EM_AUTH_TOKEN_LIFETIME_SECONDS = 1800;
export const DEFAULT_LOGOFF_TIMING = { notStartedMs: 500, inProgressMs: 2500 } as const;
export const DEFAULT_LOGOFF_ERROR = 'The log off request failed on the VDA';
/**
 * How the simulator writes a session's new `StateChangeTime`: `iso` (`2026-03-02T14:02:49.000Z`)
 * or `us`, the shape of Citrix's own sample (`11/16/2020 2:02:49 PM`, UTC).
 */
export const STATE_CHANGE_TIME_FORMATS = ['iso', 'us'] as const;
export const DEFAULT_STATE_CHANGE_TIME_FORMAT = 'iso';

const nonEmpty = z.string().min(1);
const nullableText = z.string().nullable().optional();

export const SiteSchema = z.strictObject({ id: z.guid(), name: nonEmpty });

export const ApiClientSchema = z.strictObject({
  clientId: nonEmpty,
  clientSecret: nonEmpty,
  /** Shown as `DisplayName` by `GET /cvad/manage/me`; defaults to the client id. */
  displayName: nonEmpty.optional(),
  /**
   * Email of the Citrix Cloud administrator who created this API client. Secure clients inherit
   * their creator's rights, so removing that administrator would disable the client itself.
   */
  ownerAdministrator: nonEmpty.optional(),
});

export const LogoffTimingSchema = z.strictObject({
  notStartedMs: z.int().nonnegative(),
  inProgressMs: z.int().nonnegative(),
});

export const SettingsSchema = z.strictObject({
  tokenLifetimeSeconds: z.int().positive().optional(),
  logoff: LogoffTimingSchema.optional(),
  /** Format of the `StateChangeTime` the simulator writes on a state change; default `iso`. */
  stateChangeTimeFormat: z.enum(STATE_CHANGE_TIME_FORMATS).optional(),
});

export const FaultSettingsSchema = z.strictObject({
  latencyMs: z.int().nonnegative().optional(),
  throttle: z
    .strictObject({
      count: z.int().nonnegative(),
      retryAfterSeconds: z.int().nonnegative().optional(),
    })
    .optional(),
  serverErrors: z
    .strictObject({
      count: z.int().nonnegative(),
      status: z.literal(SERVER_ERROR_STATUSES).optional(),
    })
    .optional(),
  includeTokenEndpoint: z.boolean().optional(),
  /**
   * Token expiry in the middle of a run: after this many more faultable requests, every token
   * issued so far expires (as `expireTokens()` does), and the request that reached it gets 401.
   */
  expireTokensAfterRequests: z.int().positive().max(100_000).optional(),
  /**
   * The next `count` mutating requests (see `citrixMutation` in faults.ts) are applied, then
   * answered only after `latencyMs`: a client whose timeout is shorter never hears that they went
   * through.
   */
  mutationLatency: z
    .strictObject({
      latencyMs: z.int().positive().max(600_000),
      count: z.int().nonnegative().max(10_000),
    })
    .optional(),
  /** The next `count` DaaS log off jobs fail (`fail`) or never end (`never`), whatever the session says. */
  logoffJobs: z
    .strictObject({
      outcome: z.enum(['fail', 'never']),
      count: z.int().nonnegative().max(10_000),
      errorString: nonEmpty.max(500).optional(),
    })
    .optional(),
  /**
   * The next `count` Endpoint Management device commands (wipe, selective wipe, policy deploy)
   * answer HTTP 200 with `{"status": -1, "message"}` and change nothing.
   */
  deviceCommandFailures: z
    .strictObject({
      count: z.int().nonnegative().max(10_000),
      message: nonEmpty.max(500).optional(),
    })
    .optional(),
});

export const SentMessageSchema = z.strictObject({
  Style: z.enum(MESSAGE_STYLES).optional(),
  Title: z.string(),
  Text: z.string(),
  SentAt: z.iso.datetime({ offset: true }),
});

/** Simulator-only behaviour of a session; never returned by the Citrix routes. */
export const SessionSimulationSchema = z.strictObject({
  logoff: z.enum(LOGOFF_OUTCOMES).optional(),
  errorString: nonEmpty.optional(),
  messages: z.array(SentMessageSchema).optional(),
});

// Sessions, users, machines and clients accept extra Citrix fields (Connection, Machine.Zone, …)
// and return them unchanged, so real session JSON can be pasted into a fixture.
export const SessionSchema = z.looseObject({
  Id: z.guid(),
  State: z.enum(SESSION_STATES),
  SessionType: z.enum(['Application', 'Desktop']),
  StartTime: nonEmpty,
  /**
   * When the session entered its current state. Any text is accepted and returned as it is:
   * Citrix writes ISO 8601 or the US form of its sample (`11/16/2020 2:02:49 PM`), and fixtures
   * need unreadable values too. The simulator rewrites it when the session changes state.
   */
  StateChangeTime: z.string().nullable().optional(),
  User: z.looseObject({
    PrincipalName: nullableText,
    Name: nullableText,
    DisplayName: nullableText,
  }),
  UntrustedUserName: nullableText,
  Machine: z.looseObject({
    Name: nonEmpty,
    DnsName: nullableText,
    DeliveryGroup: z.looseObject({ Name: nonEmpty }).nullable().optional(),
  }),
  Client: z.looseObject({ Name: nullableText, IPAddress: nullableText }).nullable().optional(),
  LogoffInProgress: z.boolean().optional(),
  /** Hidden sessions are left out of searches, as in Citrix. */
  IsHidden: z.boolean().optional(),
  simulation: SessionSimulationSchema.optional(),
});

/** Who started a job and how it ends; the public fields are recomputed from it on every read. */
export const JobSimulationSchema = z.strictObject({
  clientId: nonEmpty,
  sessionId: z.guid(),
  logoff: z.enum(LOGOFF_OUTCOMES),
  errorString: nonEmpty.optional(),
});

const nullableTime = z.iso.datetime({ offset: true }).nullable().optional();

export const JobSchema = z.looseObject({
  Id: z.guid(),
  Type: z.literal('LogoffSessions'),
  CreationTime: z.iso.datetime({ offset: true }),
  Status: z.enum(JOB_STATUSES).optional(),
  OverallProgressPercent: z.number().min(0).max(100).nullable().optional(),
  ErrorString: z.string().nullable().optional(),
  StartTime: nullableTime,
  EndTime: nullableTime,
  Parameters: z.array(z.strictObject({ Name: z.string(), Value: z.string() })).optional(),
  simulation: JobSimulationSchema,
});

/**
 * Request body shapes of Endpoint Management device commands. `object` is the OpenAPI document:
 * `/device/wipe` and `/device/selectivewipe` take `{"deviceId"}`, `/device/policy/deploy` takes
 * `{"deviceIds": [...]}`. `id-array` is Citrix's "Public API for REST Services" PDF, which real
 * XenMobile servers follow: `/device/wipe`, `/device/selwipe` and `/device/refresh` take a JSON
 * array of device ids.
 */
export const EM_BODY_SHAPES = ['object', 'id-array'] as const;
export const EM_PLATFORMS = ['iOS', 'Android', 'Windows', 'macOS'] as const;
export const EM_COMMANDS = ['wipe', 'selectiveWipe', 'deployPolicy'] as const;

export const EmAdministratorSchema = z.strictObject({ login: nonEmpty, password: nonEmpty });

export const EmCommandRecordSchema = z.strictObject({
  command: z.enum(EM_COMMANDS),
  at: z.iso.datetime({ offset: true }),
});

/** Simulator-only behaviour of a device; never returned by the Endpoint Management routes. */
export const DeviceSimulationSchema = z.strictObject({
  /** Every command on this device answers HTTP 200 with `status: -1` and this message. */
  commandFailure: nonEmpty.optional(),
  /** Commands the device accepted, oldest first (`state()` fills this in). */
  commands: z.array(EmCommandRecordSchema).optional(),
});

// Endpoint Management (cloud) device ids are GUIDs; XenMobile Server ids are integers.
const DEVICE_ID = /^(\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

// Devices accept extra fields (imeiOrMeid, inactivityDays, …) and return them unchanged, so real
// device JSON can be pasted into a fixture, as with sessions.
export const DeviceSchema = z.looseObject({
  id: z.string().regex(DEVICE_ID, 'must be a GUID or a string of digits'),
  userName: nonEmpty,
  serialNumber: z.string().optional(),
  deviceModel: z.string().optional(),
  platform: z.enum(EM_PLATFORMS),
  osVersion: z.string().optional(),
  lastAccess: z.iso.datetime({ offset: true }).optional(),
  /** Default false. */
  jailbroken: z.boolean().optional(),
  /** Default true. Commands on an unmanaged device fail with "Device is not managed". */
  managed: z.boolean().optional(),
  /** Default true. */
  compliant: z.boolean().optional(),
  simulation: DeviceSimulationSchema.optional(),
});

export const EndpointManagementFixtureSchema = z.strictObject({
  /** Local administrators accepted by `POST /authentication/login`. */
  administrators: z.array(EmAdministratorSchema).optional(),
  authTokenLifetimeSeconds: z.int().positive().optional(),
  bodyShape: z.enum(EM_BODY_SHAPES).optional(),
  devices: z.array(DeviceSchema).optional(),
});

export const ADMINISTRATOR_TYPES = [
  'AdministratorUser',
  'AdministratorGroup',
  'ServicePrincipal',
] as const;
export const ADMINISTRATOR_ACCESS_TYPES = ['Full', 'Custom', 'Reinvite'] as const;
export const ADMINISTRATOR_PROVIDER_TYPES = ['CitrixSts', 'AzureAd', 'Ad', 'Google'] as const;

/** Simulator-only: what a Custom administrator has been granted; never returned as is. */
export const AdministratorAccessSchema = z.strictObject({ policies: z.array(AdminPolicySchema) });

// Administrators accept extra Citrix fields (emailPreferences, providerId, …) and return them
// unchanged, so real `GET /administrators` items can be pasted into a fixture.
export const CloudAdministratorSchema = z.looseObject({
  ucOid: nonEmpty,
  /** Users have one once they have signed in; groups and pending invitations may not. */
  userId: nonEmpty.nullable().optional(),
  type: z.enum(ADMINISTRATOR_TYPES),
  accessType: z.enum(ADMINISTRATOR_ACCESS_TYPES),
  email: nonEmpty.nullable().optional(),
  firstName: nullableText,
  lastName: nullableText,
  displayName: nullableText,
  providerType: z.enum(ADMINISTRATOR_PROVIDER_TYPES),
  /** Default false. A pending administrator is an invitation not yet accepted. */
  pending: z.boolean().optional(),
  invitationExpired: z.boolean().nullable().optional(),
  createdDate: z.iso.datetime({ offset: true }),
  updatedDate: z.iso.datetime({ offset: true }).nullable().optional(),
  access: AdministratorAccessSchema.optional(),
});

export const CloudAdministratorsFixtureSchema = z.strictObject({
  /** Default page size of `GET /administrators` (default 100). */
  pageSize: z.int().min(1).max(MAX_ADMIN_PAGE_SIZE).optional(),
  administrators: z.array(CloudAdministratorSchema).optional(),
});

export const SimulatorFixtureSchema = z
  .strictObject({
    customerId: nonEmpty,
    /** Shown as the customer `Name` by `GET /cvad/manage/me`; defaults to the customer id. */
    customerName: nonEmpty.optional(),
    sites: z.array(SiteSchema).min(1),
    clients: z.array(ApiClientSchema).min(1),
    settings: SettingsSchema.optional(),
    faults: FaultSettingsSchema.optional(),
    sessions: z.array(SessionSchema),
    jobs: z.array(JobSchema).optional(),
    endpointManagement: EndpointManagementFixtureSchema.optional(),
    cloudAdministrators: CloudAdministratorsFixtureSchema.optional(),
  })
  .superRefine((fixture, ctx) => {
    const reportDuplicates = (values: string[], field: (index: number) => PropertyKey[]) => {
      const seen = new Set<string>();
      values.forEach((value, index) => {
        const key = value.toLowerCase();
        if (seen.has(key)) {
          ctx.addIssue({
            code: 'custom',
            message: `Duplicate value "${value}"`,
            path: field(index),
          });
        }
        seen.add(key);
      });
    };
    reportDuplicates(
      fixture.sites.map((site) => site.id),
      (i) => ['sites', i, 'id'],
    );
    reportDuplicates(
      fixture.clients.map((client) => client.clientId),
      (i) => ['clients', i, 'clientId'],
    );
    reportDuplicates(
      fixture.sessions.map((session) => session.Id),
      (i) => ['sessions', i, 'Id'],
    );
    reportDuplicates(
      (fixture.jobs ?? []).map((job) => job.Id),
      (i) => ['jobs', i, 'Id'],
    );
    reportDuplicates(
      (fixture.endpointManagement?.administrators ?? []).map((admin) => admin.login),
      (i) => ['endpointManagement', 'administrators', i, 'login'],
    );
    reportDuplicates(
      (fixture.endpointManagement?.devices ?? []).map((device) => device.id),
      (i) => ['endpointManagement', 'devices', i, 'id'],
    );
    const administrators = fixture.cloudAdministrators?.administrators ?? [];
    const adminPath = (i: number) => ['cloudAdministrators', 'administrators', i];
    reportDuplicates(
      administrators.map((admin) => admin.ucOid),
      (i) => [...adminPath(i), 'ucOid'],
    );
    // Only administrators that have a userId take part, so indexes map back through this list.
    const withUserId = administrators.flatMap((admin, i) => (admin.userId ? [{ admin, i }] : []));
    reportDuplicates(
      withUserId.map(({ admin }) => admin.userId ?? ''),
      (j) => [...adminPath(withUserId[j]?.i ?? j), 'userId'],
    );
    administrators.forEach((admin, i) => {
      if (admin.pending && !admin.email) {
        ctx.addIssue({
          code: 'custom',
          message: 'a pending administrator (an invitation) needs an email',
          path: [...adminPath(i), 'email'],
        });
      }
      if (!admin.access) return;
      if (admin.accessType === 'Full') {
        ctx.addIssue({
          code: 'custom',
          message: 'a Full administrator has every permission; access is only for Custom ones',
          path: [...adminPath(i), 'access'],
        });
      }
      for (const problem of policyProblems(admin.access.policies)) {
        ctx.addIssue({
          code: 'custom',
          message: problem.message,
          path: [...adminPath(i), 'access', 'policies', ...problem.path],
        });
      }
    });
  });

export type Site = z.infer<typeof SiteSchema>;
export type ApiClient = z.infer<typeof ApiClientSchema>;
export type LogoffTiming = z.infer<typeof LogoffTimingSchema>;
export type FaultSettings = z.infer<typeof FaultSettingsSchema>;
export type SentMessage = z.infer<typeof SentMessageSchema>;
export type LogoffOutcome = (typeof LOGOFF_OUTCOMES)[number];
export type JobStatus = (typeof JOB_STATUSES)[number];
export type StateChangeTimeFormat = (typeof STATE_CHANGE_TIME_FORMATS)[number];
export type FixtureSession = z.infer<typeof SessionSchema>;
export type FixtureJob = z.infer<typeof JobSchema>;
export type SimulatorFixture = z.infer<typeof SimulatorFixtureSchema>;
export type EmBodyShape = (typeof EM_BODY_SHAPES)[number];
export type EmPlatform = (typeof EM_PLATFORMS)[number];
export type EmCommand = (typeof EM_COMMANDS)[number];
export type EmAdministrator = z.infer<typeof EmAdministratorSchema>;
export type EmCommandRecord = z.infer<typeof EmCommandRecordSchema>;
export type FixtureDevice = z.infer<typeof DeviceSchema>;
export type EndpointManagementFixture = z.infer<typeof EndpointManagementFixtureSchema>;
export type AdministratorType = (typeof ADMINISTRATOR_TYPES)[number];
export type AdministratorAccessType = (typeof ADMINISTRATOR_ACCESS_TYPES)[number];
export type AdministratorProviderType = (typeof ADMINISTRATOR_PROVIDER_TYPES)[number];
export type FixtureAdministrator = z.infer<typeof CloudAdministratorSchema>;
export type CloudAdministratorsFixture = z.infer<typeof CloudAdministratorsFixtureSchema>;

export interface ResolvedSettings {
  tokenLifetimeSeconds: number;
  logoff: LogoffTiming;
  stateChangeTimeFormat: StateChangeTimeFormat;
}

export function resolveSettings(fixture: SimulatorFixture): ResolvedSettings {
  return {
    tokenLifetimeSeconds: fixture.settings?.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS,
    logoff: { ...DEFAULT_LOGOFF_TIMING, ...fixture.settings?.logoff },
    stateChangeTimeFormat:
      fixture.settings?.stateChangeTimeFormat ?? DEFAULT_STATE_CHANGE_TIME_FORMAT,
  };
}

export class SimulatorFixtureError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SimulatorFixtureError';
  }
}

/** `sessions[2].User.Name` style path, so an error points straight at the bad field. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

export function describeZodError(error: z.ZodError): string {
  return error.issues.map((issue) => `${formatIssuePath(issue.path)}: ${issue.message}`).join('; ');
}

/** Validates fixture data from any source; `source` names it in the error message. */
export function parseFixture(data: unknown, source = 'fixture'): SimulatorFixture {
  const result = SimulatorFixtureSchema.safeParse(data);
  if (!result.success) {
    throw new SimulatorFixtureError(
      `Invalid simulator ${source}: ${describeZodError(result.error)}`,
      {
        cause: result.error,
      },
    );
  }
  return result.data;
}

export function loadFixture(path: string): SimulatorFixture {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new SimulatorFixtureError(`Cannot read simulator fixture ${path}`, { cause: error });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new SimulatorFixtureError(`Simulator fixture ${path} is not valid JSON`, {
      cause: error,
    });
  }
  return parseFixture(data, `fixture ${path}`);
}

export const DEMO_FIXTURE_PATH: string = fileURLToPath(
  new URL('./demo-fixture.json', import.meta.url),
);

/** A fresh copy of the demo data every call, so callers can change it freely. */
export function demoFixture(): SimulatorFixture {
  return loadFixture(DEMO_FIXTURE_PATH);
}

/**
 * A time as the simulator writes `StateChangeTime`: ISO 8601 (`toISOString`), or the US form of
 * Citrix's sample, `M/D/YYYY h:mm:ss AM|PM` in UTC (`11/16/2020 2:02:49 PM`; seconds only).
 */
export function formatStateChangeTime(ms: number, format: StateChangeTimeFormat): string {
  const date = new Date(ms);
  if (format === 'iso') return date.toISOString();
  const two = (n: number) => String(n).padStart(2, '0');
  const day = `${date.getUTCMonth() + 1}/${date.getUTCDate()}/${date.getUTCFullYear()}`;
  const hours = date.getUTCHours();
  const time = `${hours % 12 || 12}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}`;
  return `${day} ${time} ${hours < 12 ? 'AM' : 'PM'}`;
}
