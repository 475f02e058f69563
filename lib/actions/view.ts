import { type ActionRecord, type TargetResult, targetKey } from './schema.ts';

/** The public shape of an action (`GET /v1/actions/{actionId}`): results as an ordered list. */
export interface ActionView {
  readonly actionId: string;
  readonly action: ActionRecord['action'];
  readonly status: ActionRecord['status'];
  readonly target: ActionRecord['target'];
  readonly options?: ActionRecord['options'];
  readonly reason: string;
  readonly ticket?: string;
  readonly requestedBy?: string;
  readonly dryRun: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly summary?: string;
  readonly error?: ActionRecord['error'];
  readonly results: readonly TargetResult[];
}

export function toActionView(record: ActionRecord): ActionView {
  const order = new Map((record.targets ?? []).map((target, index) => [targetKey(target), index]));
  const position = (result: TargetResult) => order.get(targetKey(result)) ?? order.size;
  const results = Object.values(record.results).sort((a, b) => position(a) - position(b));
  return {
    actionId: record.actionId,
    action: record.action,
    status: record.status,
    target: record.target,
    ...(record.options === undefined ? {} : { options: record.options }),
    reason: record.reason,
    ...(record.ticket === undefined ? {} : { ticket: record.ticket }),
    ...(record.requestedBy === undefined ? {} : { requestedBy: record.requestedBy }),
    dryRun: record.dryRun,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    ...(record.summary === undefined ? {} : { summary: record.summary }),
    ...(record.error === undefined ? {} : { error: record.error }),
    results,
  };
}
