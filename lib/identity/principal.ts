import * as z from 'zod';
import { InvalidPersonNameError, normalizeName } from './names.ts';
import type { Requester } from './requester.ts';

/**
 * The person behind a request, from the IAM principal API Gateway authenticated (`AWS_IAM`
 * authorization: `requestContext.identity`), never from anything the caller wrote in the body.
 * Locally the API server verifies SigV4 against `LOCAL_PEOPLE` and fills in the same fields.
 */

/** A person: the authenticated principal (`key`) and the name shown for it. */
export type Person = Requester & { readonly kind: 'person' };

/** The fields of `requestContext.identity` this reads; API Gateway sends null for the unset. */
export const ApiGatewayIdentitySchema = z.object({
  userArn: z.string().min(1).max(2048).nullish(),
  accountId: z
    .string()
    .regex(/^\d{12}$/)
    .nullish(),
  accessKey: z.string().max(128).nullish(),
  caller: z.string().max(2048).nullish(),
  user: z.string().max(2048).nullish(),
});
export type ApiGatewayIdentity = z.infer<typeof ApiGatewayIdentitySchema>;

/** A request whose principal is not a person this API acts for (code `not_a_person`). */
export class NotAPersonError extends Error {
  override name = 'NotAPersonError';
}

// `arn:aws:iam::123456789012:user/division/alice`: the user name is the last segment.
const IAM_USER = /^arn:(aws[a-z-]*):iam::(\d{12}):user\/(?:[^/]+\/)*([^/]+)$/;
// `arn:aws:sts::123456789012:assumed-role/<role>/<session>` (STS leaves the role's path out).
const ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/([^/]+)$/;
/** IAM Identity Center's roles: it names the session after the signed-in user, who cannot pick it. */
const SSO_ROLE_PREFIX = 'AWSReservedSSO_';

function named(name: string, what: string): string {
  try {
    return normalizeName(name);
  } catch (error) {
    if (!(error instanceof InvalidPersonNameError)) throw error;
    throw new NotAPersonError(`The ${what} is not a usable name: ${error.message}`, {
      cause: error,
    });
  }
}

/**
 * The person an IAM principal is:
 * - an IAM user: the user, by ARN, named by its user name;
 * - an IAM Identity Center (SSO) role session: the session, named by the session name (the user's
 *   name, set by Identity Center);
 * - any other assumed role: the role itself, whatever the session, because whoever assumes a role
 *   names the session: two sessions of one role are one principal, named `<role>/<session>`.
 * The account root, federated users and anything else are not persons: `NotAPersonError`.
 */
export function personFromIdentity(identity: unknown): Person {
  const parsed = ApiGatewayIdentitySchema.safeParse(identity ?? {});
  if (!parsed.success) {
    throw new NotAPersonError('The request context does not identify an IAM principal', {
      cause: parsed.error,
    });
  }
  const { userArn, accountId } = parsed.data;
  if (userArn === undefined || userArn === null) {
    throw new NotAPersonError('The request was not authenticated as an IAM principal');
  }
  const user = IAM_USER.exec(userArn);
  const role = ASSUMED_ROLE.exec(userArn);
  const account = user?.[2] ?? role?.[2];
  if (account !== undefined && accountId && accountId !== account) {
    throw new NotAPersonError('The principal ARN and the account of the request disagree');
  }
  if (user !== null) {
    return { kind: 'person', key: userArn, name: named(user[3] ?? '', 'IAM user name') };
  }
  if (role !== null) {
    const [, partition, roleAccount, roleName = '', session = ''] = role;
    if (roleName.startsWith(SSO_ROLE_PREFIX)) {
      return { kind: 'person', key: userArn, name: named(session, 'SSO session name') };
    }
    return {
      kind: 'person',
      key: `arn:${partition}:iam::${roleAccount}:role/${roleName}`,
      name: named(`${roleName}/${session}`, 'role session'),
    };
  }
  throw new NotAPersonError(
    'Only IAM users and role sessions act as people; the account root and other principals do not',
  );
}
