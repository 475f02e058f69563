import * as z from 'zod';

/**
 * The access policies of Citrix Cloud administrators in the simulator: their schema (as Citrix
 * sends them), the catalogue the simulated customer offers, and the checks of a list of policies
 * against it. Shared by the fixture format (`fixture.ts`) and the administrators state
 * (`administrators-state.ts`) and depending on neither, so the two never import each other in a
 * circle.
 */

/** `GET /administrators` page size when neither `maxItemCount` nor the fixture's `pageSize` says. */
export const DEFAULT_ADMIN_PAGE_SIZE = 100;
export const MAX_ADMIN_PAGE_SIZE = 1000;

const nonEmpty = z.string().min(1);
const nullableText = z.string().nullable().optional();

// Access policies are loose, as Citrix sends them, so responses can be pasted into a fixture.
export const AdminCheckableSchema = z.looseObject({
  value: z.boolean(),
  canChangeValue: z.boolean(),
});

export const AdminScopeChoiceSchema = z.looseObject({
  name: nonEmpty,
  displayName: nullableText,
  checkable: AdminCheckableSchema,
});

export const AdminPolicySchema = z.looseObject({
  name: nonEmpty,
  serviceName: nonEmpty,
  displayName: nullableText,
  checkable: AdminCheckableSchema,
  scopeChoices: z
    .looseObject({
      allScopesSelected: z.boolean(),
      choices: z.array(AdminScopeChoiceSchema),
    })
    .nullable()
    .optional(),
});

export type AdminPolicy = z.infer<typeof AdminPolicySchema>;

/**
 * The permissions every administrator of the simulated customer is offered, in the order
 * `GET /administrators/{id}/access` lists them, modelled on Citrix's documented example.
 * `checkable.value` here is the value before anything is granted. `customerDashboard` is granted
 * to everybody and cannot be changed (`canChangeValue: false`): an update that clears it is
 * refused, so clients that strip access must leave such policies as they are.
 */
export const ADMIN_POLICY_CATALOGUE: readonly AdminPolicy[] = [
  {
    name: 'R-3a45035c-a260-4b4a-88a9-64461cba5a',
    serviceName: 'XenDesktop',
    displayName: 'Cloud Administrator',
    checkable: { value: false, canChangeValue: true },
    scopeChoices: {
      allScopesSelected: false,
      choices: [
        {
          name: 'XenDesktop-FullAdmin',
          displayName: 'All',
          checkable: { value: false, canChangeValue: true },
        },
      ],
    },
  },
  {
    name: 'R-ac0b54e3-6e8a-473f-9713-139218ed4e',
    serviceName: 'XenDesktop',
    displayName: 'Delivery Group Administrator',
    checkable: { value: false, canChangeValue: true },
    scopeChoices: {
      allScopesSelected: false,
      choices: [
        {
          name: '300adc84-286b-8cc4-29bd-36a0e7bb87b4',
          displayName: 'Finance delivery groups',
          checkable: { value: false, canChangeValue: true },
        },
      ],
    },
  },
  {
    name: 'notifications',
    serviceName: 'Platform',
    checkable: { value: false, canChangeValue: true },
  },
  { name: 'licensing', serviceName: 'Platform', checkable: { value: false, canChangeValue: true } },
  {
    name: 'secureClients',
    serviceName: 'Platform',
    checkable: { value: false, canChangeValue: true },
  },
  { name: 'domains', serviceName: 'Platform', checkable: { value: false, canChangeValue: true } },
  {
    name: 'customerDashboard',
    serviceName: 'Platform',
    checkable: { value: true, canChangeValue: false },
  },
];

/** Deep frozen so no route or test can change the catalogue by accident. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
deepFreeze(ADMIN_POLICY_CATALOGUE);

const catalogueEntry = (name: string) => ADMIN_POLICY_CATALOGUE.find((p) => p.name === name);

/** One thing wrong with a list of policies; `path` is relative to the list. */
export interface PolicyProblem {
  path: (string | number)[];
  message: string;
}

/**
 * What is wrong with `policies` against the catalogue: unknown or repeated names, a service name
 * or scope that does not belong to the policy, and locked values that were changed. Names are
 * compared exactly, as Citrix's policy names are identifiers.
 */
export function policyProblems(policies: readonly AdminPolicy[]): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const seen = new Set<string>();
  policies.forEach((policy, index) => {
    const entry = catalogueEntry(policy.name);
    if (!entry) {
      problems.push({
        path: [index, 'name'],
        message: `unknown policy "${policy.name}" (known: ${ADMIN_POLICY_CATALOGUE.map((p) => p.name).join(', ')})`,
      });
      return;
    }
    if (seen.has(policy.name)) {
      problems.push({ path: [index, 'name'], message: `policy "${policy.name}" is listed twice` });
    }
    seen.add(policy.name);
    if (policy.serviceName !== entry.serviceName) {
      problems.push({
        path: [index, 'serviceName'],
        message: `policy "${policy.name}" belongs to service "${entry.serviceName}", not "${policy.serviceName}"`,
      });
    }
    if (!entry.checkable.canChangeValue && policy.checkable.value !== entry.checkable.value) {
      problems.push({
        path: [index, 'checkable', 'value'],
        message: `policy "${policy.name}" cannot be changed: its value must stay ${entry.checkable.value}`,
      });
    }
    const choices = policy.scopeChoices?.choices ?? [];
    if (choices.length > 0 && !entry.scopeChoices) {
      problems.push({
        path: [index, 'scopeChoices'],
        message: `policy "${policy.name}" has no scopes`,
      });
      return;
    }
    choices.forEach((choice, choiceIndex) => {
      const known = entry.scopeChoices?.choices.find((c) => c.name === choice.name);
      const path = [index, 'scopeChoices', 'choices', choiceIndex];
      if (!known) {
        problems.push({
          path: [...path, 'name'],
          message: `policy "${policy.name}" has no scope "${choice.name}"`,
        });
      } else if (
        !known.checkable.canChangeValue &&
        choice.checkable.value !== known.checkable.value
      ) {
        problems.push({
          path: [...path, 'checkable', 'value'],
          message: `scope "${choice.name}" of policy "${policy.name}" cannot be changed: its value must stay ${known.checkable.value}`,
        });
      }
    });
  });
  return problems;
}
