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
  type TargetOutcome,
} from '../actions/schema.ts';
import {
  type DeviceCommand,
  DeviceCommandUnansweredError,
  type EmDevice,
} from '../citrix/endpoint-management-client.ts';
import { CITRIX_CHANGE_NOT_SENT_ERRORS, CitrixNotFoundError } from '../citrix/errors.ts';
import type { DeviceFind } from './catalog.ts';
import type { DeviceFindings } from './findings.ts';

/** The parts of the Endpoint Management client the device workflow needs. */
export interface DeviceDirectory {
  getDevice(deviceId: string): Promise<EmDevice>;
  devicesOfUser(userName: string): Promise<EmDevice[]>;
  /** Every device Endpoint Management lists (a sweep's search). */
  listDevices(): Promise<EmDevice[]>;
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

/** Turns a request's target into devices; more than `maxTargets` are refused whole. */
export async function resolveDeviceTargets(
  directory: DeviceDirectory,
  target: DeviceTarget,
  settings: DeviceWorkflowSettings,
  findings?: DeviceFindings,
  now: Date = new Date(),
): Promise<ResolvedDevice[]> {
  if ('deviceId' in target) return [describeDevice(await directory.getDevice(target.deviceId))];
  if ('sweep' in target) {
    if (findings === undefined) throw new TypeError('A device sweep needs its findings store');
    return findDeviceTargets(directory, target, settings, findings, now);
  }
  const users = 'user' in target ? [target.user] : target.users;
  const devices: EmDevice[] = [];
  const seen = new Set<string>();
  for (const user of users) {
    for (const device of await directory.devicesOfUser(user)) {
      if (!seen.has(device.id)) devices.push(device);
      seen.add(device.id);
    }
    refuseOver(
      devices.length,
      settings.maxTargets,
      () =>
        `${'user' in target ? target.user : `${users.length} users`} ha${'user' in target ? 's' : 've'} more than ${settings.maxTargets} devices; one action may touch at most ${settings.maxTargets} (DEVICE_MAX_TARGETS)`,
    );
  }
  return devices.map(describeDevice);
}

function refuseOver(count: number, max: number, message: () => string): void {
  if (count > max) throw new TooManyTargetsError(message());
}

const DAY_MS = 86_400_000;

/** Why a device is in a sweep's condition, or undefined when it is not. */
export function deviceCondition(device: EmDevice, find: DeviceFind, now: Date): string | undefined {
  const reasons: string[] = [];
  if (find.jailbroken && device.jailbroken === true) reasons.push('jailbroken');
  if (find.compliant === false && device.compliant === false) reasons.push('not compliant');
  if (find.notSeenForDays !== undefined) {
    const seen = lastAccessTime(device.lastAccess);
    if (seen !== undefined && now.getTime() - seen > find.notSeenForDays * DAY_MS) {
      reasons.push(`not seen for ${Math.floor((now.getTime() - seen) / DAY_MS)} days`);
    }
  }
  return reasons.length === 0 ? undefined : reasons.join(', ');
}

/** `lastAccess` as an ISO time or epoch milliseconds; unreadable means not known to be stale. */
function lastAccessTime(value: string | number | null | undefined): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * A device sweep: every device in the condition, recorded as found; one found for less than the
 * grace period is shown in the plan and left alone (the first finding never acts).
 */
async function findDeviceTargets(
  directory: DeviceDirectory,
  target: Extract<DeviceTarget, { readonly sweep: string }>,
  settings: DeviceWorkflowSettings,
  findings: DeviceFindings,
  now: Date,
): Promise<ResolvedDevice[]> {
  const find = target.find.devices;
  const found = (await directory.listDevices()).flatMap((device) => {
    const condition = deviceCondition(device, find, now);
    return condition === undefined ? [] : [{ device, condition }];
  });
  const firstFound = await findings.observe(
    target.sweep,
    found.map(({ device }) => device.id),
    now,
    target.observe,
  );
  const graceMs = find.graceHours * 3_600_000;
  const resolved = found.map(({ device, condition }): ResolvedDevice => {
    const since = firstFound.get(device.id) ?? now;
    const due = new Date(since.getTime() + graceMs);
    return due.getTime() <= now.getTime()
      ? { ...describeDevice(device), finding: { condition, firstFound: since.toISOString() } }
      : {
          ...describeDevice(device),
          finding: { condition, firstFound: since.toISOString() },
          actionable: false,
          skipReason: `${condition}: first found ${since.toISOString()}, in its grace period until ${due.toISOString()}`,
        };
  });
  const due = resolved.filter((device) => device.actionable !== false).length;
  refuseOver(
    due,
    Math.min(target.maxTargets, settings.maxTargets),
    () =>
      `Sweep ${target.sweep} found ${due} devices past their grace period; it may act on at most ${Math.min(target.maxTargets, settings.maxTargets)}`,
  );
  return resolved;
}

/**
 * A command sent to a device: `sentAt` is when Endpoint Management accepted it, or, with
 * `unanswered`, when it was sent and why no answer came back (it may have been applied).
 */
export const SentCommandSchema = z.object({
  name: z.string(),
  sentAt: z.iso.datetime(),
  unanswered: z.string().max(1000).optional(),
});
export type SentCommand = z.infer<typeof SentCommandSchema>;

/**
 * Sends the device's command once. A command that went out without an answer is returned as
 * `unanswered`, never sent again: the workflow reads the device back and records it confirmed or
 * unconfirmed (`buildDeviceTargetResult`).
 */
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
  const sentAt = now().toISOString();
  try {
    await commander.sendDeviceCommand(command, [device.deviceId]);
  } catch (error) {
    if (error instanceof DeviceCommandUnansweredError) {
      return { name: command, sentAt, unanswered: error.message.slice(0, 1000) };
    }
    throw error;
  }
  return { name: command, sentAt: now().toISOString() };
}

/**
 * What the send step throws only when its command did not reach Endpoint Management or was
 * refused by it: nothing was applied, so the device is recorded as failed. The client turns a
 * failure of the command's own request that may follow an applied command into an `unanswered`
 * result, so the Citrix errors here can only come from the login before it. Any other error of
 * the step (TaskDeadlineError, a Lambda timeout or crash, a Lambda service error) may follow a
 * command that went out, and the device is recorded as unconfirmed.
 */
export const COMMAND_NOT_SENT_ERRORS: readonly string[] = [
  'InvalidTaskInputError',
  'DeviceNotManagedError',
  'DeviceNotActionableError',
  'EndpointManagementRejectedError',
  ...CITRIX_CHANGE_NOT_SENT_ERRORS,
  // Step Functions could not invoke the task at all.
  'Lambda.TooManyRequestsException',
];

/** The commands a read-back can confirm: a wiped device leaves management (or the listing). */
const CONFIRMED_BY_LEAVING: ReadonlySet<string> = new Set<DeviceCommand>(['wipe', 'selectiveWipe']);

/**
 * The outcome of a device whose command went out without an answer and whose read-back does not
 * show it applied: sent, not confirmed. It counts as not done, so that the action asks for a
 * person (as a session's SubmissionUnconfirmedError does), and its error,
 * DeviceCommandUnconfirmedError, says to check the device before sending again.
 */
export const UNCONFIRMED_COMMAND_OUTCOME: TargetOutcome = 'unconfirmed';
export const UNCONFIRMED_COMMAND_ERROR = 'DeviceCommandUnconfirmedError';

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
  /** The action, for a command that never answered (its step failed before returning it). */
  readonly action?: DeviceActionType | undefined;
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
    ...(progress.command
      ? { command: { name: progress.command.name, sentAt: progress.command.sentAt } }
      : {}),
    ...(progress.readBack ? { readBack: progress.readBack } : {}),
    finishedAt: now.toISOString(),
  };
  const unanswered = unansweredCommand(progress);
  if (unanswered !== undefined) {
    return { ...base, ...unansweredResult(unanswered, progress) };
  }
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

/** A command that may have been applied without an answer: its name, and why it is unanswered. */
function unansweredCommand(
  progress: DeviceProgress,
): { readonly name: string; readonly why: string } | undefined {
  const { command, error, action } = progress;
  if (command?.unanswered !== undefined) return { name: command.name, why: command.unanswered };
  if (command !== undefined || error === undefined) return undefined;
  if (COMMAND_NOT_SENT_ERRORS.includes(error.Error)) return undefined;
  const { name, message } = summarizeCaughtError(error);
  const why = `the step that sends it ended with ${name}${message === name ? '' : `: ${message}`}`;
  // Without the action the command is unknown, but it may still have gone out.
  return { name: action === undefined ? 'command' : deviceCommandOf(action), why };
}

/**
 * An unanswered command, after reading the device: a wipe is confirmed when the device has left
 * management (or the listing); otherwise it is sent, not confirmed, and never sent again by the
 * workflow. Endpoint Management's API shows no pending commands, so a read cannot show more.
 */
function unansweredResult(
  unanswered: { readonly name: string; readonly why: string },
  progress: DeviceProgress,
): Pick<DeviceTargetResult, 'outcome' | 'note' | 'error'> {
  const { readBack } = progress;
  const left = readBack !== undefined && (!readBack.found || readBack.managed === false);
  if (left && CONFIRMED_BY_LEAVING.has(unanswered.name)) {
    return {
      outcome: 'succeeded',
      note: `Confirmed by reading the device back: it is no longer ${readBack.found ? 'managed' : 'listed'}, though the ${unanswered.name} was not answered (${unanswered.why})`,
    };
  }
  const read =
    progress.readBackError !== undefined
      ? `reading the device back failed (${summarizeCaughtError(progress.readBackError).message})`
      : readBack === undefined
        ? 'the device was not read back'
        : 'the device is still listed and managed';
  return {
    outcome: UNCONFIRMED_COMMAND_OUTCOME,
    error: {
      name: UNCONFIRMED_COMMAND_ERROR,
      message:
        `Sent, not confirmed: ${unanswered.why}; ${read}. It was not sent again: check the device in Endpoint Management before sending the ${unanswered.name} again`.slice(
          0,
          1000,
        ),
    },
  };
}
