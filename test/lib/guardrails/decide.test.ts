import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionType } from '../../../lib/actions/schema.ts';
import { type GuardrailSettings, guardrailsFromEnv } from '../../../lib/guardrails/config.ts';
import { decideGuardrails, requiresApproval } from '../../../lib/guardrails/decide.ts';
import {
  createLimitsTable,
  DynamoHourlyLimitCounter,
  type HourlyLimitCounter,
  type ReserveOptions,
} from '../../../lib/guardrails/limits.ts';
import { type LocalDynamo, startLocalDynamo } from '../../../local/dynamodb.ts';

const NOW = new Date('2026-11-23T03:00:00.000Z');
const id = (n: number) => `act_${n.toString(16).padStart(32, '0')}`;

/** Records every reservation and answers from a fixed amount already used. */
class FakeCounter implements Pick<HourlyLimitCounter, 'reserve'> {
  readonly calls: {
    action: ActionType;
    count: number;
    limit: number;
    actionId: string;
    evenOverLimit?: boolean;
  }[] = [];
  readonly usedAlready: number;
  constructor(usedAlready = 0) {
    this.usedAlready = usedAlready;
  }
  async reserve(
    action: ActionType,
    count: number,
    limit: number,
    actionId: string,
    _now: Date,
    options: ReserveOptions = {},
  ) {
    this.calls.push({
      action,
      count,
      limit,
      actionId,
      ...(options.evenOverLimit === undefined ? {} : { evenOverLimit: options.evenOverLimit }),
    });
    return { allowed: this.usedAlready + count <= limit, used: this.usedAlready };
  }
}

const defaults = guardrailsFromEnv({});
const input = (action: ActionType, actionable: number, mode?: string) => ({
  action,
  actionable,
  actionId: id(1),
  now: NOW,
  ...(mode === undefined ? {} : { options: { mode } }),
});

describe('decideGuardrails', () => {
  it('lets an action within its limits and not needing approval proceed, reserving its targets', async () => {
    const counter = new FakeCounter();
    expect(await decideGuardrails(input('session.logoff', 3), defaults, counter)).toEqual({
      outcome: 'proceed',
      reasons: [],
    });
    expect(counter.calls).toEqual([
      { action: 'session.logoff', count: 3, limit: 500, actionId: id(1), evenOverLimit: true },
    ]);
  });

  it('proceeds with no reasons and no reservation when nothing is actionable', async () => {
    const counter = new FakeCounter(10_000);
    expect(await decideGuardrails(input('device.wipe', 0), defaults, counter)).toEqual({
      outcome: 'proceed',
      reasons: [],
    });
    expect(counter.calls).toEqual([]);
  });

  it('asks for approval where APPROVAL_REQUIRED names the action', async () => {
    const counter = new FakeCounter();
    expect(await decideGuardrails(input('device.wipe', 1), defaults, counter)).toEqual({
      outcome: 'approval',
      reasons: ['device.wipe needs approval'],
    });
    // Reserved all the same, so an action waiting for approval already counts.
    expect(counter.calls).toHaveLength(1);
  });

  it('asks for approval of a revoke by its mode, strip being the default', async () => {
    const counter = new FakeCounter();
    expect(await decideGuardrails(input('admin.revoke', 1, 'delete'), defaults, counter)).toEqual({
      outcome: 'approval',
      reasons: ['admin.revoke with mode delete needs approval'],
    });
    expect(await decideGuardrails(input('admin.revoke', 1, 'strip'), defaults, counter)).toEqual({
      outcome: 'proceed',
      reasons: [],
    });
    expect(await decideGuardrails(input('admin.revoke', 1), defaults, counter)).toEqual({
      outcome: 'proceed',
      reasons: [],
    });
    const strip = guardrailsFromEnv({ APPROVAL_REQUIRED: 'admin.revoke:strip' });
    expect((await decideGuardrails(input('admin.revoke', 1), strip, counter)).outcome).toBe(
      'approval',
    );
    const every = guardrailsFromEnv({ APPROVAL_REQUIRED: 'admin.revoke' });
    expect(await decideGuardrails(input('admin.revoke', 1, 'delete'), every, counter)).toEqual({
      outcome: 'approval',
      reasons: ['admin.revoke needs approval'],
    });
  });

  it('follows overLimit when a request exceeds the per-request limit: held and reserved, or refused and not', async () => {
    const counter = new FakeCounter();
    expect(await decideGuardrails(input('session.logoff', 51), defaults, counter)).toEqual({
      outcome: 'approval',
      reasons: ['51 targets exceed the limit of 50 per request for session.logoff'],
    });
    // Held: its full count is reserved, even above the hourly limit, so approving it counts.
    expect(counter.calls).toEqual([
      { action: 'session.logoff', count: 51, limit: 500, actionId: id(1), evenOverLimit: true },
    ]);
    const refusing = guardrailsFromEnv({
      GUARDRAIL_LIMITS: JSON.stringify({ 'session.logoff': { overLimit: 'refuse' } }),
    });
    const refused = new FakeCounter();
    expect(await decideGuardrails(input('session.logoff', 51), refusing, refused)).toEqual({
      outcome: 'refuse',
      reasons: ['51 targets exceed the limit of 50 per request for session.logoff'],
    });
    expect(refused.calls).toEqual([]);
  });

  it('gives both reasons when a held request exceeds the per-request and the hourly limit', async () => {
    const settings = guardrailsFromEnv({
      APPROVAL_REQUIRED: 'none',
      GUARDRAIL_LIMITS: JSON.stringify({
        'device.wipe': { perRequest: 1, perHour: 2, overLimit: 'approval' },
      }),
    });
    expect(await decideGuardrails(input('device.wipe', 2), settings, new FakeCounter(1))).toEqual({
      outcome: 'approval',
      reasons: [
        '2 targets exceed the limit of 1 per request for device.wipe',
        '2 more targets would exceed the limit of 2 per hour for device.wipe (1 used in the last hour)',
      ],
    });
  });

  it('reserves within the limit only when exceeding it refuses', async () => {
    const settings = guardrailsFromEnv({
      GUARDRAIL_LIMITS: JSON.stringify({ 'device.wipe': { overLimit: 'refuse' } }),
    });
    const counter = new FakeCounter();
    // Needs approval, within the limits: held, reserved, but never above the limit.
    expect((await decideGuardrails(input('device.wipe', 1), settings, counter)).outcome).toBe(
      'approval',
    );
    expect(counter.calls).toEqual([
      { action: 'device.wipe', count: 1, limit: 10, actionId: id(1), evenOverLimit: false },
    ]);
  });

  it('follows overLimit when the hourly limit would be exceeded', async () => {
    const counter = new FakeCounter(98);
    expect(await decideGuardrails(input('device.selectiveWipe', 3), defaults, counter)).toEqual({
      outcome: 'approval',
      reasons: [
        '3 more targets would exceed the limit of 100 per hour for device.selectiveWipe (98 used in the last hour)',
      ],
    });
    const refusing = guardrailsFromEnv({
      GUARDRAIL_LIMITS: JSON.stringify({ 'device.selectiveWipe': { overLimit: 'refuse' } }),
    });
    expect(
      await decideGuardrails(input('device.selectiveWipe', 3), refusing, new FakeCounter(100)),
    ).toEqual({
      outcome: 'refuse',
      reasons: [
        '3 more targets would exceed the limit of 100 per hour for device.selectiveWipe (100 used in the last hour)',
      ],
    });
    expect(
      (await decideGuardrails(input('device.selectiveWipe', 2), defaults, new FakeCounter(98)))
        .outcome,
    ).toBe('proceed');
  });

  it('gives every reason, and refusal beats approval', async () => {
    const settings: GuardrailSettings = guardrailsFromEnv({
      GUARDRAIL_LIMITS: JSON.stringify({ 'device.wipe': { overLimit: 'refuse' } }),
    });
    expect(await decideGuardrails(input('device.wipe', 6), settings, new FakeCounter())).toEqual({
      outcome: 'refuse',
      reasons: [
        'device.wipe needs approval',
        '6 targets exceed the limit of 5 per request for device.wipe',
      ],
    });
    expect(await decideGuardrails(input('device.wipe', 1), settings, new FakeCounter(10))).toEqual({
      outcome: 'refuse',
      reasons: [
        'device.wipe needs approval',
        '1 more target would exceed the limit of 10 per hour for device.wipe (10 used in the last hour)',
      ],
    });
    // Both approval and an over-limit approval stay an approval.
    expect(await decideGuardrails(input('device.wipe', 6), defaults, new FakeCounter())).toEqual({
      outcome: 'approval',
      reasons: [
        'device.wipe needs approval',
        '6 targets exceed the limit of 5 per request for device.wipe',
      ],
    });
  });

  it('rejects a negative or fractional target count', async () => {
    await expect(
      decideGuardrails(input('device.wipe', -1), defaults, new FakeCounter()),
    ).rejects.toThrow(RangeError);
    await expect(
      decideGuardrails(input('device.wipe', 0.5), defaults, new FakeCounter()),
    ).rejects.toThrow(RangeError);
  });
});

describe('requiresApproval', () => {
  it('reads APPROVAL_REQUIRED by action and revoke mode', () => {
    expect(requiresApproval('device.wipe', undefined, defaults)).toBe(true);
    expect(requiresApproval('device.selectiveWipe', undefined, defaults)).toBe(false);
    expect(requiresApproval('admin.revoke', 'delete', defaults)).toBe(true);
    expect(requiresApproval('admin.revoke', 'strip', defaults)).toBe(false);
    expect(requiresApproval('admin.revoke', undefined, defaults)).toBe(false);
    expect(requiresApproval('device.wipe', undefined, { approvalRequired: [] })).toBe(false);
  });
});

describe('decideGuardrails with the DynamoDB counter', () => {
  let dynamo: LocalDynamo;
  let counter: DynamoHourlyLimitCounter;
  beforeAll(async () => {
    dynamo = await startLocalDynamo();
    await createLimitsTable(dynamo.client, 'guardrail-decide');
    counter = new DynamoHourlyLimitCounter(dynamo.client, 'guardrail-decide');
  });
  afterAll(async () => {
    await dynamo.close();
  });

  it('uses up the hour across requests and counts a retried decision once', async () => {
    const settings = guardrailsFromEnv({
      APPROVAL_REQUIRED: 'none',
      GUARDRAIL_LIMITS: JSON.stringify({ 'admin.revoke': { overLimit: 'refuse' } }),
    });
    const revoke = (n: number, minutes: number) => ({
      action: 'admin.revoke' as const,
      actionable: 1,
      actionId: id(n),
      now: new Date(NOW.getTime() + minutes * 60_000),
    });
    for (const n of [1, 2, 3]) {
      expect((await decideGuardrails(revoke(n, n), settings, counter)).outcome).toBe('proceed');
    }
    // A retried task of an action already counted still proceeds.
    expect((await decideGuardrails(revoke(2, 10), settings, counter)).outcome).toBe('proceed');
    expect(await decideGuardrails(revoke(4, 10), settings, counter)).toEqual({
      outcome: 'refuse',
      reasons: [
        '1 more target would exceed the limit of 3 per hour for admin.revoke (3 used in the last hour)',
      ],
    });
    // An hour after the first revoke there is room for one more.
    expect((await decideGuardrails(revoke(5, 61), settings, counter)).outcome).toBe('proceed');
    expect((await decideGuardrails(revoke(6, 61), settings, counter)).outcome).toBe('refuse');
  });

  it('counts a held over-limit request in the hour, and frees the hour once it is released', async () => {
    const settings = guardrailsFromEnv({
      APPROVAL_REQUIRED: 'none',
      GUARDRAIL_LIMITS: JSON.stringify({
        'device.wipe': { perRequest: 1, perHour: 2, overLimit: 'approval' },
      }),
    });
    const wipe = (n: number, actionable: number) => ({
      action: 'device.wipe' as const,
      actionable,
      actionId: id(100 + n),
      now: new Date(NOW.getTime() + n * 60_000),
    });
    expect((await decideGuardrails(wipe(1, 1), settings, counter)).outcome).toBe('proceed');
    // Two devices: over the per-request limit and the hour; held, and counted all the same.
    expect((await decideGuardrails(wipe(2, 2), settings, counter)).outcome).toBe('approval');
    // Its retried decision stays held: the reservation remembers it was over the limit.
    expect((await decideGuardrails(wipe(2, 2), settings, counter)).outcome).toBe('approval');
    expect(await decideGuardrails(wipe(3, 1), settings, counter)).toEqual({
      outcome: 'approval',
      reasons: [
        '1 more target would exceed the limit of 2 per hour for device.wipe (3 used in the last hour)',
      ],
    });
    // The held ones rejected or expired: their reservations go back, and the hour has room again.
    expect(await counter.release('device.wipe', id(102))).toBe(true);
    expect(await counter.release('device.wipe', id(103))).toBe(true);
    expect(await decideGuardrails(wipe(4, 1), settings, counter)).toEqual({
      outcome: 'proceed',
      reasons: [],
    });
  });
});
