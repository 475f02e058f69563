import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CitrixCallRecord, CitrixProduct } from '../citrix/http.ts';

/** The CloudWatch namespace and `service` dimension of every metric (the alarms name them too). */
export const METRICS_NAMESPACE = 'CitrixResponse';
export const METRICS_SERVICE = 'citrix-response';

/**
 * Metric names. The alarmed ones (audit and report failures, throttles) carry the `service`
 * dimension only, so one alarm covers every function that emits them.
 */
export const METRIC = {
  auditAppendFailures: 'AuditAppendFailures',
  reportFailures: 'ReportFailures',
  citrixCalls: 'CitrixCalls',
  citrixThrottles: 'CitrixThrottles',
  citrixRetries: 'CitrixRetries',
  actionsFinished: 'ActionsFinished',
  targetsFinished: 'TargetsFinished',
  approvalWaitSeconds: 'ApprovalWaitSeconds',
  sweepTargets: 'SweepTargets',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** A Citrix answer's status, or what happened when there was none. */
export type CitrixCallStatus = number | 'timeout' | 'network-error';

type Unit = typeof MetricUnit.Count | typeof MetricUnit.Seconds;
type Dimensions = Readonly<Record<string, string>>;

interface PendingMetric {
  readonly name: MetricName;
  readonly unit: Unit;
  readonly dimensions: Dimensions;
  /** Counts are summed into one value; durations keep every value (a distribution). */
  readonly values: number[];
}

// EMF has one set of dimension values per line, and Powertools flushes a line at 100 values.
const MAX_VALUES_PER_LINE = 100;

/**
 * EMF is read from a Lambda's stdout only. Elsewhere (`npm start`, the tests, which run every
 * handler in one process) metrics stay off unless POWERTOOLS_METRICS_DISABLED is set, in which
 * case Powertools follows it (`POWERTOOLS_METRICS_DISABLED=false` turns them on).
 */
const enabled =
  process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined ||
  process.env.POWERTOOLS_METRICS_DISABLED !== undefined;

// One instance per container; it holds no dimensions between lines (each publish clears them).
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });

/** Metrics recorded in this invocation, by name and dimension values, until `publishMetrics`. */
const pending = new Map<string, PendingMetric>();

function record(name: MetricName, unit: Unit, dimensions: Dimensions, value: number): void {
  if (!enabled || !Number.isFinite(value)) return;
  const key = JSON.stringify([name, dimensions]);
  const entry = pending.get(key);
  if (entry === undefined) {
    pending.set(key, { name, unit, dimensions, values: [value] });
  } else if (unit === MetricUnit.Count) {
    entry.values[0] = (entry.values[0] ?? 0) + value;
  } else {
    entry.values.push(value);
  }
}

/**
 * An alarmed count, written at once with only the `service` dimension: it must reach CloudWatch
 * even when the invocation then times out before `publishMetrics`.
 */
function emitServiceCount(name: MetricName): void {
  if (!enabled) return;
  metrics.singleMetric().addMetric(name, MetricUnit.Count, 1);
}

/** Writes what this invocation recorded, one EMF line per metric and dimension values. */
export function publishMetrics(): void {
  const lines = [...pending.values()];
  pending.clear();
  for (const { name, unit, dimensions, values } of lines) {
    for (let start = 0; start < values.length; start += MAX_VALUES_PER_LINE) {
      for (const [dimension, value] of Object.entries(dimensions)) {
        metrics.addDimension(dimension, value);
      }
      for (const value of values.slice(start, start + MAX_VALUES_PER_LINE)) {
        metrics.addMetric(name, unit, value);
      }
      metrics.publishStoredMetrics();
    }
  }
}

/** Runs one invocation, then publishes its metrics, whether it returned or threw. */
export async function withMetrics<T>(invocation: () => Promise<T>): Promise<T> {
  try {
    return await invocation();
  } finally {
    publishMetrics();
  }
}

/** An audit entry could not be written (the action carries a warning; this one is alarmed). */
export function recordAuditAppendFailure(): void {
  emitServiceCount(METRIC.auditAppendFailures);
}

/** The administrator report failed to run or to be delivered (alarmed). */
export function recordReportFailure(): void {
  emitServiceCount(METRIC.reportFailures);
}

/** One HTTP attempt to a Citrix API; a 429 is also a throttle (alarmed). */
export function recordCitrixCall(product: CitrixProduct, status: CitrixCallStatus): void {
  record(METRIC.citrixCalls, MetricUnit.Count, { product, status: String(status) }, 1);
  if (status === 429) emitServiceCount(METRIC.citrixThrottles);
}

/** A Citrix call sent again by the retry policy (after 408, 429, 5xx or no answer). */
export function recordCitrixRetry(product: CitrixProduct): void {
  record(METRIC.citrixRetries, MetricUnit.Count, { product }, 1);
}

/** An action reached its terminal state. */
export function recordActionFinished(action: string, outcome: string): void {
  record(METRIC.actionsFinished, MetricUnit.Count, { action, outcome }, 1);
}

/** `count` targets of an action ended with `outcome`. */
export function recordTargetsFinished(action: string, outcome: string, count: number): void {
  if (count > 0) record(METRIC.targetsFinished, MetricUnit.Count, { action, outcome }, count);
}

/** Time from the approval request to the decision on it. */
export function recordApprovalWait(action: string, seconds: number): void {
  record(METRIC.approvalWaitSeconds, MetricUnit.Seconds, { action }, Math.max(0, seconds));
}

/** An action's terminal state, and how many of its targets ended with each outcome. */
export function recordActionCompletion(
  action: string,
  status: string,
  results: readonly { readonly outcome: string }[],
): void {
  recordActionFinished(action, status);
  const counts = new Map<string, number>();
  for (const { outcome } of results) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  for (const [outcome, count] of counts) recordTargetsFinished(action, outcome, count);
}

/** `count` targets of a sweep ended with `outcome`. */
export function recordSweepTargets(sweep: string, outcome: string, count: number): void {
  if (count > 0) record(METRIC.sweepTargets, MetricUnit.Count, { sweep, outcome }, count);
}

/**
 * The clients' `onCall` hook for one product: every attempt is a call by status, and every
 * attempt the retry policy sends again is a retry.
 */
export function citrixCallMetrics(product: CitrixProduct): (call: CitrixCallRecord) => void {
  return (call) => {
    recordCitrixCall(
      product,
      call.status ?? (call.error === 'timeout' ? 'timeout' : 'network-error'),
    );
    if (call.retried) recordCitrixRetry(product);
  };
}
