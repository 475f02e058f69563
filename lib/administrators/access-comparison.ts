import type { AdministratorAccess, AdministratorPolicy } from '../citrix/administrators-schemas.ts';

/**
 * Administrator access compared as Citrix Cloud grants it: the access type, and for `Custom`
 * access each permission and scope that is checked. Names, display names and the order Citrix
 * lists them in are not access; a permission one side omits reads as not granted, as Citrix
 * itself reads a policy left out of `PUT /administrators/access`.
 */

type Grants = ReadonlyMap<string, string>;

/** What one permission grants, in words: "granted", "granted on every scope", "scopes a, b". */
function grantOf(policy: AdministratorPolicy): string | undefined {
  if (!policy.checkable.value) return undefined;
  const scopes = policy.scopeChoices;
  if (scopes === null || scopes === undefined) return 'granted';
  if (scopes.allScopesSelected === true) return 'granted on every scope';
  const chosen = (scopes.choices ?? [])
    .filter((choice) => choice.checkable.value)
    .map((choice) => choice.name)
    .sort();
  return chosen.length === 0 ? 'granted on no scope' : `granted on scopes ${chosen.join(', ')}`;
}

function grantsOf(access: AdministratorAccess): Grants {
  const grants = new Map<string, string>();
  for (const policy of access.policies ?? []) {
    const grant = grantOf(policy);
    if (grant !== undefined) grants.set(policy.name, grant);
  }
  return grants;
}

const isFull = (access: AdministratorAccess) => access.accessType.toLowerCase() === 'full';

/**
 * How `actual` differs from `expected`, one line per difference (empty when they grant the same).
 * Full access grants everything, whatever policies are listed with it.
 */
export function accessDifferences(
  expected: AdministratorAccess,
  actual: AdministratorAccess,
): string[] {
  if (isFull(expected) || isFull(actual)) {
    return isFull(expected) && isFull(actual)
      ? []
      : [`access type ${expected.accessType}, now ${actual.accessType}`];
  }
  const differences =
    expected.accessType.toLowerCase() === actual.accessType.toLowerCase()
      ? []
      : [`access type ${expected.accessType}, now ${actual.accessType}`];
  const was = grantsOf(expected);
  const now = grantsOf(actual);
  for (const name of [...new Set([...was.keys(), ...now.keys()])].sort()) {
    const before = was.get(name);
    const after = now.get(name);
    if (before === after) continue;
    differences.push(`${name}: ${before ?? 'not granted'}, now ${after ?? 'not granted'}`);
  }
  return differences;
}

/**
 * The body of `PUT /administrators/access` that grants `access` again: Citrix takes `policies`
 * null with Full access (a Full administrator has every permission), the whole list otherwise.
 */
export function grantingUpdate(access: AdministratorAccess): AdministratorAccess {
  return isFull(access)
    ? { accessType: access.accessType, policies: null }
    : { accessType: access.accessType, policies: access.policies ?? [] };
}
