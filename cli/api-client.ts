import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type * as z from 'zod';
import {
  type AcceptedAnswer,
  AcceptedAnswerSchema,
  type ActionListAnswer,
  ActionListAnswerSchema,
  type ActionViewAnswer,
  ActionViewAnswerSchema,
  type DecisionAnswer,
  DecisionAnswerSchema,
  ErrorAnswerSchema,
} from './answers.ts';
import {
  type CredentialsOrigin,
  describeCredentials,
  type PersonCredentials,
} from './credentials.ts';

/** The service name API Gateway verifies SigV4 signatures for (`npm start` too). */
export const SIGNING_SERVICE = 'execute-api';

/** The API answered with an error (4xx or 5xx): its code, message and the fields it named. */
export class ApiAnswerError extends Error {
  override name = 'ApiAnswerError';
  readonly status: number;
  readonly code: string;
  readonly fields: readonly { readonly field: string; readonly message: string }[];

  constructor(
    status: number,
    code: string,
    message: string,
    fields: readonly { readonly field: string; readonly message: string }[] = [],
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

/** The API refused the signature or the person (API Gateway's `403 {"message"}`). */
export class SignatureRefusedError extends Error {
  override name = 'SignatureRefusedError';
}

/** Nothing answered at the API's address. */
export class ApiUnreachableError extends Error {
  override name = 'ApiUnreachableError';
}

/** The API answered something this CLI cannot read (not JSON, or not the documented shape). */
export class UnexpectedAnswerError extends Error {
  override name = 'UnexpectedAnswerError';
}

export type Decision = 'approve' | 'reject';

/** `GET /v1/actions` filters and paging, as the query string takes them. */
export interface ListFilters {
  readonly status?: string | undefined;
  readonly action?: string | undefined;
  readonly target?: string | undefined;
  readonly since?: string | undefined;
  readonly ticket?: string | undefined;
  readonly limit?: string | undefined;
  readonly nextToken?: string | undefined;
}

export interface ApiClientOptions {
  /** The API's base URL, e.g. `http://127.0.0.1:3000` or `https://…/prod/`. */
  readonly baseUrl: URL;
  readonly region: string;
  readonly credentials: PersonCredentials;
  readonly fetch: typeof fetch;
  readonly sleep: (milliseconds: number) => Promise<void>;
}

interface SendOptions {
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  /** Sent as `Idempotency-Key`; a retry of the request sends the same one. */
  readonly idempotencyKey?: string;
}

/** Answers worth another try of the same request (the same idempotency key). */
const RETRIED_STATUSES = new Set([429, 502, 503, 504]);
/** Waits before the 2nd and 3rd attempt. */
const RETRY_DELAYS_MS = [1000, 3000] as const;

/** RFC 3986 query encoding, as SigV4 canonicalizes it (`encodeURIComponent` leaves `!'()*`). */
const encodeQueryPart = (text: string) =>
  encodeURIComponent(text).replace(
    /[!'()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );

/**
 * The Citrix Response HTTP API, every request signed with SigV4 (service `execute-api`) as the
 * person whose credentials the chain found: API Gateway (`AWS_IAM`) or `npm start` verifies it.
 */
export class ApiClient {
  readonly #options: ApiClientOptions;
  readonly #signer: SignatureV4;
  /** The access key id of the last request signed, for the error that names who was refused. */
  #signedWith: string | undefined;

  constructor(options: ApiClientOptions) {
    this.#options = options;
    this.#signer = new SignatureV4({
      service: SIGNING_SERVICE,
      region: options.region,
      credentials: async () => {
        const credentials = await options.credentials.provide();
        this.#signedWith = credentials.accessKeyId;
        return credentials;
      },
      sha256: Hash.bind(null, 'sha256'),
    });
  }

  get baseUrl(): URL {
    return this.#options.baseUrl;
  }

  get credentialsOrigin(): CredentialsOrigin {
    return this.#options.credentials.origin;
  }

  /** `POST /v1/actions`: the request is accepted (202) and runs on. */
  submit(
    request: Readonly<Record<string, unknown>>,
    idempotencyKey: string,
  ): Promise<AcceptedAnswer> {
    return this.#send('POST', 'v1/actions', AcceptedAnswerSchema, {
      body: request,
      idempotencyKey,
    });
  }

  /** `GET /v1/actions/{actionId}`: the action's view, with its timeline. */
  view(actionId: string): Promise<ActionViewAnswer> {
    return this.#send('GET', `v1/actions/${encodeURIComponent(actionId)}`, ActionViewAnswerSchema);
  }

  /** `GET /v1/actions`: one page of actions, newest first. */
  list(filters: ListFilters): Promise<ActionListAnswer> {
    const query = Object.fromEntries(
      Object.entries(filters).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    return this.#send('GET', 'v1/actions', ActionListAnswerSchema, { query });
  }

  /** `POST /v1/actions/{actionId}/approve` or `/reject`: the decider is the signing person. */
  decide(
    actionId: string,
    decision: Decision,
    comment: string | undefined,
  ): Promise<DecisionAnswer> {
    return this.#send(
      'POST',
      `v1/actions/${encodeURIComponent(actionId)}/${decision}`,
      DecisionAnswerSchema,
      { body: comment === undefined ? {} : { comment } },
    );
  }

  async #send<S extends z.ZodType>(
    method: 'GET' | 'POST',
    path: string,
    schema: S,
    options: SendOptions = {},
  ): Promise<z.output<S>> {
    // A base URL with a stage (`…/prod/`) keeps it: paths are relative to the base.
    const base = this.#options.baseUrl.href.endsWith('/')
      ? this.#options.baseUrl
      : new URL(`${this.#options.baseUrl.href}/`);
    const url = new URL(path, base);
    const query = options.query ?? {};
    const queryString = Object.entries(query)
      .map(([name, value]) => `${encodeQueryPart(name)}=${encodeQueryPart(value)}`)
      .join('&');
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    for (let attempt = 0; ; attempt += 1) {
      const response = await this.#attempt(method, url, query, queryString, body, options);
      const delay = RETRY_DELAYS_MS[attempt];
      const retry =
        delay !== undefined &&
        (response === 'network error' || RETRIED_STATUSES.has(response.status)) &&
        (method === 'GET' || options.idempotencyKey !== undefined);
      if (retry) {
        await this.#options.sleep(delay);
        continue;
      }
      if (response === 'network error') {
        throw new ApiUnreachableError(`The connection to ${this.#options.baseUrl.origin} broke`);
      }
      return this.#read(response, schema);
    }
  }

  /** One signed attempt; `network error` when the connection broke after it was made. */
  async #attempt(
    method: 'GET' | 'POST',
    url: URL,
    query: Readonly<Record<string, string>>,
    queryString: string,
    body: string | undefined,
    options: SendOptions,
  ): Promise<Response | 'network error'> {
    const request = new HttpRequest({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port === '' ? {} : { port: Number(url.port) }),
      path: url.pathname,
      query: { ...query },
      headers: {
        host: url.host,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.idempotencyKey === undefined
          ? {}
          : { 'idempotency-key': options.idempotencyKey }),
      },
      ...(body === undefined ? {} : { body }),
    });
    const signed = await this.#signer.sign(request);
    // fetch sets Host itself, from the URL: the same value that was signed.
    const { host: _host, ...headers } = signed.headers;
    const target = `${url.origin}${url.pathname}${queryString === '' ? '' : `?${queryString}`}`;
    try {
      return await this.#options.fetch(target, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
      });
    } catch (error) {
      const code = causeCode(error);
      if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
        throw new ApiUnreachableError(
          `Cannot reach ${this.#options.baseUrl.origin} (${code}): is \`npm start\` running? Otherwise pass --api <url>, set CITRIX_RESPONSE_API or run \`citrix-response configure\``,
          { cause: error },
        );
      }
      return 'network error';
    }
  }

  async #read<S extends z.ZodType>(response: Response, schema: S): Promise<z.output<S>> {
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch (error) {
      throw new UnexpectedAnswerError(
        `The API answered ${response.status} with a body that is not JSON`,
        { cause: error },
      );
    }
    if (!response.ok) throw this.#errorOf(response.status, json);
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(body)');
      throw new UnexpectedAnswerError(
        `The API's answer (${response.status}) is not what this CLI expects: ${[...new Set(fields)].join(', ')}`,
        { cause: parsed.error },
      );
    }
    return parsed.data;
  }

  #errorOf(status: number, json: unknown): Error {
    const answer = ErrorAnswerSchema.safeParse(json);
    const data = answer.success ? answer.data : undefined;
    if (data !== undefined && 'error' in data) {
      const { code, message, details, fields } = data.error;
      return new ApiAnswerError(status, code, message, details ?? fields ?? []);
    }
    const message = data?.message ?? `HTTP ${status}`;
    if (status === 401 || status === 403) {
      const who = describeCredentials(this.credentialsOrigin, this.#signedWith);
      return new SignatureRefusedError(
        `${status} ${message} (signed with ${who}). Choose the person with --profile <name> or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; locally, \`npm start\` prints the people of LOCAL_PEOPLE`,
      );
    }
    return new ApiAnswerError(status, `http_${status}`, message);
  }
}

/** The system error code under fetch's `TypeError: fetch failed`, e.g. `ECONNREFUSED`. */
function causeCode(error: unknown): string | undefined {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('E')) return code;
    // AggregateError (IPv4 and IPv6 both refused) holds its causes in `errors`.
    const first = (cause as { errors?: unknown[] }).errors?.[0];
    if (first instanceof Error) return causeCode(first);
  }
  return undefined;
}
