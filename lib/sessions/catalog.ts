import * as z from 'zod';
import {
  type ActionDeclaration,
  exactlyOne,
  type SweepDeclaration,
  sweepsOver,
} from '../actions/declaration.ts';
import { ClientAddressSchema } from '../citrix/client-address.ts';
import {
  DeliveryGroupNameSchema,
  MAX_TARGET_USERS,
  MachineNameSchema,
  nameListOf,
  SessionIdSchema,
  UserIdentifierSchema,
} from '../citrix/ids.ts';
import { IsoDurationSchema } from './state-change-time.ts';

/** The DaaS calls a session action makes; `advanceBatch` (batches.ts) sends each one. */
export type SessionOperation = 'logoff' | 'disconnect';

/**
 * One session, or every session of a user, of several users, of a delivery group, on a machine,
 * or from a client address or CIDR range. Search results are re-checked exactly before acting.
 */
export const SessionTargetSchema = exactlyOne(
  {
    sessionId: SessionIdSchema,
    user: UserIdentifierSchema,
    users: nameListOf(UserIdentifierSchema, MAX_TARGET_USERS),
    deliveryGroup: DeliveryGroupNameSchema,
    machine: MachineNameSchema,
    clientAddress: ClientAddressSchema,
  },
  'one session; or every session of a user, of each listed user, of a delivery group, on a machine (DOMAIN\\name or DNS name), or from a client address or CIDR range',
);

/** Session states a sweep can look for (Citrix's `State`). */
export const SWEEP_SESSION_STATES = ['Active', 'Connected', 'Disconnected'] as const;

/** What a sweep's `find.sessions` looks for; every filter given must hold. */
export const SessionFindSchema = z
  .strictObject({
    state: z.enum(SWEEP_SESSION_STATES).optional(),
    /** Time in the current state, by the session's `StateChangeTime`. */
    olderThan: IsoDurationSchema.optional(),
    deliveryGroups: nameListOf(DeliveryGroupNameSchema, 100).optional(),
    machines: nameListOf(MachineNameSchema, 1000).optional(),
    clientAddresses: z.array(ClientAddressSchema).min(1).max(100).optional(),
  })
  .refine(
    (find) =>
      [find.state, find.deliveryGroups, find.machines, find.clientAddresses].some(
        (filter) => filter !== undefined,
      ),
    { message: 'must narrow the search with state, deliveryGroups, machines or clientAddresses' },
  );
export type SessionFind = z.output<typeof SessionFindSchema>;

const SESSION_SWEEPS = sweepsOver('sessions', SessionFindSchema) satisfies SweepDeclaration;

const SESSION_ACTION = {
  product: 'sessions',
  targetFields: ['sessionId', 'user', 'users', 'deliveryGroup', 'machine', 'clientAddress'],
  target: SessionTargetSchema,
  sweeps: SESSION_SWEEPS,
  warnsUsers: true,
  limits: { perRequest: 50, perHour: 500 },
  approval: 'never',
} as const;

/** Citrix DaaS session actions, declared once (see lib/actions/catalog.ts). */
export const SESSION_CATALOG = {
  'session.logoff': {
    ...SESSION_ACTION,
    citrix: {
      operation: 'logoff',
      request: 'DaaS POST /cvad/manage/Sessions/{id}/$logoff (a job)',
    },
    destructive: true,
    reversal:
      'A log off cannot be undone: the applications closed and unsaved work in them is lost. The user signs in again to start a new session',
    wording: {
      done: 'logged off',
      would: 'log off',
      noun: 'session',
      nothing: 'nothing was logged off',
    },
    summary:
      "Log off sessions (one, a user's, a delivery group's, a machine's or a client range's): applications close, unsaved work is lost",
  },
  'session.disconnect': {
    ...SESSION_ACTION,
    citrix: {
      operation: 'disconnect',
      request: 'DaaS POST /cvad/manage/Sessions/{id}/$disconnect',
    },
    destructive: false,
    reversal:
      'Citrix Response cannot undo a disconnect, and it needs no undo: the session keeps running, and the user reconnects to it to find it as it was',
    wording: {
      done: 'disconnected',
      would: 'disconnect',
      noun: 'session',
      nothing: 'nothing was disconnected',
    },
    summary:
      "Disconnect sessions (one, a user's, a delivery group's, a machine's or a client range's): the session keeps running",
  },
} as const satisfies Record<`session.${string}`, ActionDeclaration<'sessions', SessionOperation>>;
