import { describe, expect, it } from 'vitest';
import { NotAPersonError, personFromIdentity } from '../../../lib/identity/principal.ts';
import { iamUser, roleSession, TEST_ACCOUNT } from '../../support/signed-request.ts';

describe('personFromIdentity', () => {
  it('takes an IAM user by ARN, named by the user name (its path left out)', () => {
    expect(personFromIdentity(iamUser('Jane.Doe@Example.com'))).toEqual({
      kind: 'person',
      key: `arn:aws:iam::${TEST_ACCOUNT}:user/Jane.Doe@Example.com`,
      name: 'jane.doe@example.com',
    });
    const withPath = {
      ...iamUser('x'),
      userArn: `arn:aws:iam::${TEST_ACCOUNT}:user/division/soc/alice`,
    };
    expect(personFromIdentity(withPath)).toMatchObject({ name: 'alice' });
  });

  it('takes an IAM Identity Center session as the person Identity Center named it after', () => {
    const identity = roleSession(
      'AWSReservedSSO_Responder_0a1b2c3d4e5f6a7b',
      'Jane.Doe@example.com',
    );
    expect(personFromIdentity(identity)).toEqual({
      kind: 'person',
      key: `arn:aws:sts::${TEST_ACCOUNT}:assumed-role/AWSReservedSSO_Responder_0a1b2c3d4e5f6a7b/Jane.Doe@example.com`,
      name: 'jane.doe@example.com',
    });
  });

  it('takes any other role session as the role: whoever assumes it names the session', () => {
    const alice = personFromIdentity(roleSession('IncidentResponder', 'alice'));
    const bob = personFromIdentity(roleSession('IncidentResponder', 'bob'));
    expect(alice).toEqual({
      kind: 'person',
      key: `arn:aws:iam::${TEST_ACCOUNT}:role/IncidentResponder`,
      name: 'incidentresponder/alice',
    });
    expect(bob.key).toBe(alice.key);
  });

  it('works in the other AWS partitions', () => {
    const identity = {
      userArn: 'arn:aws-us-gov:iam::123456789012:user/jane',
      accountId: '123456789012',
    };
    expect(personFromIdentity(identity).key).toBe('arn:aws-us-gov:iam::123456789012:user/jane');
  });

  it.each([
    ['no identity at all', undefined],
    ['no principal (an unauthenticated route)', { userArn: null, sourceIp: '192.0.2.1' }],
    ['the account root', { userArn: `arn:aws:iam::${TEST_ACCOUNT}:root` }],
    ['a federated user', { userArn: `arn:aws:sts::${TEST_ACCOUNT}:federated-user/jane` }],
    ['an AWS service', { userArn: 'arn:aws:iam::aws:policy/x' }],
    ['something else', { userArn: 'not an arn' }],
    [
      'an ARN from another account than the request',
      { userArn: `arn:aws:iam::${TEST_ACCOUNT}:user/jane`, accountId: '210987654321' },
    ],
    ['an identity that is no object', 'arn:aws:iam::123456789012:user/jane'],
    ['an ARN too long', { userArn: `arn:aws:iam::${TEST_ACCOUNT}:user/${'a'.repeat(2100)}` }],
    [
      'a name with a zero-width space',
      { userArn: `arn:aws:iam::${TEST_ACCOUNT}:user/soc.lead@exam\u200bple.com` },
    ],
  ])('refuses %s as not a person', (_, identity) => {
    expect(() => personFromIdentity(identity)).toThrow(NotAPersonError);
  });
});
