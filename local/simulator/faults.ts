import type { Context, MiddlewareHandler } from 'hono';
import { CITRIX_ERROR_TYPES, type CitrixErrorType, citrixError } from './citrix-errors.ts';
import type { SimulatorWorld } from './world.ts';

const SERVER_ERROR_TYPES: Record<500 | 502 | 503 | 504, CitrixErrorType> = {
  500: CITRIX_ERROR_TYPES.internalServerError,
  502: CITRIX_ERROR_TYPES.badGateway,
  503: CITRIX_ERROR_TYPES.serviceUnavailable,
  504: CITRIX_ERROR_TYPES.gatewayTimeout,
};

export const DEFAULT_DEVICE_COMMAND_FAILURE =
  'The device action failed (fault injected by the Citrix simulator)';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every Citrix request that changes something, by what it changes. */
export const MUTATION_KINDS = [
  'logoff',
  'disconnect',
  'sendMessage',
  'wipe',
  'selectiveWipe',
  'deployPolicy',
  'adminAccessChange',
  'adminDelete',
  'invitationDelete',
] as const;
export type MutationKind = (typeof MUTATION_KINDS)[number];

export const DEVICE_COMMAND_MUTATIONS: readonly MutationKind[] = [
  'wipe',
  'selectiveWipe',
  'deployPolicy',
];

// Paths as the simulator routes them: lower case, `%24` read as `$`. Both Endpoint Management
// body shapes' paths are here (`selwipe` and `refresh` are the id-array ones).
const MUTATING_ROUTES: readonly (readonly [string, RegExp, MutationKind])[] = [
  ['POST', /^\/cvad\/manage\/sessions\/[^/]+\/\$logoff$/, 'logoff'],
  ['POST', /^\/cvad\/manage\/sessions\/[^/]+\/\$disconnect$/, 'disconnect'],
  ['POST', /^\/cvad\/manage\/sessions\/[^/]+\/\$sendmessage$/, 'sendMessage'],
  ['POST', /^\/xenmobile\/api\/v1\/device\/wipe$/, 'wipe'],
  ['POST', /^\/xenmobile\/api\/v1\/device\/(selectivewipe|selwipe)$/, 'selectiveWipe'],
  ['POST', /^\/xenmobile\/api\/v1\/device\/(policy\/deploy|refresh)$/, 'deployPolicy'],
  ['PUT', /^\/administrators\/access$/, 'adminAccessChange'],
  ['DELETE', /^\/administrators\/invitations$/, 'invitationDelete'],
  ['DELETE', /^\/administrators\/[^/]+$/, 'adminDelete'],
];

/** What a Citrix request changes, or undefined for a read (and for anything not Citrix's). */
export function citrixMutation(method: string, path: string): MutationKind | undefined {
  const routed = path.replace(/%24/gi, '$').toLowerCase();
  const upper = method.toUpperCase();
  return MUTATING_ROUTES.find(([m, pattern]) => m === upper && pattern.test(routed))?.[2];
}

/**
 * Injects the configured faults into Citrix API requests, in this order: latency on every
 * request; the `expireTokensAfterRequests` countdown (the request that reaches 0 expires every
 * token, then is handled, so it gets 401); the next `throttle.count` requests get 429; the next
 * `serverErrors.count` get a 5xx; the next `deviceCommandFailures.count` device commands get
 * `status: -1`; the next `mutationLatency.count` mutations are applied and answered late.
 * Counters count down as they fire (log off job outcomes are taken by the DaaS routes). The token
 * endpoint is spared unless `includeTokenEndpoint` is set.
 */
export function injectFaults(
  world: SimulatorWorld,
  isTokenRequest: (path: string) => boolean,
): MiddlewareHandler {
  return async (c, next) => {
    const faults = world.faults;
    if (isTokenRequest(c.req.path) && !faults.includeTokenEndpoint) return next();
    if (faults.latencyMs) await sleep(faults.latencyMs);
    if (faults.expireTokensAfterRequests !== undefined) {
      faults.expireTokensAfterRequests -= 1;
      if (faults.expireTokensAfterRequests <= 0) {
        delete faults.expireTokensAfterRequests;
        world.expireTokens();
      }
    }
    if (faults.throttle && faults.throttle.count > 0) {
      faults.throttle.count -= 1;
      return throttled(c, faults.throttle.retryAfterSeconds);
    }
    if (faults.serverErrors && faults.serverErrors.count > 0) {
      faults.serverErrors.count -= 1;
      const status = faults.serverErrors.status ?? 503;
      return citrixError(
        c,
        status,
        SERVER_ERROR_TYPES[status],
        `Temporary server error ${status} (fault injected by the Citrix simulator)`,
      );
    }
    const mutation = citrixMutation(c.req.method, c.req.path);
    if (mutation === undefined) return next();
    const failure = faults.deviceCommandFailures;
    if (failure && failure.count > 0 && DEVICE_COMMAND_MUTATIONS.includes(mutation)) {
      failure.count -= 1;
      // Endpoint Management reports a failed command in a 200 answer.
      return c.json({ status: -1, message: failure.message ?? DEFAULT_DEVICE_COMMAND_FAILURE });
    }
    const late = faults.mutationLatency;
    if (late && late.count > 0) {
      late.count -= 1;
      await next();
      // Applied already: only the answer is late.
      await sleep(late.latencyMs);
      return;
    }
    await next();
  };
}

function throttled(c: Context, retryAfter: number | undefined): Response {
  if (retryAfter !== undefined) c.header('Retry-After', String(retryAfter));
  return citrixError(
    c,
    429,
    CITRIX_ERROR_TYPES.rateLimitExceeded,
    retryAfter === undefined
      ? 'Rate limit exceeded'
      : `Rate limit exceeded; try again in ${retryAfter} seconds`,
    retryAfter === undefined ? {} : { retryDelay: String(retryAfter) },
  );
}
