import { afterEach, beforeEach, vi } from 'vitest';

type MetricsModule = typeof import('../../lib/runtime/metrics.ts');

interface EmfLine {
  readonly _aws: {
    readonly CloudWatchMetrics: readonly {
      readonly Namespace: string;
      readonly Dimensions: readonly (readonly string[])[];
      readonly Metrics: readonly { readonly Name: string; readonly Unit: string }[];
    }[];
  };
  readonly [key: string]: unknown;
}

/** One metric of an EMF line, as CloudWatch reads it. */
export interface EmittedMetric {
  readonly namespace: string;
  readonly name: string;
  readonly unit: string;
  readonly dimensions: Readonly<Record<string, unknown>>;
  readonly value: unknown;
}

/**
 * Captures the EMF lines Powertools Metrics writes to stdout in each test, and loads the metrics
 * module afresh with an environment (it decides at load whether metrics are on).
 */
export function useEmfCapture() {
  let written: string[] = [];
  beforeEach(() => {
    written = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  const lines = (): EmfLine[] =>
    written
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as EmfLine);

  return {
    /** The metrics module as a Lambda loads it with `env` (undefined removes a variable). */
    async load(env: Record<string, string | undefined>): Promise<MetricsModule> {
      for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
      vi.resetModules();
      return import('../../lib/runtime/metrics.ts');
    },
    /** Every metric written so far, line by line, with the dimensions of its line. */
    emitted(): EmittedMetric[] {
      return lines().flatMap((line) =>
        line._aws.CloudWatchMetrics.flatMap((directive) =>
          directive.Metrics.map((metric) => ({
            namespace: directive.Namespace,
            name: metric.Name,
            unit: metric.Unit,
            dimensions: Object.fromEntries(
              (directive.Dimensions[0] ?? []).map((dimension) => [dimension, line[dimension]]),
            ),
            value: line[metric.Name],
          })),
        ),
      );
    },
    clear(): void {
      written = [];
    },
  };
}

/** What a Lambda's environment says about metrics: on, as the stack deploys them. */
export const IN_LAMBDA = {
  AWS_LAMBDA_FUNCTION_NAME: 'citrix-response-function',
  POWERTOOLS_METRICS_DISABLED: undefined,
} as const;
