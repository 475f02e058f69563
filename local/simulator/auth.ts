import { Hono, type MiddlewareHandler } from 'hono';
import { CITRIX_ERROR_TYPES, citrixError } from './citrix-errors.ts';
import type { SimulatorWorld } from './world.ts';

/** The API client behind a valid bearer token, for routes that need to know who calls. */
export interface Caller {
  clientId: string;
  tokenExpiresAt: number;
}

export type AuthenticatedEnv = { Variables: { caller: Caller } };

const CWS_AUTH = /^\s*CWSAuth\s+bearer=(\S+)\s*$/i;

/** The token in `Authorization: CWSAuth bearer=<token>` (scheme and key in any case). */
export function parseCwsAuthorization(header: string | undefined): string | undefined {
  return header === undefined ? undefined : CWS_AUTH.exec(header)?.[1];
}

/**
 * Citrix Cloud's token endpoint: `POST /cctrustoauth2/{customerId|root}/tokens/clients` with a
 * form-encoded client_credentials grant. `expires_in` is a string, as Citrix sends it.
 */
export function tokenRoutes(world: SimulatorWorld): Hono {
  const app = new Hono();
  const oauthError = (status: 400 | 401, error: string, description: string) =>
    new Response(JSON.stringify({ error, error_description: description }), {
      status,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    });

  app.post('/cctrustoauth2/:customer/tokens/clients', async (c) => {
    const customer = c.req.param('customer');
    if (customer !== 'root' && !world.isCustomer(customer)) {
      return oauthError(400, 'invalid_request', 'Unknown customer id in the token URL');
    }
    const contentType = c.req.header('content-type') ?? '';
    if (!contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      return oauthError(
        400,
        'invalid_request',
        'The token request must be application/x-www-form-urlencoded',
      );
    }
    const form = new URLSearchParams(await c.req.text());
    const grantType = form.get('grant_type');
    const clientId = form.get('client_id') ?? '';
    const clientSecret = form.get('client_secret') ?? '';
    if (grantType !== 'client_credentials') {
      return oauthError(401, 'invalid_client', 'grant_type must be client_credentials');
    }
    const client = world.authenticateClient(clientId, clientSecret);
    if (!client) {
      return oauthError(401, 'invalid_client', 'Invalid client id or client secret');
    }
    const { token, lifetimeSeconds } = world.issueToken(client.clientId);
    c.header('cache-control', 'no-store');
    return c.json({
      token_type: 'bearer',
      access_token: token,
      expires_in: String(lifetimeSeconds),
    });
  });
  return app;
}

/** Rejects requests without a valid, unexpired `CWSAuth bearer=` token with Citrix's 401. */
export function requireCwsAuth(world: SimulatorWorld): MiddlewareHandler<AuthenticatedEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const unauthorized = (reason: string, detail: string) =>
      citrixError(c, 401, CITRIX_ERROR_TYPES.authentication, detail, { reason });
    if (header === undefined || header.trim() === '') {
      return unauthorized('missing', 'Missing or invalid authentication details');
    }
    const token = parseCwsAuthorization(header);
    if (token === undefined) {
      return unauthorized(
        'invalid',
        'Missing or invalid authentication details: expected "Authorization: CWSAuth bearer=<token>"',
      );
    }
    const check = world.checkToken(token);
    if (!check.ok) {
      return unauthorized(
        check.reason,
        check.reason === 'expired'
          ? 'The bearer token has expired; request a new one'
          : 'Missing or invalid authentication details',
      );
    }
    c.set('caller', { clientId: check.clientId, tokenExpiresAt: check.expiresAt });
    await next();
  };
}
