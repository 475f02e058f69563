import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ENDPOINT_MANAGEMENT_SPEC,
  EndpointManagementOpenApi,
  sharedSpecText,
} from '../support/openapi.ts';

const shared = sharedSpecText();

/**
 * SHA-256 of the shared document this copy was taken from. Pinned here so that an edit to the
 * copy fails even where shared/ is absent; when shared/ changes, copy it and update the hash.
 */
const SHARED_SPEC_SHA256 = '10bc2ca95f65c2d5b4df4799d70a3c039bedbcc71a1449e508a3ce1371ddf5a1';
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('specs/endpoint-management.openapi.yaml', () => {
  // CI and developer machines have shared/ beside the repository; a lone clone does not.
  it.skipIf(shared === undefined)('is byte for byte the shared OpenAPI document', () => {
    expect(readFileSync(ENDPOINT_MANAGEMENT_SPEC, 'utf8')).toBe(shared);
  });

  it('is the pinned version of the shared document, with or without shared/', () => {
    expect(sha256(readFileSync(ENDPOINT_MANAGEMENT_SPEC, 'utf8'))).toBe(SHARED_SPEC_SHA256);
  });

  it.skipIf(shared === undefined)('pins the hash of the shared document as it is now', () => {
    expect(sha256(shared ?? '')).toBe(SHARED_SPEC_SHA256);
  });

  it('loads as OpenAPI 3.1 with the operations the client uses', async () => {
    const openApi = await EndpointManagementOpenApi.load();
    for (const [operationId, body] of [
      ['filterDevices', { filteredDevicesDataList: [] }],
      ['getDevice', { id: '1', platform: 'iOS' }],
    ] as const) {
      expect(openApi.validateResponse(operationId, 200, body)).toMatchObject({ valid: true });
    }
    expect(openApi.validateResponse('getDevice', 200, { id: 1 }).valid).toBe(false);
  });
});
