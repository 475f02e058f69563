import * as z from 'zod';
import type { RequestIssue, RequestValidator } from '../actions/declaration.ts';
import {
  type Runbook,
  RunbookInputsSchema,
  type RunbookTarget,
  RunbookTargetSchema,
} from './definition.ts';
import { deployedRunbooks } from './library.ts';
import { inputProblems, type RunRequest, stepRequestIssues } from './steps.ts';

/** The fields of a `runbook.run` request the check reads, as its own schema already parsed them. */
const RunRequestFieldsSchema = z.object({
  target: RunbookTargetSchema,
  reason: z.string(),
  ticket: z.string().optional(),
  dryRun: z.boolean(),
  inputs: RunbookInputsSchema.default({}),
});

/** The runbook a run's target names: its definition, or a deployed runbook by name. */
export function runbookOf(target: RunbookTarget): Runbook | undefined {
  return 'definition' in target ? target.definition : deployedRunbooks().get(target.runbook);
}

/** Why a named runbook cannot be run: none is deployed by that name. */
export function unknownRunbookMessage(name: string): string {
  const known = deployedRunbooks().names.join(', ') || 'none';
  return `no runbook named "${name}" (deployed: ${known})`;
}

/**
 * The check of a `runbook.run` request beyond its schema: the runbook exists, the inputs are its
 * own (required ones given, patterns matched), and every step, filled from the inputs, is a valid
 * request of its action. So a bad run is refused (400, naming the field) before anything starts.
 */
export function checkRunbookRequest(
  request: Readonly<Record<string, unknown>>,
  validate: RequestValidator,
): RequestIssue[] {
  const { target, ...fields } = RunRequestFieldsSchema.parse(request);
  const runbook = runbookOf(target);
  if (runbook === undefined) {
    const name = 'runbook' in target ? target.runbook : '';
    return [{ path: ['target', 'runbook'], message: unknownRunbookMessage(name) }];
  }
  const problems = inputProblems(runbook, fields.inputs);
  if (problems.length > 0) return problems;
  const run: RunRequest = { ...fields };
  return stepRequestIssues(runbook, run, validate, {
    placeAt: (index, field) =>
      'definition' in target
        ? ['target', 'definition', 'steps', index, ...field]
        : ['target', 'runbook'],
  });
}
