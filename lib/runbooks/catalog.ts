import type { ActionDeclaration } from '../actions/declaration.ts';
import { RUNBOOK_ACTION, RunbookInputsSchema, RunbookTargetSchema } from './definition.ts';
import { checkRunbookRequest } from './request-check.ts';

/** What a run asks of Citrix itself: nothing; each step makes its own action's call. */
export type RunbookOperation = 'steps';

/**
 * Runbooks, declared once (see lib/actions/catalog.ts). A run is one action whose steps are
 * actions of the other products, each with its own guardrails and approvals; the run itself needs
 * no approval by default and counts as one target against its limits.
 */
export const RUNBOOK_CATALOG = {
  [RUNBOOK_ACTION]: {
    product: 'runbooks',
    targetFields: [],
    target: RunbookTargetSchema,
    request: {
      fields: { inputs: RunbookInputsSchema.default({}) },
      check: checkRunbookRequest,
    },
    warnsUsers: false,
    citrix: {
      operation: 'steps',
      request: "None of its own: each step is a catalog action and makes that action's call",
    },
    // Its steps may wipe devices or cut people off: a person is shown the plan first.
    destructive: true,
    reversal:
      "Each step's own: a log off or a wipe cannot be undone; `admin.restore` puts back an `admin.revoke` in strip mode",
    limits: { perRequest: 1, perHour: 20 },
    approval: 'never',
    wording: { done: 'run', would: 'run', noun: 'runbook', nothing: 'no step was run' },
    summary:
      'Run a runbook (runbooks/): its steps in order, each a catalog action with its own guardrails and approvals',
  },
} as const satisfies Record<typeof RUNBOOK_ACTION, ActionDeclaration<'runbooks', RunbookOperation>>;
