import { type ActionDeclaration, oneOf } from '../actions/declaration.ts';
import { SessionIdSchema, UserIdentifierSchema } from '../citrix/ids.ts';

/** The DaaS calls a session action makes; `submitSessionAction` handles each one. */
export type SessionOperation = 'logoff' | 'disconnect';

/** Exactly one of `sessionId` or `user` (a user means every session of that user). */
export const SessionTargetSchema = oneOf(
  'sessionId',
  SessionIdSchema,
  'user',
  UserIdentifierSchema,
  'every session of that user',
);

const SESSION_ACTION = {
  product: 'sessions',
  targetFields: ['sessionId', 'user'],
  target: SessionTargetSchema,
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
    reversal: 'None: the user signs in again, and unsaved work in the session is lost',
    wording: {
      done: 'logged off',
      would: 'log off',
      noun: 'session',
      nothing: 'nothing was logged off',
    },
    summary:
      'Log off every session of a user, or one session: applications close, unsaved work is lost',
  },
  'session.disconnect': {
    ...SESSION_ACTION,
    citrix: {
      operation: 'disconnect',
      request: 'DaaS POST /cvad/manage/Sessions/{id}/$disconnect',
    },
    destructive: false,
    reversal: 'The user reconnects and finds the session as it was',
    wording: {
      done: 'disconnected',
      would: 'disconnect',
      noun: 'session',
      nothing: 'nothing was disconnected',
    },
    summary: 'Disconnect every session of a user, or one session: the session keeps running',
  },
} as const satisfies Record<`session.${string}`, ActionDeclaration<'sessions', SessionOperation>>;
