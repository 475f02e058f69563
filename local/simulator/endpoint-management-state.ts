import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  DEFAULT_EM_AUTH_TOKEN_LIFETIME_SECONDS,
  type EmAdministrator,
  type EmBodyShape,
  type EmCommand,
  type EmPlatform,
  type EndpointManagementFixture,
  type FixtureDevice,
} from './fixture.ts';

/**
 * A device as the Endpoint Management routes return it: fixture data without `simulation`, the
 * booleans filled in. Spelt out because `Omit` of a loose object keeps only its index signature.
 */
export interface DeviceView {
  id: string;
  userName: string;
  serialNumber?: string;
  deviceModel?: string;
  platform: EmPlatform;
  osVersion?: string;
  lastAccess?: string;
  jailbroken: boolean;
  managed: boolean;
  compliant: boolean;
  /** Extra fields from the fixture, returned unchanged. */
  [field: string]: unknown;
}

/** Who an auth token was issued to: a local administrator, or a Citrix Cloud API client. */
export type EmPrincipal =
  | { kind: 'administrator'; login: string }
  | { kind: 'cloud'; clientId: string };

interface EmAuthToken {
  principal: EmPrincipal;
  expiresAt: number;
  // Logged-out tokens stay in the table so secrets() keeps masking them.
  loggedOut: boolean;
}

export type EmTokenCheck =
  | { ok: true; principal: EmPrincipal }
  | { ok: false; reason: 'invalid' | 'expired' };

export interface DeviceFilter {
  start: number;
  limit: number;
  sortOrder: 'ASC' | 'DESC';
  /** Case-insensitive substring of userName, serialNumber, deviceModel or id; '' matches all. */
  search: string;
}

export interface DeviceFilterResult {
  devices: DeviceView[];
  totalCount: number;
  matchedRecords: number;
}

export interface DeviceCommandFailure {
  id: string;
  message: string;
}

export const DEVICE_NOT_MANAGED = 'Device is not managed';

function sameSecret(expected: string, actual: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(actual);
  return a.length === b.length && timingSafeEqual(a, b);
}

const DIGITS = /^\d+$/;

/** XenMobile Server ids are integers, so "9" sorts before "10"; GUIDs sort as text. */
function compareDeviceIds(a: string, b: string): number {
  if (DIGITS.test(a) && DIGITS.test(b)) {
    const byLength = a.replace(/^0+/, '').length - b.replace(/^0+/, '').length;
    if (byLength !== 0) return byLength;
  }
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Citrix Endpoint Management: administrators, auth tokens, devices and the commands sent to them. */
export class EndpointManagementState {
  readonly #now: () => number;
  readonly administrators: EmAdministrator[];
  readonly authTokenLifetimeSeconds: number;
  bodyShape: EmBodyShape;
  // Keyed by lower-cased id: GUIDs compare case-insensitively.
  readonly #devices = new Map<string, FixtureDevice>();
  readonly #tokens = new Map<string, EmAuthToken>();

  constructor(fixture: EndpointManagementFixture | undefined, now: () => number) {
    this.#now = now;
    this.administrators = fixture?.administrators ?? [];
    this.authTokenLifetimeSeconds =
      fixture?.authTokenLifetimeSeconds ?? DEFAULT_EM_AUTH_TOKEN_LIFETIME_SECONDS;
    this.bodyShape = fixture?.bodyShape ?? 'object';
    for (const device of fixture?.devices ?? []) this.#devices.set(device.id.toLowerCase(), device);
  }

  /** Logins compare case-insensitively (they are directory user names), passwords exactly. */
  authenticate(login: string, password: string): EmAdministrator | undefined {
    const wanted = login.toLowerCase();
    const admin = this.administrators.find((a) => a.login.toLowerCase() === wanted);
    return admin && sameSecret(admin.password, password) ? admin : undefined;
  }

  /** A new auth token; its format follows Citrix's sample, `<id>:<id>`. */
  issueToken(principal: EmPrincipal): string {
    const id = randomBytes(16).toString('hex');
    const token = `${id}:${id}`;
    this.#tokens.set(token, {
      principal,
      expiresAt: this.#now() + this.authTokenLifetimeSeconds * 1000,
      loggedOut: false,
    });
    return token;
  }

  checkToken(token: string): EmTokenCheck {
    const issued = this.#tokens.get(token);
    if (!issued || issued.loggedOut) return { ok: false, reason: 'invalid' };
    if (this.#now() >= issued.expiresAt) return { ok: false, reason: 'expired' };
    return { ok: true, principal: issued.principal };
  }

  logout(token: string): void {
    const issued = this.#tokens.get(token);
    if (issued) issued.loggedOut = true;
  }

  /** Auth tokens still usable now: issued, not logged out, not expired. Never the tokens. */
  liveTokenCount(): number {
    const now = this.#now();
    let live = 0;
    for (const issued of this.#tokens.values()) {
      if (!issued.loggedOut && now < issued.expiresAt) live += 1;
    }
    return live;
  }

  expireTokens(): void {
    const now = this.#now();
    for (const issued of this.#tokens.values()) issued.expiresAt = Math.min(issued.expiresAt, now);
  }

  /** Administrator passwords and every token issued, for masking. */
  secrets(): string[] {
    return [...this.administrators.map((admin) => admin.password), ...this.#tokens.keys()];
  }

  find(deviceId: string): FixtureDevice | undefined {
    return this.#devices.get(deviceId.toLowerCase());
  }

  view(device: FixtureDevice): DeviceView {
    const { simulation: _simulation, ...publicFields } = structuredClone(device);
    return {
      ...publicFields,
      id: device.id,
      userName: device.userName,
      platform: device.platform,
      jailbroken: device.jailbroken ?? false,
      managed: device.managed ?? true,
      compliant: device.compliant ?? true,
    };
  }

  filter(filter: DeviceFilter): DeviceFilterResult {
    const all = [...this.#devices.values()];
    const needle = filter.search.toLowerCase();
    const matches = all
      .filter((device) =>
        [device.userName, device.serialNumber, device.deviceModel, device.id].some((field) =>
          field?.toLowerCase().includes(needle),
        ),
      )
      .sort((a, b) => compareDeviceIds(a.id, b.id) * (filter.sortOrder === 'DESC' ? -1 : 1));
    return {
      devices: matches
        .slice(filter.start, filter.start + filter.limit)
        .map((device) => this.view(device)),
      totalCount: all.length,
      matchedRecords: matches.length,
    };
  }

  /**
   * The devices behind `ids`, each once, or the first id that names no device: a command naming
   * an unknown device is rejected before it touches any device.
   */
  resolve(
    ids: string[],
  ): { ok: true; devices: FixtureDevice[] } | { ok: false; unknownId: string } {
    const devices = new Map<string, FixtureDevice>();
    for (const id of ids) {
      const device = this.find(id);
      if (!device) return { ok: false, unknownId: id };
      devices.set(device.id.toLowerCase(), device);
    }
    return { ok: true, devices: [...devices.values()] };
  }

  /**
   * Sends `command` to each device. Unmanaged devices and devices with `simulation.commandFailure`
   * refuse it; every other device records it. A full wipe leaves the device listed and managed:
   * the command stays pending until the device checks in, which a simulated device never does.
   */
  runCommand(command: EmCommand, devices: FixtureDevice[]): DeviceCommandFailure[] {
    const failures: DeviceCommandFailure[] = [];
    const at = new Date(this.#now()).toISOString();
    for (const device of devices) {
      const failure =
        (device.managed ?? true) ? device.simulation?.commandFailure : DEVICE_NOT_MANAGED;
      if (failure !== undefined) {
        failures.push({ id: device.id, message: failure });
        continue;
      }
      device.simulation ??= {};
      device.simulation.commands ??= [];
      device.simulation.commands.push({ command, at });
    }
    return failures;
  }

  snapshot(): Required<EndpointManagementFixture> {
    return {
      administrators: structuredClone(this.administrators),
      authTokenLifetimeSeconds: this.authTokenLifetimeSeconds,
      bodyShape: this.bodyShape,
      devices: structuredClone([...this.#devices.values()]),
    };
  }
}
