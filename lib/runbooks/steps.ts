import type { RequestIssue, RequestValidator } from '../actions/declaration.ts';
import {
  placeholdersIn,
  type Runbook,
  type RunbookInputs,
  type RunbookStep,
  renderTemplate,
  stepTexts,
} from './definition.ts';

/** What a run of a runbook says, which each of its steps' requests inherits. */
export interface RunRequest {
  readonly reason: string;
  readonly ticket?: string | undefined;
  readonly dryRun: boolean;
  readonly inputs: RunbookInputs;
}

const MAX_REASON_LENGTH = 1000;

/** The run's reason with the runbook and step named, cut to fit a request's reason. */
function defaultReason(runbook: Runbook, step: RunbookStep, run: RunRequest): string {
  const suffix = ` (runbook ${runbook.name}, step ${step.id})`;
  return `${run.reason.slice(0, MAX_REASON_LENGTH - suffix.length)}${suffix}`;
}

function renderFields(
  fields: Readonly<Record<string, string | number | boolean>>,
  inputs: RunbookInputs,
): Record<string, string | number | boolean> {
  return Object.fromEntries(
    Object.entries(fields).map(([field, value]) => [
      field,
      typeof value === 'string' ? renderTemplate(value, inputs) : value,
    ]),
  );
}

/** The step of a runbook, or a RangeError (the run's record and its runbook disagree). */
export function stepOf(runbook: Runbook, index: number): RunbookStep {
  const step = runbook.steps[index];
  if (step === undefined) throw new RangeError(`Runbook ${runbook.name} has no step ${index}`);
  return step;
}

/**
 * The request of one step, its texts filled from the run's inputs: a request of the step's
 * action, which `ActionRequestSchema` checks like any other. A probe step always plans; every
 * step of a dry run plans too. The ticket is the run's; the callback is told once, by the run.
 */
export function stepRequestOf(
  runbook: Runbook,
  index: number,
  run: RunRequest,
): Record<string, unknown> {
  const step = stepOf(runbook, index);
  const render = (text: string) => renderTemplate(text, run.inputs);
  return {
    action: step.action,
    target: Object.fromEntries(
      Object.entries(step.target).map(([field, value]) => [
        field,
        typeof value === 'string' ? render(value) : value?.map(render),
      ]),
    ),
    reason: step.reason === undefined ? defaultReason(runbook, step, run) : render(step.reason),
    ...(run.ticket === undefined ? {} : { ticket: run.ticket }),
    dryRun: run.dryRun || step.dryRun === true,
    ...(step.options === undefined ? {} : { options: renderFields(step.options, run.inputs) }),
    ...(step.notify === undefined ? {} : { notify: renderFields(step.notify, run.inputs) }),
    ...(step.urgency === undefined ? {} : { urgency: step.urgency }),
  };
}

/** The run's inputs against the runbook's declarations: each problem named by its input. */
export function inputProblems(runbook: Runbook, inputs: RunbookInputs): RequestIssue[] {
  const declared = Object.keys(runbook.inputs);
  const problems: RequestIssue[] = [];
  for (const name of Object.keys(inputs).filter((input) => !declared.includes(input))) {
    problems.push({
      path: ['inputs', name],
      message: `is not an input of runbook ${runbook.name} (its inputs: ${declared.join(', ') || 'none'})`,
    });
  }
  for (const [name, input] of Object.entries(runbook.inputs)) {
    const value = inputs[name];
    if (value === undefined) {
      if (input.required) {
        problems.push({ path: ['inputs', name], message: `is required: ${input.description}` });
      }
      continue;
    }
    if (input.pattern !== undefined && !new RegExp(`^(?:${input.pattern})$`, 'u').test(value)) {
      problems.push({ path: ['inputs', name], message: `must match ${input.pattern}` });
    }
  }
  return problems;
}

const startsWith = (path: readonly PropertyKey[], prefix: readonly PropertyKey[]) =>
  prefix.every((key, index) => path[index] === key);

export interface StepIssueOptions {
  /** Where an issue that no input caused is reported, from the step's index and its field. */
  readonly placeAt: (stepIndex: number, field: readonly PropertyKey[]) => PropertyKey[];
  /** Inputs whose value is a stand-in (loading a file without examples): their issues are moot. */
  readonly standIns?: ReadonlySet<string>;
}

/**
 * Every step's request, filled from the run's inputs, checked by `validate` (the catalog's own
 * request schemas). A problem in a field filled from an input is the input's (`inputs.user:
 * step "logoff" target.user: must be …`); any other is the runbook's, where `placeAt` says.
 */
export function stepRequestIssues(
  runbook: Runbook,
  run: RunRequest,
  validate: RequestValidator,
  options: StepIssueOptions,
): RequestIssue[] {
  const issues: RequestIssue[] = [];
  runbook.steps.forEach((step, index) => {
    const texts = stepTexts(step);
    for (const issue of validate(stepRequestOf(runbook, index, run))) {
      const source = texts.find(
        ({ path }) => startsWith(issue.path, path) || startsWith(path, issue.path),
      );
      const inputs = source === undefined ? [] : placeholdersIn(source.text).inputs;
      const field = issue.path.map(String).join('.') || '(request)';
      const message = `step "${step.id}" ${field}: ${issue.message}`;
      const [input] = inputs;
      if (input === undefined) {
        issues.push({ path: options.placeAt(index, issue.path), message });
      } else if (!inputs.some((name) => options.standIns?.has(name))) {
        issues.push({ path: ['inputs', input], message });
      }
    }
  });
  return issues;
}

/** The inputs' examples, to check a runbook's steps when it is loaded; inputs without one are stand-ins. */
export function exampleInputs(runbook: Runbook): { values: RunbookInputs; standIns: Set<string> } {
  const values: Record<string, string> = {};
  const standIns = new Set<string>();
  for (const [name, input] of Object.entries(runbook.inputs)) {
    if (input.example !== undefined) values[name] = input.example;
    else standIns.add(name);
  }
  return { values, standIns };
}
