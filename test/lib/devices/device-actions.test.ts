import { describe, expect, it } from 'vitest';
import { TooManyTargetsError } from '../../../lib/actions/errors.ts';
import type { ResolvedDevice } from '../../../lib/actions/schema.ts';
import {
  type DeviceCommand,
  DeviceCommandUnansweredError,
  type EmDevice,
} from '../../../lib/citrix/endpoint-management-client.ts';
import {
  CitrixNotFoundError,
  CitrixTimeoutError,
  CitrixUnavailableError,
} from '../../../lib/citrix/errors.ts';
import {
  buildDeviceTargetResult,
  COMMAND_NOT_SENT_ERRORS,
  type DeviceDirectory,
  DeviceNotActionableError,
  DeviceNotManagedError,
  describeDevice,
  deviceCondition,
  readDeviceBack,
  resolveDeviceTargets,
  sendDeviceCommand,
  UNCONFIRMED_COMMAND_OUTCOME,
} from '../../../lib/devices/device-actions.ts';
import { rejection } from '../../support/rejection.ts';

const NOW = new Date('2026-11-23T03:00:00Z');
const notFound = () =>
  new CitrixNotFoundError({ status: 404, method: 'GET', path: '/xenmobile/api/v1/device/1' });

function directory(devices: EmDevice[]): DeviceDirectory & { searches: string[] } {
  const searches: string[] = [];
  return {
    searches,
    async getDevice(deviceId) {
      const device = devices.find((d) => d.id === deviceId);
      if (device === undefined) throw notFound();
      return device;
    },
    async devicesOfUser(userName) {
      searches.push(userName);
      return devices.filter((d) => d.userName?.toLowerCase() === userName.toLowerCase());
    },
    async listDevices() {
      return devices;
    },
  };
}

const phone: ResolvedDevice = { deviceId: '1', userName: 'bob', platform: 'iOS', managed: true };

describe('resolveDeviceTargets', () => {
  it('describes a device by id, treating a missing "managed" as not managed', async () => {
    const em = directory([{ id: '1', userName: 'bob', platform: 'iOS' }]);
    expect(await resolveDeviceTargets(em, { deviceId: '1' }, { maxTargets: 5 })).toEqual([
      { deviceId: '1', userName: 'bob', platform: 'iOS', managed: false },
    ]);
  });

  it('returns every device of the user, managed or not', async () => {
    const em = directory([
      { id: '1', userName: 'bob', managed: true, serialNumber: 'SN1', deviceModel: 'iPhone' },
      { id: '2', userName: 'Bob', managed: false },
      { id: '3', userName: 'bobby', managed: true },
    ]);
    const devices = await resolveDeviceTargets(em, { user: 'bob' }, { maxTargets: 5 });
    expect(devices).toEqual([
      { deviceId: '1', userName: 'bob', managed: true, serialNumber: 'SN1', deviceModel: 'iPhone' },
      { deviceId: '2', userName: 'Bob', managed: false },
    ]);
  });

  it('refuses a user with more devices than one action may touch, as a whole', async () => {
    const em = directory(
      Array.from({ length: 4 }, (_, i) => ({ id: String(i + 1), userName: 'erin', managed: true })),
    );
    const error = await rejection(resolveDeviceTargets(em, { user: 'erin' }, { maxTargets: 3 }));
    expect(error).toBeInstanceOf(TooManyTargetsError);
    expect((error as Error).message).toBe(
      'erin has more than 3 devices; one action may touch at most 3 (DEVICE_MAX_TARGETS)',
    );
  });

  it('lets a missing device id fail the resolution', async () => {
    const error = await rejection(
      resolveDeviceTargets(directory([]), { deviceId: '9' }, { maxTargets: 3 }),
    );
    expect(error).toBeInstanceOf(CitrixNotFoundError);
  });
});

describe('sendDeviceCommand', () => {
  it('sends the command the action names, for this one device', async () => {
    const sent: [DeviceCommand, readonly string[]][] = [];
    const commander = {
      sendDeviceCommand: async (c: DeviceCommand, ids: readonly string[]) =>
        void sent.push([c, ids]),
    };
    expect(await sendDeviceCommand(commander, 'device.selectiveWipe', phone, () => NOW)).toEqual({
      name: 'selectiveWipe',
      sentAt: NOW.toISOString(),
    });
    await sendDeviceCommand(commander, 'device.wipe', phone, () => NOW);
    await sendDeviceCommand(commander, 'device.deployPolicy', phone, () => NOW);
    expect(sent).toEqual([
      ['selectiveWipe', ['1']],
      ['wipe', ['1']],
      ['deployPolicy', ['1']],
    ]);
  });

  it('never sends a command to a device that is not managed', async () => {
    let called = false;
    const commander = {
      sendDeviceCommand: async () => {
        called = true;
      },
    };
    const error = await rejection(
      sendDeviceCommand(commander, 'device.wipe', { ...phone, managed: false }, () => NOW),
    );
    expect(error).toBeInstanceOf(DeviceNotManagedError);
    expect(called).toBe(false);
  });

  it('never sends a command to a managed device the guardrails marked to skip', async () => {
    let called = false;
    const commander = {
      sendDeviceCommand: async () => {
        called = true;
      },
    };
    const protectedPhone = { ...phone, actionable: false, skipReason: 'Protected device' };
    const error = await rejection(
      sendDeviceCommand(commander, 'device.wipe', protectedPhone, () => NOW),
    );
    expect(error).toBeInstanceOf(DeviceNotActionableError);
    expect((error as Error).name).toBe('DeviceNotActionableError');
    expect((error as Error).message).toContain('Protected device');
    expect(called).toBe(false);
  });

  it('returns a command that went out without an answer as unanswered, sent once', async () => {
    let sends = 0;
    const commander = {
      sendDeviceCommand: async (command: DeviceCommand) => {
        sends += 1;
        throw new DeviceCommandUnansweredError(command, '/xenmobile/api/v1/device/wipe', {
          cause: new CitrixTimeoutError('POST', '/xenmobile/api/v1/device/wipe', 'timed out'),
        });
      },
    };
    expect(await sendDeviceCommand(commander, 'device.wipe', phone, () => NOW)).toEqual({
      name: 'wipe',
      sentAt: NOW.toISOString(),
      unanswered:
        'Endpoint Management did not answer POST /xenmobile/api/v1/device/wipe (CitrixTimeoutError: timed out); the wipe may have been applied',
    });
    expect(sends).toBe(1);
  });

  it('lets a command Endpoint Management never got fail by its own error', async () => {
    const commander = {
      sendDeviceCommand: async () => {
        throw new CitrixUnavailableError({
          status: 503,
          method: 'POST',
          path: '/xenmobile/api/v1/authentication/login',
        });
      },
    };
    const error = await rejection(sendDeviceCommand(commander, 'device.wipe', phone, () => NOW));
    expect((error as Error).name).toBe('CitrixUnavailableError');
  });
});

describe('readDeviceBack', () => {
  it('reports what Endpoint Management holds now, or that the device is gone', async () => {
    const em = directory([{ id: '1', managed: true, lastAccess: 1_764_000_000_000 }]);
    expect(await readDeviceBack(em, '1')).toEqual({
      found: true,
      managed: true,
      lastAccess: '1764000000000',
    });
    expect(await readDeviceBack(em, '2')).toEqual({ found: false });
  });

  it('lets other errors through for the workflow to retry', async () => {
    const failing: DeviceDirectory = {
      getDevice: async () => {
        throw new CitrixUnavailableError({ status: 503, method: 'GET', path: '/x' });
      },
      devicesOfUser: async () => [],
      listDevices: async () => [],
    };
    expect(await rejection(readDeviceBack(failing, '1'))).toBeInstanceOf(CitrixUnavailableError);
  });
});

describe('buildDeviceTargetResult', () => {
  const command = { name: 'wipe', sentAt: NOW.toISOString() };

  it('succeeds with the command and the device read back', () => {
    expect(
      buildDeviceTargetResult(phone, { command, readBack: { found: true, managed: true } }, NOW),
    ).toEqual({
      ...phone,
      outcome: 'succeeded',
      command,
      readBack: { found: true, managed: true },
      finishedAt: NOW.toISOString(),
    });
  });

  it('skips a device that is not managed, saying why', () => {
    expect(buildDeviceTargetResult({ ...phone, managed: false }, {}, NOW)).toMatchObject({
      outcome: 'skipped',
      note: 'Not managed by Endpoint Management: no command was sent',
    });
  });

  it('fails with the error of a rejected command, never a stack trace', () => {
    const result = buildDeviceTargetResult(
      phone,
      {
        error: {
          Error: 'EndpointManagementRejectedError',
          Cause: JSON.stringify({
            errorType: 'EndpointManagementRejectedError',
            errorMessage: 'returned status -1: Device busy',
            trace: ['at x (file.js:1)'],
          }),
        },
      },
      NOW,
    );
    expect(result).toMatchObject({
      outcome: 'failed',
      error: {
        name: 'EndpointManagementRejectedError',
        message: 'returned status -1: Device busy',
      },
    });
    expect(JSON.stringify(result)).not.toContain('file.js');
  });

  it('keeps an accepted command a success when reading back fails, with a note', () => {
    expect(
      buildDeviceTargetResult(
        phone,
        { command, readBackError: { Error: 'CitrixTimeoutError', Cause: 'timed out' } },
        NOW,
      ),
    ).toMatchObject({
      outcome: 'succeeded',
      command,
      note: 'The command was accepted; reading the device back failed: timed out',
    });
    expect(
      buildDeviceTargetResult(phone, { command, readBack: { found: false } }, NOW),
    ).toMatchObject({
      outcome: 'succeeded',
      note: 'The device is no longer listed after the command',
    });
  });

  it('skips a managed device the guardrails marked to skip, with their reason', () => {
    const protectedPhone = {
      ...phone,
      actionable: false,
      skipReason: 'Protected device (PROTECTED_DEVICES)',
    };
    expect(buildDeviceTargetResult(protectedPhone, {}, NOW)).toEqual({
      ...protectedPhone,
      outcome: 'skipped',
      note: 'Protected device (PROTECTED_DEVICES)',
      finishedAt: NOW.toISOString(),
    });
    expect(buildDeviceTargetResult({ ...phone, actionable: false }, {}, NOW)).toMatchObject({
      outcome: 'skipped',
      note: 'Not actionable: no command was sent',
    });
  });

  it('confirms an unanswered wipe whose device has left management or the listing', () => {
    const unanswered = { ...command, unanswered: 'Endpoint Management did not answer' };
    for (const readBack of [{ found: true, managed: false }, { found: false }]) {
      const result = buildDeviceTargetResult(phone, { command: unanswered, readBack }, NOW);
      expect(result).toMatchObject({ outcome: 'succeeded', command, readBack });
      expect(result.note).toMatch(/^Confirmed by reading the device back: it is no longer/);
      expect(result.error).toBeUndefined();
      // The record keeps the command as Endpoint Management's answer shape, nothing more.
      expect(result.command).toEqual(command);
    }
  });

  it('records an unanswered command on a device still managed as sent, not confirmed', () => {
    const unanswered = {
      name: 'selectiveWipe',
      sentAt: NOW.toISOString(),
      unanswered: 'Endpoint Management did not answer POST /device/selectivewipe (timed out)',
    };
    const result = buildDeviceTargetResult(
      phone,
      { command: unanswered, readBack: { found: true, managed: true } },
      NOW,
    );
    expect(result).toMatchObject({
      outcome: UNCONFIRMED_COMMAND_OUTCOME,
      command: { name: 'selectiveWipe', sentAt: NOW.toISOString() },
      error: {
        name: 'DeviceCommandUnconfirmedError',
        message:
          'Sent, not confirmed: Endpoint Management did not answer POST /device/selectivewipe (timed out); the device is still listed and managed. It was not sent again: check the device in Endpoint Management before sending the selectiveWipe again',
      },
    });
    // A deploy cannot be confirmed by a read: the device stays managed either way.
    const deploy = buildDeviceTargetResult(
      phone,
      { command: { ...unanswered, name: 'deployPolicy' }, readBack: { found: false } },
      NOW,
    );
    expect(deploy.error?.name).toBe('DeviceCommandUnconfirmedError');
  });

  it('records a send step that ended without a verdict (a Lambda timeout) as unconfirmed', () => {
    for (const name of ['TaskDeadlineError', 'States.Timeout', 'Lambda.ServiceException']) {
      const result = buildDeviceTargetResult(
        phone,
        {
          action: 'device.wipe',
          error: { Error: name, Cause: 'the task stopped' },
          readBackError: { Error: 'CitrixTimeoutError', Cause: 'no answer' },
        },
        NOW,
      );
      expect(result.outcome).toBe(UNCONFIRMED_COMMAND_OUTCOME);
      expect(result.command).toBeUndefined();
      expect(result.error).toEqual({
        name: 'DeviceCommandUnconfirmedError',
        message: `Sent, not confirmed: the step that sends it ended with ${name}: the task stopped; reading the device back failed (no answer). It was not sent again: check the device in Endpoint Management before sending the wipe again`,
      });
    }
    // The wipe took effect: the device is gone.
    expect(
      buildDeviceTargetResult(
        phone,
        { action: 'device.wipe', error: { Error: 'States.Timeout' }, readBack: { found: false } },
        NOW,
      ),
    ).toMatchObject({ outcome: 'succeeded', note: expect.stringContaining('no longer listed') });
  });

  it('fails a device whose send step shows nothing was sent, by that error', () => {
    for (const name of COMMAND_NOT_SENT_ERRORS) {
      const result = buildDeviceTargetResult(
        phone,
        { action: 'device.wipe', error: { Error: name, Cause: 'why' }, readBack: { found: true } },
        NOW,
      );
      expect(result).toMatchObject({ outcome: 'failed', error: { name, message: 'why' } });
    }
  });

  it('fails a managed device the workflow left without a command', () => {
    expect(buildDeviceTargetResult(phone, {}, NOW)).toMatchObject({
      outcome: 'failed',
      error: { name: 'IncompleteTargetError' },
    });
  });
});

describe('describeDevice', () => {
  it('keeps only known, non-empty fields and never an unknown managed state as managed', () => {
    expect(describeDevice({ id: '5', userName: '', platform: null, managed: null })).toEqual({
      deviceId: '5',
      managed: false,
    });
  });
});

describe('resolveDeviceTargets for a device sweep (grace period)', () => {
  /** The findings store's contract in memory; `saves` counts the runs that recorded findings. */
  const memoryFindings = () => {
    let stored = new Map<string, Date>();
    const store = {
      saves: 0,
      async observe(_sweep: string, ids: readonly string[], now: Date, save: boolean) {
        const firstFound = new Map(ids.map((id) => [id, stored.get(id) ?? now] as const));
        if (save) {
          stored = firstFound;
          store.saves += 1;
        }
        return firstFound;
      },
    };
    return store;
  };
  const sweep = (observe = true, maxTargets = 10) => ({
    sweep: 'jailbroken',
    maxTargets,
    observe,
    find: { devices: { jailbroken: true as const, graceHours: 24 } },
  });
  const hours = (n: number) => new Date(NOW.getTime() + n * 3_600_000);

  it('never acts on a first finding; a later run past graceHours does', async () => {
    const em = directory([
      { id: '1', userName: 'bob', managed: true, jailbroken: true },
      { id: '2', userName: 'amy', managed: true, jailbroken: false },
    ]);
    const findings = memoryFindings();
    const first = await resolveDeviceTargets(em, sweep(), { maxTargets: 5 }, findings, NOW);
    expect(first).toEqual([
      {
        deviceId: '1',
        userName: 'bob',
        managed: true,
        finding: { condition: 'jailbroken', firstFound: NOW.toISOString() },
        actionable: false,
        skipReason: `jailbroken: first found ${NOW.toISOString()}, in its grace period until ${hours(24).toISOString()}`,
      },
    ]);
    const early = await resolveDeviceTargets(em, sweep(), { maxTargets: 5 }, findings, hours(23));
    expect(early[0]?.actionable).toBe(false);
    const due = await resolveDeviceTargets(em, sweep(), { maxTargets: 5 }, findings, hours(24));
    expect(due).toEqual([
      {
        deviceId: '1',
        userName: 'bob',
        managed: true,
        finding: { condition: 'jailbroken', firstFound: NOW.toISOString() },
      },
    ]);
  });

  it('starts the grace period over for a device that stopped matching and matches again', async () => {
    const devices: EmDevice[] = [{ id: '1', managed: true, jailbroken: true }];
    const em = directory(devices);
    const findings = memoryFindings();
    await resolveDeviceTargets(em, sweep(), { maxTargets: 5 }, findings, NOW);
    (devices[0] as EmDevice).jailbroken = false;
    expect(await resolveDeviceTargets(em, sweep(), { maxTargets: 5 }, findings, hours(12))).toEqual(
      [],
    );
    (devices[0] as EmDevice).jailbroken = true;
    const again = await resolveDeviceTargets(em, sweep(), { maxTargets: 5 }, findings, hours(30));
    expect(again[0]).toMatchObject({
      actionable: false,
      finding: { firstFound: hours(30).toISOString() },
    });
  });

  it('saves nothing with observe false: a dry run never starts or moves a grace period', async () => {
    const em = directory([{ id: '1', managed: true, jailbroken: true }]);
    const findings = memoryFindings();
    await resolveDeviceTargets(em, sweep(false), { maxTargets: 5 }, findings, NOW);
    expect(findings.saves).toBe(0);
    const later = await resolveDeviceTargets(em, sweep(), { maxTargets: 5 }, findings, hours(48));
    expect(later[0]).toMatchObject({
      actionable: false,
      finding: { firstFound: hours(48).toISOString() },
    });
  });

  it('refuses the whole run when more devices are past their grace than it may act on', async () => {
    const em = directory(
      Array.from({ length: 3 }, (_, i) => ({ id: String(i + 1), managed: true, jailbroken: true })),
    );
    const findings = memoryFindings();
    // First findings are not actionable, so they do not count against maxTargets.
    expect(
      await resolveDeviceTargets(em, sweep(true, 2), { maxTargets: 5 }, findings, NOW),
    ).toHaveLength(3);
    const error = await rejection(
      resolveDeviceTargets(em, sweep(true, 2), { maxTargets: 5 }, findings, hours(25)),
    );
    expect(error).toBeInstanceOf(TooManyTargetsError);
    expect((error as Error).message).toBe(
      'Sweep jailbroken found 3 devices past their grace period; it may act on at most 2',
    );
  });

  it('needs a findings store for a sweep', async () => {
    expect(
      await rejection(resolveDeviceTargets(directory([]), sweep(), { maxTargets: 5 })),
    ).toBeInstanceOf(TypeError);
  });
});

describe('deviceCondition', () => {
  const find = { graceHours: 24 };
  it('names each condition that holds, and none for an unreadable last access', () => {
    expect(
      deviceCondition(
        { id: '1', jailbroken: true, compliant: false },
        { ...find, jailbroken: true, compliant: false },
        NOW,
      ),
    ).toBe('jailbroken, not compliant');
    const tenDaysAgo = NOW.getTime() - 10 * 86_400_000;
    expect(
      deviceCondition({ id: '1', lastAccess: tenDaysAgo }, { ...find, notSeenForDays: 7 }, NOW),
    ).toBe('not seen for 10 days');
    expect(
      deviceCondition(
        { id: '1', lastAccess: new Date(tenDaysAgo).toISOString() },
        { ...find, notSeenForDays: 7 },
        NOW,
      ),
    ).toBe('not seen for 10 days');
    expect(
      deviceCondition({ id: '1', lastAccess: tenDaysAgo }, { ...find, notSeenForDays: 30 }, NOW),
    ).toBeUndefined();
    expect(
      deviceCondition({ id: '1', lastAccess: 'never' }, { ...find, notSeenForDays: 7 }, NOW),
    ).toBeUndefined();
    expect(
      deviceCondition({ id: '1', jailbroken: true }, { ...find, compliant: false }, NOW),
    ).toBeUndefined();
  });
});
