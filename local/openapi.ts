import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { buildOpenApiDocument, LICENSE } from '../lib/api/openapi.ts';
import { SOURCE_PAYLOAD_SCHEMAS } from '../lib/sources/payloads.ts';

/**
 * `npm run openapi`: writes the OpenAPI document generated from the zod schemas to
 * docs/openapi.json. `--check` writes nothing and exits 1 when the committed file is stale.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const OPENAPI_FILE = 'docs/openapi.json';

/** The document as committed: pretty-printed, then laid out by Biome so `biome ci` accepts it. */
export function renderOpenApiFile(): string {
  const { version, license } = z
    .object({ version: z.string(), license: z.string() })
    .parse(JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')));
  if (license !== LICENSE.name) {
    throw new Error(
      `package.json says license ${license}; the OpenAPI document says ${LICENSE.name}`,
    );
  }
  const document = buildOpenApiDocument({ version, sourcePayloads: SOURCE_PAYLOAD_SCHEMAS });
  const formatted = spawnSync(
    `${ROOT}node_modules/.bin/biome`,
    ['format', `--stdin-file-path=${OPENAPI_FILE}`],
    { cwd: ROOT, input: `${JSON.stringify(document, null, 2)}\n`, encoding: 'utf8' },
  );
  if (formatted.status !== 0) {
    throw new Error(`biome format failed: ${formatted.error?.message ?? formatted.stderr}`);
  }
  return formatted.stdout.endsWith('\n') ? formatted.stdout : `${formatted.stdout}\n`;
}

function readCommitted(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

if (import.meta.main) {
  const path = `${ROOT}${OPENAPI_FILE}`;
  const generated = renderOpenApiFile();
  if (process.argv.includes('--check')) {
    if (readCommitted(path) !== generated) {
      console.error(`${OPENAPI_FILE} is out of date with the zod schemas: run npm run openapi`);
      process.exit(1);
    }
    console.log(`${OPENAPI_FILE} is up to date`);
  } else {
    writeFileSync(path, generated);
    console.log(`wrote ${OPENAPI_FILE}`);
  }
}
