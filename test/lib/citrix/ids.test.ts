import { describe, expect, it } from 'vitest';
import { InvalidCitrixIdError } from '../../../lib/citrix/errors.ts';
import {
  jobIdFromLocation,
  parseUserIdentifier,
  SessionIdSchema,
  UserIdentifierSchema,
  userMatches,
  validateJobId,
  validateSessionId,
} from '../../../lib/citrix/ids.ts';

const GUID = '41ba32e9-d12b-485c-afd2-c4d0d047cd8b';

function invalidKind(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    if (error instanceof InvalidCitrixIdError) return error.kind;
    throw error;
  }
  return undefined;
}

describe('validateSessionId / validateJobId', () => {
  it('returns a GUID unchanged, in either case', () => {
    expect(validateSessionId(GUID)).toBe(GUID);
    expect(validateSessionId(GUID.toUpperCase())).toBe(GUID.toUpperCase());
    expect(validateJobId(GUID)).toBe(GUID);
  });

  it.each([
    '',
    '../x',
    'a/b',
    `${GUID}/../../Machines`,
    `${GUID}\n`,
    ` ${GUID}`,
    `${GUID}0`,
    '41ba32e9d12b485cafd2c4d0d047cd8b',
    'g1ba32e9-d12b-485c-afd2-c4d0d047cd8b',
    'x'.repeat(10_000),
  ])('rejects %j', (value) => {
    expect(invalidKind(() => validateSessionId(value))).toBe('session');
    expect(invalidKind(() => validateJobId(value))).toBe('job');
  });

  it('names the kind of id in the message', () => {
    expect(() => validateSessionId('nope')).toThrow(/session id/);
    expect(() => validateJobId('nope')).toThrow(/job id/);
  });

  it('SessionIdSchema applies the same rule', () => {
    expect(SessionIdSchema.safeParse(GUID).success).toBe(true);
    const result = SessionIdSchema.safeParse('../x');
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('must be a Citrix session id (GUID)');
  });
});

describe('jobIdFromLocation', () => {
  it('accepts an absolute job URL', () => {
    expect(jobIdFromLocation(`https://api.cloud.com/cvad/manage/Jobs/${GUID}`)).toBe(GUID);
  });

  it('accepts a relative job URL', () => {
    expect(jobIdFromLocation(`/cvad/manage/Jobs/${GUID}`)).toBe(GUID);
  });

  it('ignores a query string', () => {
    expect(jobIdFromLocation(`/cvad/manage/Jobs/${GUID}?x=1`)).toBe(GUID);
  });

  it.each([
    `https://api.cloud.com/cvad/manage/Sessions/${GUID}`,
    `https://api.cloud.com/cvad/manage/Jobs/${GUID}/Results`,
    'https://api.cloud.com/cvad/manage/Jobs/not-a-guid',
    `https://api.cloud.com/cvad/manage/Jobs/${GUID}%2F..`,
    '/cvad/manage/Jobs/',
    '',
    'http://[bad',
  ])('rejects %j', (location) => {
    expect(invalidKind(() => jobIdFromLocation(location))).toBe('job');
  });
});

describe('parseUserIdentifier', () => {
  it('parses a UPN', () => {
    expect(parseUserIdentifier('DevUser1@htlabs04.example.com')).toEqual({
      kind: 'upn',
      upn: 'DevUser1@htlabs04.example.com',
    });
  });

  it('parses DOMAIN\\name', () => {
    expect(parseUserIdentifier('HTLABS04\\DevUser1')).toEqual({
      kind: 'samAccountName',
      domain: 'HTLABS04',
      name: 'DevUser1',
    });
  });

  it('treats a backslash as DOMAIN\\name, never as part of a UPN', () => {
    expect(parseUserIdentifier('CORP\\b@example.com')).toEqual({
      kind: 'samAccountName',
      domain: 'CORP',
      name: 'b@example.com',
    });
  });

  it.each([
    '',
    'bob',
    'bob@localhost',
    'bob @example.com',
    'bob@@example.com',
    'bob@exa@mple.com',
    'bob@exam ple.com',
    'bob@example.com\n',
    `${'a'.repeat(250)}@example.com`,
    '\\bob',
    'DOMAIN\\',
    'DOMAINNAMETOOLONG1\\bob',
    'DOM AIN\\bob',
    'DOMAIN\\bob\\x',
    'DOMAIN\\bo/b',
    'DOMAIN\\bob*',
    'DOMAIN\\ bob',
    'DOMAIN\\bob ',
    'DOMAIN\\...',
    `DOMAIN\\${'b'.repeat(105)}`,
  ])('rejects %j', (value) => {
    expect(invalidKind(() => parseUserIdentifier(value))).toBe('user');
    expect(UserIdentifierSchema.safeParse(value).success).toBe(false);
  });

  it('UserIdentifierSchema accepts both forms and explains failures', () => {
    expect(UserIdentifierSchema.parse('bob@example.com')).toBe('bob@example.com');
    expect(UserIdentifierSchema.parse('CORP\\bob')).toBe('CORP\\bob');
    expect(UserIdentifierSchema.safeParse('bob').error?.issues[0]?.message).toBe(
      'must be a UPN (user@example.com) or DOMAIN\\user',
    );
  });
});

describe('userMatches', () => {
  const session = {
    User: { PrincipalName: 'Bob@Example.com', Name: 'CORP\\Bob' },
    UntrustedUserName: 'CORP\\bob-untrusted',
  };

  it('matches a UPN exactly, ignoring case', () => {
    expect(userMatches(parseUserIdentifier('bob@example.com'), session)).toBe(true);
    expect(userMatches(parseUserIdentifier('BOB@EXAMPLE.COM'), session)).toBe(true);
  });

  it('does not match a longer or shorter name', () => {
    const bobby = { User: { PrincipalName: 'bobby@example.com' } };
    expect(userMatches(parseUserIdentifier('bob@example.com'), bobby)).toBe(false);
    expect(userMatches(parseUserIdentifier('bobby@example.com'), session)).toBe(false);
    expect(userMatches(parseUserIdentifier('CORP\\bo'), session)).toBe(false);
  });

  it('matches DOMAIN\\name against User.Name or UntrustedUserName', () => {
    expect(userMatches(parseUserIdentifier('corp\\bob'), session)).toBe(true);
    expect(userMatches(parseUserIdentifier('CORP\\BOB-UNTRUSTED'), session)).toBe(true);
    expect(userMatches(parseUserIdentifier('OTHER\\bob'), session)).toBe(false);
  });

  it('does not match a UPN against the SAM name or vice versa', () => {
    expect(userMatches(parseUserIdentifier('corp\\bob@example.com'), session)).toBe(false);
    expect(
      userMatches(parseUserIdentifier('bob@example.com'), { User: { Name: 'bob@example.com' } }),
    ).toBe(false);
  });

  it('never matches a session without user details', () => {
    expect(userMatches(parseUserIdentifier('bob@example.com'), {})).toBe(false);
    expect(
      userMatches(parseUserIdentifier('CORP\\bob'), { User: null, UntrustedUserName: null }),
    ).toBe(false);
  });
});
