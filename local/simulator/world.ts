import { randomBytes, timingSafeEqual } from 'node:crypto';
import { AdministratorsState } from './administrators-state.ts';
import { DaasState, type LogoffJobOutcome } from './daas-state.ts';
import { EndpointManagementState } from './endpoint-management-state.ts';
import {
  type ApiClient,
  EM_BODY_SHAPES,
  type EmBodyShape,
  type FaultSettings,
  FaultSettingsSchema,
  type ResolvedSettings,
  resolveSettings,
  type SimulatorFixture,
  type Site,
} from './fixture.ts';

/** One Citrix API request as `GET /_simulator/requests` shows it, secrets masked. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
  time: string;
  status: number;
}

/**
 * Starts every Citrix Cloud bearer token the simulator issues, so that the tests' secret scan
 * (test/support/test-secrets.ts) recognises one written anywhere.
 */
export const SIMULATOR_BEARER_PREFIX = 'simbearer_';

export interface IssuedToken {
  clientId: string;
  expiresAt: number;
}

export type TokenCheck =
  | { ok: true; clientId: string; expiresAt: number }
  | { ok: false; reason: 'invalid' | 'expired' };

function sameSecret(expected: string, actual: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(actual);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface CustomerConfig {
  customerId: string;
  customerName: string;
  sites: Site[];
  clients: ApiClient[];
  settings: ResolvedSettings;
}

/**
 * Everything the simulator knows: the customer and its API clients, issued tokens, the request
 * log, active faults, and one state object per simulated Citrix service: DaaS, Endpoint
 * Management and Cloud Administrators.
 */
export class SimulatorWorld {
  readonly now: () => number;
  readonly config: CustomerConfig;
  readonly #initial: SimulatorFixture;
  #tokens = new Map<string, IssuedToken>();
  #requests: RecordedRequest[] = [];
  #inFlight = 0;
  #settledWaiters: (() => void)[] = [];
  faults: FaultSettings;
  daas: DaasState;
  /** Also holds the Endpoint Management auth tokens, so reset() forgets them with the rest. */
  endpointManagement: EndpointManagementState;
  administrators: AdministratorsState;

  constructor(fixture: SimulatorFixture, now: () => number = () => Date.now()) {
    this.now = now;
    this.#initial = structuredClone(fixture);
    const copy = structuredClone(fixture);
    this.config = {
      customerId: copy.customerId,
      customerName: copy.customerName ?? copy.customerId,
      sites: copy.sites,
      clients: copy.clients,
      settings: resolveSettings(copy),
    };
    this.faults = copy.faults ?? {};
    this.daas = new DaasState(copy, this.config.settings, now);
    this.endpointManagement = new EndpointManagementState(copy.endpointManagement, now);
    this.administrators = new AdministratorsState(
      copy.cloudAdministrators,
      this.config.customerId,
      now,
    );
  }

  /** Back to the starting fixture; tokens and recorded requests are forgotten. */
  reset(): void {
    const copy = structuredClone(this.#initial);
    this.#tokens.clear();
    this.#requests = [];
    this.faults = copy.faults ?? {};
    this.daas = new DaasState(copy, this.config.settings, this.now);
    this.endpointManagement = new EndpointManagementState(copy.endpointManagement, this.now);
    this.administrators = new AdministratorsState(
      copy.cloudAdministrators,
      this.config.customerId,
      this.now,
    );
  }

  isCustomer(customerId: string): boolean {
    return customerId.toLowerCase() === this.config.customerId.toLowerCase();
  }

  findSite(siteId: string): Site | undefined {
    const wanted = siteId.toLowerCase();
    return this.config.sites.find((site) => site.id.toLowerCase() === wanted);
  }

  findClient(clientId: string): ApiClient | undefined {
    return this.config.clients.find((client) => client.clientId === clientId);
  }

  authenticateClient(clientId: string, clientSecret: string): ApiClient | undefined {
    const client = this.findClient(clientId);
    return client && sameSecret(client.clientSecret, clientSecret) ? client : undefined;
  }

  issueToken(clientId: string): { token: string; lifetimeSeconds: number } {
    const token = `${SIMULATOR_BEARER_PREFIX}${randomBytes(32).toString('base64url')}`;
    const lifetimeSeconds = this.config.settings.tokenLifetimeSeconds;
    this.#tokens.set(token, { clientId, expiresAt: this.now() + lifetimeSeconds * 1000 });
    return { token, lifetimeSeconds };
  }

  checkToken(token: string): TokenCheck {
    const issued = this.#tokens.get(token);
    if (!issued) return { ok: false, reason: 'invalid' };
    if (this.now() >= issued.expiresAt) return { ok: false, reason: 'expired' };
    return { ok: true, clientId: issued.clientId, expiresAt: issued.expiresAt };
  }

  /** Citrix Cloud bearer tokens and Endpoint Management auth tokens alike. */
  expireTokens(): void {
    const now = this.now();
    for (const issued of this.#tokens.values()) issued.expiresAt = Math.min(issued.expiresAt, now);
    this.endpointManagement.expireTokens();
  }

  /** Strings that must never appear in recorded requests or logs. */
  secrets(): string[] {
    return [
      ...this.config.clients.map((client) => client.clientSecret),
      ...this.#tokens.keys(),
      ...this.endpointManagement.secrets(),
    ];
  }

  setEndpointManagementBodyShape(shape: EmBodyShape): void {
    if (!EM_BODY_SHAPES.includes(shape)) {
      throw new TypeError(`bodyShape must be one of ${EM_BODY_SHAPES.join(', ')}`);
    }
    this.endpointManagement.bodyShape = shape;
  }

  setFaults(faults: FaultSettings): void {
    this.faults = structuredClone(FaultSettingsSchema.parse(faults));
  }

  /**
   * The outcome the `logoffJobs` fault gives the log off job being started, counting it down;
   * undefined when the fault is spent or not set (the session's own outcome applies).
   */
  takeLogoffJobFault(): LogoffJobOutcome | undefined {
    const fault = this.faults.logoffJobs;
    if (fault === undefined || fault.count <= 0) return undefined;
    fault.count -= 1;
    return {
      logoff: fault.outcome,
      ...(fault.errorString === undefined ? {} : { errorString: fault.errorString }),
    };
  }

  /** A Citrix API request arrived; `endRequest` when its answer (and record) is done. */
  beginRequest(): void {
    this.#inFlight += 1;
  }

  endRequest(): void {
    this.#inFlight -= 1;
    if (this.#inFlight > 0) return;
    for (const resolve of this.#settledWaiters.splice(0)) resolve();
  }

  /**
   * Resolves once no Citrix API request is being handled: a late answer (latency faults) is
   * recorded only when it is sent, so read `requests()` after this.
   */
  settled(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#settledWaiters.push(resolve));
  }

  recordRequest(request: RecordedRequest): void {
    this.#requests.push(request);
  }

  requests(): RecordedRequest[] {
    return structuredClone(this.#requests);
  }

  /** How many requests are recorded: what `requests().length` says, without copying them. */
  requestCount(): number {
    return this.#requests.length;
  }

  clearRequests(): void {
    this.#requests = [];
  }

  /** The current data in fixture format; parses with SimulatorFixtureSchema. */
  state(): SimulatorFixture {
    const { customerId, customerName, sites, clients, settings } = this.config;
    const daas = this.daas.snapshot();
    return {
      customerId,
      ...(customerName === customerId ? {} : { customerName }),
      sites: structuredClone(sites),
      clients: structuredClone(clients),
      settings: structuredClone(settings),
      faults: structuredClone(this.faults),
      sessions: daas.sessions,
      jobs: daas.jobs,
      endpointManagement: this.endpointManagement.snapshot(),
      cloudAdministrators: this.administrators.snapshot(),
    };
  }
}
