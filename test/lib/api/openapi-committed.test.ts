import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { servedOpenApiDocument } from '../../../lib/api/served-openapi.ts';
import { renderOpenApiFile } from '../../../local/openapi.ts';

const committed = readFileSync(new URL('../../../docs/openapi.json', import.meta.url), 'utf8');

describe('docs/openapi.json', () => {
  it('is up to date with the zod schemas (regenerate with npm run openapi)', () => {
    expect(committed).toBe(renderOpenApiFile());
  });

  it('is exactly what GET /v1/openapi.json serves', () => {
    expect(servedOpenApiDocument()).toEqual(JSON.parse(committed));
  });
});
