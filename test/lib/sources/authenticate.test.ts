import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authenticateDelivery } from '../../../lib/sources/authenticate.ts';
import { SourceAuthenticationError } from '../../../lib/sources/errors.ts';
import type { InboundDelivery, SourceName, SourceSecrets } from '../../../lib/sources/types.ts';

const BODY =
  '{"event":{"id":"01DKBX6L6K6NKPEQRDSPVAZ0EH","data":{"title":"Compromised: ünïcode"}}}';

const SERVICENOW: SourceSecrets['servicenow'] = {
  username: 'citrix-response',
  password: 'N0t:so-s3cret:with-colons',
};
const SPLUNK: SourceSecrets['splunk'] = { token: 'b1f0c7e2a9d84f36a5c1e0d7b3f2a6c9' };
const SENTINEL: SourceSecrets['sentinel'] = { apiKey: 'sk_2Hq9xZr7LmP4tV8wN3cB6yJ1' };
const PAGERDUTY: SourceSecrets['pagerduty'] = {
  signingSecrets: ['pd-current-secret-Xy7Q', 'pd-previous-secret-Zk2M'],
};

const basic = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
const pdSignature = (secret: string, body: string) =>
  `v1=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;

function delivery<S extends SourceName>(
  source: S,
  headers: Record<string, string | undefined>,
  extra: { pathToken?: string; rawBody?: string } = {},
): InboundDelivery & { source: S } {
  return { source, rawBody: extra.rawBody ?? BODY, headers, ...extra };
}

/** The error authenticateDelivery throws, or undefined when it accepts the delivery. */
function failure<S extends SourceName>(
  request: InboundDelivery & { source: S },
  secret: SourceSecrets[S],
): SourceAuthenticationError | undefined {
  try {
    authenticateDelivery(request, secret);
  } catch (error) {
    expect(error).toBeInstanceOf(SourceAuthenticationError);
    expect((error as Error).name).toBe('SourceAuthenticationError');
    return error as SourceAuthenticationError;
  }
  return undefined;
}

/** No message may carry a credential, stored or sent. */
function expectNoSecretIn(error: Error | undefined, ...secrets: string[]) {
  expect(error).toBeDefined();
  for (const secret of secrets) expect(error?.message).not.toContain(secret);
}

describe('ServiceNow: HTTP Basic', () => {
  it('accepts the configured username and password, with colons in the password', () => {
    const headers = { authorization: basic(SERVICENOW.username, SERVICENOW.password) };
    expect(failure(delivery('servicenow', headers), SERVICENOW)).toBeUndefined();
  });

  it('accepts the scheme in any case and a header name that was not lower-cased', () => {
    const value = basic(SERVICENOW.username, SERVICENOW.password).replace('Basic', 'bAsIc');
    expect(failure(delivery('servicenow', { Authorization: value }), SERVICENOW)).toBeUndefined();
  });

  it('rejects a wrong password or a wrong username without saying which', () => {
    const wrongPassword = failure(
      delivery('servicenow', { authorization: basic(SERVICENOW.username, 'guess-1') }),
      SERVICENOW,
    );
    const wrongUser = failure(
      delivery('servicenow', { authorization: basic('admin', SERVICENOW.password) }),
      SERVICENOW,
    );
    expect(wrongPassword?.message).toBe('Wrong username or password');
    expect(wrongUser?.message).toBe('Wrong username or password');
    expectNoSecretIn(wrongPassword, SERVICENOW.password, 'guess-1');
    expectNoSecretIn(wrongUser, SERVICENOW.password, 'admin');
  });

  it('rejects a password that only starts like the right one', () => {
    const prefix = SERVICENOW.password.slice(0, -1);
    const longer = `${SERVICENOW.password}x`;
    for (const password of [prefix, longer, '']) {
      const headers = { authorization: basic(SERVICENOW.username, password) };
      expect(failure(delivery('servicenow', headers), SERVICENOW)?.message).toBe(
        'Wrong username or password',
      );
    }
  });

  it('names a missing header, another scheme and malformed credentials', () => {
    expect(failure(delivery('servicenow', {}), SERVICENOW)?.message).toBe(
      'Missing Authorization header',
    );
    expect(
      failure(delivery('servicenow', { authorization: 'Bearer abc.def' }), SERVICENOW)?.message,
    ).toBe('The Authorization header is not HTTP Basic');
    expect(
      failure(delivery('servicenow', { authorization: 'Basic not*base64!' }), SERVICENOW)?.message,
    ).toBe('The Basic credentials are not base64');
    expect(failure(delivery('servicenow', { authorization: 'Basic' }), SERVICENOW)?.message).toBe(
      'The Basic credentials are not base64',
    );
    const noColon = `Basic ${Buffer.from('just-a-user').toString('base64')}`;
    expect(failure(delivery('servicenow', { authorization: noColon }), SERVICENOW)?.message).toBe(
      'The Basic credentials have no username:password pair',
    );
  });

  it('refuses everything when no password is configured, even an empty one', () => {
    const secret = { username: SERVICENOW.username, password: '' };
    const headers = { authorization: basic(SERVICENOW.username, '') };
    expect(failure(delivery('servicenow', headers), secret)?.message).toBe(
      'No ServiceNow username and password are configured',
    );
  });
});

describe('Splunk: token in the URL path', () => {
  it('accepts the configured token', () => {
    const request = delivery('splunk', {}, { pathToken: SPLUNK.token });
    expect(failure(request, SPLUNK)).toBeUndefined();
  });

  it('rejects a missing, wrong, shorter or longer token without echoing it', () => {
    expect(failure(delivery('splunk', {}), SPLUNK)?.message).toBe(
      'Missing token in the webhook URL',
    );
    expect(failure(delivery('splunk', {}, { pathToken: '' }), SPLUNK)?.message).toBe(
      'Missing token in the webhook URL',
    );
    for (const token of ['wrong-token', SPLUNK.token.slice(1), `${SPLUNK.token}0`]) {
      const error = failure(delivery('splunk', {}, { pathToken: token }), SPLUNK);
      expect(error?.message).toBe('Wrong webhook token in the URL');
      expectNoSecretIn(error, SPLUNK.token, token);
    }
  });

  it('ignores a token sent anywhere but the path', () => {
    const request = delivery('splunk', { 'x-api-key': SPLUNK.token, authorization: SPLUNK.token });
    expect(failure(request, SPLUNK)?.message).toBe('Missing token in the webhook URL');
  });

  it('refuses everything when no token is configured', () => {
    expect(failure(delivery('splunk', {}, { pathToken: '' }), { token: '' })?.message).toBe(
      'No Splunk webhook token is configured',
    );
  });
});

describe('Sentinel: x-api-key header', () => {
  it('accepts the configured key', () => {
    const request = delivery('sentinel', { 'x-api-key': SENTINEL.apiKey });
    expect(failure(request, SENTINEL)).toBeUndefined();
  });

  it('rejects a missing or wrong key without echoing either', () => {
    expect(failure(delivery('sentinel', {}), SENTINEL)?.message).toBe('Missing x-api-key header');
    const error = failure(delivery('sentinel', { 'x-api-key': 'sk_guess' }), SENTINEL);
    expect(error?.message).toBe('Wrong x-api-key');
    expectNoSecretIn(error, SENTINEL.apiKey, 'sk_guess');
  });

  it('does not take the key from another header or the path', () => {
    const request = delivery(
      'sentinel',
      { authorization: `Bearer ${SENTINEL.apiKey}` },
      { pathToken: SENTINEL.apiKey },
    );
    expect(failure(request, SENTINEL)?.message).toBe('Missing x-api-key header');
  });

  it('refuses everything when no key is configured', () => {
    expect(failure(delivery('sentinel', { 'x-api-key': '' }), { apiKey: '' })?.message).toBe(
      'No Sentinel API key is configured',
    );
  });
});

describe('PagerDuty: X-PagerDuty-Signature', () => {
  const [current = '', previous = ''] = PAGERDUTY.signingSecrets;

  it('accepts a body signed with the current or the previous secret (rotation)', () => {
    for (const secret of [current, previous]) {
      const request = delivery('pagerduty', { 'x-pagerduty-signature': pdSignature(secret, BODY) });
      expect(failure(request, PAGERDUTY)).toBeUndefined();
    }
  });

  it('accepts a header with several signatures when any one matches', () => {
    const header = [
      pdSignature('a secret PagerDuty rotated to', BODY),
      pdSignature(previous, BODY),
    ].join(',');
    expect(
      failure(delivery('pagerduty', { 'x-pagerduty-signature': header }), PAGERDUTY),
    ).toBeUndefined();
    // The docs show the list wrapped over lines; spaces around the commas are tolerated.
    const spaced = `${pdSignature('other', BODY)}, ${pdSignature(current, BODY)}`;
    expect(
      failure(delivery('pagerduty', { 'X-PagerDuty-Signature': spaced }), PAGERDUTY),
    ).toBeUndefined();
  });

  it('signs the raw UTF-8 bytes: a re-serialised or tampered body fails', () => {
    const header = { 'x-pagerduty-signature': pdSignature(current, BODY) };
    const reformatted = JSON.stringify(JSON.parse(BODY), null, 2);
    for (const rawBody of [reformatted, BODY.replace('ü', 'u'), `${BODY} `]) {
      expect(failure(delivery('pagerduty', header, { rawBody }), PAGERDUTY)?.message).toBe(
        'No X-PagerDuty-Signature matches a signing secret',
      );
    }
    const latin1Signed = `v1=${createHmac('sha256', current).update(BODY, 'latin1').digest('hex')}`;
    expect(
      failure(delivery('pagerduty', { 'x-pagerduty-signature': latin1Signed }), PAGERDUTY),
    ).toBeDefined();
  });

  it('ignores signature versions other than v1', () => {
    const hex = pdSignature(current, BODY).slice('v1='.length);
    const onlyOther = delivery('pagerduty', { 'x-pagerduty-signature': `v2=${hex},v0=${hex}` });
    expect(failure(onlyOther, PAGERDUTY)?.message).toBe(
      'X-PagerDuty-Signature has no v1 signature',
    );
    const mixed = delivery('pagerduty', { 'x-pagerduty-signature': `v2=zzz,v1=${hex}` });
    expect(failure(mixed, PAGERDUTY)).toBeUndefined();
  });

  it('rejects a missing header and a signature made with another secret', () => {
    expect(failure(delivery('pagerduty', {}), PAGERDUTY)?.message).toBe(
      'Missing X-PagerDuty-Signature header',
    );
    const forged = pdSignature('not-our-secret', BODY);
    const error = failure(delivery('pagerduty', { 'x-pagerduty-signature': forged }), PAGERDUTY);
    expect(error?.message).toBe('No X-PagerDuty-Signature matches a signing secret');
    expectNoSecretIn(error, current, previous, forged.slice(3));
  });

  it('refuses everything when no signing secret is configured', () => {
    const request = delivery('pagerduty', { 'x-pagerduty-signature': pdSignature('', BODY) });
    expect(failure(request, { signingSecrets: [] })?.message).toBe(
      'No PagerDuty signing secret is configured',
    );
    expect(failure(request, { signingSecrets: [''] })?.message).toBe(
      'No PagerDuty signing secret is configured',
    );
  });
});

describe('secrets of the wrong shape (a Secrets Manager value with other keys)', () => {
  it('refuse the delivery with SourceAuthenticationError rather than a TypeError', () => {
    const any = (value: unknown) => value as never;
    const basicHeader = { authorization: basic('u', 'p') };
    expect(failure(delivery('servicenow', basicHeader), any({ user: 'u' }))?.message).toBe(
      'No ServiceNow username and password are configured',
    );
    expect(failure(delivery('splunk', {}, { pathToken: 't' }), any(undefined))?.message).toBe(
      'No Splunk webhook token is configured',
    );
    expect(failure(delivery('sentinel', { 'x-api-key': 'k' }), any({ apiKey: 42 }))?.message).toBe(
      'No Sentinel API key is configured',
    );
    expect(
      failure(
        delivery('pagerduty', { 'x-pagerduty-signature': 'v1=00' }),
        any({ signingSecrets: 'one-secret' }),
      )?.message,
    ).toBe('No PagerDuty signing secret is configured');
  });
});
