import { type ActionDeclaration, oneOf } from '../actions/declaration.ts';
import type { DeviceCommand } from '../citrix/endpoint-management-client.ts';
import { DeviceIdSchema, DeviceUserNameSchema } from '../citrix/ids.ts';

/**
 * Exactly one of `deviceId` or `user` (every device enrolled by that user name, matched exactly
 * and case-insensitively).
 */
export const DeviceTargetSchema = oneOf(
  'deviceId',
  DeviceIdSchema,
  'user',
  DeviceUserNameSchema,
  'every device enrolled by that user name, matched exactly and case-insensitively',
);

const DEVICE_ACTION = {
  product: 'devices',
  targetFields: ['deviceId', 'user'],
  target: DeviceTargetSchema,
  warnsUsers: false,
} as const;

/** Citrix Endpoint Management device actions, declared once (see lib/actions/catalog.ts). */
export const DEVICE_CATALOG = {
  'device.wipe': {
    ...DEVICE_ACTION,
    citrix: { operation: 'wipe', request: 'Endpoint Management POST /device/wipe' },
    destructive: true,
    reversal: 'None: the device is reset to factory settings and its data is gone',
    limits: { perRequest: 5, perHour: 10 },
    approval: 'always',
    wording: {
      done: 'sent a full wipe',
      would: 'send a full wipe to',
      noun: 'device',
      nothing: 'no wipe was sent',
    },
    summary: 'Full wipe: erase a device, or every device of a user, back to factory settings',
  },
  'device.selectiveWipe': {
    ...DEVICE_ACTION,
    citrix: {
      operation: 'selectiveWipe',
      request: 'Endpoint Management POST /device/selectivewipe',
    },
    destructive: true,
    reversal:
      'Re-enroll the device: the company apps and data come back, personal data was never touched',
    limits: { perRequest: 20, perHour: 100 },
    approval: 'never',
    wording: {
      done: 'sent a selective wipe',
      would: 'send a selective wipe to',
      noun: 'device',
      nothing: 'no wipe was sent',
    },
    summary: 'Selective wipe: remove company apps and data, leave personal data',
  },
  'device.deployPolicy': {
    ...DEVICE_ACTION,
    citrix: {
      operation: 'deployPolicy',
      request: 'Endpoint Management POST /device/policy/deploy',
    },
    destructive: false,
    reversal: 'Deploy the previous policies again',
    limits: { perRequest: 50, perHour: 500 },
    approval: 'never',
    wording: {
      done: 'sent a policy deploy',
      would: 'deploy policies to',
      noun: 'device',
      nothing: 'no deploy was sent',
    },
    summary: 'Push the current policies to a device, or to every device of a user, now',
  },
} as const satisfies Record<`device.${string}`, ActionDeclaration<'devices', DeviceCommand>>;
