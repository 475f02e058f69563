import { Hono } from 'hono';
import { describeZodError, FaultSettingsSchema } from './fixture.ts';
import type { SimulatorWorld } from './world.ts';

/** Prefix of the simulator's own routes; they are not Citrix APIs, not recorded, not faulted. */
export const CONTROL_BASE_PATH = '/_simulator';

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

  return app;
}
