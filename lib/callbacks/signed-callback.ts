import { LOOPBACK_HOSTS } from '../citrix/config.ts';
import { CitrixApiError, CitrixTimeoutError } from '../citrix/errors.ts';
import { fetchWithRetry, isSuccessStatus, type RetryingFetchOptions } from '../citrix/http.ts';
import { signStandardWebhook } from '../webhooks/standard-webhooks.ts';

/** The operator's callback destinations are not usable; the message names the bad entry. */
export class CallbackConfigurationError extends Error {
  override name = 'CallbackConfigurationError';
}

/** A callback named a destination the operator did not configure. Never retried. */
export class UnknownCallbackError extends Error {
  override name = 'UnknownCallbackError';
  readonly destination: string;

  constructor(destination: string) {
    super(
      `no callback destination named ${JSON.stringify(destination.slice(0, 64))} is configured`,
    );
    this.destination = destination;
  }
}

/**
 * The receiver did not answer 2xx, after retries where retrying could help. The message names the
 * destination and its origin only: a path or query may carry the receiver's own token.
 */
export class CallbackDeliveryError extends Error {
  override name = 'CallbackDeliveryError';
  readonly destination: string;
  /** The last HTTP status; undefined when no response came back (timeout, network failure). */
  readonly status: number | undefined;
  readonly attempts: number;

  constructor(
    details: { destination: string; status: number | undefined; attempts: number },
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.destination = details.destination;
    this.status = details.status;
    this.attempts = details.attempts;
  }
}

const DESTINATION_NAME = /^[a-z0-9-]{1,40}$/;

/**
 * The destinations an action may ask to be called back at, by name, from the operator's
 * configuration (e.g. `{"soar":"https://soar.example.com/hooks/citrix"}`). A request only ever
 * names one, so it can never point a callback at an address of its choosing. Unset or empty: none.
 */
export function parseCallbackDestinations(json: string | undefined): ReadonlyMap<string, URL> {
  const destinations = new Map<string, URL>();
  if (json === undefined || json.trim() === '') return destinations;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new CallbackConfigurationError(
      'callback destinations must be a JSON object of name to URL',
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CallbackConfigurationError(
      'callback destinations must be a JSON object of name to URL',
    );
  }
  for (const [name, value] of Object.entries(parsed)) {
    if (!DESTINATION_NAME.test(name)) {
      throw new CallbackConfigurationError(
        `callback destination name ${JSON.stringify(name.slice(0, 64))} must be 1-40 characters of a-z, 0-9 and -`,
      );
    }
    destinations.set(name, parseDestinationUrl(name, value));
  }
  return destinations;
}

// Errors name the entry and at most its origin: the path or query may hold the receiver's token.
function parseDestinationUrl(name: string, value: unknown): URL {
  if (typeof value !== 'string') {
    throw new CallbackConfigurationError(`callback destination "${name}" must be a URL string`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CallbackConfigurationError(`callback destination "${name}" is not a valid URL`);
  }
  const loopback = url.protocol === 'http:' && LOOPBACK_HOSTS.includes(url.hostname);
  if (url.protocol !== 'https:' && !loopback) {
    throw new CallbackConfigurationError(
      `callback destination "${name}" must be https (http only for a loopback test receiver), got ${url.protocol}//${url.host}`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new CallbackConfigurationError(
      `callback destination "${name}" must not carry credentials in its URL`,
    );
  }
  if (url.hash !== '') {
    // Never sent to the receiver, so it can only mislead whoever reads the configuration.
    throw new CallbackConfigurationError(`callback destination "${name}" must not have a fragment`);
  }
  return url;
}

export interface SignedCallbackSenderOptions extends RetryingFetchOptions {
  readonly destinations: ReadonlyMap<string, URL>;
  /** The Standard Webhooks secret: `whsec_` + base64, or raw key bytes; resolved per send. */
  readonly signingSecret: () => Promise<string>;
}

// Sent as the webhook-id header: visible ASCII only, so it cannot split headers.
const MESSAGE_ID = /^[\x21-\x7e]{1,200}$/;

/** Posts JSON signed per Standard Webhooks to a configured destination. */
export class SignedCallbackSender {
  readonly #options: SignedCallbackSenderOptions;

  constructor(options: SignedCallbackSenderOptions) {
    this.#options = options;
  }

  /**
   * `messageId` is the `webhook-id` of every attempt, so the receiver can drop a repeat; each
   * attempt is signed afresh with its own timestamp, so a late retry is not refused as stale.
   */
  async send(
    name: string,
    payload: unknown,
    messageId: string,
  ): Promise<{ status: number; attempts: number }> {
    const url = this.#options.destinations.get(name);
    if (url === undefined) throw new UnknownCallbackError(name);
    if (typeof messageId !== 'string' || !MESSAGE_ID.test(messageId)) {
      throw new TypeError('a callback message id must be 1-200 visible ASCII characters');
    }
    const body = JSON.stringify(payload);
    if (body === undefined) throw new TypeError('a callback payload must be JSON-serialisable');
    const secret = await this.#options.signingSecret();
    if (secret === '') throw new CallbackConfigurationError('the callback signing secret is empty');
    const now = this.#options.now ?? Date.now;

    let attempts = 0;
    const failure = (status: number | undefined, reason: string, options?: ErrorOptions) =>
      new CallbackDeliveryError(
        { destination: name, status, attempts },
        `callback "${name}" to ${url.origin} ${reason} after ${attempts} attempt${attempts === 1 ? '' : 's'}`,
        options,
      );

    let status: number;
    try {
      const raw = await fetchWithRetry(
        {
          method: 'POST',
          // Only for fetchWithRetry's own bookkeeping; never shown (it may hold a token).
          path: '/',
          url,
          headers: () => ({
            'Content-Type': 'application/json',
            ...signStandardWebhook(secret, messageId, new Date(now()), body),
          }),
          body,
          onCall: () => {
            attempts += 1;
          },
        },
        this.#options,
      );
      status = raw.status;
    } catch (error) {
      // fetchWithRetry speaks in Citrix errors, whose messages name the path: re-told here.
      if (error instanceof CitrixApiError)
        throw failure(error.status, `failed with ${error.status}`);
      if (error instanceof CitrixTimeoutError) {
        throw failure(undefined, 'timed out or failed to connect', { cause: error.cause });
      }
      throw error;
    }
    if (status >= 300 && status <= 399) {
      throw failure(status, `answered a redirect (${status}), which is not followed,`);
    }
    if (!isSuccessStatus(status)) throw failure(status, `failed with ${status}`);
    return { status, attempts };
  }
}
