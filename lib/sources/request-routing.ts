import * as z from 'zod';
import { ACTION_TYPES, ActionTypeSchema } from '../actions/schema.ts';
import { loadRules } from './rules-file.ts';
import type { RequestingSource, RoutingDecision } from './types.ts';

/**
 * Routing for the sources that name their action themselves (ServiceNow, Standard Webhooks): the
 * rules file only says which actions each may ask for (`<source>.allowedActions`); the request
 * itself says the rest, and is checked as `POST /v1/actions` checks a person's.
 */

/** The actions a source that names its own may ask for; none unless listed. */
export const AllowedActionsSchema = z
  .strictObject({ allowedActions: z.array(z.enum(ACTION_TYPES)) })
  .default({ allowedActions: [] });

/** The requesting sources' part of the rules file: each one's `allowedActions`. */
export const REQUEST_RULES_SHAPE = {
  servicenow: AllowedActionsSchema,
  standard: AllowedActionsSchema,
} satisfies Record<RequestingSource, typeof AllowedActionsSchema>;

/** What the routing of requests reads of the rules file. */
export type RequestRoutingRules = {
  readonly [S in RequestingSource]: z.output<typeof AllowedActionsSchema>;
};

/** The rules file as the source requests function reads it: the other keys are not its own. */
const RequestRulesFileSchema = z.object({ version: z.literal(1), ...REQUEST_RULES_SHAPE });

/** The allowed actions of a rules file (validated whole at synth and at start). */
export function loadRequestRoutingRules(path: string | URL): RequestRoutingRules {
  return loadRules(RequestRulesFileSchema, path);
}

/** Who a source says asked, shown after the source's name: `servicenow: jane.doe`. */
export function shownRequester(source: RequestingSource, typed: unknown): string {
  return typeof typed === 'string' && typed.trim() !== ''
    ? `${source}: ${typed.trim()}`.slice(0, 256)
    : source;
}

/**
 * Why an action a requesting source names is not allowed, if it is not. `who` starts the reason:
 * `ServiceNow may not request device.wipe (routing rules: servicenow.allowedActions)`.
 */
export function notAllowed(
  rules: RequestRoutingRules,
  source: RequestingSource,
  who: string,
  action: unknown,
): RoutingDecision | undefined {
  const parsed = ActionTypeSchema.safeParse(action);
  return parsed.success && !rules[source].allowedActions.includes(parsed.data)
    ? {
        ignored: `${who} may not request ${parsed.data} (routing rules: ${source}.allowedActions)`,
      }
    : undefined;
}
