import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import * as z from 'zod';

/** Where `npm start` listens unless told otherwise (local/defaults.ts `DEFAULT_API_PORT`). */
export const LOCAL_API_URL = 'http://127.0.0.1:3000';
/** The region a request is signed for when nothing names one. */
export const DEFAULT_REGION = 'us-east-1';

const RegionSchema = z
  .string()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'must be an AWS region such as eu-west-1');

const ApiUrlSchema = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(2048)
  .transform((url) => new URL(url));

/** What `citrix-response configure` saves. */
export const SavedConfigSchema = z.strictObject({
  api: z.url({ protocol: /^https?$/ }).max(2048),
  region: RegionSchema.optional(),
  /** The CloudFormation stack it was read from. */
  stack: z.string().max(128).optional(),
});
export type SavedConfig = z.infer<typeof SavedConfigSchema>;

/** A saved configuration that cannot be read: the file is named, its contents are not echoed. */
export class ConfigFileError extends Error {
  override name = 'ConfigFileError';
}

/** A value given on the command line or in the environment that is not valid. */
export class InvalidSettingError extends Error {
  override name = 'InvalidSettingError';
}

type Env = Readonly<Record<string, string | undefined>>;

/** `$XDG_CONFIG_HOME/citrix-response/config.json`, else `~/.config/citrix-response/config.json`. */
export function configFilePath(env: Env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'citrix-response', 'config.json');
}

/** The saved configuration, or nothing when there is none. */
export async function readSavedConfig(env: Env): Promise<SavedConfig | undefined> {
  const path = configFilePath(env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
    throw new ConfigFileError(`Cannot read ${path}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigFileError(`${path} is not JSON: run citrix-response configure again`, {
      cause: error,
    });
  }
  const parsed = SavedConfigSchema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(file)');
    throw new ConfigFileError(
      `${path}: invalid ${[...new Set(fields)].join(', ')}: run citrix-response configure again`,
      { cause: parsed.error },
    );
  }
  return parsed.data;
}

/** Saves the configuration (atomically: a reader never sees half a file); its path. */
export async function saveConfig(env: Env, config: SavedConfig): Promise<string> {
  const path = configFilePath(env);
  await mkdir(dirname(path), { recursive: true });
  const draft = `${path}.${process.pid}.tmp`;
  await writeFile(draft, `${JSON.stringify(SavedConfigSchema.parse(config), null, 2)}\n`, {
    mode: 0o600,
  });
  await rename(draft, path);
  return path;
}

export interface Endpoint {
  readonly api: URL;
  readonly region: string;
}

/** The region in an API Gateway URL (`https://abc.execute-api.eu-west-1.amazonaws.com/prod/`). */
export function regionOfApiUrl(url: URL): string | undefined {
  return /^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1];
}

function parseSetting<S extends z.ZodType>(schema: S, value: string, name: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new InvalidSettingError(`${name}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/**
 * The API to call and the region to sign for. The API: `--api`, else `CITRIX_RESPONSE_API`, else
 * the saved configuration, else the local stack. The region: `--region`, else the one in an API
 * Gateway URL (the signature must name the API's own region, whatever AWS_REGION says), else the
 * saved one (for the saved API), else `AWS_REGION`/`AWS_DEFAULT_REGION`, else us-east-1.
 */
export function resolveEndpoint(
  options: { readonly api?: string | undefined; readonly region?: string | undefined },
  env: Env,
  saved: SavedConfig | undefined,
): Endpoint {
  const [apiText, apiName] =
    options.api !== undefined
      ? [options.api, '--api']
      : env.CITRIX_RESPONSE_API
        ? [env.CITRIX_RESPONSE_API, 'CITRIX_RESPONSE_API']
        : saved !== undefined
          ? [saved.api, configFilePath(env)]
          : [LOCAL_API_URL, 'the local API'];
  const api = parseSetting(ApiUrlSchema, apiText, apiName);
  const usesSaved = saved !== undefined && apiText === saved.api;
  const [regionText, regionName] =
    options.region !== undefined
      ? [options.region, '--region']
      : [
          regionOfApiUrl(api) ??
            (usesSaved ? saved.region : undefined) ??
            (env.AWS_REGION || env.AWS_DEFAULT_REGION || DEFAULT_REGION),
          'the region',
        ];
  return { api, region: parseSetting(RegionSchema, regionText, regionName) };
}
