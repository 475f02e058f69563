import { DEFAULT_API_PORT } from './defaults.ts';

/**
 * The API a local script talks to: `override` (`--url`), else `API_URL`, else the port `npm start`
 * listens on (`PORT`, default 3000). No trailing slash.
 */
export function localApiUrl(
  env: Readonly<Record<string, string | undefined>> = process.env,
  override?: string,
): string {
  return (override ?? env.API_URL ?? `http://127.0.0.1:${env.PORT ?? DEFAULT_API_PORT}`).replace(
    /\/+$/,
    '',
  );
}

/** What a newcomer needs when the API cannot be reached: where, why, and the likely fix. */
export function cannotReach(apiUrl: string, error: unknown): string {
  // fetch says only "fetch failed"; the cause (e.g. ECONNREFUSED) is what a newcomer needs.
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return `Cannot reach ${apiUrl} (${reason}). Is \`npm start\` running?`;
}

/**
 * `fetch`, for the local scripts: when the API cannot be reached at all, says so on stderr (no
 * stack trace) and exits 1. HTTP error statuses are answers, returned as usual.
 */
export async function fetchOrExit(
  apiUrl: string,
  url: string,
  init?: RequestInit,
): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    console.error(cannotReach(apiUrl, error));
    process.exit(1);
  }
}
