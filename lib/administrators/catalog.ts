import * as z from 'zod';
import {
  type ActionDeclaration,
  type SweepDeclaration,
  sweepsOver,
} from '../actions/declaration.ts';

/** The Citrix Cloud administrators calls an action makes; the admin workflow handles each one. */
export type AdministratorOperation = 'revoke' | 'deleteInvitation' | 'restore';

/** A Citrix Cloud administrator by email, userId or ucOid. */
export const AdminTargetSchema = z.strictObject({
  admin: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(256, 'must be at most 256 characters')
    .regex(/^[^\p{Cc}\p{Cf}\s]+$/u, 'must be an email, userId or ucOid without spaces'),
});
export type AdminTarget = z.infer<typeof AdminTargetSchema>;

/** A pending administrator invitation, by the email it was sent to. */
export const InvitationTargetSchema = z.strictObject({
  email: z.email('must be an email address').max(256),
});
export type InvitationTarget = z.infer<typeof InvitationTargetSchema>;

/** What a sweep's `find.invitations` looks for: invitations nobody accepted for that long. */
export const InvitationFindSchema = z.strictObject({
  pendingForDays: z.int().min(1).max(3650),
});
export type InvitationFind = z.output<typeof InvitationFindSchema>;

const INVITATION_SWEEPS = sweepsOver(
  'invitations',
  InvitationFindSchema,
) satisfies SweepDeclaration;

const ADMIN_ACTION = {
  product: 'administrators',
  warnsUsers: false,
} as const;

/** Citrix Cloud administrator actions, declared once (see lib/actions/catalog.ts). */
export const ADMINISTRATOR_CATALOG = {
  'admin.revoke': {
    ...ADMIN_ACTION,
    targetFields: ['admin'],
    target: AdminTargetSchema,
    modes: {
      values: ['strip', 'delete'],
      default: 'strip',
      describe: {
        strip:
          'Set Custom access with every permission unchecked; the administrator stays, for forensics',
        delete: 'Delete the administrator',
      },
    },
    citrix: {
      operation: 'revoke',
      request:
        'Citrix Cloud PUT /administrators/access (strip) or DELETE /administrators/{id} (delete)',
    },
    destructive: true,
    reversal:
      'Mode `strip`: `admin.restore` puts back the access the strip replaced (`citrix-response act admin.restore --admin <email> --reason "…"`, with approval), and refuses if the access changed since. Mode `delete`: cannot be undone; invite the administrator again (the access read before the delete is kept in the result)',
    undoneBy: { action: 'admin.restore', modes: ['strip'] },
    limits: { perRequest: 1, perHour: 3 },
    approval: { modes: ['delete'] },
    wording: {
      done: 'revoked',
      would: 'revoke',
      noun: 'administrator',
      nothing: 'no access was changed',
    },
    summary:
      'Revoke a Citrix Cloud administrator, never the API client owner, a protected one or the last Full one',
  },
  'admin.deleteInvitation': {
    ...ADMIN_ACTION,
    targetFields: ['email'],
    target: InvitationTargetSchema,
    sweeps: INVITATION_SWEEPS,
    citrix: {
      operation: 'deleteInvitation',
      request: 'Citrix Cloud DELETE /administrators/invitations?email=',
    },
    destructive: false,
    reversal: 'Cannot be undone: the invitation is gone; invite the administrator again',
    limits: { perRequest: 5, perHour: 20 },
    approval: 'never',
    wording: {
      done: 'deleted',
      would: 'delete',
      noun: 'invitation',
      nothing: 'no invitation was deleted',
    },
    summary: 'Delete a pending administrator invitation before anyone accepts it',
  },
  'admin.restore': {
    ...ADMIN_ACTION,
    targetFields: ['admin'],
    target: AdminTargetSchema,
    citrix: {
      operation: 'restore',
      request: 'Citrix Cloud PUT /administrators/access with the access the revoke replaced',
    },
    // It gives access back rather than taking it away, but that access is administrator rights:
    // a privilege escalation, so a second person approves it by default.
    destructive: false,
    reversal: 'Revoke the administrator again with `admin.revoke` (mode `strip`)',
    undoneBy: { action: 'admin.revoke' },
    limits: { perRequest: 1, perHour: 3 },
    approval: 'always',
    wording: {
      done: 'restored',
      would: 'restore',
      noun: 'administrator',
      nothing: 'no access was restored',
    },
    summary:
      "Undo a strip-mode admin.revoke: put back the administrator's access from before it, refused if the access changed since",
  },
} as const satisfies Record<
  `admin.${string}`,
  ActionDeclaration<'administrators', AdministratorOperation, 'strip' | 'delete'>
>;
