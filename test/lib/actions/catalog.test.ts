import { describe, expect, it, vi } from 'vitest';
import { ACTION_TYPES, ActionRequestSchema, workflowFor } from '../../../lib/actions/schema.ts';
import {
  DEFAULT_ACTION_LIMITS,
  DEFAULT_APPROVAL_REQUIRED,
} from '../../../lib/guardrails/config.ts';
import { parseRoutingRules } from '../../../lib/sources/routing.ts';
import { renderActionsDoc } from '../../../local/actions-doc.ts';
import { useLocalStack } from '../../support/local-stack.ts';
import { DEVICES, SESSIONS } from '../../support/simulator-fixture.ts';

/**
 * docs/architecture.md says adding an action is declaring it in its product's catalog. This test
 * does exactly that, and nothing else: two test-only session actions are added to
 * lib/sessions/catalog.ts (through vi.mock, so the product code is untouched), and the API,
 * routing rules, guardrails, workflow, simulator and docs must all take them from the declaration.
 * `session.quarantine` reuses the DaaS disconnect; `session.hide` declares a Citrix operation no
 * client implements, which must fail closed rather than fall through to another call.
 */
vi.mock('../../../lib/sessions/catalog.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../lib/sessions/catalog.ts')>();
  const base = original.SESSION_CATALOG['session.disconnect'];
  return {
    ...original,
    SESSION_CATALOG: {
      ...original.SESSION_CATALOG,
      'session.quarantine': {
        ...base,
        citrix: {
          operation: 'disconnect',
          request: 'DaaS POST /cvad/manage/Sessions/{id}/$disconnect',
        },
        limits: { perRequest: 2, perHour: 40 },
        approval: 'never',
        wording: {
          done: 'quarantined',
          would: 'quarantine',
          noun: 'session',
          nothing: 'nothing was quarantined',
        },
        summary: 'Test-only: disconnect and hold',
      },
      'session.hide': {
        ...base,
        citrix: { operation: 'hide', request: 'DaaS POST /cvad/manage/Sessions/{id}/$hide' },
        summary: 'Test-only: a Citrix call no client has',
      },
    },
  };
});

vi.mock('../../../lib/devices/catalog.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../lib/devices/catalog.ts')>();
  return {
    ...original,
    DEVICE_CATALOG: {
      ...original.DEVICE_CATALOG,
      // Declared harmless, with an Endpoint Management command no client has: it must never
      // become another command (a selective wipe, say).
      'device.lock': {
        ...original.DEVICE_CATALOG['device.deployPolicy'],
        citrix: { operation: 'lock', request: 'Endpoint Management POST /device/lock' },
        summary: 'Test-only: an Endpoint Management command no client has',
      },
    },
  };
});

const harness = useLocalStack({ reason: 'Catalog test: a test-only action' });

const disconnects = () =>
  harness.calls((r) => r.method === 'POST' && r.path.endsWith('/$disconnect'));
/** Calls that change a session ($search only reads). */
const mutations = () =>
  harness.calls((r) => /\/Sessions\/[^/]+\/\$/.test(r.path) && !r.path.endsWith('/$search'));

describe('an action added by its declaration alone', () => {
  it('is a known action with its declared workflow, limits, approval rule and docs', () => {
    expect(ACTION_TYPES).toContain('session.quarantine');
    expect(workflowFor('session.quarantine' as never)).toBe('session-action');
    expect(DEFAULT_ACTION_LIMITS['session.quarantine' as never]).toEqual({
      perRequest: 2,
      perHour: 40,
      overLimit: 'approval',
    });
    expect(DEFAULT_APPROVAL_REQUIRED).not.toContain('session.quarantine');
    expect(renderActionsDoc()).toContain(
      '| `session.quarantine` | Test-only: disconnect and hold |',
    );
  });

  it('is validated by the request schema from its declared target', () => {
    const valid = ActionRequestSchema.safeParse({
      action: 'session.quarantine',
      target: { user: 'alice@example.com' },
      reason: 'test',
    });
    const invalid = ActionRequestSchema.safeParse({
      action: 'session.quarantine',
      target: { deviceId: '12' },
      reason: 'test',
    });

    expect(valid.success).toBe(true);
    expect(invalid.error?.issues.map((issue) => issue.path.join('.'))).toContain('target.deviceId');
  });

  it('can be named by a routing rule, with the target fields it declares', () => {
    const rules = (target: Record<string, string>) =>
      parseRoutingRules({
        version: 1,
        routes: {
          splunk: [{ name: 'quarantine', action: 'session.quarantine', target, reason: 'r' }],
        },
      });

    expect(rules({ user: 'result.user' }).routes.splunk[0]?.action).toBe('session.quarantine');
    expect(() => rules({ deviceId: 'result.device' })).toThrow(
      /session\.quarantine takes a target of kind sessionId or user/,
    );
  });

  it('plans a dry run in its own words and touches nothing', async () => {
    const actionId = await harness.request({
      action: 'session.quarantine',
      target: { user: 'alice@example.com' },
      dryRun: true,
    });
    const record = await harness.finished(actionId);

    expect(record.status).toBe('planned');
    expect(record.summary).toBe('Dry run: would quarantine 2 sessions');
    expect(mutations()).toEqual([]);
  });

  it('runs end to end against the simulator with the Citrix call it declares', async () => {
    const actionId = await harness.request({
      action: 'session.quarantine',
      target: { user: 'alice@example.com' },
      urgency: 'immediate',
    });
    const record = await harness.finished(actionId);

    expect(record).toMatchObject({ action: 'session.quarantine', status: 'succeeded' });
    expect(record.summary).toBe('2 of 2 sessions quarantined');
    expect(disconnects().map((r) => r.path)).toEqual(
      expect.arrayContaining([
        `/cvad/manage/Sessions/${SESSIONS.alice1}/$disconnect`,
        `/cvad/manage/Sessions/${SESSIONS.alice2}/$disconnect`,
      ]),
    );
    expect(disconnects()).toHaveLength(2);
    const read = await harness.signed(`/v1/actions/${actionId}`);
    expect(read.body).toMatchObject({ action: 'session.quarantine', status: 'succeeded' });
  });

  it('is held for approval over its declared per-request limit', async () => {
    const actionId = await harness.request({
      action: 'session.quarantine',
      target: { user: 'erin@example.com' },
      urgency: 'immediate',
    });
    const record = await harness.awaitingApproval(actionId);

    expect(record.approval?.reasons).toEqual([
      '3 targets exceed the limit of 2 per request for session.quarantine',
    ]);
    expect(mutations()).toEqual([]);
  });

  it('fails closed, sending no device command, when it declares one no client has', async () => {
    const actionId = await harness.request({
      action: 'device.lock',
      target: { deviceId: DEVICES.bobPhone },
    });
    const record = await harness.finished(actionId);

    expect(record.status).toBe('failed');
    expect(JSON.stringify(record.results)).toContain(
      'No Endpoint Management request for \\"lock\\"',
    );
    const commands = harness.calls(
      (r) => r.method === 'POST' && /\/device\/(?!filter)/.test(r.path),
    );
    expect(commands).toEqual([]);
  });

  it('fails closed, sending nothing, when it declares a Citrix call no client has', async () => {
    const actionId = await harness.request({
      action: 'session.hide',
      target: { sessionId: SESSIONS.bob },
      urgency: 'immediate',
    });
    const record = await harness.finished(actionId);

    expect(record.status).toBe('failed');
    expect(JSON.stringify(record.results)).toContain('No handler for \\"hide\\"');
    expect(mutations()).toEqual([]);
  });
});
