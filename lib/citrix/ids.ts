import * as z from 'zod';
import { InvalidCitrixIdError } from './errors.ts';

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Citrix DaaS session ids are GUIDs; anything else never reaches a URL path. */
export function validateSessionId(value: string): string {
  if (typeof value !== 'string' || !GUID.test(value)) {
    throw new InvalidCitrixIdError('session', 'Invalid Citrix session id: expected a GUID');
  }
  return value;
}

export function validateJobId(value: string): string {
  if (typeof value !== 'string' || !GUID.test(value)) {
    throw new InvalidCitrixIdError('job', 'Invalid Citrix job id: expected a GUID');
  }
  return value;
}

export const SessionIdSchema = z.string().regex(GUID, 'must be a Citrix session id (GUID)');

const JOB_PATH = /\/cvad\/manage\/Jobs\/([^/]+)$/i;

/**
 * Extracts the job id from a logoff response's Location header. The Location URL itself is never
 * followed (SSRF); callers rebuild the job URL from the id and the configured base.
 */
export function jobIdFromLocation(location: string): string {
  let pathname: string;
  try {
    pathname = new URL(location, 'https://location.invalid').pathname;
  } catch {
    throw new InvalidCitrixIdError('job', 'Invalid Citrix job location: not a URL');
  }
  const encodedId = JOB_PATH.exec(pathname)?.[1];
  if (encodedId === undefined) {
    throw new InvalidCitrixIdError(
      'job',
      'Invalid Citrix job location: path does not end in /cvad/manage/Jobs/{id}',
    );
  }
  let id: string;
  try {
    id = decodeURIComponent(encodedId);
  } catch {
    throw new InvalidCitrixIdError('job', 'Invalid Citrix job id: expected a GUID');
  }
  return validateJobId(id);
}

export type UserIdentifier =
  | { kind: 'upn'; upn: string }
  | { kind: 'samAccountName'; domain: string; name: string };

const MAX_UPN_LENGTH = 256;
const UPN =
  /^[A-Za-z0-9._%+'#!$&*=?^`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
const NETBIOS_DOMAIN = /^[A-Za-z0-9-]{1,15}$/;
// Characters Active Directory forbids in sAMAccountName, plus control characters.
const SAM_FORBIDDEN = /["/\\[\]:;|=,+*?<>\p{Cc}]/u;
const MAX_SAM_LENGTH = 104;

function tryParseUserIdentifier(value: string): UserIdentifier | undefined {
  if (typeof value !== 'string') return undefined;
  const backslash = value.indexOf('\\');
  if (backslash >= 0) {
    const domain = value.slice(0, backslash);
    const name = value.slice(backslash + 1);
    const validName =
      name.length >= 1 &&
      name.length <= MAX_SAM_LENGTH &&
      !SAM_FORBIDDEN.test(name) &&
      name.trim() === name &&
      !/^[. ]+$/.test(name);
    return NETBIOS_DOMAIN.test(domain) && validName
      ? { kind: 'samAccountName', domain, name }
      : undefined;
  }
  if (value.length <= MAX_UPN_LENGTH && UPN.test(value)) return { kind: 'upn', upn: value };
  return undefined;
}

/** Accepts `user@example.com` (UPN) or `DOMAIN\user` (NetBIOS domain and sAMAccountName). */
export function parseUserIdentifier(value: string): UserIdentifier {
  const user = tryParseUserIdentifier(value);
  if (user === undefined) {
    throw new InvalidCitrixIdError(
      'user',
      'Invalid Citrix user: expected a UPN (user@example.com) or DOMAIN\\user',
    );
  }
  return user;
}

export const UserIdentifierSchema = z
  .string()
  .refine((value) => tryParseUserIdentifier(value) !== undefined, {
    message: 'must be a UPN (user@example.com) or DOMAIN\\user',
  });

export function formatUserIdentifier(user: UserIdentifier): string {
  return user.kind === 'upn' ? user.upn : `${user.domain}\\${user.name}`;
}

function sameText(a: string | null | undefined, b: string): boolean {
  return typeof a === 'string' && a.toLowerCase() === b.toLowerCase();
}

/**
 * Exact, case-insensitive match of a session's user. Citrix search can be fuzzy, so results are
 * re-checked before any action touches a session.
 */
export function userMatches(
  user: UserIdentifier,
  session: {
    User?: { PrincipalName?: string | null; Name?: string | null } | null;
    UntrustedUserName?: string | null;
  },
): boolean {
  if (user.kind === 'upn') return sameText(session.User?.PrincipalName, user.upn);
  const qualified = formatUserIdentifier(user);
  return sameText(session.User?.Name, qualified) || sameText(session.UntrustedUserName, qualified);
}

// Endpoint Management device ids are GUIDs in the cloud service and integers on XenMobile Server.
const DEVICE_ID =
  /^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9]{1,19})$/;

export function validateDeviceId(value: string): string {
  if (typeof value !== 'string' || !DEVICE_ID.test(value)) {
    throw new InvalidCitrixIdError(
      'device',
      'Invalid Endpoint Management device id: expected a GUID or a number',
    );
  }
  return value;
}

export const DeviceIdSchema = z
  .string()
  .regex(DEVICE_ID, 'must be an Endpoint Management device id (a GUID or a number)');

/** XenMobile Server's numeric ids go back as JSON numbers in id-array bodies, GUIDs as strings. */
export function deviceIdJson(deviceId: string): string | number {
  // Leading zeros would not survive the round trip, so such an id stays a string.
  return /^(?:0|[1-9][0-9]{0,14})$/.test(deviceId) ? Number(deviceId) : deviceId;
}

const MAX_DEVICE_USER_LENGTH = 256;

/**
 * The enrolled user name a device filter is searched for: a UPN, `DOMAIN\user` or a plain
 * user name, as Endpoint Management shows it. Matching is exact and case-insensitive.
 */
export const DeviceUserNameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_DEVICE_USER_LENGTH, `must be at most ${MAX_DEVICE_USER_LENGTH} characters`)
  .refine((value) => !/[\p{Cc}\p{Cf}]/u.test(value), {
    message: 'must not contain control or format characters',
  });

/** The most users one `users` target may list; the action's limits apply to what they resolve to. */
export const MAX_TARGET_USERS = 5000;

/** A list of names, each valid, each once (compared case-insensitively, first spelling kept). */
export function nameListOf(item: z.ZodType<string>, max: number) {
  return z
    .array(item)
    .min(1, 'must list at least one')
    .max(max, `must list at most ${max}`)
    .transform((names) => {
      const seen = new Set<string>();
      return names.filter((name) => {
        const key = name.toLowerCase();
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
    });
}

// Citrix refuses these in delivery group names; `*` would also widen a search into a pattern.
const DELIVERY_GROUP_FORBIDDEN = /[\\/;:#.*?=<>|[\]{}()"'`\p{Cc}\p{Cf}]/u;

/** A DaaS delivery group by name, matched exactly and case-insensitively. */
export const DeliveryGroupNameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .refine((value) => !DELIVERY_GROUP_FORBIDDEN.test(value), {
    message: 'must be a delivery group name (no wildcards or punctuation Citrix forbids)',
  });

const MACHINE_SAM = /^[A-Za-z0-9-]{1,15}\\[A-Za-z0-9-]{1,63}\$?$/;
const DNS_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** A VDA by its `DOMAIN\name` (`Machine.Name`) or DNS name, matched exactly and case-insensitively. */
export const MachineNameSchema = z
  .string()
  .trim()
  .refine((value) => MACHINE_SAM.test(value) || DNS_NAME.test(value), {
    message: 'must be a machine as DOMAIN\\name or a DNS name',
  });
