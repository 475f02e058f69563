import { type Context, Hono, type MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import * as z from 'zod';
import type { DeviceCommandFailure } from './endpoint-management-state.ts';
import { describeZodError, type EmBodyShape, type EmCommand } from './fixture.ts';
import type { SimulatorWorld } from './world.ts';

/** Routes are registered in lower case: the server matches paths case-insensitively. */
export const ENDPOINT_MANAGEMENT_BASE_PATH = '/xenmobile/api/v1';
/** `POST /device/filter` returns at most this many devices per page (Citrix's documented max). */
export const EM_MAX_PAGE_LIMIT = 100;

export const isEndpointManagementPath = (path: string) =>
  path === ENDPOINT_MANAGEMENT_BASE_PATH || path.startsWith(`${ENDPOINT_MANAGEMENT_BASE_PATH}/`);

type EmEnv = { Variables: { authToken: string } };

/** Endpoint Management's error body: `{"status": -1, "message": "…"}`. */
export function emError(c: Context, status: ContentfulStatusCode, message: string): Response {
  return c.json({ status: -1, message }, status);
}

export function emNoRoute(c: Context): Response {
  return emError(c, 404, `No API route ${c.req.method} ${c.req.path}`);
}

const SUCCESS = { status: 0, message: 'Success' } as const;

/** Citrix's documented body for a device action that did not go through. */
export function deviceActionFailureBody(failures: DeviceCommandFailure[]) {
  const message = failures[0]?.message ?? 'The action failed';
  return {
    status: -1,
    message,
    deviceActionMessages: {
      devicesActionParameters: {
        description: message,
        messageList: failures.map(({ id, message }) => ({ id, message })),
      },
    },
  };
}

async function readJson(
  c: Context,
): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }> {
  const text = await c.req.text();
  if (text.trim() === '') {
    return { ok: false, response: emError(c, 400, 'The request body is missing') };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, response: emError(c, 400, 'The request body is not valid JSON') };
  }
}

const LoginSchema = z.looseObject({ login: z.string(), password: z.string() });
const CloudLoginSchema = z.looseObject({ bearerToken: z.string().min(1) });

// Strict, so a misspelt key is a 400 rather than a silently wider search. sortColumn, enableCount
// and filterIds are accepted from the PDF's request but not simulated (see docs/simulator.md).
const DeviceFilterSchema = z.strictObject({
  start: z.int({ error: 'must be a non-negative integer' }).nonnegative().optional(),
  limit: z
    .int({ error: `must be an integer from 1 to ${EM_MAX_PAGE_LIMIT}` })
    .min(1, { error: `must be an integer from 1 to ${EM_MAX_PAGE_LIMIT}` })
    .max(EM_MAX_PAGE_LIMIT, { error: `must be an integer from 1 to ${EM_MAX_PAGE_LIMIT}` })
    .optional(),
  sortOrder: z
    .string()
    .transform((value) => value.toUpperCase())
    .pipe(z.enum(['ASC', 'DESC'], { error: 'must be ASC or DESC' }))
    .optional(),
  search: z.string().optional(),
  sortColumn: z.string().optional(),
  enableCount: z.boolean().optional(),
  filterIds: z.union([z.string(), z.array(z.string())]).optional(),
});

const SingleDeviceSchema = z.looseObject({ deviceId: z.string().min(1) });
const DeviceListSchema = z.looseObject({ deviceIds: z.array(z.string().min(1)).min(1) });
// XenMobile Server ids are integers and its clients send them as JSON numbers.
const DeviceIdArraySchema = z
  .array(z.union([z.string().min(1), z.int().nonnegative()]))
  .min(1)
  .transform((ids): string[] => ids.map((id) => String(id)));

type BodyParser = (body: unknown) => { ok: true; ids: string[] } | { ok: false; message: string };

function objectBody<T>(
  schema: z.ZodType<T>,
  idsOf: (body: T) => string[],
  example: string,
): BodyParser {
  return (body) => {
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      return {
        ok: false,
        message: `Invalid request body: expected ${example} (${describeZodError(parsed.error)})`,
      };
    }
    return { ok: true, ids: idsOf(parsed.data) };
  };
}

const singleDeviceBody = objectBody(
  SingleDeviceSchema,
  (body) => [body.deviceId],
  '{"deviceId": "<id>"}',
);
const deviceListBody = objectBody(
  DeviceListSchema,
  (body) => body.deviceIds,
  '{"deviceIds": ["<id>", …]}',
);

const idArrayBody: BodyParser = (body) => {
  const parsed = DeviceIdArraySchema.safeParse(body);
  if (!parsed.success) {
    return {
      ok: false,
      message: `Invalid request body: expected a JSON array of device ids, e.g. ["<id>"] (${describeZodError(parsed.error)})`,
    };
  }
  return { ok: true, ids: parsed.data };
};

interface CommandRoute {
  path: string;
  command: EmCommand;
  parse: BodyParser;
}

/** Device command routes for each body shape; the other shape's paths answer 404. */
const COMMAND_ROUTES: Record<EmBodyShape, CommandRoute[]> = {
  object: [
    { path: '/device/wipe', command: 'wipe', parse: singleDeviceBody },
    { path: '/device/selectivewipe', command: 'selectiveWipe', parse: singleDeviceBody },
    { path: '/device/policy/deploy', command: 'deployPolicy', parse: deviceListBody },
  ],
  'id-array': [
    { path: '/device/wipe', command: 'wipe', parse: idArrayBody },
    { path: '/device/selwipe', command: 'selectiveWipe', parse: idArrayBody },
    { path: '/device/refresh', command: 'deployPolicy', parse: idArrayBody },
  ],
};

/**
 * Citrix Endpoint Management (XenMobile) public REST API (`/xenmobile/api/v1`): local and Citrix
 * Cloud login, logout, device filter and lookup, wipe, selective wipe and policy deployment.
 */
export function endpointManagementRoutes(world: SimulatorWorld) {
  const app = new Hono<EmEnv>();

  const requireAuthToken: MiddlewareHandler<EmEnv> = async (c, next) => {
    const token = c.req.header('auth_token');
    if (token === undefined || token.trim() === '') {
      return emError(c, 401, 'Missing auth_token header: log in first');
    }
    const check = world.endpointManagement.checkToken(token);
    if (!check.ok) {
      return emError(
        c,
        401,
        check.reason === 'expired'
          ? 'The auth_token has expired: log in again'
          : 'Invalid auth_token: log in again',
      );
    }
    c.set('authToken', token);
    await next();
  };

  app.post('/authentication/login', async (c) => {
    const body = await readJson(c);
    if (!body.ok) return body.response;
    const credentials = LoginSchema.safeParse(body.value);
    if (!credentials.success) {
      return emError(c, 400, `Invalid login request: ${describeZodError(credentials.error)}`);
    }
    const admin = world.endpointManagement.authenticate(
      credentials.data.login,
      credentials.data.password,
    );
    if (!admin) return emError(c, 401, 'Invalid login or password');
    const token = world.endpointManagement.issueToken({
      kind: 'administrator',
      login: admin.login,
    });
    return c.json({ auth_token: token });
  });

  app.post('/authentication/login/cloud', async (c) => {
    const body = await readJson(c);
    if (!body.ok) return body.response;
    const request = CloudLoginSchema.safeParse(body.value);
    if (!request.success) {
      return emError(c, 400, `Invalid login request: ${describeZodError(request.error)}`);
    }
    const check = world.checkToken(request.data.bearerToken);
    if (!check.ok) {
      return emError(
        c,
        401,
        check.reason === 'expired'
          ? 'The Citrix Cloud bearer token has expired'
          : 'Invalid Citrix Cloud bearer token',
      );
    }
    const token = world.endpointManagement.issueToken({ kind: 'cloud', clientId: check.clientId });
    return c.json({ auth_token: token });
  });

  // The PDF has clients send {"login": …}; the token in the header is what identifies the session.
  app.post('/authentication/logout', requireAuthToken, (c) => {
    world.endpointManagement.logout(c.get('authToken'));
    return c.json(SUCCESS);
  });

  app.post('/device/filter', requireAuthToken, async (c) => {
    const body = await readJson(c);
    if (!body.ok) return body.response;
    const filter = DeviceFilterSchema.safeParse(body.value);
    if (!filter.success) {
      return emError(c, 400, `Invalid device filter: ${describeZodError(filter.error)}`);
    }
    const { start = 0, limit = EM_MAX_PAGE_LIMIT, sortOrder = 'ASC', search = '' } = filter.data;
    const result = world.endpointManagement.filter({ start, limit, sortOrder, search });
    return c.json({
      ...SUCCESS,
      filteredDevicesDataList: result.devices,
      totalCount: result.totalCount,
      matchedRecords: result.matchedRecords,
    });
  });

  const allCommandPaths = new Set(
    Object.values(COMMAND_ROUTES).flatMap((routes) => routes.map((route) => route.path)),
  );
  for (const path of allCommandPaths) {
    const activeRoute = () =>
      COMMAND_ROUTES[world.endpointManagement.bodyShape].find((r) => r.path === path);
    // A path of the other body shape does not exist on this server, authenticated or not.
    const requireActiveShape: MiddlewareHandler<EmEnv> = async (c, next) =>
      activeRoute() ? next() : emNoRoute(c);
    app.post(path, requireActiveShape, requireAuthToken, async (c) => {
      const route = activeRoute();
      if (!route) return emNoRoute(c);
      const body = await readJson(c);
      if (!body.ok) return body.response;
      const ids = route.parse(body.value);
      if (!ids.ok) return emError(c, 400, ids.message);
      const resolved = world.endpointManagement.resolve(ids.ids);
      if (!resolved.ok) return emError(c, 404, `Device ${resolved.unknownId} not found`);
      const failures = world.endpointManagement.runCommand(route.command, resolved.devices);
      return c.json(failures.length === 0 ? SUCCESS : deviceActionFailureBody(failures));
    });
  }

  app.get('/device/:deviceId', requireAuthToken, (c) => {
    const device = world.endpointManagement.find(c.req.param('deviceId'));
    if (!device) return emError(c, 404, 'Device not found');
    return c.json(world.endpointManagement.view(device));
  });

  return app;
}
