import { createHash, randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DynamoDBDocumentClient,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { isTransientDynamoDbError } from '../runtime/dynamodb-errors.ts';

/** What an audit entry records; `details` holds the matching shape of AuditDetailsByType. */
export const AUDIT_EVENT_TYPES = [
  'request',
  'decision',
  'citrix_call',
  'target_outcome',
  'notification',
] as const;
export const AuditEventTypeSchema = z.enum(AUDIT_EVENT_TYPES);
export type AuditEventType = z.infer<typeof AuditEventTypeSchema>;

export const AUDIT_DECISIONS = [
  'accepted',
  'ignored',
  'refused',
  'held',
  'approved',
  'rejected',
  'expired',
  'planned',
] as const;
export type AuditDecision = (typeof AUDIT_DECISIONS)[number];

/** `request`: a request arrived; the payload itself is never stored, only its digest. */
export type RequestAuditDetails = {
  source: string;
  identity: string;
  /** `sha256:<hex>` of the raw body, see payloadDigest. */
  payloadDigest: string;
};

/** `decision`: what was decided about the action, by whom (approver) and why. */
export type DecisionAuditDetails = {
  decision: AuditDecision;
  by?: string;
  reasons?: readonly string[];
  /** Approve/reject: the Standard Webhooks message id of the signed request that decided. */
  webhookId?: string;
  /** Approve/reject: the same decision sent again because resuming the workflow had failed. */
  repeated?: boolean;
};

/** `citrix_call`: one HTTP attempt against a Citrix API (a CitrixCallRecord). */
export type CitrixCallAuditDetails = {
  method: string;
  /** Never carries a query string. */
  path: string;
  status?: number;
  transactionId?: string;
  durationMs: number;
  attempt: number;
  error?: string;
};

/** `target_outcome`: how one target (session, device, administrator) ended. */
export type TargetOutcomeAuditDetails = {
  target: string | Readonly<Record<string, unknown>>;
  outcome: string;
  error?: string;
};

/** `notification`: a work note or callback sent about the action. */
export type NotificationAuditDetails = {
  channel: string;
  destination: string;
  status: string;
};

export interface AuditDetailsByType {
  request: RequestAuditDetails;
  decision: DecisionAuditDetails;
  citrix_call: CitrixCallAuditDetails;
  target_outcome: TargetOutcomeAuditDetails;
  notification: NotificationAuditDetails;
}

export const AUDIT_SUMMARY_MAX = 500;

/**
 * A summary the audit log takes, however long what it quotes (an alert's title, a principal's
 * name, a comment): control characters become spaces and text past AUDIT_SUMMARY_MAX is cut,
 * marked `…`, never leaving half a surrogate pair. The entry's details keep the whole text.
 */
export function auditSummary(text: string): string {
  const cleaned = text.replace(/\p{Cc}+/gu, ' ');
  if (cleaned.length <= AUDIT_SUMMARY_MAX) return cleaned;
  const cut = cleaned.slice(0, AUDIT_SUMMARY_MAX - 1).replace(/[\uD800-\uDBFF]$/, '');
  return `${cut}…`;
}

/**
 * One line of an action's audit trail. `details` is stored as given after sanitizeAuditDetails;
 * its shape per `type` is documented by AuditDetailsByType (not enforced, so that old entries
 * stay readable when a shape grows).
 */
export const AuditEntrySchema = z.strictObject({
  actionId: z.string().min(1).max(256),
  /** UTC ISO 8601 (`Z`); entries sort by it. */
  at: z.iso.datetime(),
  type: AuditEventTypeSchema,
  summary: z.string().min(1).max(AUDIT_SUMMARY_MAX),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

/** An action's audit trail: entries are only ever added, and read back in time order. */
export interface AuditLog {
  append(entries: readonly AuditEntry[]): Promise<void>;
  /** Oldest first, at most `limit` (default 1000) entries. */
  timeline(actionId: string, limit?: number): Promise<AuditEntry[]>;
}

/**
 * Audit entries a task collected and could not write (the audit table was unreachable, or an
 * entry was refused): the action's timeline lacks them, so the action itself says so.
 */
export const AuditFailureSchema = z.object({
  at: z.iso.datetime(),
  /** How many entries were lost, and of which types. */
  entries: z.int().min(1),
  types: z.array(AuditEventTypeSchema),
  error: z.object({ name: z.string(), message: z.string() }),
});
export type AuditFailure = z.infer<typeof AuditFailureSchema>;

/** An action keeps this many audit failures at most: past them the timeline is plainly unreliable. */
export const MAX_AUDIT_FAILURES_PER_ACTION = 20;

/** Notes on an action that some of its audit entries could not be written. */
export interface AuditFailureRecorder {
  recordAuditFailure(actionId: string, failure: AuditFailure): Promise<void>;
}

export class AuditLogError extends Error {
  override name = 'AuditLogError';
}

/** DynamoDB was throttled or unreachable: safe to retry. */
export class AuditLogUnavailableError extends AuditLogError {
  override name = 'AuditLogUnavailableError';
}

/** A stored entry no longer matches the schema (its contents are never echoed). */
export class AuditLogCorruptError extends AuditLogError {
  override name = 'AuditLogCorruptError';
}

/** An entry handed to append does not match the schema: a bug in the caller, never retried. */
export class InvalidAuditEntryError extends AuditLogError {
  override name = 'InvalidAuditEntryError';
}

/** `sha256:<hex>` of a raw request body: proves which payload was received without storing it. */
export function payloadDigest(rawBody: string): string {
  return `sha256:${createHash('sha256').update(rawBody, 'utf8').digest('hex')}`;
}

// ---------------------------------------------------------------------------------------------
// Sanitization

const REDACTED = '[redacted]';
const TRUNCATED = '[truncated]';
const MAX_STRING = 2000;
const MAX_DEPTH = 6;
const MAX_ITEMS = 100;
/** Keeps an entry well below DynamoDB's 400 KB item limit. */
const MAX_DETAILS_CHARS = 32_000;

/**
 * A key is secret when, lower-cased and without `_`/`-`, it contains one of these (so `token`,
 * `taskToken`, `access_token`, `client-secret`, `x-api-key`, `Authorization` all match).
 */
const SECRET_KEY_PARTS = [
  'token',
  'password',
  'passwd',
  'secret',
  'authorization',
  'apikey',
  'signature',
  'cookie',
  'privatekey',
  'credential',
];

/** Keys whose values are paths or URLs: query strings and fragments may carry secrets. */
const LOCATION_KEYS = new Set(['path', 'url', 'uri', 'href', 'destination', 'endpoint']);

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[_-]/g, '');
}

function isSecretKey(key: string): boolean {
  const normalized = normalizeKey(key);
  return SECRET_KEY_PARTS.some((part) => normalized.includes(part));
}

/** `/a/b?x=1#f` → `/a/b`; `https://user:pw@host/p?q` → `https://host/p`. */
export function stripQuery(location: string): string {
  const [withoutQuery = ''] = location.split(/[?#]/, 1);
  return withoutQuery.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

// Credentials that can turn up inside free text (error messages, headers copied into a string).
const BEARER_OR_BASIC = /\b(bearer|basic)(\s*=\s*|\s+)[A-Za-z0-9._~+/-]{16,}=*/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;

/** Redacts bearer/basic credentials and JWTs inside text. */
export function redactSecretsInText(text: string): string {
  return text.replace(BEARER_OR_BASIC, `$1$2${REDACTED}`).replace(JWT, REDACTED);
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function sanitizeString(text: string): string {
  return truncate(redactSecretsInText(text), MAX_STRING);
}

/**
 * Makes `details` safe and storable before it reaches the audit table: values under secret-looking
 * keys become '[redacted]'; bearer tokens and JWTs inside strings are redacted; path/URL values
 * lose their query strings; strings are cut at 2000 characters; objects nested more than 6 deep
 * (details counts as one) and arrays/objects beyond 100 items are cut; values DynamoDB cannot
 * hold (functions, symbols, NaN, class instances) become plain data; details over 32,000
 * characters of JSON are replaced by a marker. Idempotent.
 */
export function sanitizeAuditDetails(
  details: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const sanitized = sanitizeObject(details, 1, new WeakSet());
  if (JSON.stringify(sanitized).length > MAX_DETAILS_CHARS) {
    return { [TRUNCATED]: `details exceeded ${MAX_DETAILS_CHARS} characters` };
  }
  return sanitized;
}

function sanitizeObject(
  object: object,
  depth: number,
  ancestors: WeakSet<object>,
): Record<string, unknown> {
  ancestors.add(object);
  const result: Record<string, unknown> = {};
  const entries = object instanceof Map ? [...object.entries()] : Object.entries(object);
  // One entry over the limit is tolerated, so that a second pass keeps the truncation marker.
  const maxKept = entries.length > MAX_ITEMS + 1 ? MAX_ITEMS : entries.length;
  let kept = 0;
  for (const [rawKey, value] of entries) {
    const key = String(rawKey);
    if (kept === maxKept) {
      result[TRUNCATED] = `${entries.length - MAX_ITEMS} more keys`;
      break;
    }
    let sanitized: unknown;
    if (value === undefined) continue;
    if (isSecretKey(key)) sanitized = REDACTED;
    else if (typeof value === 'string' && LOCATION_KEYS.has(normalizeKey(key))) {
      sanitized = sanitizeString(stripQuery(value));
    } else sanitized = sanitizeValue(value, depth, ancestors);
    if (sanitized === undefined) continue;
    result[key] = sanitized;
    kept += 1;
  }
  ancestors.delete(object);
  return result;
}

function sanitizeValue(value: unknown, depth: number, ancestors: WeakSet<object>): unknown {
  switch (typeof value) {
    case 'string':
      return sanitizeString(value);
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return null;
  if (typeof value !== 'object') return undefined;
  if (ancestors.has(value)) return '[circular]';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (ArrayBuffer.isView(value)) return `[binary ${value.byteLength} bytes]`;
  if (depth >= MAX_DEPTH) return TRUNCATED;
  if (value instanceof Error) {
    return { name: sanitizeString(value.name), message: sanitizeString(value.message) };
  }
  if (Array.isArray(value) || value instanceof Set) {
    const items = [...value];
    ancestors.add(value);
    // Arrays keep their positions: a value that cannot be stored becomes null.
    const kept = items.length > MAX_ITEMS + 1 ? MAX_ITEMS : items.length;
    const result = items
      .slice(0, kept)
      .map((item) => sanitizeValue(item, depth + 1, ancestors) ?? null);
    ancestors.delete(value);
    if (kept < items.length) result.push(`${TRUNCATED} ${items.length - kept} more`);
    return result;
  }
  return sanitizeObject(value, depth + 1, ancestors);
}

// ---------------------------------------------------------------------------------------------
// DynamoDB

/** The audit table as the CDK stack should define it. */
export const AUDIT_TABLE_KEYS = {
  partitionKey: 'actionId',
  sortKey: 'sortKey',
  timeToLiveAttribute: 'expiresAt',
} as const;

const BATCH_SIZE = 25;
const MAX_APPEND = 999_999;
/** BatchWriteItem calls of one append in flight at once. */
const CHUNKS_IN_FLIGHT = 4;
const DEFAULT_LIMIT = 1000;
const DEFAULT_RETENTION_DAYS = 400;

export interface DynamoAuditLogOptions {
  /** BatchWriteItem calls per chunk before unprocessed items are reported unavailable (8). */
  readonly maxBatchAttempts?: number;
  /** Items per Query page (DynamoDB's 1 MB page otherwise); a test seam for pagination. */
  readonly pageSize?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

type PutRequest = { PutRequest: { Item: Record<string, unknown> } };

const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

/**
 * Audit entries in DynamoDB: partition `actionId`, sort `sortKey` =
 * `<at, ms precision>#<6-digit position in the append call>#<6 random hex>`, so entries of one
 * millisecond keep the order they were appended in and never overwrite each other; `expiresAt`
 * (epoch seconds, `at` + retentionDays) is the TTL attribute.
 */
export class DynamoAuditLog implements AuditLog {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #retentionSeconds: number;
  readonly #maxBatchAttempts: number;
  readonly #pageSize: number | undefined;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;

  constructor(
    client: DynamoDBClient,
    tableName: string,
    retentionDays: number = DEFAULT_RETENTION_DAYS,
    options: DynamoAuditLogOptions = {},
  ) {
    if (!Number.isFinite(retentionDays) || retentionDays <= 0) {
      throw new RangeError('Audit retention must be a positive number of days');
    }
    this.#documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.#tableName = tableName;
    this.#retentionSeconds = Math.round(retentionDays * 86_400);
    this.#maxBatchAttempts = Math.max(1, options.maxBatchAttempts ?? 8);
    this.#pageSize = options.pageSize;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#random = options.random ?? Math.random;
  }

  /**
   * Writes every entry, or throws. Not atomic: when a chunk fails, the others may stay written,
   * and appending the same entries again stores them twice.
   */
  async append(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    if (entries.length > MAX_APPEND) {
      throw new InvalidAuditEntryError(`At most ${MAX_APPEND} audit entries per append`);
    }
    // Every entry is checked before anything is written, so a bad entry writes nothing.
    const items = entries.map((entry, index) => this.#toItem(entry, index));
    const chunks: PutRequest[][] = [];
    for (let start = 0; start < items.length; start += BATCH_SIZE) {
      chunks.push(items.slice(start, start + BATCH_SIZE));
    }
    // The chunks are independent writes, a few at once: a round's trail costs one round trip.
    // (A few workers taking the next chunk: most appends are one chunk, so no pool library.)
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let chunk = chunks[next++]; chunk !== undefined; chunk = chunks[next++]) {
        await this.#writeChunk(chunk);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CHUNKS_IN_FLIGHT, chunks.length) }, worker));
  }

  async timeline(actionId: string, limit: number = DEFAULT_LIMIT): Promise<AuditEntry[]> {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError('Audit timeline limit must be a positive integer');
    }
    const entries: AuditEntry[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const remaining = limit - entries.length;
      const output = await this.#send(`Audit timeline of ${actionId}`, () =>
        this.#documents.send(
          new QueryCommand({
            TableName: this.#tableName,
            KeyConditionExpression: 'actionId = :actionId',
            ExpressionAttributeValues: { ':actionId': actionId },
            ScanIndexForward: true,
            ConsistentRead: true,
            Limit: Math.min(remaining, this.#pageSize ?? remaining),
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const item of output.Items ?? []) {
        if (entries.length === limit) break;
        entries.push(parseItem(actionId, item, entries.length));
      }
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined && entries.length < limit);
    return entries;
  }

  #toItem(entry: AuditEntry, index: number): PutRequest {
    const parsed = AuditEntrySchema.safeParse(entry);
    if (!parsed.success) {
      const fields = parsed.error.issues.map(
        (i) => `${i.path.join('.') || '(entry)'}: ${i.message}`,
      );
      throw new InvalidAuditEntryError(`Audit entry ${index} is invalid (${fields.join('; ')})`);
    }
    const { details, ...rest } = parsed.data;
    const entryData: AuditEntry = { ...rest, summary: redactSecretsInText(rest.summary) };
    if (details !== undefined) entryData.details = sanitizeAuditDetails(details);
    const at = new Date(entryData.at);
    const sortKey = [
      at.toISOString(),
      index.toString().padStart(6, '0'),
      randomBytes(3).toString('hex'),
    ].join('#');
    const expiresAt = Math.floor(at.getTime() / 1000) + this.#retentionSeconds;
    return { PutRequest: { Item: { ...entryData, sortKey, expiresAt } } };
  }

  /** One BatchWriteItem chunk, re-sending unprocessed items with backoff a bounded number of times. */
  async #writeChunk(chunk: PutRequest[]): Promise<void> {
    let pending = chunk;
    for (let attempt = 1; ; attempt += 1) {
      const output: BatchWriteCommandOutput = await this.#send('Audit append', () =>
        this.#documents.send(
          new BatchWriteCommand({ RequestItems: { [this.#tableName]: pending } }),
        ),
      );
      const unprocessed = (output.UnprocessedItems?.[this.#tableName] ?? []) as PutRequest[];
      if (unprocessed.length === 0) return;
      if (attempt >= this.#maxBatchAttempts) {
        throw new AuditLogUnavailableError(
          `Audit append: ${unprocessed.length} entries still unprocessed after ${attempt} attempts`,
        );
      }
      pending = unprocessed;
      const cap = Math.min(2000, 50 * 2 ** (attempt - 1));
      await this.#sleep(cap / 2 + (this.#random() * cap) / 2);
    }
  }

  /** Runs one DynamoDB call and turns its failure into a typed audit log error. */
  async #send<Output>(what: string, operation: () => Promise<Output>): Promise<Output> {
    try {
      return await operation();
    } catch (error) {
      if (isTransientDynamoDbError(error)) {
        throw new AuditLogUnavailableError(`${what}: audit log unavailable`, { cause: error });
      }
      throw new AuditLogError(`${what}: audit log request failed`, { cause: error });
    }
  }
}

function parseItem(actionId: string, item: Record<string, unknown>, position: number): AuditEntry {
  const candidate: Record<string, unknown> = {
    actionId: item.actionId,
    at: item.at,
    type: item.type,
    summary: item.summary,
  };
  if (item.details !== undefined) candidate.details = item.details;
  const parsed = AuditEntrySchema.safeParse(candidate);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.') || '(entry)');
    throw new AuditLogCorruptError(
      `Stored audit entry ${position} of ${actionId} does not match the schema (${fields.join(', ')})`,
    );
  }
  return parsed.data;
}
