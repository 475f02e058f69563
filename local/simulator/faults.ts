import type { MiddlewareHandler } from 'hono';
import { CITRIX_ERROR_TYPES, type CitrixErrorType, citrixError } from './citrix-errors.ts';
import type { SimulatorWorld } from './world.ts';

const SERVER_ERROR_TYPES: Record<500 | 502 | 503 | 504, CitrixErrorType> = {
  500: CITRIX_ERROR_TYPES.internalServerError,
  502: CITRIX_ERROR_TYPES.badGateway,
  503: CITRIX_ERROR_TYPES.serviceUnavailable,
  504: CITRIX_ERROR_TYPES.gatewayTimeout,
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Injects the configured faults into Citrix API requests: latency on every request, then the
 * next `throttle.count` requests get 429, then the next `serverErrors.count` get a 5xx. Counters
 * count down as they fire. The token endpoint is spared unless `includeTokenEndpoint` is set.
 */
export function injectFaults(
  world: SimulatorWorld,
  isTokenRequest: (path: string) => boolean,
): MiddlewareHandler {
  return async (c, next) => {
    const faults = world.faults;
    if (isTokenRequest(c.req.path) && !faults.includeTokenEndpoint) return next();
    if (faults.latencyMs) await sleep(faults.latencyMs);
    if (faults.throttle && faults.throttle.count > 0) {
      faults.throttle.count -= 1;
      const retryAfter = faults.throttle.retryAfterSeconds;
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
    await next();
  };
}
