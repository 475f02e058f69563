import * as z from 'zod';
import { TooManyTargetsError } from '../actions/errors.ts';
import type { CaughtError } from '../actions/outcome.ts';
import { summarizeCaughtError } from '../actions/outcome.ts';
import {
  type DeviceActionType,
  type DeviceReadBack,
  type DeviceTarget,
  type DeviceTargetResult,
  deviceCommandOf,
  type ResolvedDevice,
} from '../actions/schema.ts';
import type { DeviceCommand, EmDevice } from '../citrix/endpoint-management-client.ts';
import { CitrixNotFoundError } from '../citrix/errors.ts';

/** The parts of the Endpoint Management client the device workflow needs. */
export interface DeviceDirectory {
  getDevice(deviceId: string): Promise<EmDevice>;
  devicesOfUser(userName: string): Promise<EmDevice[]>;
}

export interface DeviceCommander {
  sendDeviceCommand(command: DeviceCommand, deviceIds: readonly string[]): Promise<void>;
}

export interface DeviceWorkflowSettings {
  /** A user with more devices than this is refused as a whole rather than partly acted on. */
  readonly maxTargets: number;
}

export const DeviceWorkflowSettingsSchema: z.ZodType<DeviceWorkflowSettings> = z.object({
  maxTargets: z.number().int().min(1).max(100),
});

export const DEFAULT_DEVICE_WORKFLOW_SETTINGS: DeviceWorkflowSettings = { maxTargets: 20 };

/** Thrown if a command is asked for a device not reported as managed (the workflow skips those). */
export class DeviceNotManagedError extends Error {
  override name = 'DeviceNotManagedError';
}

/** Thrown if a command is asked for a device the guardrails marked to skip (a protected device). */
export class DeviceNotActionableError extends Error {
  override name = 'DeviceNotActionableError';
}

const text = (value: string | number | null | undefined): string | undefined =>
  value === null || value === undefined || value === '' ? undefined : String(value);

export function describeDevice(device: EmDevice): ResolvedDevice {
  const described: ResolvedDevice = { deviceId: device.id, managed: device.managed === true };
  const optional = {
    userName: text(device.userName),
    platform: text(device.platform),
    deviceModel: text(device.deviceModel),
    serialNumber: text(device.serialNumber),
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) Object.assign(described, { [key]: value });
  }
  return described;
}

/** Turns a request's target into devices; a user's devices are refused whole above `maxTargets`. */
export async function resolveDeviceTargets(
  directory: DeviceDirectory,
  target: DeviceTarget,
  settings: DeviceWorkflowSettings,
): Promise<ResolvedDevice[]> {
  if ('deviceId' in target) return [describeDevice(await directory.getDevice(target.deviceId))];
  const devices = await directory.devicesOfUser(target.user);
  if (devices.length > settings.maxTargets) {
    throw new TooManyTargetsError(
      `${target.user} has ${devices.length} devices; one action may touch at most ${settings.maxTargets}`,
    );
  }
  return devices.map(describeDevice);
}

export const SentCommandSchema = z.object({ name: z.string(), sentAt: z.iso.datetime() });
export type SentCommand = z.infer<typeof SentCommandSchema>;

export async function sendDeviceCommand(
  commander: DeviceCommander,
  action: DeviceActionType,
  device: ResolvedDevice,
  now: () => Date,
): Promise<SentCommand> {
  if (!device.managed) {
    throw new DeviceNotManagedError(
      `Device ${device.deviceId} is not managed; no command was sent`,
    );
  }
  // The state machine's Choice already skips these; this keeps a protected device safe without it.
  if (device.actionable === false) {
    throw new DeviceNotActionableError(
      `Device ${device.deviceId} is not to be acted on (${device.skipReason ?? 'not actionable'}); no command was sent`,
    );
  }
  const command = deviceCommandOf(action);
  await commander.sendDeviceCommand(command, [device.deviceId]);
  return { name: command, sentAt: now().toISOString() };
}

/** The device as Endpoint Management holds it after the command; gone counts as an answer too. */
export async function readDeviceBack(
  directory: DeviceDirectory,
  deviceId: string,
): Promise<DeviceReadBack> {
  try {
    const device = await directory.getDevice(deviceId);
    const lastAccess = text(device.lastAccess);
    return {
      found: true,
      ...(typeof device.managed === 'boolean' ? { managed: device.managed } : {}),
      ...(lastAccess === undefined ? {} : { lastAccess }),
    };
  } catch (error) {
    if (error instanceof CitrixNotFoundError) return { found: false };
    throw error;
  }
}

export interface DeviceProgress {
  readonly command?: SentCommand | undefined;
  readonly readBack?: DeviceReadBack | undefined;
  /** The command step failed: nothing was accepted for this device. */
  readonly error?: CaughtError | undefined;
  /** Reading back failed after the command was accepted. */
  readonly readBackError?: CaughtError | undefined;
}

/** The final word on one device. */
export function buildDeviceTargetResult(
  device: ResolvedDevice,
  progress: DeviceProgress,
  now: Date,
): DeviceTargetResult {
  const base = {
    ...device,
    ...(progress.command ? { command: progress.command } : {}),
    ...(progress.readBack ? { readBack: progress.readBack } : {}),
    finishedAt: now.toISOString(),
  };
  if (progress.error !== undefined) {
    return { ...base, outcome: 'failed', error: summarizeCaughtError(progress.error) };
  }
  if (progress.command === undefined) {
    if (device.actionable === false && device.skipReason !== undefined) {
      return { ...base, outcome: 'skipped', note: device.skipReason };
    }
    if (!device.managed) {
      return {
        ...base,
        outcome: 'skipped',
        note: 'Not managed by Endpoint Management: no command was sent',
      };
    }
    if (device.actionable === false) {
      return { ...base, outcome: 'skipped', note: 'Not actionable: no command was sent' };
    }
    return {
      ...base,
      outcome: 'failed',
      error: { name: 'IncompleteTargetError', message: 'The workflow ended before the device did' },
    };
  }
  if (progress.readBackError !== undefined) {
    const { message } = summarizeCaughtError(progress.readBackError);
    return {
      ...base,
      outcome: 'succeeded',
      note: `The command was accepted; reading the device back failed: ${message}`,
    };
  }
  if (progress.readBack?.found === false) {
    return {
      ...base,
      outcome: 'succeeded',
      note: 'The device is no longer listed after the command',
    };
  }
  return { ...base, outcome: 'succeeded' };
}
