import type { MiddlewareHandler } from 'hono';
import type { RecordedRequest, SimulatorWorld } from './world.ts';

export const MASK = '***';

// Compared after lower-casing and dropping '_' and '-': client_secret, clientSecret, …
const SECRET_KEYS = new Set([
  'clientsecret',
  'secret',
  'password',
  'accesstoken',
  'refreshtoken',
  'bearertoken',
  'authtoken',
  'token',
]);
const SECRET_HEADERS = new Set(['auth_token', 'cookie', 'x-api-key']);

const isSecretKey = (key: string) => SECRET_KEYS.has(key.toLowerCase().replace(/[_-]/g, ''));

/** `CWSAuth bearer=abc` becomes `CWSAuth bearer=***`; other schemes keep only their name. */
export function maskAuthorization(value: string): string {
  const cws = /^\s*CWSAuth\s+bearer=/i.exec(value);
  if (cws) return `${cws[0]}${MASK}`;
  const space = value.trim().indexOf(' ');
  return space > 0 ? `${value.trim().slice(0, space)} ${MASK}` : MASK;
}

function maskKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, isSecretKey(k) ? MASK : maskKeys(v)]),
    );
  }
  return value;
}

/** Last line of defence: replaces any known secret wherever it appears in a string. */
function scrub(value: unknown, secrets: string[]): unknown {
  if (typeof value === 'string') {
    return secrets.reduce((text, secret) => text.replaceAll(secret, MASK), value);
  }
  if (Array.isArray(value)) return value.map((item) => scrub(item, secrets));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, secrets)]));
  }
  return value;
}

function recordedBody(text: string, contentType: string): unknown {
  if (text === '') return null;
  if (contentType.includes('application/x-www-form-urlencoded')) {
    return maskKeys(Object.fromEntries(new URLSearchParams(text)));
  }
  try {
    return maskKeys(JSON.parse(text));
  } catch {
    return text;
  }
}

export function maskRequest(
  request: Request,
  bodyText: string,
  time: number,
  status: number,
  secrets: string[],
): RecordedRequest {
  const url = new URL(request.url);
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    if (name === 'authorization') headers[name] = maskAuthorization(value);
    else headers[name] = SECRET_HEADERS.has(name) ? MASK : value;
  });
  const recorded: RecordedRequest = {
    method: request.method,
    path: url.pathname,
    query: maskKeys(Object.fromEntries(url.searchParams)) as Record<string, string>,
    headers,
    body: recordedBody(bodyText, request.headers.get('content-type') ?? ''),
    time: new Date(time).toISOString(),
    status,
  };
  // Secrets shorter than this would mangle ordinary text and are not worth hiding.
  const scrubbable = secrets.filter((secret) => secret.length >= 6);
  return scrub(recorded, scrubbable) as RecordedRequest;
}

/** Records every request it wraps, with its final status, and writes one log line per request. */
export function recordRequests(
  world: SimulatorWorld,
  log: ((line: string) => void) | undefined,
): MiddlewareHandler {
  return async (c, next) => {
    const started = world.now();
    const bodyText = await c.req.text();
    await next();
    const recorded = maskRequest(c.req.raw, bodyText, started, c.res.status, world.secrets());
    world.recordRequest(recorded);
    log?.(
      `${recorded.method} ${recorded.path} -> ${recorded.status} (${world.now() - started} ms)`,
    );
  };
}
