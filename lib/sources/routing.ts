import * as z from 'zod';
import { AlertRoutesSchema, NO_ALERT_ROUTES } from './alert-routing.ts';
import { REQUEST_RULES_SHAPE } from './request-routing.ts';
import { loadRules, parseRules } from './rules-file.ts';

export { checkRouteCallbacks } from './alert-routing.ts';
export { RoutingRulesError } from './errors.ts';

/**
 * The whole routing rules file (config/routes.json), as synth and `npm start` validate it: the
 * alert routes of each alerting source (lib/sources/alert-routing.ts) and the actions each
 * requesting source may ask for (lib/sources/request-routing.ts). Each source function reads
 * only its own part of the same file.
 */
export const RoutingRulesSchema = z.strictObject({
  version: z.literal(1),
  routes: AlertRoutesSchema.default(NO_ALERT_ROUTES),
  ...REQUEST_RULES_SHAPE,
});
export type RoutingRules = z.output<typeof RoutingRulesSchema>;

export function parseRoutingRules(input: unknown, source = 'routing rules'): RoutingRules {
  return parseRules(RoutingRulesSchema, input, source);
}

export function loadRoutingRules(path: string | URL): RoutingRules {
  return loadRules(RoutingRulesSchema, path);
}
