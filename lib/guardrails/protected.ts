import type { ResolvedDevice, ResolvedSession } from '../actions/schema.ts';
import type { GuardrailSettings } from './config.ts';

type ProtectionSettings = Pick<GuardrailSettings, 'protectedUsers' | 'protectedDevices'>;

const sameText = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/**
 * Whether a user name is on `PROTECTED_USERS`. Matching is exact and case-insensitive only:
 * `CORP\alice` and `alice@corp.example.com` are different names here, because nothing in a
 * session or device record proves they are the same account. List every form a protected user
 * appears under (Citrix DaaS sessions report the UPN when it has one).
 */
export function isProtectedUser(userName: string, settings: ProtectionSettings): boolean {
  return settings.protectedUsers.some((entry) => sameText(entry, userName));
}

/** Whether a device id is on `PROTECTED_DEVICES` (case-insensitive, as GUIDs vary in case). */
export function isProtectedDevice(deviceId: string, settings: ProtectionSettings): boolean {
  return settings.protectedDevices.some((entry) => sameText(entry, deviceId));
}

/**
 * Why a resolved target must be left alone, or undefined when it may be acted on:
 * - a session whose user, or the user the request named (`target.user`), is protected;
 * - a device whose id is protected, or whose enrolled user (or the user the request named) is.
 */
export function protectionReason(
  target: ResolvedSession | ResolvedDevice,
  settings: ProtectionSettings,
  requestedUser?: string,
): string | undefined {
  if ('deviceId' in target && isProtectedDevice(target.deviceId, settings)) {
    return `device ${target.deviceId} is protected`;
  }
  for (const userName of [target.userName, requestedUser]) {
    if (userName !== undefined && isProtectedUser(userName, settings)) {
      return `${userName} is a protected user`;
    }
  }
  return undefined;
}
