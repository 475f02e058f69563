import { describe, expect, it } from 'vitest';
import { statusUrlFor } from '../../../lib/api/request.ts';
import { apiEvent } from '../../support/signed-request.ts';

describe('statusUrlFor', () => {
  const event = (proto?: string) =>
    apiEvent({
      method: 'POST',
      resource: '/v1/actions',
      path: '/v1/actions',
      secret: null,
      ...(proto === undefined ? {} : { headers: { 'x-forwarded-proto': proto } }),
    });
  const actionId = 'act_00000000000000000000000000000000';

  it('is on the stage the request came in through, by the scheme API Gateway forwarded', () => {
    expect(statusUrlFor(event('http'), actionId)).toBe(
      `http://abc123.execute-api.eu-west-1.amazonaws.com/prod/v1/actions/${actionId}`,
    );
    expect(statusUrlFor(event(), actionId)).toMatch(/^https:\/\//);
  });

  it('never echoes a scheme a client made up: anything but http or https is https', () => {
    for (const proto of ['javascript', 'https://evil.example/', 'Ã°Â£', '']) {
      expect(statusUrlFor(event(proto), actionId)).toBe(
        `https://abc123.execute-api.eu-west-1.amazonaws.com/prod/v1/actions/${actionId}`,
      );
    }
  });
});
