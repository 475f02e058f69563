import { Hono } from 'hono';
import * as z from 'zod';
import { describeZodError, EM_BODY_SHAPES, FaultSettingsSchema } from './fixture.ts';
import type { SimulatorWorld } from './world.ts';

/** Prefix of the simulator's own routes; they are not Citrix APIs, not recorded, not faulted. */
export const CONTROL_BASE_PATH = '/_simulator';

const BodyShapeRequestSchema = z.strictObject({ bodyShape: z.enum(EM_BODY_SHAPES) });

/**
 * Control API for tests and people rehearsing runbooks. Unauthenticated: the simulator listens
 * on loopback only by default.
 */
export function controlRoutes(world: SimulatorWorld): Hono {
  const app = new Hono();

  app.get('/requests', (c) => c.json(world.requests()));
  app.delete('/requests', (c) => {
    world.clearRequests();
    return c.body(null, 204);
  });

  app.get('/state', (c) => c.json(world.state()));

  app.post('/reset', (c) => {
    world.reset();
    return c.body(null, 204);
  });

  app.get('/faults', (c) => c.json(world.faults));
  app.put('/faults', async (c) => {
    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      return c.json({ error: 'The request body is not valid JSON' }, 400);
    }
    const faults = FaultSettingsSchema.safeParse(body);
    if (!faults.success) {
      return c.json({ error: `Invalid faults: ${describeZodError(faults.error)}` }, 400);
    }
    world.setFaults(faults.data);
    return c.json(world.faults);
  });

  app.post('/tokens/$expire', (c) => {
    world.expireTokens();
    return c.body(null, 204);
  });

  // How many Endpoint Management sessions are still open: a count, never a token.
  app.get('/endpoint-management/tokens', (c) =>
    c.json({ live: world.endpointManagement.liveTokenCount() }),
  );

  const bodyShape = () => ({ bodyShape: world.endpointManagement.bodyShape });
  app.get('/endpoint-management/body-shape', (c) => c.json(bodyShape()));
  app.put('/endpoint-management/body-shape', async (c) => {
    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      return c.json({ error: 'The request body is not valid JSON' }, 400);
    }
    const request = BodyShapeRequestSchema.safeParse(body);
    if (!request.success) {
      return c.json({ error: `Invalid body shape: ${describeZodError(request.error)}` }, 400);
    }
    world.setEndpointManagementBodyShape(request.data.bodyShape);
    return c.json(bodyShape());
  });

  return app;
}
