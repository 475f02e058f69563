import { type Context, Hono, type MiddlewareHandler } from 'hono';
import * as z from 'zod';
import { type AuthenticatedEnv, requireCwsAuth } from './auth.ts';
import {
  badRequest,
  CITRIX_ERROR_TYPES,
  citrixError,
  notFound,
  readJsonBody,
} from './citrix-errors.ts';
import {
  decodeContinuationToken,
  filterSessions,
  MAX_PAGE_LIMIT,
  type ParsedSearch,
  paginate,
  parseLimit,
  parseSessionSearch,
} from './daas-search.ts';
import { describeZodError, MESSAGE_STYLES } from './fixture.ts';
import type { SimulatorWorld } from './world.ts';

/** Routes are registered in lower case: the server matches paths case-insensitively. */
export const DAAS_BASE_PATH = '/cvad/manage';

export interface DaasRouteOptions {
  /** Origin used for absolute `Location` job URLs, e.g. `http://127.0.0.1:3001`. */
  baseUrl: () => string;
}

// Citrix (ASP.NET) accepts enum names in any case; normalize to the documented spelling.
const MessageStyleSchema = z
  .string()
  .transform((value) => MESSAGE_STYLES.find((s) => s.toLowerCase() === value.toLowerCase()))
  .pipe(z.enum(MESSAGE_STYLES, { error: `must be one of ${MESSAGE_STYLES.join(', ')}` }));

const SendMessageRequestSchema = z.looseObject({
  Style: MessageStyleSchema.optional(),
  Title: z.string().min(1),
  Text: z.string().min(1),
});

function missingHeader(c: Context, name: string): Response {
  return badRequest(c, `The ${name} header is required`, CITRIX_ERROR_TYPES.missing, {
    header: name,
  });
}

/** Citrix DaaS REST API (`/cvad/manage`): me, sessions and log off jobs. */
export function daasRoutes(world: SimulatorWorld, options: DaasRouteOptions) {
  const app = new Hono<AuthenticatedEnv>();

  const requireCustomer: MiddlewareHandler<AuthenticatedEnv> = async (c, next) => {
    const customerId = c.req.header('citrix-customerid');
    if (!customerId) return missingHeader(c, 'Citrix-CustomerId');
    if (!world.isCustomer(customerId)) {
      return citrixError(
        c,
        403,
        CITRIX_ERROR_TYPES.authorization,
        'The API client has no access to this customer',
        { customerId },
      );
    }
    await next();
  };

  const requireSite: MiddlewareHandler<AuthenticatedEnv> = async (c, next) => {
    const siteId = c.req.header('citrix-instanceid');
    if (!siteId) return missingHeader(c, 'Citrix-InstanceId');
    if (!world.findSite(siteId)) {
      return badRequest(
        c,
        'Unknown Citrix-InstanceId (site id)',
        CITRIX_ERROR_TYPES.invalidString,
        {
          header: 'Citrix-InstanceId',
          value: siteId,
        },
      );
    }
    await next();
  };

  const site = [requireCustomer, requireSite] as const;

  app.use('*', requireCwsAuth(world));

  app.get('/me', requireCustomer, (c) => {
    const caller = c.get('caller');
    const client = world.findClient(caller.clientId);
    const { customerId, customerName, sites } = world.config;
    return c.json({
      UserId: caller.clientId,
      DisplayName: client?.displayName ?? caller.clientId,
      ExpiryTime: new Date(caller.tokenExpiresAt).toISOString(),
      RefreshExpirationTime: null,
      VerifiedEmail: null,
      IsCspCustomer: false,
      Customers: [
        {
          Id: customerId,
          Name: customerName,
          Sites: sites.map((s) => ({ Id: s.id, Name: s.name })),
        },
      ],
    });
  });

  /** Shared by `GET /Sessions` and `POST /Sessions/$search`. */
  const listSessions = (c: Context<AuthenticatedEnv>, search: ParsedSearch & { ok: true }) => {
    const limit = parseLimit(c.req.query('limit'));
    if (limit === undefined) {
      return badRequest(
        c,
        `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`,
        CITRIX_ERROR_TYPES.outOfRange,
        { name: 'limit' },
      );
    }
    const token = c.req.query('continuationToken');
    const offset = token ? decodeContinuationToken(token, search.filters) : 0;
    if (offset === undefined) {
      return badRequest(
        c,
        'The continuation token is invalid or belongs to a different search',
        CITRIX_ERROR_TYPES.invalidString,
        {
          name: 'continuationToken',
        },
      );
    }
    const matches = filterSessions(world.daas.searchable(), search.filters);
    const page = paginate(matches, offset, limit, search.filters);
    return { page, total: matches.length };
  };

  app.get('/sessions', ...site, (c) => {
    const result = listSessions(c, { ok: true, filters: [] });
    if (result instanceof Response) return result;
    return c.json({
      Items: result.page.Items.map((s) => world.daas.view(s)),
      ContinuationToken: result.page.ContinuationToken,
    });
  });

  app.post('/sessions/$search', ...site, async (c) => {
    const body = await readJsonBody(c);
    if (!body.ok) return body.response;
    const search = parseSessionSearch(body.value);
    if (!search.ok) return badRequest(c, search.detail, CITRIX_ERROR_TYPES.invalidEnum);
    const result = listSessions(c, search);
    if (result instanceof Response) return result;
    return c.json({
      Items: result.page.Items.map((s) => world.daas.view(s)),
      ContinuationToken: result.page.ContinuationToken,
      TotalItems: result.total,
    });
  });

  app.get('/sessions/:id', ...site, (c) => {
    const session = world.daas.find(c.req.param('id'));
    if (!session) return notFound(c, 'Session', c.req.param('id'));
    return c.json(world.daas.view(session));
  });

  // Disconnect is synchronous in the simulator whatever `async` says.
  app.post('/sessions/:id/$disconnect', ...site, (c) => {
    const session = world.daas.find(c.req.param('id'));
    if (!session) return notFound(c, 'Session', c.req.param('id'));
    world.daas.disconnect(session);
    return c.json(world.daas.view(session));
  });

  // Log off is always asynchronous in Citrix: 202, empty body, job URL in Location.
  // Logging off a session that is already logging off starts another job, as Citrix allows.
  app.post('/sessions/:id/$logoff', ...site, (c) => {
    const session = world.daas.find(c.req.param('id'));
    if (!session) return notFound(c, 'Session', c.req.param('id'));
    const job = world.daas.startLogoff(
      session,
      c.get('caller').clientId,
      world.takeLogoffJobFault(),
    );
    return c.body(null, 202, { Location: `${options.baseUrl()}${DAAS_BASE_PATH}/Jobs/${job.Id}` });
  });

  app.post('/sessions/:id/$sendmessage', ...site, async (c) => {
    const session = world.daas.find(c.req.param('id'));
    if (!session) return notFound(c, 'Session', c.req.param('id'));
    const body = await readJsonBody(c);
    if (!body.ok) return body.response;
    const message = SendMessageRequestSchema.safeParse(body.value);
    if (!message.success) {
      return badRequest(c, describeZodError(message.error), CITRIX_ERROR_TYPES.missing);
    }
    const { Style, Title, Text } = message.data;
    world.daas.sendMessage(session, { ...(Style ? { Style } : {}), Title, Text });
    return c.body(null, 204);
  });

  app.get('/jobs', ...site, (c) => c.json({ Items: world.daas.jobsOf(c.get('caller').clientId) }));

  app.get('/jobs/:id', ...site, (c) => {
    const job = world.daas.job(c.req.param('id'), c.get('caller').clientId);
    if (!job) return notFound(c, 'Job', c.req.param('id'));
    return c.json(job);
  });

  return app;
}
