import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ENDPOINT_MANAGEMENT_SPEC,
  EndpointManagementOpenApi,
  sharedSpecText,
} from '../support/openapi.ts';

const shared = sharedSpecText();

describe('specs/endpoint-management.openapi.yaml', () => {
  // CI and developer machines have shared/ beside the repository; a lone clone does not.
  it.skipIf(shared === undefined)('is byte for byte the shared OpenAPI document', () => {
    expect(readFileSync(ENDPOINT_MANAGEMENT_SPEC, 'utf8')).toBe(shared);
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
