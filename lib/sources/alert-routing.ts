import * as z from 'zod';
import { TARGET_FIELD_VALUES, TARGET_FIELDS, type TargetField } from '../actions/declaration.ts';
import {
  ACTION_MODES,
  ACTION_TYPES,
  type ActionRequest,
  ActionRequestSchema,
  ActionTypeSchema,
  CallbackNameSchema,
  declarationOf,
  SessionWarningSchema,
} from '../actions/schema.ts';
import { InputNameSchema, RUNBOOK_ACTION, RunbookNameSchema } from '../runbooks/definition.ts';
import { deployedRunbooks } from '../runbooks/library.ts';
import { unknownRunbookMessage } from '../runbooks/request-check.ts';
import { RoutingRulesError } from './errors.ts';
import { loadRules } from './rules-file.ts';
import type { AlertingSource, RoutingDecision, SourceEvent } from './types.ts';

/**
 * Routing rules for alerts: what an alert from a SIEM means. The rules file lists, per alerting
 * source, routes tried in order; the first whose `match` holds decides the action, where its
 * targets come from and the reason recorded. An alert that matches no route is acknowledged and
 * ignored, never guessed. (The sources that name their action themselves are routed by
 * lib/sources/request-routing.ts.)
 */

// `result.user`, `accounts[0].upn`, `accounts[*].upn`, `event.data.title`.
const FIELD_PATH = /^[A-Za-z_][\w-]*(?:\[(?:\d+|\*)\]|\.[A-Za-z_][\w-]*)*$/;
const FieldPathSchema = z.string().regex(FIELD_PATH, 'must be a field path such as result.user');

const MatcherSchema = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z
    .strictObject({
      equals: z.union([z.string(), z.number(), z.boolean()]).optional(),
      oneOf: z
        .array(z.union([z.string(), z.number()]))
        .min(1)
        .optional(),
      contains: z.string().min(1).optional(),
      matches: z
        .string()
        .min(1)
        .refine(
          (pattern) => {
            try {
              new RegExp(pattern, 'iu');
              return true;
            } catch {
              return false;
            }
          },
          { message: 'must be a valid regular expression' },
        )
        .optional(),
    })
    .refine((matcher) => Object.keys(matcher).length === 1, {
      message: 'must have exactly one of equals, oneOf, contains or matches',
    }),
]);
type Matcher = z.infer<typeof MatcherSchema>;

const RouteSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be 1-64 of a-z, 0-9 and "-"'),
    /** A disabled route is checked like the others but never matches (an example, or paused). */
    enabled: z.boolean().default(true),
    /** Every field must match (case-insensitive for text). An empty match matches every alert. */
    match: z.record(FieldPathSchema, MatcherSchema).default({}),
    action: ActionTypeSchema,
    /**
     * Exactly one target kind, with the field path it is read from (`[*]` takes every element, and
     * so does a multivalue field, an array). A kind that holds one name (`user`, `machine`,
     * `clientAddress`…) makes one action per value; a kind that holds a list (`users`) makes one
     * action naming every value. A runbook route names its runbook and inputs instead.
     */
    target: z.partialRecord(z.enum(TARGET_FIELDS), FieldPathSchema).default({}),
    /** `runbook.run` routes: the runbook (deployed with the product) the alert runs. */
    runbook: RunbookNameSchema.optional(),
    /** `runbook.run` routes: each input of the runbook, with the field path it is read from. */
    inputs: z.record(InputNameSchema, FieldPathSchema).optional(),
    /**
     * A regular expression whose first capture group is the target, for sources that put it in
     * free text (e.g. a PagerDuty incident title); values it does not match are dropped.
     */
    extract: z
      .string()
      .refine(
        (pattern) => {
          try {
            return new RegExp(`${pattern}|`).exec('')?.length !== 1;
          } catch {
            return false;
          }
        },
        { message: 'must be a valid regular expression with a capture group' },
      )
      .optional(),
    options: z.strictObject({ mode: z.enum(ACTION_MODES) }).optional(),
    /** Session actions: warn each user first (Citrix `$sendMessage`), then wait the grace period. */
    notify: SessionWarningSchema.optional(),
    /** `{{field.path}}` placeholders are filled from the alert. */
    reason: z.string().min(1).max(500),
    /**
     * A configured signed-callback destination (by name) told when each action ends, as
     * `POST /v1/actions` takes it. Checked against the destinations at start and at synth.
     */
    callback: CallbackNameSchema.optional(),
    /** An alert naming more targets than this is ignored as a whole, not partly acted on. */
    maxTargets: z.int().min(1).max(20).default(5),
  })
  .superRefine((route, ctx) => {
    const kinds = Object.keys(route.target) as TargetField[];
    const declaration = declarationOf(route.action);
    const allowed = declaration.targetFields;
    if (route.action === RUNBOOK_ACTION) {
      for (const issue of runbookRouteProblems(route)) ctx.addIssue({ code: 'custom', ...issue });
    } else if (route.runbook !== undefined || route.inputs !== undefined) {
      const field = route.runbook !== undefined ? 'runbook' : 'inputs';
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: `only ${RUNBOOK_ACTION} routes name ${field === 'runbook' ? 'a runbook' : 'inputs'}`,
      });
    } else if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['target'],
        message: 'must name exactly one target kind',
      });
    } else if (!allowed.includes(kinds[0] as TargetField)) {
      ctx.addIssue({
        code: 'custom',
        path: ['target', kinds[0] as string],
        message: `${route.action} takes a target of kind ${allowed.join(' or ')}`,
      });
    }
    if (route.notify !== undefined && !declaration.warnsUsers) {
      ctx.addIssue({
        code: 'custom',
        path: ['notify'],
        message: 'only session actions warn users',
      });
    }
    const modes = declaration.modes?.values;
    if (route.options !== undefined && modes === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['options'],
        message: `only ${ACTION_TYPES.filter((action) => declarationOf(action).modes).join(', ')} take${ACTION_TYPES.filter((action) => declarationOf(action).modes).length === 1 ? 's' : ''} options`,
      });
    } else if (route.options !== undefined && !modes?.includes(route.options.mode)) {
      ctx.addIssue({
        code: 'custom',
        path: ['options', 'mode'],
        message: `${route.action} takes mode ${modes?.join(' or ')}`,
      });
    }
    for (const placeholder of route.reason.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)) {
      if (!FIELD_PATH.test(placeholder[1] ?? '')) {
        ctx.addIssue({
          code: 'custom',
          path: ['reason'],
          message: `placeholder {{${placeholder[1]}}} is not a field path`,
        });
      }
    }
  });
export type Route = z.output<typeof RouteSchema>;

/**
 * A `runbook.run` route names a deployed runbook and where each of its inputs is read from (every
 * required one, none it does not declare), and no target: the runbook's steps name theirs.
 */
function runbookRouteProblems(route: {
  readonly target: Readonly<Record<string, string>>;
  readonly runbook?: string | undefined;
  readonly inputs?: Readonly<Record<string, string>> | undefined;
}): { path: PropertyKey[]; message: string }[] {
  if (Object.keys(route.target).length > 0) {
    return [
      {
        path: ['target'],
        message: `${RUNBOOK_ACTION} routes name a runbook and inputs, not a target`,
      },
    ];
  }
  if (route.runbook === undefined) {
    return [
      { path: ['runbook'], message: `${RUNBOOK_ACTION} routes must name the runbook to run` },
    ];
  }
  const runbook = deployedRunbooks().get(route.runbook);
  if (runbook === undefined) {
    return [{ path: ['runbook'], message: unknownRunbookMessage(route.runbook) }];
  }
  const mapped = route.inputs ?? {};
  return [
    ...Object.keys(mapped)
      .filter((name) => !(name in runbook.inputs))
      .map((name) => ({
        path: ['inputs', name],
        message: `is not an input of runbook ${runbook.name}`,
      })),
    ...Object.entries(runbook.inputs)
      .filter(([name, input]) => input.required && !(name in mapped))
      .map(([name, input]) => ({
        path: ['inputs', name],
        message: `is required by runbook ${runbook.name}: ${input.description}`,
      })),
  ];
}

const SiemRoutes = z.array(RouteSchema).default([]);

/** Each alerting source's routes, in order; route names are unique per source. */
export const AlertRoutesSchema = z
  .strictObject({
    splunk: SiemRoutes,
    sentinel: SiemRoutes,
    pagerduty: SiemRoutes,
  } satisfies Record<AlertingSource, typeof SiemRoutes>)
  .superRefine((routes, ctx) => {
    for (const [source, list] of Object.entries(routes)) {
      const seen = new Set<string>();
      list.forEach((route, index) => {
        if (seen.has(route.name)) {
          ctx.addIssue({
            code: 'custom',
            path: [source, index, 'name'],
            message: `duplicate route name "${route.name}"`,
          });
        }
        seen.add(route.name);
      });
    }
  });
/** A rules file without `routes`: no alert is routed. */
export const NO_ALERT_ROUTES = { splunk: [], sentinel: [], pagerduty: [] };

/** What the routing of alerts reads of the rules file: its `routes`. */
export interface AlertRoutingRules {
  readonly routes: z.output<typeof AlertRoutesSchema>;
}

/** The rules file as the source webhooks function reads it: the other keys are not its own. */
const AlertRulesFileSchema = z.object({
  version: z.literal(1),
  routes: AlertRoutesSchema.default(NO_ALERT_ROUTES),
});

/** The alert routes of a rules file (validated whole at synth and at start). */
export function loadAlertRoutingRules(path: string | URL): AlertRoutingRules {
  return loadRules(AlertRulesFileSchema, path);
}

/**
 * Every callback a route names must be a configured destination: checked when `npm start` starts
 * and when the CDK app synthesizes, naming the route.
 */
export function checkRouteCallbacks(
  rules: AlertRoutingRules,
  destinations: ReadonlySet<string>,
): void {
  const problems: string[] = [];
  for (const [source, routes] of Object.entries(rules.routes)) {
    routes.forEach((route, index) => {
      if (route.callback !== undefined && !destinations.has(route.callback)) {
        problems.push(
          `routes.${source}[${index}] (route "${route.name}").callback: no callback destination named "${route.callback}"`,
        );
      }
    });
  }
  if (problems.length > 0) {
    throw new RoutingRulesError(`Invalid routing rules: ${problems.join('; ')}`);
  }
}

/** Every value at a field path; `[*]` fans out over an array. */
export function valuesAt(fields: unknown, path: string): unknown[] {
  const steps = path.match(/[A-Za-z_][\w-]*|\[(?:\d+|\*)\]/g) ?? [];
  let nodes: unknown[] = [fields];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const node of nodes) {
      if (step === '[*]') {
        if (Array.isArray(node)) next.push(...node);
      } else if (step.startsWith('[')) {
        if (Array.isArray(node)) next.push(node[Number(step.slice(1, -1))]);
      } else if (node !== null && typeof node === 'object' && !Array.isArray(node)) {
        next.push((node as Record<string, unknown>)[step]);
      }
    }
    nodes = next.filter((value) => value !== undefined && value !== null);
  }
  return nodes;
}

/**
 * Every single value at a field path: a multivalue field (an array, as Splunk sends one) counts
 * as each of its values, so `result.user` reads `"a@x"` and `["a@x", "b@x"]` alike.
 */
function leafValuesAt(fields: unknown, path: string): unknown[] {
  return valuesAt(fields, path).flatMap((value) => (Array.isArray(value) ? value : [value]));
}

function matches(value: unknown, matcher: Matcher): boolean {
  const text = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v);
  if (typeof matcher !== 'object') return text(value) === text(matcher);
  if (matcher.equals !== undefined) return text(value) === text(matcher.equals);
  if (matcher.oneOf !== undefined)
    return matcher.oneOf.some((option) => text(option) === text(value));
  if (typeof value !== 'string') return false;
  if (matcher.contains !== undefined)
    return value.toLowerCase().includes(matcher.contains.toLowerCase());
  return matcher.matches !== undefined && new RegExp(matcher.matches, 'iu').test(value);
}

function render(template: string, fields: unknown): string {
  return template
    .replace(/\{\{\s*([^}]*?)\s*\}\}/g, (_, path: string) => {
      const [value] = valuesAt(fields, path);
      return value === undefined
        ? ''
        : String(typeof value === 'object' ? JSON.stringify(value) : value);
    })
    .replace(/\p{Cc}/gu, ' ')
    .slice(0, 1000);
}

/** The JSON type of a value, in words: what an ignored alert held, never the value itself. */
function kindOf(value: unknown): string {
  if (typeof value === 'string') return value.trim() === '' ? 'an empty text' : 'a text';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'true or false';
  return Array.isArray(value) ? 'a list' : 'an object';
}

/**
 * Why the values at a route's target path gave no target, saying what was there: nothing, values
 * of the wrong type (a list of objects, say), or text the route's `extract` did not match.
 */
function whatIsThere(found: readonly unknown[], extracts: boolean): string {
  if (found.length === 0) return 'the alert has no such field, or it is empty';
  const kinds = [...new Set(found.map(kindOf))].join(', ');
  const values = found.length === 1 ? '1 value' : `${found.length} values`;
  return extracts &&
    found.some((value) => kindOf(value) === 'a text' || kindOf(value) === 'a number')
    ? `it holds ${values} (${kinds}), none matching the route's extract`
    : `it holds ${values} (${kinds}), none a non-empty text or a number`;
}

/** What an alert from a SIEM asks for, by the first route that matches it. */
export function routeSiemEvent(
  rules: AlertRoutingRules,
  source: AlertingSource,
  event: SourceEvent,
): RoutingDecision {
  const route = rules.routes[source].find(
    (candidate) =>
      candidate.enabled &&
      Object.entries(candidate.match).every(([path, matcher]) =>
        leafValuesAt(event.fields, path).some((value) => matches(value, matcher)),
      ),
  );
  if (route === undefined) return { ignored: `No ${source} route matches "${event.title}"` };
  if (route.action === RUNBOOK_ACTION) return routeToRunbook(route, source, event);
  const [kind, path] = Object.entries(route.target)[0] as [TargetField, string];
  const seen = new Set<string>();
  const found = leafValuesAt(event.fields, path);
  const values = found
    .filter((value): value is string | number => ['string', 'number'].includes(typeof value))
    .map((value) => String(value).trim())
    .map((value) =>
      route.extract === undefined
        ? value
        : (new RegExp(route.extract, 'iu').exec(value)?.[1]?.trim() ?? ''),
    )
    // Citrix matches names case-insensitively, so `Alice@` and `alice@` are one target.
    .filter(
      (value) => value !== '' && !seen.has(value.toLowerCase()) && seen.add(value.toLowerCase()),
    );
  if (values.length === 0) {
    return {
      ignored: `Route "${route.name}" matched but ${path} holds no ${kind}: ${whatIsThere(found, route.extract !== undefined)}`,
    };
  }
  if (values.length > route.maxTargets) {
    return {
      ignored: `Route "${route.name}" matched ${values.length} targets at ${path}; it allows at most ${route.maxTargets}`,
    };
  }
  const requestOf = (value: string | readonly string[]) =>
    ActionRequestSchema.safeParse({
      action: route.action,
      target: { [kind]: value },
      ...(route.options ? { options: route.options } : {}),
      ...(route.notify ? { notify: route.notify } : {}),
      reason: render(route.reason, event.fields) || event.title,
      requestedBy: `${source}: ${event.title}`.slice(0, 256),
      ...(route.callback ? { callback: route.callback } : {}),
    });
  return {
    route: route.name,
    ...(TARGET_FIELD_VALUES[kind] === 'names'
      ? listRequest(kind, values, requestOf)
      : eachRequest(values, requestOf)),
  };
}

/**
 * One run of the route's runbook per alert, each input read from its field path (the first value
 * there). An alert without a required input is ignored; a run the runbook refuses (an input its
 * steps cannot take) is rejected, with why.
 */
function routeToRunbook(route: Route, source: AlertingSource, event: SourceEvent): RoutingDecision {
  const inputs: Record<string, string> = {};
  for (const [name, path] of Object.entries(route.inputs ?? {})) {
    const [value] = leafValuesAt(event.fields, path)
      .filter((found): found is string | number => ['string', 'number'].includes(typeof found))
      .map((found) => String(found).trim())
      .filter((found) => found !== '');
    if (value !== undefined) inputs[name] = value;
  }
  const parsed = ActionRequestSchema.safeParse({
    action: RUNBOOK_ACTION,
    target: { runbook: route.runbook },
    inputs,
    reason: render(route.reason, event.fields) || event.title,
    requestedBy: `${source}: ${event.title}`.slice(0, 256),
    ...(route.callback ? { callback: route.callback } : {}),
  });
  if (parsed.success) return { route: route.name, requests: [parsed.data], rejected: [] };
  const missing = parsed.error.issues.find(
    (issue) => issue.path[0] === 'inputs' && !(String(issue.path[1]) in inputs),
  );
  if (missing !== undefined) {
    return {
      ignored: `Route "${route.name}" matched but the alert holds no ${String(missing.path[1])} for runbook ${route.runbook}`,
    };
  }
  return {
    route: route.name,
    requests: [],
    rejected: [
      {
        target: `runbook ${route.runbook} (${JSON.stringify(inputs)})`,
        reason: describeIssues(parsed.error.issues),
      },
    ],
  };
}

type RequestOf = (value: string | readonly string[]) => z.ZodSafeParseResult<ActionRequest>;
type Rejected = { target: string; reason: string };

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
}

/**
 * One action per value. Values the action's schema normalizes to the same target (an address
 * written two ways) are one action.
 */
function eachRequest(values: readonly string[], requestOf: RequestOf) {
  const requests: ActionRequest[] = [];
  const rejected: Rejected[] = [];
  const targets = new Set<string>();
  for (const value of values) {
    const parsed = requestOf(value);
    if (!parsed.success) {
      rejected.push({ target: value, reason: describeIssues(parsed.error.issues) });
      continue;
    }
    const target = JSON.stringify(parsed.data.target).toLowerCase();
    if (!targets.has(target)) requests.push(parsed.data);
    targets.add(target);
  }
  return { requests, rejected };
}

/**
 * One action naming every value (a `users` list), in a stable order so that the same names in
 * another order are the same action. A name the action cannot take is rejected on its own and
 * the others go ahead; a list refused as a whole is rejected as a whole.
 */
function listRequest(kind: TargetField, values: readonly string[], requestOf: RequestOf) {
  const rejected: Rejected[] = [];
  const key = (name: string) => name.toLowerCase();
  let names = [...values].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  while (names.length > 0) {
    const parsed = requestOf(names);
    if (parsed.success) return { requests: [parsed.data], rejected };
    const byName = new Map<number, z.core.$ZodIssue[]>();
    for (const issue of parsed.error.issues) {
      const [field, list, index] = issue.path;
      if (field === 'target' && list === kind && typeof index === 'number') {
        byName.set(index, [...(byName.get(index) ?? []), issue]);
      }
    }
    if (byName.size === 0) {
      rejected.push({ target: names.join(', '), reason: describeIssues(parsed.error.issues) });
      break;
    }
    for (const [index, issues] of byName) {
      const reason = issues.map((issue) => `target.${kind}: ${issue.message}`).join('; ');
      rejected.push({ target: names[index] ?? '', reason });
    }
    names = names.filter((_, index) => !byName.has(index));
  }
  return { requests: [], rejected };
}
