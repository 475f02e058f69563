import type { ResolvedDevice, ResolvedSession } from '../actions/schema.ts';
import type { GuardrailSettings } from './config.ts';

type ProtectionSettings = Pick<GuardrailSettings, 'protectedUsers' | 'protectedDevices'>;

const sameText = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/**
 * Whether a user name is on `PROTECTED_USERS`. Matching is exact and case-insensitive only:
 * `CORP\alice` and `alice@corp.example.com` are different names here. A DaaS session is checked
 * under every name Citrix reports for it (UPN, `DOMAIN\user` and the name the client sent), so
 * either form protects a session; an Endpoint Management device has only its enrolled user name.
 */
export function isProtectedUser(userName: string, settings: ProtectionSettings): boolean {
  return settings.protectedUsers.some((entry) => sameText(entry, userName));
}

/** Whether a device id is on `PROTECTED_DEVICES` (case-insensitive, as GUIDs vary in case). */
export function isProtectedDevice(deviceId: string, settings: ProtectionSettings): boolean {
  return settings.protectedDevices.some((entry) => sameText(entry, deviceId));
}

/** Every name a resolved target's user goes by (a session keeps its UPN, SAM and client name). */
export function targetUserNames(target: ResolvedSession | ResolvedDevice): string[] {
  const names = 'userNames' in target && target.userNames !== undefined ? target.userNames : [];
  return target.userName === undefined ? [...names] : [target.userName, ...names];
}

/**
 * Why a resolved target must be left alone, or undefined when it may be acted on:
 * - a session any of whose user names (UPN, `DOMAIN\user`, the name the client sent), or the user
 *   the request named (`target.user`), is protected;
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
  const names = [
    ...targetUserNames(target),
    ...(requestedUser === undefined ? [] : [requestedUser]),
  ];
  for (const userName of names) {
    if (isProtectedUser(userName, settings)) return `${userName} is a protected user`;
  }
  return undefined;
}
