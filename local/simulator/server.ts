import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Hono, type MiddlewareHandler } from 'hono';
import { ADMINISTRATORS_BASE_PATH, administratorsRoutes } from './administrators.ts';
import { tokenRoutes } from './auth.ts';
import { CITRIX_ERROR_TYPES, citrixError } from './citrix-errors.ts';
import { CONTROL_BASE_PATH, controlRoutes } from './control.ts';
import { DAAS_BASE_PATH, daasRoutes } from './daas.ts';
import {
  ENDPOINT_MANAGEMENT_BASE_PATH,
  emError,
  emNoRoute,
  endpointManagementRoutes,
  isEndpointManagementPath,
} from './endpoint-management.ts';
import { injectFaults } from './faults.ts';
import {
  demoFixture,
  type EmBodyShape,
  type FaultSettings,
  parseFixture,
  type SimulatorFixture,
} from './fixture.ts';
import { recordRequests } from './recorder.ts';
import { type RecordedRequest, SimulatorWorld } from './world.ts';

export type { EmBodyShape, FaultSettings, SimulatorFixture } from './fixture.ts';
export type { RecordedRequest } from './world.ts';

export interface SimulatorOptions {
  /** Defaults to the demo fixture (`local/simulator/demo-fixture.json`). */
  fixture?: SimulatorFixture;
  /** Default 0: a random free port. */
  port?: number;
  /** Default '127.0.0.1'. The control API is unauthenticated, so keep it on loopback. */
  host?: string;
  /** Receives one line per Citrix API request (never secrets). */
  log?: (line: string) => void;
  /**
   * The simulator's clock in milliseconds (default `Date.now`): token lifetimes, log off job
   * progress and the `StateChangeTime` of state changes all read it.
   */
  now?: () => number;
}

export interface RunningSimulator {
  /** e.g. `http://127.0.0.1:43121`; Citrix clients use it as both API and token host. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
  /** Back to the starting fixture; recorded requests and tokens are cleared. */
  reset(): void;
  setFaults(faults: FaultSettings): void;
  /** Every token issued so far stops working now: Citrix Cloud and Endpoint Management alike. */
  expireTokens(): void;
  /** Which request bodies the Endpoint Management device commands take (see docs/simulator.md). */
  setEndpointManagementBodyShape(shape: EmBodyShape): void;
  requests(): RecordedRequest[];
  /** How many requests `requests()` would return, without copying them (a long run counts often). */
  requestCount(): number;
  /** Resolves once no Citrix API request is in flight (late answers included): then read `requests()`. */
  settled(): Promise<void>;
  state(): SimulatorFixture;
  /**
   * Sessions a completed log off removed (Citrix no longer lists them), with `StateChangeTime`
   * set to when the log off completed. `reset()` forgets them.
   */
  loggedOffSessions(): SimulatorFixture['sessions'];
}

const TOKEN_PATH = /^\/cctrustoauth2\/[^/]+\/tokens\/clients$/;

const isControlPath = (path: string) =>
  path === CONTROL_BASE_PATH || path.startsWith(`${CONTROL_BASE_PATH}/`);

/** Request path used for routing: lower case (Citrix paths are case-insensitive), `%24` as `$`. */
function routingPath(request: Request): string {
  return new URL(request.url).pathname.replace(/%24/gi, '$').toLowerCase();
}

/** The simulator as a Hono app, for embedding or for `app.request()` without a socket. */
export function createSimulatorApp(
  world: SimulatorWorld,
  options: { baseUrl: () => string; log?: (line: string) => void },
): Hono {
  const app = new Hono({ getPath: routingPath });
  const citrixOnly =
    (handler: MiddlewareHandler): MiddlewareHandler =>
    (c, next) =>
      isControlPath(c.req.path) ? next() : handler(c, next);

  app.use(
    '*',
    citrixOnly(async (_c, next) => {
      world.beginRequest();
      try {
        await next();
      } finally {
        world.endRequest();
      }
    }),
  );
  app.use(
    '*',
    citrixOnly(async (c, next) => {
      // Citrix echoes Citrix-TransactionId, or makes one up, on every response.
      c.header('citrix-transactionid', c.req.header('citrix-transactionid') ?? randomUUID());
      await next();
    }),
  );
  app.use('*', citrixOnly(recordRequests(world, options.log)));
  app.use('*', citrixOnly(injectFaults(world, (path) => TOKEN_PATH.test(path))));

  app.route('/', tokenRoutes(world));
  app.route(DAAS_BASE_PATH, daasRoutes(world, { baseUrl: options.baseUrl }));
  app.route(ENDPOINT_MANAGEMENT_BASE_PATH, endpointManagementRoutes(world));
  app.route(ADMINISTRATORS_BASE_PATH, administratorsRoutes(world));
  app.route(CONTROL_BASE_PATH, controlRoutes(world));

  app.notFound((c) => {
    if (isControlPath(c.req.path)) {
      return c.json({ error: `Unknown simulator route ${c.req.method} ${c.req.path}` }, 404);
    }
    if (isEndpointManagementPath(c.req.path)) return emNoRoute(c);
    return citrixError(
      c,
      404,
      CITRIX_ERROR_TYPES.notFound,
      `No API route ${c.req.method} ${c.req.path}`,
    );
  });
  app.onError((error, c) => {
    options.log?.(
      `Citrix simulator error on ${c.req.method} ${c.req.path}: ${error.name}: ${error.message}`,
    );
    if (isEndpointManagementPath(c.req.path)) {
      return emError(c, 500, 'Internal error in the Citrix simulator');
    }
    return citrixError(
      c,
      500,
      CITRIX_ERROR_TYPES.internalServerError,
      'Internal error in the Citrix simulator',
    );
  });
  return app;
}

export async function startCitrixSimulator(
  options: SimulatorOptions = {},
): Promise<RunningSimulator> {
  const fixture = options.fixture ? parseFixture(options.fixture) : demoFixture();
  const host = options.host ?? '127.0.0.1';
  const world = new SimulatorWorld(fixture, options.now);
  let url = '';
  const app = createSimulatorApp(world, { baseUrl: () => url, log: options.log });
  // overrideGlobalObjects: false keeps the adapter from replacing the process-wide Request and
  // Response, which the code under test shares when the simulator runs embedded.
  const server = createAdaptorServer({ fetch: app.fetch, overrideGlobalObjects: false });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  // A wildcard listen address is not something a client can connect to.
  const reachableHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  url = `http://${reachableHost.includes(':') ? `[${reachableHost}]` : reachableHost}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
      return closing;
    },
    reset: () => world.reset(),
    setFaults: (faults) => world.setFaults(faults),
    expireTokens: () => world.expireTokens(),
    setEndpointManagementBodyShape: (shape) => world.setEndpointManagementBodyShape(shape),
    requests: () => world.requests(),
    requestCount: () => world.requestCount(),
    settled: () => world.settled(),
    state: () => world.state(),
    loggedOffSessions: () => world.daas.loggedOffSessions(),
  };
}
