import type { Condition, FinalStepStatus, StepCondition } from './definition.ts';

/** What a condition can know of an earlier step: how it ended, and the targets it counted. */
export interface StepOutcome {
  readonly status: FinalStepStatus;
  readonly targets: number;
}

function stepHolds(condition: StepCondition, outcome: StepOutcome | undefined): boolean {
  // Checked at load: a condition only names earlier steps, which have all ended by now.
  if (outcome === undefined) return false;
  if (condition.status !== undefined && !condition.status.includes(outcome.status)) return false;
  const range = condition.targets;
  if (range?.min !== undefined && outcome.targets < range.min) return false;
  if (range?.max !== undefined && outcome.targets > range.max) return false;
  return true;
}

/** Whether a step's `if` holds over the outcomes of the steps before it. */
export function conditionHolds(
  condition: Condition,
  outcomes: ReadonlyMap<string, StepOutcome>,
): boolean {
  if ('step' in condition) return stepHolds(condition, outcomes.get(condition.step));
  if ('all' in condition) return condition.all.every((part) => conditionHolds(part, outcomes));
  if ('any' in condition) return condition.any.some((part) => conditionHolds(part, outcomes));
  return !conditionHolds(condition.not, outcomes);
}

function describeStep(condition: StepCondition): string {
  const parts: string[] = [];
  if (condition.status !== undefined) parts.push(`ended ${condition.status.join(' or ')}`);
  const { min, max } = condition.targets ?? {};
  if (min !== undefined && max !== undefined) parts.push(`counted ${min} to ${max} targets`);
  else if (min !== undefined) parts.push(`counted at least ${min} target${min === 1 ? '' : 's'}`);
  else if (max !== undefined) parts.push(`counted at most ${max} target${max === 1 ? '' : 's'}`);
  return `${condition.step} ${parts.join(' and ')}`;
}

/** The condition in words, for the record of a skipped step: "find-admin-access counted at least 1 target". */
export function describeCondition(condition: Condition): string {
  if ('step' in condition) return describeStep(condition);
  if ('all' in condition) return condition.all.map(describeCondition).join(' and ');
  if ('any' in condition) return `(${condition.any.map(describeCondition).join(' or ')})`;
  return `not (${describeCondition(condition.not)})`;
}
