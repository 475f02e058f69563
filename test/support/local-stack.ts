import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import type { ActionRecord } from '../../lib/actions/schema.ts';
import { signStandardWebhook } from '../../lib/webhooks/standard-webhooks.ts';
import type { SimulatorFixture } from '../../local/simulator/fixture.ts';
import type { RecordedRequest } from '../../local/simulator/server.ts';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { TEST_SIGNING_SECRET } from './signed-request.ts';
import { FAST_WORKFLOW, TEST_ENV, testFixture } from './simulator-fixture.ts';

export interface TestStackOptions {
  /** Set over TEST_ENV and `WEBHOOK_SECRET` (TEST_SIGNING_SECRET). */
  readonly env?: Readonly<Record<string, string>>;
  /** Set over FAST_WORKFLOW's wait times (a short `WaitGracePeriod`, say). */
  readonly waitTimeOverrides?: Readonly<Record<string, number>>;
  /** Replaces the test fixture (the fleet fixture, say). */
  readonly simulatorFixture?: SimulatorFixture;
}

/**
 * The local stack as end-to-end tests run it: the test fixture in the simulator, fast workflow
 * timings, and requests signed with TEST_SIGNING_SECRET.
 */
export function startTestStack(options: TestStackOptions = {}): Promise<LocalStack> {
  return startLocalStack({
    env: { ...TEST_ENV, WEBHOOK_SECRET: TEST_SIGNING_SECRET, ...options.env },
    simulatorFixture: options.simulatorFixture ?? testFixture(),
    ...FAST_WORKFLOW,
    waitTimeOverrides: { ...FAST_WORKFLOW.waitTimeOverrides, ...options.waitTimeOverrides },
  });
}

/** A JSON answer of the local API. */
export interface SignedResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** An action requested over the signed API: its id, the exact body sent and its webhook-id. */
export interface SubmittedAction {
  readonly actionId: string;
  readonly body: string;
  readonly messageId: string;
}

export interface LocalStackHarness {
  /** The running stack; from `beforeAll` on. */
  readonly stack: LocalStack;
  /** Sends a signed request to the API: POST with a body, GET without. */
  signed(path: string, body?: string, messageId?: string): Promise<SignedResponse>;
  /** Requests an action (the harness's reason, requested by requester@example.com); 202 expected. */
  submit(action: Record<string, unknown>): Promise<SubmittedAction>;
  /** As `submit`, the action id alone. */
  request(action: Record<string, unknown>): Promise<string>;
  /** Waits for the action's workflow to end; its record. */
  finished(actionId: string): Promise<ActionRecord>;
  /** Polls until the action is held for approval; its record then. */
  awaitingApproval(actionId: string): Promise<ActionRecord>;
  /** The simulator's recorded Citrix calls that `match`. */
  calls(match: (request: RecordedRequest) => boolean): RecordedRequest[];
}

/**
 * Starts a test stack for the file (`beforeAll`), closes it after (`afterAll`) and resets the
 * simulator before each test; the helpers talk to it over signed HTTP.
 */
export function useLocalStack(options: TestStackOptions & { reason: string }): LocalStackHarness {
  let running: LocalStack | undefined;
  const stack = (): LocalStack => {
    if (running === undefined) throw new Error('the local stack is not running');
    return running;
  };
  beforeAll(async () => {
    running = await startTestStack(options);
  });
  afterAll(async () => running?.close());
  beforeEach(() => stack().simulator?.reset());

  const signed = async (path: string, body = '', messageId = `msg_${randomUUID()}`) => {
    const headers = signStandardWebhook(TEST_SIGNING_SECRET, messageId, new Date(), body);
    const response = await fetch(`${stack().apiUrl}${path}`, {
      method: body ? 'POST' : 'GET',
      headers: { ...headers, 'content-type': 'application/json' },
      ...(body ? { body } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  const submit = async (action: Record<string, unknown>) => {
    const body = JSON.stringify({
      reason: options.reason,
      requestedBy: 'requester@example.com',
      ...action,
    });
    const messageId = `msg_${randomUUID()}`;
    const response = await signed('/v1/actions', body, messageId);
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    return { actionId: String(response.body.actionId), body, messageId };
  };

  return {
    get stack() {
      return stack();
    },
    signed,
    submit,
    request: async (action) => (await submit(action)).actionId,
    finished: async (actionId) => {
      await stack().runner.execution(actionId)?.done;
      const record = await stack().actions.get(actionId);
      if (record === undefined) throw new Error('no record');
      return record;
    },
    awaitingApproval: async (actionId) => {
      for (let i = 0; i < 300; i += 1) {
        const record = await stack().actions.get(actionId);
        if (record?.status === 'awaiting_approval') return record;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error('never awaited approval');
    },
    calls: (match) => (stack().simulator?.requests() ?? []).filter(match),
  };
}
