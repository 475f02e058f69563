import { AsyncLocalStorage } from 'node:async_hooks';
import type { CitrixCallRecord } from '../citrix/http.ts';
import {
  type AuditDetailsByType,
  type AuditEntry,
  type AuditEventType,
  auditSummary,
  type CitrixCallAuditDetails,
  redactSecretsInText,
  sanitizeAuditDetails,
  stripQuery,
} from './audit-log.ts';

/** Bounds the memory one task can spend on audit entries (a runaway retry loop, say). */
export const MAX_ENTRIES_PER_RUN = 2000;

interface Collector {
  readonly actionId: string;
  readonly now: () => Date;
  readonly entries: AuditEntry[];
  dropped: number;
  open: boolean;
}

/** The outcome of runWithAudit: what fn returned or threw, and the entries it collected. */
export type AuditRun<T> =
  | {
      readonly ok: true;
      readonly result: T;
      readonly entries: AuditEntry[];
      readonly dropped: number;
    }
  | {
      readonly ok: false;
      readonly error: unknown;
      readonly entries: AuditEntry[];
      readonly dropped: number;
    };

// Each async chain sees the collector of the runWithAudit call it started from.
const collectors = new AsyncLocalStorage<Collector>();

/**
 * Runs fn with a fresh collector bound to actionId and never rejects: it resolves with fn's result
 * or error together with the entries collected, so the caller can flush them and then return or
 * rethrow (see unwrapAuditRun). `dropped` counts entries beyond MAX_ENTRIES_PER_RUN. Entries
 * added after fn settled (by work fn did not await) are ignored; a nested runWithAudit collects
 * into its own collector only.
 */
export async function runWithAudit<T>(
  actionId: string,
  fn: () => Promise<T>,
  now: () => Date = () => new Date(),
): Promise<AuditRun<T>> {
  const collector: Collector = { actionId, now, entries: [], dropped: 0, open: true };
  try {
    const result = await collectors.run(collector, fn);
    collector.open = false;
    return { ok: true, result, entries: [...collector.entries], dropped: collector.dropped };
  } catch (error) {
    collector.open = false;
    return { ok: false, error, entries: [...collector.entries], dropped: collector.dropped };
  }
}

/** fn's result, or its error rethrown as is (so typed errors keep their names for Step Functions). */
export function unwrapAuditRun<T>(run: AuditRun<T>): T {
  if (run.ok) return run.result;
  throw run.error;
}

/** The action whose collector is current, if any. */
export function currentAuditActionId(): string | undefined {
  const collector = collectors.getStore();
  return collector?.open ? collector.actionId : undefined;
}

/**
 * Adds an entry to the current collector; a no-op outside runWithAudit. Never throws: the summary
 * is cleaned of control characters and secrets and cut at 500 characters, details are sanitized.
 */
export function auditEvent<Type extends AuditEventType>(
  type: Type,
  summary: string,
  details?: AuditDetailsByType[Type],
): void {
  const collector = collectors.getStore();
  if (collector === undefined || !collector.open) return;
  if (collector.entries.length >= MAX_ENTRIES_PER_RUN) {
    collector.dropped += 1;
    return;
  }
  const entry: AuditEntry = {
    actionId: collector.actionId,
    at: collector.now().toISOString(),
    type,
    summary: cleanSummary(summary, type),
  };
  if (details !== undefined) entry.details = sanitizeAuditDetails(details);
  collector.entries.push(entry);
}

/**
 * Records one Citrix HTTP attempt in the current collector, e.g.
 * `GET /cvad/manage/Sessions/abc → 200 (12 ms)` or `POST /x → timeout (30000 ms, attempt 3)`.
 * Synchronous, so it fits the clients' `onCall` hook; a no-op outside runWithAudit.
 */
export function auditCitrixCall(call: CitrixCallRecord): void {
  const path = stripQuery(call.path);
  const durationMs = Math.max(0, Math.round(call.durationMs));
  const details: CitrixCallAuditDetails = {
    method: call.method,
    path,
    durationMs,
    attempt: call.attempt,
  };
  if (call.status !== undefined) details.status = call.status;
  if (call.transactionId !== undefined) details.transactionId = call.transactionId;
  if (call.error !== undefined) details.error = call.error;
  const outcome = call.status ?? call.error ?? 'no response';
  const timing =
    call.attempt > 1 ? `${durationMs} ms, attempt ${call.attempt}` : `${durationMs} ms`;
  auditEvent('citrix_call', `${call.method} ${path} → ${outcome} (${timing})`, details);
}

function cleanSummary(summary: string, type: AuditEventType): string {
  const cleaned = auditSummary(redactSecretsInText(summary.replace(/\p{Cc}+/gu, ' ').trim()));
  return cleaned === '' ? type : cleaned;
}
