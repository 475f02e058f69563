import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import type { ActionRecord } from '../../lib/actions/schema.ts';
import type { SimulatorFixture } from '../../local/simulator/fixture.ts';
import type { RecordedRequest } from '../../local/simulator/server.ts';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import {
  type SigV4Credentials,
  sigV4Headers,
  TEST_PEOPLE,
  TEST_SIGNING_SECRET,
  type TestPerson,
} from './signed-request.ts';
import { FAST_WORKFLOW, TEST_ENV, testFixture } from './simulator-fixture.ts';

export interface TestStackOptions {
  /** Set over TEST_ENV, `WEBHOOK_SECRET` (TEST_SIGNING_SECRET) and `LOCAL_PEOPLE` (TEST_PEOPLE). */
  readonly env?: Readonly<Record<string, string>>;
  /** Set over FAST_WORKFLOW's wait times (a short `WaitGracePeriod`, say). */
  readonly waitTimeOverrides?: Readonly<Record<string, number>>;
  /** Replaces the test fixture (the fleet fixture, say). */
  readonly simulatorFixture?: SimulatorFixture;
}

/**
 * The local stack as end-to-end tests run it: the test fixture in the simulator, fast workflow
 * timings, the test people (TEST_PEOPLE) and the Standard Webhooks secret TEST_SIGNING_SECRET.
 */
export function startTestStack(options: TestStackOptions = {}): Promise<LocalStack> {
  return startLocalStack({
    env: {
      ...TEST_ENV,
      WEBHOOK_SECRET: TEST_SIGNING_SECRET,
      LOCAL_PEOPLE: JSON.stringify(TEST_PEOPLE),
      ...options.env,
    },
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

/** An action requested over the API: its id, the exact body sent and its Idempotency-Key. */
export interface SubmittedAction {
  readonly actionId: string;
  readonly body: string;
  readonly idempotencyKey: string | undefined;
}

export interface SignedRequestOptions {
  /** The person who signs (default requester@example.com). */
  readonly as?: TestPerson;
  readonly idempotencyKey?: string;
}

export interface SigV4FetchOptions {
  /** POST with this body; GET without. */
  readonly body?: string;
  /** The person who signs (default requester@example.com of TEST_PEOPLE). */
  readonly credentials?: SigV4Credentials;
  readonly signingDate?: Date;
  /** Sent instead of `body` after signing `body`: a tampered request. */
  readonly sentBody?: string;
  readonly headers?: Record<string, string>;
}

/** A request to `url` SigV4-signed (service execute-api) as the CLI signs it; the raw answer. */
export async function sigV4Fetch(url: string, options: SigV4FetchOptions = {}): Promise<Response> {
  const body = options.body ?? '';
  const method = body ? 'POST' : 'GET';
  const signed = await sigV4Headers(url, {
    method,
    body,
    credentials: options.credentials ?? TEST_PEOPLE['requester@example.com'],
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...options.headers },
    ...(options.signingDate ? { signingDate: options.signingDate } : {}),
  });
  // fetch sets `host` itself, from the URL: the same value as signed.
  const { host: _host, ...sent } = signed;
  const sentBody = options.sentBody ?? body;
  return fetch(url, { method, headers: sent, ...(sentBody ? { body: sentBody } : {}) });
}

/** As `sigV4Fetch` to the local API's `path`, with its JSON answer. */
export async function signedRequest(
  apiUrl: string,
  path: string,
  credentials: SigV4Credentials,
  body = '',
  headers: Record<string, string> = {},
): Promise<SignedResponse> {
  const response = await sigV4Fetch(`${apiUrl}${path}`, { body, credentials, headers });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export interface LocalStackHarness {
  /** The running stack; from `beforeAll` on. */
  readonly stack: LocalStack;
  /** Sends a SigV4-signed request to the API as a test person: POST with a body, GET without. */
  signed(path: string, body?: string, options?: SignedRequestOptions): Promise<SignedResponse>;
  /** Requests an action (the harness's reason) as requester@example.com; 202 expected. */
  submit(action: Record<string, unknown>, options?: SignedRequestOptions): Promise<SubmittedAction>;
  /** As `submit`, the action id alone. */
  request(action: Record<string, unknown>): Promise<string>;
  /** Approves or rejects an action, by approver@example.com unless `as` says otherwise. */
  decide(
    actionId: string,
    decision: 'approve' | 'reject',
    body?: Record<string, unknown>,
    as?: TestPerson,
  ): Promise<SignedResponse>;
  /** Waits for the action's workflow to end; its record. */
  finished(actionId: string): Promise<ActionRecord>;
  /** Polls until the action is held for approval; its record then. */
  awaitingApproval(actionId: string): Promise<ActionRecord>;
  /** The simulator's recorded Citrix calls that `match`. */
  calls(match: (request: RecordedRequest) => boolean): RecordedRequest[];
}

/**
 * Starts a test stack for the file (`beforeAll`), closes it after (`afterAll`) and resets the
 * simulator before each test; the helpers talk to it over SigV4-signed HTTP as the test people.
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

  const signed = (path: string, body = '', signedOptions: SignedRequestOptions = {}) =>
    signedRequest(
      stack().apiUrl,
      path,
      TEST_PEOPLE[signedOptions.as ?? 'requester@example.com'],
      body,
      signedOptions.idempotencyKey ? { 'idempotency-key': signedOptions.idempotencyKey } : {},
    );

  const submit = async (action: Record<string, unknown>, submitOptions?: SignedRequestOptions) => {
    const body = JSON.stringify({ reason: options.reason, ...action });
    const response = await signed('/v1/actions', body, submitOptions);
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    return {
      actionId: String(response.body.actionId),
      body,
      idempotencyKey: submitOptions?.idempotencyKey,
    };
  };

  return {
    get stack() {
      return stack();
    },
    signed,
    submit,
    request: async (action) => (await submit(action)).actionId,
    decide: (actionId, decision, body = {}, as = 'approver@example.com') =>
      signed(`/v1/actions/${actionId}/${decision}`, JSON.stringify(body), { as }),
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
