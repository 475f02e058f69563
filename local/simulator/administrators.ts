import { type Context, Hono, type MiddlewareHandler } from 'hono';
import * as z from 'zod';
import {
  type AdministratorAccessUpdate,
  MAX_ADMIN_PAGE_SIZE,
  policyProblems,
} from './administrators-state.ts';
import { type AuthenticatedEnv, requireCwsAuth } from './auth.ts';
import { badRequest, CITRIX_ERROR_TYPES, citrixError, readJsonBody } from './citrix-errors.ts';
import {
  ADMINISTRATOR_PROVIDER_TYPES,
  ADMINISTRATOR_TYPES,
  AdminPolicySchema,
  describeZodError,
  formatIssuePath,
} from './fixture.ts';
import type { SimulatorWorld } from './world.ts';

/** Routes are registered in lower case: the server matches paths case-insensitively. */
export const ADMINISTRATORS_BASE_PATH = '/administrators';

const LIST_PARAMETERS = ['type', 'providertype', 'maxitemcount', 'requestcontinuation', 'id'];

// Citrix (ASP.NET) accepts enum names in any case; normalize to the documented spelling.
function enumValue<T extends string>(values: readonly T[], raw: string): T | undefined {
  return values.find((value) => value.toLowerCase() === raw.toLowerCase());
}

const ACCESS_UPDATE_TYPES = ['Full', 'Custom'] as const;

const AccessUpdateSchema = z.looseObject({
  accessType: z
    .string({ error: 'is required: Full or Custom' })
    .transform((value) => enumValue(ACCESS_UPDATE_TYPES, value))
    .pipe(z.enum(ACCESS_UPDATE_TYPES, { error: 'must be Full or Custom' })),
  policies: z.array(AdminPolicySchema).nullable().optional(),
});

/** Query parameters by lower-cased name (ASP.NET binds them in any case); first value wins. */
function queryParameters(c: Context): Map<string, string> {
  const parameters = new Map<string, string>();
  for (const [name, value] of new URL(c.req.url).searchParams) {
    const key = name.toLowerCase();
    if (!parameters.has(key)) parameters.set(key, value);
  }
  return parameters;
}

/**
 * The `{id}` path segment, decoded once. Read from the raw URL because the router sees the path
 * lower-cased, and because ucOids (`OID:/citrix/…`) arrive with their slashes as `%2F`.
 */
function pathId(c: Context): string | undefined {
  const segments = new URL(c.req.url).pathname.split('/');
  const base = segments.findIndex((segment) => segment.toLowerCase() === 'administrators');
  const raw = segments[base + 1];
  if (base < 0 || raw === undefined) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

function unknownAdministrator(c: Context, id: string): Response {
  return citrixError(c, 404, CITRIX_ERROR_TYPES.notFound, 'Administrator not found', {
    entityType: 'https://identifiers-api.cloud.com/administrators/administrator',
    id,
  });
}

function missingParameter(c: Context, name: string): Response {
  return badRequest(c, `The ${name} query parameter is required`, CITRIX_ERROR_TYPES.missing, {
    name,
  });
}

/** Parses and checks a `PUT /administrators/access` body against the policy catalogue. */
function parseAccessUpdate(
  body: unknown,
): { ok: true; update: AdministratorAccessUpdate } | { ok: false; detail: string; name: string } {
  const parsed = AccessUpdateSchema.safeParse(body);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return {
      ok: false,
      detail: describeZodError(parsed.error),
      name: formatIssuePath(first?.path ?? []),
    };
  }
  const { accessType, policies } = parsed.data;
  if (accessType === 'Full') {
    if (policies !== null && policies !== undefined) {
      return {
        ok: false,
        detail:
          'policies: must be null when accessType is Full (a Full administrator has every permission)',
        name: 'policies',
      };
    }
    return { ok: true, update: { accessType } };
  }
  if (!policies) {
    return {
      ok: false,
      detail: 'policies: must be an array when accessType is Custom (it may be empty)',
      name: 'policies',
    };
  }
  const problems = policyProblems(policies);
  if (problems.length > 0) {
    const describe = (path: (string | number)[]) => formatIssuePath(['policies', ...path]);
    return {
      ok: false,
      detail: problems.map((p) => `${describe(p.path)}: ${p.message}`).join('; '),
      name: describe(problems[0]?.path ?? []),
    };
  }
  return { ok: true, update: { accessType, policies } };
}

/**
 * Citrix Cloud Administrators API (`/administrators`): list administrators, read and change an
 * administrator's access, remove an administrator, withdraw a pending invitation.
 */
export function administratorsRoutes(world: SimulatorWorld) {
  const app = new Hono<AuthenticatedEnv>();

  const requireCustomer: MiddlewareHandler<AuthenticatedEnv> = async (c, next) => {
    const customerId = c.req.header('citrix-customerid');
    if (!customerId) {
      return badRequest(c, 'The Citrix-CustomerId header is required', CITRIX_ERROR_TYPES.missing, {
        header: 'Citrix-CustomerId',
      });
    }
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

  app.use('*', requireCwsAuth(world), requireCustomer);

  app.get('/', (c) => {
    const query = queryParameters(c);
    const unknown = [...query.keys()].filter((name) => !LIST_PARAMETERS.includes(name));
    if (unknown.length > 0) {
      // Ignoring a misspelt filter would list more administrators than the caller asked for.
      return badRequest(
        c,
        `Unknown query parameter(s): ${unknown.join(', ')} (supported: type, providerType, maxItemCount, requestContinuation, id)`,
        CITRIX_ERROR_TYPES.invalidString,
        { name: unknown[0] ?? '' },
      );
    }

    const id = query.get('id');
    if (id !== undefined) {
      if (query.size > 1) {
        return badRequest(
          c,
          'id cannot be combined with the other query parameters',
          CITRIX_ERROR_TYPES.invalidString,
          { name: 'id' },
        );
      }
      if (id === '') return missingParameter(c, 'id');
      const admin = world.administrators.find(id);
      return c.json({
        items: admin ? [world.administrators.view(admin)] : [],
        continuationToken: null,
      });
    }

    const rawType = query.get('type');
    const type = rawType === undefined ? undefined : enumValue(ADMINISTRATOR_TYPES, rawType);
    if (rawType !== undefined && type === undefined) {
      return badRequest(
        c,
        `type must be one of ${ADMINISTRATOR_TYPES.join(', ')}`,
        CITRIX_ERROR_TYPES.invalidEnum,
        { name: 'type', value: rawType },
      );
    }
    const rawProvider = query.get('providertype');
    const providerType =
      rawProvider === undefined ? undefined : enumValue(ADMINISTRATOR_PROVIDER_TYPES, rawProvider);
    if (rawProvider !== undefined && providerType === undefined) {
      return badRequest(
        c,
        `providerType must be one of ${ADMINISTRATOR_PROVIDER_TYPES.join(', ')}`,
        CITRIX_ERROR_TYPES.invalidEnum,
        { name: 'providerType', value: rawProvider },
      );
    }
    const rawLimit = query.get('maxitemcount');
    const limit = rawLimit === undefined ? world.administrators.pageSize : Number(rawLimit);
    if (
      (rawLimit !== undefined && !/^\d+$/.test(rawLimit)) ||
      limit < 1 ||
      limit > MAX_ADMIN_PAGE_SIZE
    ) {
      return badRequest(
        c,
        `maxItemCount must be an integer from 1 to ${MAX_ADMIN_PAGE_SIZE}`,
        CITRIX_ERROR_TYPES.outOfRange,
        { name: 'maxItemCount' },
      );
    }
    // An empty requestContinuation asks for the first page, as some clients send it that way.
    const continuation = query.get('requestcontinuation') || undefined;

    const page = world.administrators.list({
      limit,
      ...(type ? { type } : {}),
      ...(providerType ? { providerType } : {}),
      ...(continuation ? { continuation } : {}),
    });
    if (!page.ok) {
      return badRequest(
        c,
        'requestContinuation is invalid, expired, or belongs to a different listing',
        CITRIX_ERROR_TYPES.invalidString,
        { name: 'requestContinuation' },
      );
    }
    return c.json({ items: page.items, continuationToken: page.continuationToken });
  });

  app.put('/access', async (c) => {
    const id = queryParameters(c).get('id');
    if (!id) return missingParameter(c, 'id');
    const body = await readJsonBody(c);
    if (!body.ok) return body.response;
    const parsed = parseAccessUpdate(body.value);
    if (!parsed.ok) {
      return badRequest(c, parsed.detail, CITRIX_ERROR_TYPES.invalidString, { name: parsed.name });
    }
    const admin = world.administrators.find(id);
    if (!admin) return unknownAdministrator(c, id);
    world.administrators.setAccess(admin, parsed.update);
    return c.body(null, 200);
  });

  // Registered before `/:id` so that an invitation is never mistaken for an administrator id.
  app.delete('/invitations', (c) => {
    const email = queryParameters(c).get('email');
    if (!email) return missingParameter(c, 'email');
    return c.json(world.administrators.removeInvitation(email));
  });

  app.get('/:id/access', (c) => {
    const id = pathId(c);
    const admin = id === undefined ? undefined : world.administrators.find(id);
    if (!admin) return unknownAdministrator(c, id ?? c.req.param('id'));
    return c.json(world.administrators.access(admin));
  });

  app.delete('/:id', (c) => {
    const id = pathId(c);
    const admin = id === undefined ? undefined : world.administrators.find(id);
    if (!admin) return unknownAdministrator(c, id ?? c.req.param('id'));
    world.administrators.remove(admin);
    return c.body(null, 200);
  });

  return app;
}
