import * as z from 'zod';
import {
  type ActionDeclaration,
  exactlyOne,
  type SweepDeclaration,
  sweepsOver,
} from '../actions/declaration.ts';
import type { DeviceCommand } from '../citrix/endpoint-management-client.ts';
import {
  DeviceIdSchema,
  DeviceUserNameSchema,
  MAX_TARGET_USERS,
  nameListOf,
} from '../citrix/ids.ts';

/** One device, or every device enrolled by a user name or by each listed one. */
export const DeviceTargetSchema = exactlyOne(
  {
    deviceId: DeviceIdSchema,
    user: DeviceUserNameSchema,
    users: nameListOf(DeviceUserNameSchema, MAX_TARGET_USERS),
  },
  'one device; or every device enrolled by that user name, or by each listed one (matched exactly and case-insensitively)',
);

/**
 * What a sweep's `find.devices` looks for: a device in any of the conditions given. Like
 * Endpoint Management's own automated actions, a device is acted on only once sweeps have found
 * it in that condition for `graceHours`; the first finding is recorded and reported, never acted on.
 */
export const DeviceFindSchema = z
  .strictObject({
    jailbroken: z.literal(true).optional(),
    compliant: z.literal(false).optional(),
    /** Not seen (`lastAccess`) for this many days. */
    notSeenForDays: z.int().min(1).max(3650).optional(),
    graceHours: z.int().min(0).max(720).default(24),
  })
  .refine(
    (find) => find.jailbroken || find.compliant === false || find.notSeenForDays !== undefined,
    { message: 'must look for jailbroken: true, compliant: false or notSeenForDays' },
  );
export type DeviceFind = z.output<typeof DeviceFindSchema>;

const DEVICE_SWEEPS = sweepsOver('devices', DeviceFindSchema) satisfies SweepDeclaration;

const DEVICE_ACTION = {
  product: 'devices',
  targetFields: ['deviceId', 'user', 'users'],
  target: DeviceTargetSchema,
  sweeps: DEVICE_SWEEPS,
  warnsUsers: false,
} as const;

/** Citrix Endpoint Management device actions, declared once (see lib/actions/catalog.ts). */
export const DEVICE_CATALOG = {
  'device.wipe': {
    ...DEVICE_ACTION,
    citrix: { operation: 'wipe', request: 'Endpoint Management POST /device/wipe' },
    destructive: true,
    reversal:
      'A full wipe cannot be undone: the device is back to factory settings and its data is gone. The owner restores a personal backup, if any, and enrolls the device again',
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
      'A selective wipe cannot be undone: company apps and data are gone from the device. The owner enrolls the device again to get the company apps back; personal data was never touched',
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
    reversal:
      'Citrix Response cannot undo a deploy: it pushes the policies Endpoint Management holds now. To go back, change the policies in Endpoint Management and deploy again',
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
