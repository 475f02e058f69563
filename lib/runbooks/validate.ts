import type { RequestIssue, RequestValidator } from '../actions/declaration.ts';
import { ACTION_TYPES, ActionRequestSchema, declarationOf } from '../actions/schema.ts';
import type { Runbook } from './definition.ts';
import { exampleInputs, stepRequestIssues } from './steps.ts';

/** Checks a request as the API does: every problem with the path of its field. */
export const validateActionRequest: RequestValidator = (request) => {
  const parsed = ActionRequestSchema.safeParse(request);
  return parsed.success
    ? []
    : parsed.error.issues.map((issue) => ({ path: issue.path, message: issue.message }));
};

/**
 * A runbook's steps against the catalog, when a file is loaded: each step's action exists, and
 * its request, filled from the inputs' examples, is valid for that action. A field filled from an
 * input without an example is checked when a run gives the input.
 */
export function runbookProblems(runbook: Runbook): RequestIssue[] {
  const { values, standIns } = exampleInputs(runbook);
  const issues = stepRequestIssues(
    runbook,
    { reason: `Checking runbook ${runbook.name}`, dryRun: false, inputs: values },
    validateActionRequest,
    { placeAt: (index, field) => ['steps', index, ...field], standIns },
  );
  // A field filled from an input's example that its action refuses: the example is wrong.
  return issues.map((issue) =>
    issue.path[0] === 'inputs' ? { ...issue, path: [...issue.path, 'example'] } : issue,
  );
}

/**
 * Whether any step of the runbook erases data or cuts someone off (its action is destructive):
 * what a person is asked to confirm, after seeing the plan.
 */
export function isDestructiveRunbook(runbook: Runbook): boolean {
  return runbook.steps.some(
    (step) =>
      step.dryRun !== true &&
      ACTION_TYPES.some((action) => action === step.action && declarationOf(action).destructive),
  );
}
