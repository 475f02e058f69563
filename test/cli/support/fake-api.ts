import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { ActionViewAnswer } from '../../../cli/answers.ts';
import type { CliIo } from '../../../cli/io.ts';
import { main } from '../../../cli/main.ts';
import type { ActionStatus } from '../../../lib/actions/schema.ts';
import {
  type LoopbackServer,
  type RecordedRequest,
  useLoopbackServers,
} from '../../support/loopback-server.ts';

/** The people the fake API knows, by access key id (as LOCAL_PEOPLE does for `npm start`). */
export const FAKE_PEOPLE = {
  'soc.lead': {
    accessKeyId: 'AKIAFAKESOCLEAD00001',
    secretAccessKey: 'fake-secret-soc-lead-9f8e7d6c',
  },
  'it.manager': {
    accessKeyId: 'AKIAFAKEITMANAGER002',
    secretAccessKey: 'fake-secret-it-manager-1a2b3c',
  },
} as const;
export type FakePerson = keyof typeof FAKE_PEOPLE;

/** A request the fake received, and who signed it (undefined: the signature did not verify). */
export interface SignedRequest extends RecordedRequest {
  readonly person: FakePerson | undefined;
  readonly json: Record<string, unknown> | undefined;
}

export type FakeAnswer = { readonly status: number; readonly body: unknown };

const SIGNATURE =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/;

/**
 * Who signed the request, checked the way API Gateway checks it: the signature is computed again
 * with @smithy/signature-v4 over the headers it names, the person's secret and its date.
 */
export async function verifiedSigner(request: RecordedRequest): Promise<FakePerson | undefined> {
  const authorization = String(request.headers.authorization ?? '');
  const match = SIGNATURE.exec(authorization);
  if (match === null) return undefined;
  const [, accessKeyId, , region, service, signedHeaders] = match;
  const person = (Object.keys(FAKE_PEOPLE) as FakePerson[]).find(
    (name) => FAKE_PEOPLE[name].accessKeyId === accessKeyId,
  );
  if (person === undefined || service !== 'execute-api' || region === undefined) return undefined;
  const names = (signedHeaders ?? '').split(';');
  const headers = Object.fromEntries(
    names.map((name) => [name, String(request.headers[name] ?? '')]),
  );
  const host = String(request.headers.host);
  const query: Record<string, string> = {};
  for (const [name, value] of request.query) query[name] = value;
  const unsigned = new HttpRequest({
    method: request.method,
    protocol: 'http:',
    hostname: host.split(':')[0] ?? '',
    path: request.path,
    query,
    headers,
    ...(request.body === '' ? {} : { body: request.body }),
  });
  const amzDate = String(request.headers['x-amz-date']);
  const signingDate = new Date(
    amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
  );
  const signer = new SignatureV4({
    service,
    region,
    credentials: FAKE_PEOPLE[person],
    sha256: Hash.bind(null, 'sha256'),
  });
  const resigned = await signer.sign(unsigned, { signingDate, signableHeaders: new Set(names) });
  return resigned.headers.authorization === authorization ? person : undefined;
}

function answer(response: ServerResponse, { status, body }: FakeAnswer): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

export interface FakeApi {
  readonly server: LoopbackServer;
  /** Every request, with who signed it. */
  readonly requests: SignedRequest[];
}

/**
 * A loopback stand-in for the API: refuses what does not verify (403 `{"message"}`, as API
 * Gateway does) and lets `route` answer the rest. Servers close after each test.
 */
export function useFakeApi(): (route: (request: SignedRequest) => FakeAnswer) => Promise<FakeApi> {
  const start = useLoopbackServers();
  return async (route) => {
    const requests: SignedRequest[] = [];
    const server = await start(async (recorded, response) => {
      const person = await verifiedSigner(recorded);
      const json =
        recorded.body === '' ? undefined : (JSON.parse(recorded.body) as Record<string, unknown>);
      const request = { ...recorded, person, json };
      requests.push(request);
      if (person === undefined) {
        answer(response, {
          status: 403,
          body: {
            message:
              'The request signature we calculated does not match the signature you provided.',
          },
        });
        return;
      }
      answer(response, route(request));
    });
    return { server, requests };
  };
}

/** A view as `GET /v1/actions/{actionId}` answers it. */
export function viewOf(
  overrides: Partial<ActionViewAnswer> & { status: ActionStatus },
): ActionViewAnswer {
  return {
    actionId: 'act_0123456789abcdef0123456789abcdef',
    action: 'session.logoff',
    target: { user: 'alice@example.com' },
    reason: 'Rehearsal',
    dryRun: false,
    createdAt: '2026-03-01T10:00:00.000Z',
    updatedAt: '2026-03-01T10:00:05.000Z',
    results: [],
    timeline: [],
    ...overrides,
  };
}

export const ACTION_ID = 'act_0123456789abcdef0123456789abcdef';

/** What a run of the CLI printed, and its exit code. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Environment besides the person's keys. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Who signs (their keys in AWS_ACCESS_KEY_ID…): a fake person, keys, or none (null). */
  readonly person?:
    | FakePerson
    | { readonly accessKeyId: string; readonly secretAccessKey: string }
    | null;
  /** How the CLI waits between polls: not at all, unless a real server needs the time. */
  readonly sleep?: (milliseconds: number) => Promise<void>;
  /** A terminal on every stream (prompts, bars, colour). */
  readonly tty?: boolean;
  /** What the person types, line by line. */
  readonly input?: readonly string[];
  readonly fetch?: typeof fetch;
}

/** Runs `citrix-response <argv>` in this process, with its own streams; never waits between polls. */
export async function runCli(argv: readonly string[], options: RunOptions = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const tty = options.tty === true;
  const person = options.person === undefined ? 'soc.lead' : options.person;
  const credentials = typeof person === 'string' ? FAKE_PEOPLE[person] : person;
  const keys =
    credentials === null
      ? {}
      : {
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        };
  const stdin = Object.assign(Readable.from((options.input ?? []).map((line) => `${line}\n`)), {
    isTTY: tty,
  });
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text), isTTY: tty },
    stderr: { write: (text: string) => (stderr += text), isTTY: tty },
    stdin,
    env: {
      PATH: process.env.PATH,
      XDG_CONFIG_HOME: '/nonexistent/citrix-response-test',
      ...keys,
      ...options.env,
    },
    sleep: options.sleep ?? (async () => {}),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** An action request the fake actions API accepted, with the id it gave it. */
export interface AcceptedRequest {
  readonly actionId: string;
  readonly body: Record<string, unknown>;
  readonly idempotencyKey: string | undefined;
  readonly person: FakePerson | undefined;
}

/**
 * The routes of the actions API over an in-memory store: `POST /v1/actions` accepts (a new id per
 * idempotency key) and `outcome` says how the action ends; `GET /v1/actions/{id}` shows it.
 */
export function fakeActions(
  outcome: (body: Record<string, unknown>, actionId: string) => ActionViewAnswer,
) {
  const accepted: AcceptedRequest[] = [];
  const views = new Map<string, ActionViewAnswer>();
  const route = (request: SignedRequest): FakeAnswer => {
    if (request.method === 'POST' && request.path === '/v1/actions') {
      const idempotencyKey = request.headers['idempotency-key'] as string | undefined;
      const again = accepted.find((earlier) => earlier.idempotencyKey === idempotencyKey);
      if (again !== undefined) {
        return {
          status: 202,
          body: { actionId: again.actionId, status: 'accepted', duplicate: true },
        };
      }
      const actionId = `act_${String(accepted.length + 1).padStart(32, '0')}`;
      const body = request.json ?? {};
      accepted.push({ actionId, body, idempotencyKey, person: request.person });
      views.set(actionId, { ...outcome(body, actionId), actionId });
      return {
        status: 202,
        body: {
          actionId,
          status: 'accepted',
          statusUrl: `/v1/actions/${actionId}`,
          duplicate: false,
        },
      };
    }
    const view = views.get(request.path.split('/')[3] ?? '');
    if (request.method === 'GET' && view !== undefined) return { status: 200, body: view };
    return { status: 404, body: { error: { code: 'not_found', message: `No ${request.path}` } } };
  };
  return { route, accepted, views };
}
