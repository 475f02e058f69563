import * as z from 'zod';

/**
 * The Citrix Cloud administrators API's shapes, apart from the client: records and the action
 * catalog keep an administrator's access without carrying the client's code.
 */

export const ADMINISTRATOR_TYPES = [
  'AdministratorUser',
  'AdministratorGroup',
  'ServicePrincipal',
] as const;

/** One entry of `GET /administrators` (loose: Citrix adds fields over time). */
export const CloudAdministratorSchema = z.looseObject({
  ucOid: z.string().min(1),
  userId: z.string().nullish(),
  type: z.string(),
  // Full | Custom | Reinvite, but an unknown future value must not break parsing.
  accessType: z.string().nullish(),
  email: z.string().nullish(),
  displayName: z.string().nullish(),
  firstName: z.string().nullish(),
  lastName: z.string().nullish(),
  providerType: z.string().nullish(),
  pending: z.boolean().nullish(),
  invitationExpired: z.boolean().nullish(),
  createdDate: z.string().nullish(),
  updatedDate: z.string().nullish(),
});
export type CloudAdministrator = z.infer<typeof CloudAdministratorSchema>;

export const AdministratorPageSchema = z.looseObject({
  items: z.array(CloudAdministratorSchema),
  continuationToken: z.string().nullish(),
});

const CheckableSchema = z.looseObject({
  value: z.boolean(),
  canChangeValue: z.boolean().nullish(),
});

export const AdministratorPolicySchema = z.looseObject({
  name: z.string(),
  serviceName: z.string().nullish(),
  displayName: z.string().nullish(),
  checkable: CheckableSchema,
  scopeChoices: z
    .looseObject({
      allScopesSelected: z.boolean().nullish(),
      choices: z.array(z.looseObject({ name: z.string(), checkable: CheckableSchema })).nullish(),
    })
    .nullish(),
});
export type AdministratorPolicy = z.infer<typeof AdministratorPolicySchema>;

/** `GET /administrators/{id}/access`, and the body of `PUT /administrators/access`. */
export const AdministratorAccessSchema = z.looseObject({
  accessType: z.string(),
  policies: z.array(AdministratorPolicySchema).nullish(),
});
export type AdministratorAccess = z.infer<typeof AdministratorAccessSchema>;
