import { describe, expect, it } from 'vitest';
import { guardrailsFromEnv } from '../../../lib/guardrails/config.ts';
import {
  isProtectedDevice,
  isProtectedUser,
  protectionReason,
} from '../../../lib/guardrails/protected.ts';

const settings = guardrailsFromEnv({
  PROTECTED_USERS: 'alice@example.com,CORP\\ceo,kiosk01',
  PROTECTED_DEVICES: '1042,6f9619ff-8b86-d011-b42d-00c04fc964ff',
});

describe('protectionReason for sessions', () => {
  it('protects a session of a protected user, whatever the case', () => {
    expect(protectionReason({ sessionId: 's-1', userName: 'Alice@Example.COM' }, settings)).toBe(
      'Alice@Example.COM is a protected user',
    );
    expect(protectionReason({ sessionId: 's-2', userName: 'corp\\CEO' }, settings)).toBe(
      'corp\\CEO is a protected user',
    );
  });

  it('protects a session when the request named a protected user, even without a user name', () => {
    expect(protectionReason({ sessionId: 's-3' }, settings, 'alice@example.com')).toBe(
      'alice@example.com is a protected user',
    );
  });

  it('protects a session under any of its user names: a listed DOMAIN\\user protects a UPN session', () => {
    // What Citrix reports for one session: the UPN first, then the SAM and client-sent names.
    const session = {
      sessionId: 's-7',
      userName: 'ceo@corp.example.com',
      userNames: ['ceo@corp.example.com', 'CORP\\ceo', 'LAPTOP\\ceo'],
    };
    expect(protectionReason(session, settings)).toBe('CORP\\ceo is a protected user');
    expect(
      protectionReason(
        { sessionId: 's-8', userName: 'x@example.com', userNames: ['x@example.com', 'KIOSK01'] },
        settings,
      ),
    ).toBe('KIOSK01 is a protected user');
    expect(
      protectionReason(
        { sessionId: 's-9', userName: 'x@example.com', userNames: ['x@example.com', 'CORP\\x'] },
        settings,
      ),
    ).toBeUndefined();
  });

  it('leaves other sessions alone', () => {
    expect(protectionReason({ sessionId: 's-4', userName: 'bob@example.com' }, settings)).toBe(
      undefined,
    );
    expect(protectionReason({ sessionId: 's-5' }, settings)).toBeUndefined();
    expect(protectionReason({ sessionId: 's-6' }, settings, 'bob@example.com')).toBeUndefined();
  });

  it('matches exactly: other forms of a protected name are not protected', () => {
    // Documented: nothing proves CORP\alice is alice@example.com, so list every form.
    for (const userName of [
      'CORP\\alice',
      'alice',
      'alice@example.co',
      'xalice@example.com',
      'alice@example.com.evil',
      'ceo@corp.example.com',
      ' alice@example.com',
    ]) {
      expect(protectionReason({ sessionId: 's', userName }, settings)).toBeUndefined();
    }
  });
});

describe('protectionReason for devices', () => {
  it('protects a protected device id, a GUID in any case', () => {
    expect(protectionReason({ deviceId: '1042', managed: true }, settings)).toBe(
      'device 1042 is protected',
    );
    expect(
      protectionReason(
        { deviceId: '6F9619FF-8B86-D011-B42D-00C04FC964FF', userName: 'bob', managed: true },
        settings,
      ),
    ).toBe('device 6F9619FF-8B86-D011-B42D-00C04FC964FF is protected');
  });

  it('protects a device of a protected user, or when the request named one', () => {
    expect(protectionReason({ deviceId: '7', userName: 'KIOSK01', managed: false }, settings)).toBe(
      'KIOSK01 is a protected user',
    );
    expect(protectionReason({ deviceId: '8', managed: true }, settings, 'kiosk01')).toBe(
      'kiosk01 is a protected user',
    );
  });

  it('leaves other devices alone, numeric ids compared as text', () => {
    expect(protectionReason({ deviceId: '10420', userName: 'bob', managed: true }, settings)).toBe(
      undefined,
    );
    expect(protectionReason({ deviceId: '01042', managed: true }, settings)).toBeUndefined();
  });
});

describe('with nothing protected', () => {
  const none = guardrailsFromEnv({});
  it('protects nothing', () => {
    expect(isProtectedUser('alice@example.com', none)).toBe(false);
    expect(isProtectedDevice('1042', none)).toBe(false);
    expect(protectionReason({ deviceId: '1042', userName: 'alice', managed: true }, none)).toBe(
      undefined,
    );
  });
});
